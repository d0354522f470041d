// The end of a run in words: the "Got 3 poems in 10.52 s (cpu 0.01 s)" line, and for --strategy all
// the comparison table and the check that every strategy received the same bytes.
#pragma once

#include <iosfwd>
#include <span>
#include <string>
#include <vector>

#include "run.hpp"

namespace poetry::client {

/// "Got 3 poems in 10.52 s (cpu 0.01 s)", or "Got 2 of 3 poems in ... ; 1 partial, 0 failed".
std::string summary_line(const RunReport& report);

/// One row per strategy: wall time, CPU user+sys, poems complete, bytes.
void print_comparison(std::ostream& out, std::span<const RunReport> reports);

/// Whether every strategy received the same bytes for every download, whatever each download's
/// status: a strategy that got 400 bytes where another got 845 differs, as does a complete poem with
/// other bytes of the same length.
struct IdentityCheck {
    bool anything_received = false;
    /// One line per download where strategies differ, each group of equal bytes with its strategies:
    /// "task 2 (127.0.0.1:8001): 845 bytes from blocking, threads; 400 bytes from asio (partial)".
    std::vector<std::string> differences;

    /// Something was received, and the same for every strategy.
    [[nodiscard]] bool identical() const noexcept { return anything_received && differences.empty(); }
    /// The verdict in one line: "every strategy received byte-identical poems", "strategies received
    /// different bytes for 1 of 3 downloads", or "nothing was received, so nothing is identical".
    [[nodiscard]] std::string verdict(std::size_t downloads) const;
};

IdentityCheck check_identity(std::span<const RunReport> reports);

}  // namespace poetry::client

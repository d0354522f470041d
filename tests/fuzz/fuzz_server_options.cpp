// libFuzzer target: poetry_server's command line, above all its per-poem lists (--port, --num-bytes,
// --delay and the fault options: one value for all poems or one per poem, comma-separated or
// repeated). The input is the argument list, one argument per line, after the program name.
// parse_options is called directly (options.cpp is compiled into this target); cli::UsageError is the
// documented refusal, anything else that escapes, a sanitizer report, or options that break what
// ServerOptions promises are bugs.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "options.hpp"

namespace {

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "fuzz_server_options: %s\n", what);
    std::abort();
}

bool is_seconds(double value) {
    return std::isfinite(value) && value >= 0 && value <= poetry::server::max_delay_seconds;
}

void check(const poetry::server::ServerOptions& options) {
    const std::size_t poems = options.poems.size();
    if (poems == 0) {
        fail("no poem, yet no UsageError");
    }
    if (options.ports.size() != poems || options.num_bytes.size() != poems ||
        options.delays.size() != poems || options.faults.size() != poems) {
        fail("a per-poem list does not have one value per poem");
    }
    for (std::size_t i = 0; i < poems; ++i) {
        if (options.num_bytes[i] < 1) {
            fail("--num-bytes below 1 was accepted");
        }
        if (!is_seconds(options.delays[i])) {
            fail("a --delay out of range was accepted");
        }
        const auto& plan = options.faults[i];
        if (!is_seconds(plan.jitter) || !is_seconds(plan.first_byte_delay) || !is_seconds(plan.slow_close)) {
            fail("a fault's seconds out of range were accepted");
        }
        if (!(plan.rate >= 0 && plan.rate <= 1)) {
            fail("a --fault-rate outside 0 to 1 was accepted");
        }
    }
    if (options.iface.empty()) {
        fail("an empty --iface was accepted");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    std::vector<std::string> args{"poetry_server"};
    for (std::size_t start = 0; start <= input.size();) {
        const auto end = std::min(input.find('\n', start), input.size());
        args.emplace_back(input.substr(start, end - start));
        start = end + 1;
    }
    std::vector<const char*> argv;
    for (const auto& arg : args) {
        argv.push_back(arg.c_str());
    }
    argv.push_back(nullptr);
    std::ostringstream out;
    try {
        const auto options = poetry::server::parse_options(static_cast<int>(args.size()), argv.data(), out);
        if (options) {
            check(*options);
        } else if (out.str().empty()) {
            fail("neither options nor --help/--version output");
        }
    } catch (const poetry::cli::UsageError&) {
    }
    return 0;
}

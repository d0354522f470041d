// poetry_server's modes, for the tests that run over them. The order is part of the tsan filters in
// tests/CMakeLists.txt (threaded is second in both lists): append new modes at the end.
#pragma once

#include <string>
#include <vector>

namespace poetry::test {

/// Every --mode.
inline const std::vector<std::string> server_modes{"async", "threaded", "blocking", "callbacks", "coroutines"};
/// The modes that serve many clients at once on one port: all but blocking.
inline const std::vector<std::string> concurrent_server_modes{"async", "threaded", "callbacks", "coroutines"};

}  // namespace poetry::test

// Which timing checks a build can make. Lower bounds that come from the code's contract (a chunk is
// never early, a timeout never fires before its time) hold in every build and on any load. Upper
// bounds, ratios and CPU figures are measurements: they hold in the plain build on a loaded 2-core
// machine, but under AddressSanitizer or ThreadSanitizer every instruction costs 2 to 20 times more,
// unevenly, so there they say more about the sanitizer than about the code and are not checked.
#pragma once

#include "support/sanitized.hpp"

namespace poetry::test {

inline constexpr bool timing_is_measured = !under_sanitizer;

}  // namespace poetry::test

/// BOOST_TEST for a measured timing or CPU bound: checked in the plain build only (see above).
#define POETRY_TEST_TIMING(...)                       \
    do {                                              \
        if constexpr (::poetry::test::timing_is_measured) { \
            BOOST_TEST(__VA_ARGS__);                  \
        }                                             \
    } while (false)

// Whether this test program is built with AddressSanitizer or ThreadSanitizer (GCC's macros), which
// changes what its measurements mean: see timing.hpp and process_stats.hpp.
#pragma once

namespace poetry::test {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool under_sanitizer = true;
#else
inline constexpr bool under_sanitizer = false;
#endif

/// Threads a sanitizer adds to every process it instruments (ThreadSanitizer's background thread).
#if defined(__SANITIZE_THREAD__)
inline constexpr unsigned sanitizer_threads = 1;
#else
inline constexpr unsigned sanitizer_threads = 0;
#endif

}  // namespace poetry::test

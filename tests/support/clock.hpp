// The clock for the tests that cannot include the loop layer's poetry/loop/clock.hpp: those of the
// layers below it (test_selectors links poetry::selectors only) and the integration tests, which link
// poetry::net only. The same clock under the same name; test_event_loop.cpp checks that it stays so.
#pragma once

#include <chrono>

namespace poetry::test {

using Clock = std::chrono::steady_clock;

}  // namespace poetry::test

// A pipe whose two ends close themselves, for tests that hand a writer an fd and read what it wrote.
#pragma once

#include <unistd.h>

#include <boost/test/unit_test.hpp>

#include "poetry/detail/unique_fd.hpp"

namespace poetry::test {

struct Pipe {
    detail::UniqueFd read;
    detail::UniqueFd write;
};

inline Pipe open_pipe() {
    int fds[2];
    BOOST_REQUIRE(::pipe(fds) == 0);
    return {detail::UniqueFd(fds[0]), detail::UniqueFd(fds[1])};
}

}  // namespace poetry::test

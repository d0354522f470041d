// ConnectAttempts, the one rule for trying an address's endpoints: in order, each once, and if none
// accepts, the last failure, thrown as "connect to HOST:PORT: <reason>"; and net::connect(Address),
// the blocking walk that follows it.
#include "poetry/net/connect_attempts.hpp"

#include <boost/test/unit_test.hpp>

#include <string>
#include <system_error>
#include <vector>

#include "poetry/net/socket.hpp"
#include "support/fd_count.hpp"

namespace net = poetry::net;

namespace {

/// A loopback port that refuses connections: a listener's, closed again.
std::uint16_t closed_port() {
    const net::Socket probe = net::listen(net::Endpoint::numeric("127.0.0.1", 0));
    return probe.local_endpoint().port();
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(connect_attempts, poetry::test::FdLeakCheck)

BOOST_AUTO_TEST_CASE(each_endpoint_is_tried_once_in_order_and_the_last_failure_is_the_one_reported) {
    const std::vector<net::Endpoint> endpoints{net::Endpoint::numeric("::1", 1),
                                               net::Endpoint::numeric("127.0.0.1", 2)};
    net::ConnectAttempts attempts(net::Address("poetry.test", 80), endpoints);
    const net::Endpoint* first = attempts.next();
    BOOST_REQUIRE(first != nullptr);
    BOOST_TEST(first->to_string() == "[::1]:1");
    attempts.failed(std::make_error_code(std::errc::network_unreachable));
    const net::Endpoint* second = attempts.next();
    BOOST_REQUIRE(second != nullptr);
    BOOST_TEST(second->to_string() == "127.0.0.1:2");
    attempts.failed(std::make_error_code(std::errc::connection_refused));
    BOOST_TEST(attempts.next() == nullptr);
    BOOST_TEST(attempts.next() == nullptr);
    BOOST_TEST((attempts.error() == std::errc::connection_refused));
    const std::system_error thrown = attempts.exception();
    BOOST_TEST(thrown.what() ==
               "connect to poetry.test:80: " + std::make_error_code(std::errc::connection_refused).message());
}

BOOST_AUTO_TEST_CASE(no_endpoint_at_all_fails_as_address_not_available) {
    net::ConnectAttempts attempts(net::Address("::1", 80), {});
    BOOST_TEST(attempts.next() == nullptr);
    BOOST_TEST((attempts.error() == std::errc::address_not_available));
    BOOST_TEST(attempts.exception().what() ==
               "connect to [::1]:80: " + std::make_error_code(std::errc::address_not_available).message());
}

BOOST_AUTO_TEST_CASE(a_blocking_connect_to_an_address_reports_the_last_endpoints_failure_by_the_address) {
    const std::uint16_t port = closed_port();
    std::error_code ec;
    const net::Socket socket = net::connect(net::Address("127.0.0.1", port), ec);
    BOOST_TEST(!socket.is_open());
    BOOST_TEST((ec == std::errc::connection_refused));
    BOOST_CHECK_EXCEPTION(
        net::connect(net::Address("127.0.0.1", port)), std::system_error, [&](const std::system_error& e) {
            return e.what() == "connect to 127.0.0.1:" + std::to_string(port) + ": " + ec.message();
        });
}

BOOST_AUTO_TEST_SUITE_END()

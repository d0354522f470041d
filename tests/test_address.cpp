// Address parsing and printing (PORT, HOST:PORT, [IPv6]:PORT), numeric Endpoints, and resolve() of
// names that never leave the machine (numeric hosts and "localhost" from /etc/hosts).
#include "poetry/net/address.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

namespace data = boost::unit_test::data;
namespace net = poetry::net;

namespace {

/// A bad address and a fragment of the problem its message must name.
struct BadAddress {
    std::string text;
    std::string problem;
};

std::ostream& operator<<(std::ostream& out, const BadAddress& bad) {
    return out << "\"" << bad.text << "\" (" << bad.problem << ")";
}

const std::vector<BadAddress> bad_addresses{
    {"abc", "expected PORT, HOST:PORT"},
    {":99999", "out of range"},
    {"host:", "missing port"},
    {"", "expected PORT, HOST:PORT"},
    {"[::1]", "missing port after ']'"},
    {"[::1]8000", "missing port after ']'"},
    {"::1:8000", "brackets"},
    {"[]:80", "empty host"},
    {"12a", "expected PORT, HOST:PORT"},
    {"host:-1", "is not a number"},
    {"host:65536", "out of range"},
    {"host:8x", "is not a number"},
    {"[::1", "missing ']'"},
    {"[[::1]:80", "'[' inside the brackets"},
    {"[::1]:", "missing port"},
    {"99999", "out of range"},
};

/// The message of the std::invalid_argument that parsing `text` throws, or "" if it throws nothing.
std::string parse_error(const std::string& text) {
    try {
        net::Address::parse(text);
    } catch (const std::invalid_argument& error) {
        return error.what();
    }
    return "";
}

bool is_loopback(const net::Endpoint& endpoint) {
    const std::string host = endpoint.host();
    return (endpoint.family() == AF_INET && host.starts_with("127.")) ||
           (endpoint.family() == AF_INET6 && host == "::1");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(address)

BOOST_AUTO_TEST_CASE(port_alone_uses_the_default_host) {
    const auto address = net::Address::parse("8000");
    BOOST_TEST(address.host() == "127.0.0.1");
    BOOST_TEST(address.port() == 8000);
    BOOST_TEST(address.to_string() == "127.0.0.1:8000");
}

BOOST_AUTO_TEST_CASE(host_and_port_are_split_at_the_colon) {
    const auto address = net::Address::parse("localhost:8001");
    BOOST_TEST(address.host() == "localhost");
    BOOST_TEST(address.port() == 8001);
    BOOST_TEST(address.to_string() == "localhost:8001");
}

BOOST_AUTO_TEST_CASE(bracketed_ipv6_host_loses_its_brackets_and_prints_with_them) {
    const auto address = net::Address::parse("[::1]:8002");
    BOOST_TEST(address.host() == "::1");
    BOOST_TEST(address.port() == 8002);
    BOOST_TEST(address.to_string() == "[::1]:8002");
}

BOOST_AUTO_TEST_CASE(empty_host_before_the_colon_uses_the_default_host) {
    const auto address = net::Address::parse(":8000");
    BOOST_TEST(address.host() == std::string(net::default_host));
    BOOST_TEST(address.port() == 8000);
}

BOOST_AUTO_TEST_CASE(ports_zero_and_65535_are_in_range) {
    BOOST_TEST(net::Address::parse("0").port() == 0);
    BOOST_TEST(net::Address::parse("0").host() == "127.0.0.1");
    BOOST_TEST(net::Address::parse("65535").port() == 65535);
    BOOST_TEST(net::Address::parse("host:65535").port() == 65535);
}

BOOST_DATA_TEST_CASE(bad_address_throws_invalid_argument_naming_the_text_and_the_problem,
                     data::make(bad_addresses), bad) {
    BOOST_CHECK_THROW(net::Address::parse(bad.text), std::invalid_argument);
    const std::string message = parse_error(bad.text);
    const std::string prefix = "invalid address \"" + bad.text + "\": ";
    BOOST_TEST(message.starts_with(prefix), "message: " << message);
    BOOST_TEST(message.find(bad.problem, prefix.size()) != std::string::npos, "message: " << message);
}

BOOST_AUTO_TEST_CASE(messages_name_the_problem_exactly) {
    BOOST_TEST(parse_error("host:") == "invalid address \"host:\": missing port");
    BOOST_TEST(parse_error(":99999") == "invalid address \":99999\": port 99999 is out of range (0-65535)");
    BOOST_TEST(parse_error("abc") == "invalid address \"abc\": expected PORT, HOST:PORT or [IPv6]:PORT");
    BOOST_TEST(parse_error("::1:8000") ==
               "invalid address \"::1:8000\": an IPv6 host needs brackets, as in [::1]:8000");
    BOOST_TEST(parse_error("host:8x") == "invalid address \"host:8x\": port \"8x\" is not a number");
}

BOOST_AUTO_TEST_CASE(to_string_round_trips_through_parse) {
    const std::vector<net::Address> addresses{
        {"127.0.0.1", 8000}, {"::1", 8002}, {"fe80::1:2", 0}, {"localhost", 65535}, {"poetry.example", 1},
    };
    for (const auto& address : addresses) {
        BOOST_TEST_CONTEXT("address " << address.to_string()) {
            const auto parsed = net::Address::parse(address.to_string());
            BOOST_TEST(parsed.host() == address.host());
            BOOST_TEST(parsed.port() == address.port());
            BOOST_TEST((parsed == address));
        }
    }
}

BOOST_AUTO_TEST_CASE(numeric_ipv4_endpoint) {
    const auto endpoint = net::Endpoint::numeric("127.0.0.1", 8000);
    BOOST_TEST(endpoint.family() == AF_INET);
    BOOST_TEST(endpoint.size() == sizeof(sockaddr_in));
    BOOST_TEST(endpoint.port() == 8000);
    BOOST_TEST(endpoint.host() == "127.0.0.1");
    BOOST_TEST(endpoint.to_string() == "127.0.0.1:8000");
}

BOOST_AUTO_TEST_CASE(numeric_ipv6_endpoint_prints_with_brackets) {
    const auto endpoint = net::Endpoint::numeric("::1", 80);
    BOOST_TEST(endpoint.family() == AF_INET6);
    BOOST_TEST(endpoint.size() == sizeof(sockaddr_in6));
    BOOST_TEST(endpoint.port() == 80);
    BOOST_TEST(endpoint.host() == "::1");
    BOOST_TEST(endpoint.to_string() == "[::1]:80");
}

BOOST_AUTO_TEST_CASE(numeric_refuses_names_and_malformed_hosts) {
    BOOST_CHECK_THROW(net::Endpoint::numeric("localhost", 1), std::invalid_argument);
    BOOST_CHECK_THROW(net::Endpoint::numeric("", 1), std::invalid_argument);
    BOOST_CHECK_THROW(net::Endpoint::numeric("127.0.0.256", 1), std::invalid_argument);
    BOOST_CHECK_THROW(net::Endpoint::numeric("[::1]", 1), std::invalid_argument);
    // try_numeric: the same test, without the exception (a name is no error to a resolver).
    for (const char* host : {"localhost", "", "127.0.0.256", "[::1]"}) {
        BOOST_TEST(!net::Endpoint::try_numeric(host, 1).has_value(), host);
    }
    BOOST_TEST(net::Endpoint::try_numeric("::1", 1).value().to_string() == "[::1]:1");
}

BOOST_AUTO_TEST_CASE(endpoint_refuses_a_non_ip_socket_address) {
    sockaddr_un unix_address{};
    unix_address.sun_family = AF_UNIX;
    BOOST_CHECK_THROW(net::Endpoint(reinterpret_cast<const sockaddr*>(&unix_address), sizeof(unix_address)),
                      std::invalid_argument);
    sockaddr_in too_short{};
    too_short.sin_family = AF_INET;
    BOOST_CHECK_THROW(net::Endpoint(reinterpret_cast<const sockaddr*>(&too_short), sizeof(too_short) - 1),
                      std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(localhost_resolves_to_loopback_endpoints_with_the_port) {
    const auto endpoints = net::resolve(net::Address("localhost", 8000));
    BOOST_TEST_REQUIRE(!endpoints.empty());
    for (const auto& endpoint : endpoints) {
        BOOST_TEST_CONTEXT("endpoint " << endpoint.to_string()) {
            BOOST_TEST(endpoint.port() == 8000);
            BOOST_TEST(is_loopback(endpoint));
        }
    }
}

BOOST_AUTO_TEST_CASE(numeric_host_resolves_to_exactly_one_endpoint) {
    std::error_code ec = std::make_error_code(std::errc::io_error);
    const auto endpoints = net::resolve(net::Address("127.0.0.1", 9), ec);
    BOOST_TEST(!ec);
    BOOST_TEST_REQUIRE(endpoints.size() == 1U);
    BOOST_TEST(endpoints[0].family() == AF_INET);
    BOOST_TEST(endpoints[0].to_string() == "127.0.0.1:9");
}

BOOST_AUTO_TEST_SUITE_END()

// libFuzzer target: poetry::net::Address::parse on any text ("PORT", "HOST:PORT", "[IPv6]:PORT").
// std::invalid_argument is the documented refusal; anything else that escapes, a sanitizer report or
// an address that does not survive to_string() and parse() again is a bug.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string_view>

#include "poetry/net/address.hpp"

namespace {

[[noreturn]] void fail(const char* what, std::string_view text) {
    std::fprintf(stderr, "fuzz_address: %s for \"%.*s\"\n", what, static_cast<int>(text.size()), text.data());
    std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    poetry::net::Address address("", 0);
    try {
        address = poetry::net::Address::parse(text);
    } catch (const std::invalid_argument&) {
        return 0;
    }
    if (address.host().empty()) {
        fail("an empty host was accepted", text);
    }
    // What the client prints must read back as the same address.
    const std::string printed = address.to_string();
    try {
        if (poetry::net::Address::parse(printed) != address) {
            fail("to_string() reads back as another address", text);
        }
    } catch (const std::invalid_argument&) {
        fail("to_string() does not parse", text);
    }
    // A numeric host becomes an Endpoint without any lookup; any other is refused.
    try {
        const auto endpoint = poetry::net::Endpoint::numeric(address.host(), address.port());
        if (endpoint.port() != address.port()) {
            fail("Endpoint::numeric changed the port", text);
        }
        (void)endpoint.to_string();
    } catch (const std::invalid_argument&) {
    }
    return 0;
}

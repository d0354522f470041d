#include "poetry/net/connect_attempts.hpp"

namespace poetry::net {

std::system_error connect_error(const Address& peer, const std::error_code& ec) {
    return std::system_error(ec, "connect to " + peer.to_string());
}

std::system_error connect_error(const Endpoint& peer, const std::error_code& ec) {
    return std::system_error(ec, "connect to " + peer.to_string());
}

}  // namespace poetry::net

#include "poetry/net/errors.hpp"

#include <netdb.h>

namespace poetry::net {
namespace {

class ResolverCategory final : public std::error_category {
public:
    const char* name() const noexcept override { return "resolver"; }
    std::string message(int code) const override { return ::gai_strerror(code); }
};

}  // namespace

const std::error_category& resolver_category() noexcept {
    static const ResolverCategory category;
    return category;
}

}  // namespace poetry::net

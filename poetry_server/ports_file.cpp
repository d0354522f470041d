#include "ports_file.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <system_error>

#include "poetry/detail/syscall.hpp"
#include "poetry/detail/unique_fd.hpp"

namespace poetry::server {
namespace {

/// The faults that apply, by their option names with underscores, and always the rate and the seed
/// (the seed the server picked, if none was given), so that a run can be repeated.
nlohmann::json to_json(const FaultPlan& plan) {
    auto faults = nlohmann::json::object();
    if (plan.jitter > 0) {
        faults["jitter"] = plan.jitter;
    }
    if (plan.size_jitter > 0) {
        faults["size_jitter"] = plan.size_jitter;
    }
    if (plan.first_byte_delay > 0) {
        faults["first_byte_delay"] = plan.first_byte_delay;
    }
    if (plan.close_after) {
        faults["close_after"] = *plan.close_after;
    }
    if (plan.reset_after) {
        faults["reset_after"] = *plan.reset_after;
    }
    if (plan.hang_after) {
        faults["hang_after"] = *plan.hang_after;
    }
    if (plan.slow_close > 0) {
        faults["slow_close"] = plan.slow_close;
    }
    faults["fault_rate"] = plan.rate;
    faults["seed"] = plan.seed;
    return faults;
}

std::string where(const std::filesystem::path& path) {
    return "--ports-file " + path.string();
}

/// What an existing file at a ports file's path is.
struct Existing {
    bool ports_file = false;        // a JSON list of listeners, as write() makes them
    std::optional<pid_t> pid;       // the server that wrote it, if it says
};

/// Reads the file at `path`, which exists, and says whether poetry_server wrote it: a non-empty JSON
/// list whose every entry has the fields only a ports file has together.
Existing inspect(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    const auto list = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    Existing existing;
    if (!list.is_array() || list.empty()) {
        return existing;
    }
    for (const auto& entry : list) {
        if (!entry.is_object()) {
            return existing;
        }
        for (const char* key : {"host", "port", "num_bytes", "delay"}) {
            if (!entry.contains(key)) {
                return existing;
            }
        }
    }
    existing.ports_file = true;
    if (const auto& first = list.front(); first.contains("pid") && first["pid"].is_number_unsigned()) {
        existing.pid = first["pid"].get<pid_t>();
    }
    return existing;
}

/// Whether `pid` is a poetry_server that is still running (and not this one).
bool is_running_server(pid_t pid) {
    if (pid <= 0 || pid == ::getpid() || (::kill(pid, 0) != 0 && errno == ESRCH)) {
        return false;
    }
    std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
    std::string name;
    std::getline(comm, name);
    return name == "poetry_server";
}

/// Writes all of `text` to `fd`. @returns the error, if any.
std::error_code write_all(int fd, std::string_view text) {
    std::error_code ec;
    while (!text.empty()) {
        const auto n = detail::retry_on_eintr(ec, [&] { return ::write(fd, text.data(), text.size()); });
        if (ec) {
            return ec;
        }
        text.remove_prefix(static_cast<std::size_t>(n));
    }
    return ec;
}

}  // namespace

PortsFile::PortsFile(std::filesystem::path path) : path_(std::move(path)) {
    std::error_code ec;
    const auto status = std::filesystem::status(path_, ec);
    if (std::filesystem::is_directory(status)) {
        throw StartupError(where(path_) + ": is a directory");
    }
    if (!std::filesystem::exists(status)) {
        return;
    }
    const Existing existing = inspect(path_);
    if (!existing.ports_file) {
        throw StartupError(where(path_) + ": the file exists and is not a ports file; not replacing it");
    }
    if (existing.pid && is_running_server(*existing.pid)) {
        throw StartupError(where(path_) + ": in use by the poetry_server running as pid " +
                           std::to_string(*existing.pid));
    }
    // A previous run's file (it crashed or was killed): it must not pass for this run's.
    std::filesystem::remove(path_, ec);
    if (ec) {
        throw StartupError("cannot remove the stale " + where(path_) + ": " + ec.message());
    }
}

PortsFile::~PortsFile() {
    remove();
}

void PortsFile::write(const std::vector<Listener>& listeners) {
    auto list = nlohmann::json::array();
    for (const Listener& listener : listeners) {
        list.push_back({{"host", listener.endpoint.host()}, {"port", listener.endpoint.port()}});
        if (listener.poem) {
            list.back()["poem"] = listener.poem->path();
            list.back()["bytes"] = listener.poem->size();
        } else {
            list.back()["upstream"] = listener.upstream->address().to_string();  // its size is not known
            if (listener.cache) {
                list.back()["cache"] = true;
            }
        }
        list.back()["num_bytes"] = listener.num_bytes;
        list.back()["delay"] = listener.delay_seconds;
        if (listener.rate) {
            list.back()["rate"] = *listener.rate;
        }
        if (listener.upstream && listener.upstream->pace()) {
            const UpstreamPace& toward = *listener.upstream->pace();
            list.back()["upstream_num_bytes"] = toward.num_bytes;
            list.back()["upstream_delay"] = toward.delay;
        }
        list.back()["pid"] = ::getpid();
        if (listener.faults.any()) {
            list.back()["faults"] = to_json(listener.faults);
        }
    }
    const std::string text = list.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + '\n';

    std::filesystem::path temporary = path_;
    temporary += ".tmp." + std::to_string(::getpid());
    const auto fail = [&](const std::error_code& cause) {
        std::error_code ignored;
        std::filesystem::remove(temporary, ignored);
        throw StartupError("cannot write " + where(path_) + ": " + cause.message());
    };
    std::error_code ec;
    {
        const detail::UniqueFd file(detail::retry_on_eintr(ec, [&] {
            return ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        }));
        if (ec) {
            throw StartupError("cannot write " + where(path_) + ": " + ec.message());
        }
        if (const auto error = write_all(file.get(), text)) {
            fail(error);
        }
    }
    std::filesystem::rename(temporary, path_, ec);
    if (ec) {
        fail(ec);
    }
    written_ = true;
}

void PortsFile::remove() noexcept {
    if (written_) {
        written_ = false;
        std::error_code ignored;
        std::filesystem::remove(path_, ignored);
    }
}

}  // namespace poetry::server

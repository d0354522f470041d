// The two modes on the library's EventLoop (--mode callbacks and --mode coroutines) share the server
// (serve_loop.cpp: listeners, stop, the sessions) and what every session has (LoopSession): its
// socket, its record, its chunk schedule, and the input side, where what the client sends is read
// and thrown away and its leaving is noticed. They differ only in how a session sends its poem.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <unordered_map>

#include "listener.hpp"
#include "poetry/loop/event_loop.hpp"
#include "poetry/net/socket.hpp"
#include "serve.hpp"
#include "server_log.hpp"

namespace poetry::server {

/// A client being served on a loop, whatever serves it (a poem's session, a proxy's): what the loop's
/// sessions need of it.
class LoopClient {
public:
    LoopClient() = default;
    LoopClient(const LoopClient&) = delete;
    LoopClient& operator=(const LoopClient&) = delete;
    virtual ~LoopClient() = default;

    /// Starts serving. May end (and destroy) the session.
    virtual void start() = 0;
    /// The server stops: record how this session ended (LoopSessions destroys it then).
    virtual void interrupt() noexcept = 0;
};

/// What the sessions of a loop share: the loop, the server's context and the sessions themselves.
class LoopSessions {
public:
    LoopSessions(EventLoop& loop, ServeContext& context) noexcept : loop_(loop), context_(context) {}

    [[nodiscard]] EventLoop& loop() noexcept { return loop_; }
    [[nodiscard]] ServeContext& context() noexcept { return context_; }
    /// Where every session's discarded input goes: one buffer for the loop, as reads into it happen
    /// one after another and nobody reads it (one per client was 40 MB at 10,000 clients).
    [[nodiscard]] std::span<std::byte> sink() noexcept { return sink_; }

    /// Takes a new session and starts it.
    void start(std::unique_ptr<LoopClient> session);
    /// Destroys the session (its record logs it): the session has decided how it ended.
    void erase(LoopClient& session) noexcept;
    /// The session's coroutine ended with `error`, which no session expects: logs it, records the
    /// session as dropped ("unexpected error") and destroys it.
    void failed(LoopClient& session, SessionRecord& record, const std::exception_ptr& error);
    /// Ends every session as the server stops.
    void interrupt_all() noexcept;
    [[nodiscard]] bool stopping() const noexcept { return stopping_; }

private:
    EventLoop& loop_;
    ServeContext& context_;
    std::unordered_map<LoopClient*, std::unique_ptr<LoopClient>> sessions_;
    std::array<std::byte, 4096> sink_{};
    bool stopping_ = false;
};

/// A poem's session on a loop.
class LoopSession : public LoopClient {
public:
    LoopSession(LoopSessions& sessions, net::Socket socket, std::string peer, ClientSlot slot,
                const Listener& listener,
                std::uint64_t number);
    /// Stops watching the socket (the socket and the record go after the derived class's members).
    ~LoopSession() override;

    void interrupt() noexcept override;

protected:
    /// The client has gone (reset, or end of stream while hanging): records it and destroys the session.
    void client_left(const std::string& reason);
    /// Sending failed with `ec` (the client has gone): records it and destroys the session.
    void send_failed(const std::error_code& ec);
    /// The last chunk has left: does what the fault at the limit asks, or closes. Returns true if the
    /// session has ended (and is destroyed); false if it waits (a hang, or the slow close, which the
    /// caller then sleeps through before calling close()).
    bool poem_sent();
    /// After the slow close (or none): FIN, records the end and destroys the session.
    void close();
    /// Records a chunk of `bytes` that has just left.
    void chunk_sent(std::size_t bytes) noexcept;

    EventLoop& loop() noexcept { return sessions_.loop(); }
    [[nodiscard]] bool hanging() const noexcept { return hanging_; }

    LoopSessions& sessions_;
    net::Socket socket_;
    SessionRecord record_;
    const Listener& listener_;
    ChunkSchedule chunks_;

private:
    void on_readable();

    bool input_ended_ = false;  // the client has ended its stream (it may still be reading)
    bool hanging_ = false;      // at --hang-after's limit: now its end of stream means it has left
};

/// Makes the session of --mode callbacks: a callback object, paced by a Timer.
std::unique_ptr<LoopClient> make_callback_session(LoopSessions& sessions, net::Socket socket, std::string peer,
                                                   ClientSlot slot, const Listener& listener, std::uint64_t number);
/// Makes the session of --mode coroutines: a Task written top to bottom like the blocking session.
std::unique_ptr<LoopClient> make_coroutine_session(LoopSessions& sessions, net::Socket socket,
                                                    std::string peer, ClientSlot slot, const Listener& listener,
                                                    std::uint64_t number);

/// Makes a proxied listener's session of --mode callbacks: a ProxyRelay driven by the loop's readers,
/// writers and a Timer.
std::unique_ptr<LoopClient> make_callback_proxy_session(LoopSessions& sessions, net::Socket socket, std::string peer,
                                                        ClientSlot slot, const Listener& listener,
                                                        std::uint64_t number);
/// The same for --mode coroutines: a Task that steps the relay and awaits what it asks for.
std::unique_ptr<LoopClient> make_coroutine_proxy_session(LoopSessions& sessions, net::Socket socket,
                                                         std::string peer, ClientSlot slot, const Listener& listener,
                                                         std::uint64_t number);

/// How a mode makes a session for a client of a listener.
using SessionFactory = std::unique_ptr<LoopClient> (*)(LoopSessions&, net::Socket, std::string, ClientSlot,
                                                       const Listener&, std::uint64_t);

/// Makes the session of a --cache proxy's client: it waits for the cache (checking every 10 ms, while
/// a fetch runs), then hands the client to a poem's session made by `serve_poem`, or closes it if the
/// fetch failed.
std::unique_ptr<LoopClient> make_cache_wait_session(LoopSessions& sessions, net::Socket socket, std::string peer,
                                                    ClientSlot slot, const Listener& listener, std::uint64_t number,
                                                    SessionFactory serve_poem);

}  // namespace poetry::server

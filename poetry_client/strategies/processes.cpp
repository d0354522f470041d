// processes: a child process per download (or a pool of --workers), each doing the blocking download and
// sending its events and poem back through a pipe. The parent hands out downloads, relays the children's
// events to the observer as they arrive, and builds the results; a child that dies fails only its download.
#include <fcntl.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <exception>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "poetry/detail/syscall.hpp"
#include "poetry/detail/unique_fd.hpp"
#include "poetry/loop/event_loop.hpp"
#include "strategies/blocking_download.hpp"
#include "strategies/pipe_frames.hpp"
#include "strategies/loop_errors.hpp"
#include "strategy.hpp"

namespace poetry::client {
namespace {

using detail::UniqueFd;

// How a worker ends when it cannot go on; the parent reports "worker process exited (status N)".
constexpr int exit_parent_gone = 1;  // the event pipe broke: there is no one left to report to
constexpr int exit_bad_command = 2;  // the command pipe carried something other than a download index
constexpr int exit_exception = 3;    // an exception escaped a download (out of memory)

//---------------------------------------------------------------------------------------------------------
// The child side

// fetch_blocking's events as frames on the event pipe. DownloadObserver::chunk is told a chunk's size, not
// its bytes, and fetch_blocking keeps its recorder to itself; so chunk frames carry sizes and times (enough
// for the parent's progress to stay live) and the poem travels once, in the finished frame.
class PipeObserver final : public DownloadObserver {
public:
    PipeObserver(int events, std::uint32_t download) noexcept : events_(events), download_(download) {}

    void connected(const Download& /*download*/, TimePoint at) override {
        std::error_code ec;
        write_connected(events_, download_, at, ec);
        exit_if_failed(ec);
    }
    void chunk(const Download& /*download*/, std::size_t bytes, TimePoint at) override {
        std::error_code ec;
        write_chunk(events_, download_, bytes, at, ec);
        exit_if_failed(ec);
    }
    // finished: the worker's loop sends it once fetch_blocking has returned the poem.

private:
    static void exit_if_failed(const std::error_code& ec) noexcept {
        if (ec) {
            ::_exit(exit_parent_gone);
        }
    }

    int events_;
    std::uint32_t download_;
};

void send_finished(int events, std::uint32_t download, DownloadResult& result) {
    std::error_code ec;
    write_finished(events, download, result, ec);
    if (ec == std::errc::message_size) {
        // A poem beyond the frame limit: the parent would take it for a corrupt stream, so say why instead.
        result.status = DownloadStatus::failed;
        result.error = "a poem of " + std::to_string(result.poem.size()) +
                       " bytes is too big to pass to the parent process";
        result.poem.clear();
        write_finished(events, download, result, ec);
    }
    if (ec) {
        ::_exit(exit_parent_gone);
    }
}

// A worker's whole life after fork: downloads until its command pipe reaches end of file. It ends with
// _exit, never exit() or a return: those would run the parent's atexit handlers and static destructors,
// and unwind into the parent's code.
[[noreturn]] void run_worker(std::span<const Download> downloads, const DownloadLimits& limits,
                             Interruption* interruption, int commands, int events) noexcept {
    // Whatever the parent's disposition, writing to an event pipe nobody reads must fail with EPIPE (pipes
    // have no MSG_NOSIGNAL), so that the worker ends with exit_parent_gone.
    std::signal(SIGPIPE, SIG_IGN);
    try {
        std::uint32_t download = 0;
        std::error_code ec;
        while (read_command(commands, download, ec)) {
            if (download >= downloads.size()) {
                ::_exit(exit_bad_command);
            }
            PipeObserver observer(events, download);
            DownloadResult result = fetch_blocking(downloads[download], limits, interruption, observer);
            send_finished(events, download, result);
        }
        ::_exit(ec ? exit_bad_command : 0);
    } catch (...) {
        ::_exit(exit_exception);
    }
}

//---------------------------------------------------------------------------------------------------------
// The parent side

// Writing to the command pipe of a worker that has died raises SIGPIPE, which kills by default; pipes have
// no MSG_NOSIGNAL, and a strategy must not change the process's signal dispositions. So SIGPIPE is blocked
// around the write, and one that the write raised is taken off the pending set before it is unblocked
// (libcurl's sigpipe.h does the same).
class SigpipeBlocked {
public:
    SigpipeBlocked() noexcept {
        sigemptyset(&sigpipe_);
        sigaddset(&sigpipe_, SIGPIPE);
        was_pending_ = pending();
        pthread_sigmask(SIG_BLOCK, &sigpipe_, &previous_);
    }
    SigpipeBlocked(const SigpipeBlocked&) = delete;
    SigpipeBlocked& operator=(const SigpipeBlocked&) = delete;
    ~SigpipeBlocked() {
        if (!was_pending_ && pending()) {
            const timespec zero{};
            while (::sigtimedwait(&sigpipe_, nullptr, &zero) == -1 && errno == EINTR) {
            }
        }
        pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
    }

private:
    static bool pending() noexcept {
        sigset_t set;
        sigemptyset(&set);
        sigpending(&set);
        return sigismember(&set, SIGPIPE) == 1;
    }

    sigset_t sigpipe_{};
    sigset_t previous_{};
    bool was_pending_ = false;
};

struct Pipe {
    UniqueFd read;
    UniqueFd write;
};

// Close-on-exec, so that nothing a later exec starts could hold a worker's pipe open.
Pipe open_pipe(std::error_code& ec) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        ec = detail::last_error();
        return {};
    }
    ec.clear();
    return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

std::string describe_end(int status) {
    if (WIFEXITED(status)) {
        return "worker process exited (status " + std::to_string(WEXITSTATUS(status)) + ")";
    }
    if (WIFSIGNALED(status)) {
        return "worker process killed by signal " + std::to_string(WTERMSIG(status));
    }
    return "worker process ended (wait status " + std::to_string(status) + ")";
}

class ProcessPool {
public:
    ProcessPool(std::span<const Download> downloads, const StrategySettings& settings,
                DownloadObserver& observer);
    ProcessPool(const ProcessPool&) = delete;
    ProcessPool& operator=(const ProcessPool&) = delete;
    /// Every worker has been reaped by the time run() returns; if it threw instead (the observer did), the
    /// workers left are killed and reaped here, so that no child outlives the strategy.
    ~ProcessPool();

    std::vector<DownloadResult> run();

private:
    struct Worker {
        pid_t pid = -1;
        UniqueFd commands;  // closed when no download is left for it: the end of file tells it to exit
        UniqueFd events;    // non-blocking; closed once the worker is retired
        FrameReader frames;
        std::optional<std::uint32_t> current;  // the download it was given and has not finished
        bool reaped = false;
    };
    struct Progress {
        DownloadResult result;
        std::size_t announced = 0;  // the bytes the chunk frames announced
        // Set when the observer threw: the download failed then, with the bytes announced so far (the
        // worker cannot be told to stop one download, so it finishes; its later frames are ignored).
        std::optional<std::string> observer_failure;
        std::size_t kept_bytes = 0;
    };
    /// Calls the observer about download `index`; if it throws, the download has failed (see Progress).
    template <class Call>
    void notify(std::uint32_t index, Call&& call);

    void start_workers();
    void interrupt();
    std::string start_worker();  // empty, or why no worker could be started
    void hand_out(Worker& worker);
    void on_readable(Worker& worker);
    bool dispatch(Worker& worker, Frame frame);  // false if the worker was retired
    void retire(Worker& worker, std::string fault = {});
    std::string reap(Worker& worker);
    void finish(std::uint32_t download, DownloadStatus status, std::string error, TimePoint at);

    std::span<const Download> downloads_;
    const StrategySettings& settings_;
    DownloadObserver& observer_;
    std::vector<Progress> progress_;  // one per download, in the downloads' order
    std::vector<Worker> workers_;
    std::size_t running_ = 0;     // workers not retired yet
    std::uint32_t next_ = 0;      // the first download not handed out yet
    std::string lost_;            // why the last worker that ended early did (or why none could start)
    bool interrupted_ = false;    // the run was asked to stop: no more downloads are handed out
    std::optional<LoopErrors> loop_errors_;  // what escaped a loop callback; run() rethrows it
    // Declared last, destroyed first: while the fds it may still watch are open.
    std::optional<EventLoop> loop_;
};

ProcessPool::ProcessPool(std::span<const Download> downloads, const StrategySettings& settings,
                         DownloadObserver& observer)
    : downloads_(downloads), settings_(settings), observer_(observer) {
    if (downloads.size() > std::numeric_limits<std::uint32_t>::max()) {
        throw std::length_error("too many downloads for the processes strategy");
    }
    progress_.resize(downloads.size());
    for (std::size_t i = 0; i < downloads.size(); ++i) {
        progress_[i].result.task = downloads[i].task;
        progress_[i].result.address = downloads[i].address;
    }
}

ProcessPool::~ProcessPool() {
    for (auto& worker : workers_) {
        if (!worker.reaped) {
            ::kill(worker.pid, SIGKILL);
            int status = 0;
            std::error_code ec;
            detail::retry_on_eintr(ec, [&] { return ::waitpid(worker.pid, &status, 0); });
        }
    }
}

std::vector<DownloadResult> ProcessPool::run() {
    start_workers();
    // Made after the forks, so that no worker holds a copy of its selector's fd.
    loop_.emplace();
    loop_errors_.emplace(*loop_);
    for (auto& worker : workers_) {
        loop_->add_reader(worker.events.get(), [this, &worker] { on_readable(worker); });
    }
    if (settings_.interruption != nullptr) {
        loop_->add_reader(settings_.interruption->fd(), [this] { interrupt(); });
    }
    while (running_ > 0) {
        loop_->run_once();
        loop_errors_->rethrow_if_any();
    }
    if (settings_.interruption != nullptr && !interrupted_) {
        loop_->remove_reader(settings_.interruption->fd());
    }
    // Left over if the run was interrupted, every worker ended before its time, or none could start.
    const TimePoint now = Clock::now();
    for (; next_ < downloads_.size(); ++next_) {
        progress_[next_].result.started = now;
        if (interrupted_) {
            finish(next_, DownloadStatus::interrupted, "interrupted", now);
            continue;
        }
        std::string reason = workers_.empty() ? lost_ : "no worker process left: " + lost_;
        finish(next_, DownloadStatus::failed, std::move(reason), now);
    }
    std::vector<DownloadResult> results;
    results.reserve(progress_.size());
    for (auto& progress : progress_) {
        results.push_back(std::move(progress.result));
    }
    return results;
}

void ProcessPool::start_workers() {
    const std::size_t wanted =
        settings_.workers == 0 ? downloads_.size() : std::min(settings_.workers, downloads_.size());
    // No reallocation once a child exists: a worker that could not be recorded could not be reaped.
    workers_.reserve(wanted);
    for (std::size_t i = 0; i < wanted; ++i) {
        std::string error = start_worker();
        if (!error.empty()) {
            // Out of processes or fds (EAGAIN, EMFILE): the pool runs with the workers it has, if any.
            lost_ = std::move(error);
            break;
        }
    }
}

std::string ProcessPool::start_worker() {
    std::error_code ec;
    Pipe commands = open_pipe(ec);
    Pipe events = ec ? Pipe{} : open_pipe(ec);
    if (!ec) {
        // The parent's end only: the worker writes with a blocking fd (O_NONBLOCK belongs to each end's
        // own open file description).
        detail::set_nonblocking(events.read.get(), true, ec);
    }
    if (ec) {
        return failure_reason("cannot create a pipe", ec);
    }
    // The child gets a copy of the stdio buffers: flushed now, nothing in them can come out twice.
    std::fflush(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) {
        return failure_reason("cannot start a process", detail::last_error());
    }
    if (pid == 0) {
        // Only its own two ends may stay open in a worker: a copy of a sibling's command pipe would keep the
        // sibling from ever reading end of file, and a copy of an event pipe's read end would keep its
        // writer from getting EPIPE once the parent is gone.
        for (auto& other : workers_) {
            other.commands.reset();
            other.events.reset();
        }
        commands.write.reset();
        events.read.reset();
        if (settings_.interruption != nullptr) {
            // The worker keeps its copy of the Interruption and the signal handlers: the parent's
            // SIGTERM (and the terminal's SIGINT) stop its download the same way.
            settings_.interruption->leave_fd_to_parent();
        }
        run_worker(downloads_, settings_.limits(), settings_.interruption, commands.read.get(), events.write.get());
    }
    // The worker's ends close on return, before the next fork: no later worker inherits them, and the
    // worker's exit is the only thing that can bring its event pipe to end of file.
    Worker& worker = workers_.emplace_back();
    worker.pid = pid;
    worker.commands = std::move(commands.write);
    worker.events = std::move(events.read);
    ++running_;
    hand_out(worker);
    return {};
}

// Stops the run: each busy worker is told with SIGTERM (its handler shuts its socket down, and it
// reports its download interrupted with the bytes it has), and every command pipe is closed, so that
// each worker exits once its download is reported.
void ProcessPool::interrupt() {
    interrupted_ = true;
    loop_->remove_reader(settings_.interruption->fd());  // it stays readable
    for (auto& worker : workers_) {
        if (!worker.reaped) {
            if (worker.current) {
                ::kill(worker.pid, SIGTERM);
            }
            worker.commands.reset();
        }
    }
}

void ProcessPool::hand_out(Worker& worker) {
    if (next_ < downloads_.size() && !interrupted_) {
        progress_[next_].result.started = Clock::now();
        std::error_code ec;
        {
            const SigpipeBlocked blocked;
            write_command(worker.commands.get(), next_, ec);
        }
        if (!ec) {
            worker.current = next_++;
            const std::uint32_t index = *worker.current;
            notify(index, [&] { observer_.started(downloads_[index], progress_[index].result.started); });
            return;
        }
        lost_ = failure_reason("cannot hand a download to a worker process", ec);
    }
    worker.commands.reset();
}

void ProcessPool::on_readable(Worker& worker) {
    if (!worker.events) {
        return;
    }
    std::error_code ec;
    const std::size_t got = worker.frames.read_some(worker.events.get(), ec);
    if (ec) {
        if (!detail::is_would_block(ec)) {
            retire(worker, failure_reason("read from a worker process", ec));
        }
        return;
    }
    while (auto frame = worker.frames.next()) {
        if (!dispatch(worker, std::move(*frame))) {
            return;
        }
    }
    if (worker.frames.corrupt()) {
        retire(worker, "worker process sent a bad frame: " + worker.frames.error());
    } else if (got == 0) {
        // End of file: the worker has exited (or is exiting). A frame cut short, if any, died with it.
        retire(worker);
    }
}

bool ProcessPool::dispatch(Worker& worker, Frame frame) {
    if (!worker.current || frame.download != *worker.current) {
        retire(worker, "worker process sent a frame about a download it was not doing");
        return false;
    }
    const std::uint32_t index = *worker.current;
    const Download& download = downloads_[index];
    Progress& progress = progress_[index];
    DownloadResult& result = progress.result;
    switch (frame.kind) {
        case FrameKind::connected:
            result.connected = frame.at;
            notify(index, [&] { observer_.connected(download, frame.at); });
            break;
        case FrameKind::chunk:
            ++result.chunks;
            if (!result.first_byte) {
                result.first_byte = frame.at;
            }
            result.last_byte = frame.at;
            progress.announced += frame.chunk_bytes;
            notify(index, [&] { observer_.chunk(download, frame.chunk_bytes, frame.at); });
            break;
        case FrameKind::finished:
            worker.current.reset();
            result.poem = std::move(frame.poem);
            if (progress.observer_failure) {
                result.poem.resize(std::min(result.poem.size(), progress.kept_bytes));
                finish(index, result.poem.empty() ? DownloadStatus::failed : DownloadStatus::partial,
                       std::move(*progress.observer_failure), frame.at);
                hand_out(worker);
                break;
            }
            // The child's recorder decided the status; a failure keeps its reason even without the bytes
            // (a poem too big to send). Otherwise the poem must be exactly what the chunks announced.
            if (frame.status != DownloadStatus::failed && result.poem.size() != progress.announced) {
                finish(index, DownloadStatus::failed,
                       "worker process sent " + std::to_string(result.poem.size()) +
                           " bytes of poetry after announcing " + std::to_string(progress.announced),
                       frame.at);
            } else {
                finish(index, frame.status, std::move(frame.error), frame.at);
            }
            hand_out(worker);
            break;
    }
    return true;
}

// The worker's event pipe reached end of file, or the worker must go (`fault`: it broke the protocol or
// its pipe failed, so nothing more it sends can be trusted). Its unfinished download, if any, fails.
void ProcessPool::retire(Worker& worker, std::string fault) {
    const bool faulty = !fault.empty();
    if (faulty) {
        ::kill(worker.pid, SIGKILL);
    }
    const bool told_to_stop = !worker.commands;
    loop_->remove_reader(worker.events.get());
    worker.events.reset();
    worker.commands.reset();
    std::string ending = reap(worker);
    --running_;
    std::string reason = faulty ? std::move(fault) : std::move(ending);
    if (worker.current) {
        const std::uint32_t index = *worker.current;
        worker.current.reset();
        if (interrupted_ && !faulty) {
            // Killed by the SIGTERM where it had no handler (a test without InterruptOnSignals): its
            // bytes went with it.
            finish(index, DownloadStatus::interrupted, "interrupted", Clock::now());
        } else {
            finish(index, DownloadStatus::failed, reason, Clock::now());
        }
    } else if (told_to_stop && !faulty) {
        return;  // the normal end: no download was left for it
    }
    lost_ = std::move(reason);
}

std::string ProcessPool::reap(Worker& worker) {
    int status = 0;
    std::error_code ec;
    detail::retry_on_eintr(ec, [&] { return ::waitpid(worker.pid, &status, 0); });
    worker.reaped = true;
    return ec ? failure_reason("wait for a worker process", ec) : describe_end(status);
}

void ProcessPool::finish(std::uint32_t download, DownloadStatus status, std::string error, TimePoint at) {
    DownloadResult& result = progress_[download].result;
    result.status = status;
    result.error = std::move(error);
    result.finished = at;
    try {
        observer_.finished(downloads_[download], result);
    } catch (...) {
        // The outcome is decided: nothing is left to fail (as DownloadRecorder does).
    }
}

template <class Call>
void ProcessPool::notify(std::uint32_t index, Call&& call) {
    Progress& progress = progress_[index];
    if (progress.observer_failure) {
        return;  // failed already: the observer hears nothing more about it
    }
    try {
        call();
    } catch (...) {
        progress.observer_failure = observer_failure(std::current_exception());
        progress.kept_bytes = progress.announced;
    }
}

}  // namespace

std::vector<DownloadResult> download_processes(std::span<const Download> downloads,
                                               const StrategySettings& settings, DownloadObserver& observer) {
    if (downloads.empty()) {
        return {};
    }
    ProcessPool pool(downloads, settings, observer);
    return pool.run();
}

}  // namespace poetry::client

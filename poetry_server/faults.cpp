#include "faults.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <random>

namespace poetry::server {

std::string format_number(double value) {
    char text[32];
    std::snprintf(text, sizeof(text), "%g", value);
    return text;
}

std::chrono::nanoseconds to_nanoseconds(double seconds) noexcept {
    return std::chrono::nanoseconds(std::llround(seconds * 1e9));
}

namespace {

/// SplitMix64's output function (Steele, Lea and Flood 2014): output n of the generator whose state
/// starts at `key` is mix(key + (n + 1) * golden_gamma), so any draw can be taken without the others.
std::uint64_t mix(std::uint64_t z) noexcept {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
constexpr std::uint64_t golden_gamma = 0x9e3779b97f4a7c15ULL;

// Which draw of a connection decides what: 0 whether it gets faults, then per chunk k its size
// (2k + 1) and the pause before it (2k + 2).
constexpr std::uint64_t decision_draw = 0;
std::uint64_t size_draw(std::size_t index) noexcept {
    return 2 * static_cast<std::uint64_t>(index) + 1;
}
std::uint64_t pause_draw(std::size_t index) noexcept {
    return 2 * static_cast<std::uint64_t>(index) + 2;
}

}  // namespace

const char* to_string(FaultKind kind) noexcept {
    switch (kind) {
        case FaultKind::first_byte_delay:
            return "first-byte-delay";
        case FaultKind::jitter:
            return "jitter";
        case FaultKind::size_jitter:
            return "size-jitter";
        case FaultKind::close_after:
            return "close-after";
        case FaultKind::reset_after:
            return "reset-after";
        case FaultKind::hang_after:
            return "hang-after";
        case FaultKind::slow_close:
            return "slow-close";
    }
    return "?";
}

bool FaultPlan::any() const noexcept {
    return jitter > 0 || size_jitter > 0 || first_byte_delay > 0 || slow_close > 0 || limit().has_value();
}

std::optional<FaultLimit> FaultPlan::limit() const noexcept {
    std::optional<FaultLimit> first;
    for (const auto& [bytes, kind] :
         {std::pair{reset_after, FaultKind::reset_after}, std::pair{close_after, FaultKind::close_after},
          std::pair{hang_after, FaultKind::hang_after}}) {
        if (bytes && (!first || *bytes < first->bytes)) {
            first = FaultLimit{*bytes, kind};
        }
    }
    return first;
}

std::string FaultPlan::describe() const {
    std::string text;
    const auto add = [&text](const std::string& part) { text += (text.empty() ? "" : ", ") + part; };
    if (close_after) {
        add("close after " + std::to_string(*close_after) + " bytes");
    }
    if (reset_after) {
        add("reset after " + std::to_string(*reset_after) + " bytes");
    }
    if (hang_after) {
        add("hang after " + std::to_string(*hang_after) + " bytes");
    }
    if (first_byte_delay > 0) {
        add("first byte after " + format_number(first_byte_delay) + " s");
    }
    if (jitter > 0) {
        add("jitter ±" + format_number(jitter) + " s");
    }
    if (size_jitter > 0) {
        add("chunk size ±" + std::to_string(size_jitter) + " bytes");
    }
    if (slow_close > 0) {
        add("slow close " + format_number(slow_close) + " s");
    }
    add("rate " + format_number(rate));
    add("seed " + std::to_string(seed));
    return text;
}

ConnectionFaults::ConnectionFaults(const FaultPlan& plan, std::size_t listener_index, std::uint64_t number) {
    if (!plan.any()) {
        return;
    }
    // seed_seq spreads nearby inputs (seed 7 and 8, connection 3 and 4) over unrelated keys.
    std::seed_seq sequence{static_cast<std::uint32_t>(plan.seed), static_cast<std::uint32_t>(plan.seed >> 32),
                           static_cast<std::uint32_t>(listener_index), static_cast<std::uint32_t>(number),
                           static_cast<std::uint32_t>(number >> 32)};
    std::array<std::uint32_t, 2> words{};
    sequence.generate(words.begin(), words.end());
    key_ = (static_cast<std::uint64_t>(words[0]) << 32) | words[1];
    plan_ = &plan;
    if (plan.rate < 1 && !(uniform(decision_draw) < plan.rate)) {
        plan_ = nullptr;  // this one is served normally
    }
}

double ConnectionFaults::uniform(std::uint64_t n) const noexcept {
    return static_cast<double>(mix(key_ + (n + 1) * golden_gamma) >> 11) * 0x1.0p-53;
}

std::chrono::nanoseconds ConnectionFaults::first_byte_delay() const noexcept {
    return plan_ ? to_nanoseconds(plan_->first_byte_delay) : std::chrono::nanoseconds(0);
}

std::size_t ConnectionFaults::chunk_size(std::size_t index, std::size_t num_bytes) const noexcept {
    if (!plan_ || plan_->size_jitter == 0) {
        return num_bytes;
    }
    const double spread = static_cast<double>(plan_->size_jitter);
    // Uniform over the 2N + 1 whole numbers from -N to N.
    const auto change =
        static_cast<std::int64_t>(std::floor(uniform(size_draw(index)) * (2 * spread + 1)) - spread);
    return static_cast<std::size_t>(std::max<std::int64_t>(1, static_cast<std::int64_t>(num_bytes) + change));
}

std::chrono::nanoseconds ConnectionFaults::pause(std::size_t index,
                                                 std::chrono::nanoseconds delay) const noexcept {
    if (!plan_ || plan_->jitter <= 0) {
        return delay;
    }
    const double change = (2 * uniform(pause_draw(index)) - 1) * plan_->jitter;
    return std::max(std::chrono::nanoseconds(0), delay + to_nanoseconds(change));
}

std::optional<FaultLimit> ConnectionFaults::limit() const noexcept {
    return plan_ ? plan_->limit() : std::nullopt;
}

std::chrono::nanoseconds ConnectionFaults::slow_close() const noexcept {
    return plan_ ? to_nanoseconds(plan_->slow_close) : std::chrono::nanoseconds(0);
}

ChunkSchedule::ChunkSchedule(std::size_t poem_size, std::size_t num_bytes, std::chrono::nanoseconds delay,
                             const ConnectionFaults& faults, TimePoint start) noexcept
    : faults_(faults),
      poem_size_(poem_size),
      num_bytes_(num_bytes),
      delay_(delay),
      start_(start),
      end_(poem_size),
      due_(start) {
    if (faults_.active()) {
        if (const auto limit = faults_.limit(); limit && limit->bytes < end_) {
            end_ = static_cast<std::size_t>(limit->bytes);
        }
        due_ += faults_.first_byte_delay();
    }
    size_ = std::min(faults_.chunk_size(0, num_bytes_), end_);
}

void ChunkSchedule::next(std::size_t sent) noexcept {
    offset_ += sent;
    ++index_;
    if (!done()) {
        due_ += faults_.pause(index_, delay_);
        size_ = std::min(faults_.chunk_size(index_, num_bytes_), end_ - offset_);
    }
}

void ChunkSchedule::source_ended(std::size_t total) noexcept {
    poem_size_ = total;
    end_ = std::min(end_, total);
    size_ = done() ? 0 : std::min(size_, end_ - offset_);
}

std::optional<FaultLimit> ChunkSchedule::cut() const noexcept {
    const auto limit = faults_.limit();
    return limit && limit->bytes < poem_size_ ? limit : std::nullopt;
}

}  // namespace poetry::server

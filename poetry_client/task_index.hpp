// Where a download's task number sits in a run's downloads, for observers that keep something per
// download (ChunkLog, LiveView) and must find it on every event. Tasks are numbered 1..N
// (make_downloads), so this is a plain vector rather than a map: a lookup per chunk must stay cheap.
#pragma once

#include <algorithm>
#include <cstddef>
#include <limits>
#include <optional>
#include <span>
#include <vector>

#include "download.hpp"

namespace poetry::client {

class TaskIndex {
public:
    /// Indexes `downloads`: the task of downloads[i] is found at i.
    void assign(std::span<const Download> downloads) {
        int last_task = 0;
        for (const auto& download : downloads) {
            last_task = std::max(last_task, download.task);
        }
        index_of_task_.assign(static_cast<std::size_t>(last_task) + 1, none);
        for (std::size_t i = 0; i < downloads.size(); ++i) {
            if (downloads[i].task > 0) {
                index_of_task_[static_cast<std::size_t>(downloads[i].task)] = i;
            }
        }
    }
    /// Forgets the run: every task is then outside it.
    void clear() noexcept { index_of_task_.clear(); }

    /// The download's position in the run, or nullopt for a task outside it.
    [[nodiscard]] std::optional<std::size_t> find(const Download& download) const noexcept {
        const auto task = static_cast<std::size_t>(download.task);
        if (download.task <= 0 || task >= index_of_task_.size() || index_of_task_[task] == none) {
            return std::nullopt;
        }
        return index_of_task_[task];
    }

private:
    static constexpr std::size_t none = std::numeric_limits<std::size_t>::max();
    std::vector<std::size_t> index_of_task_;
};

}  // namespace poetry::client

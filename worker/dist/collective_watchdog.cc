#include "worker/dist/collective_watchdog.h"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>
#include <utility>

namespace kubetrain {
namespace {

std::string seconds_text(std::chrono::nanoseconds duration) {
  const auto tenths = std::chrono::duration_cast<std::chrono::milliseconds>(duration).count() / 100;
  return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10) + " s";
}

}  // namespace

CollectiveWatchdog::CollectiveWatchdog(const HostWaits& waits, WatchdogOptions options,
                                       HealthCheck health, OnStuck on_stuck)
    : waits_(waits),
      options_(options),
      health_(std::move(health)),
      on_stuck_(std::move(on_stuck)),
      thread_([this] { run(); }) {}

CollectiveWatchdog::~CollectiveWatchdog() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

std::optional<std::string> CollectiveWatchdog::check(WatchdogClock::time_point now) const {
  if (health_) {
    if (std::string error = health_(); !error.empty()) {
      return "the communicator failed: " + error + "; ending this rank so that the job restarts";
    }
  }
  if (options_.timeout.count() <= 0) return std::nullopt;
  const auto wait = waits_.current(now);
  if (!wait || wait->elapsed < options_.timeout) return std::nullopt;
  return "waited " + seconds_text(wait->elapsed) + " for " + wait->what +
         " (collectiveTimeoutSeconds is " + seconds_text(options_.timeout) +
         "): another rank has stopped or the network is stuck; ending this rank so that the job "
         "restarts";
}

void CollectiveWatchdog::stop_health_checks() {
  std::lock_guard lock(mutex_);
  health_ = nullptr;
}

void CollectiveWatchdog::run() {
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, options_.poll_interval, [this] { return stopping_; })) {
    if (auto reason = check(WatchdogClock::now())) {
      lock.unlock();
      on_stuck_(*reason);
      return;
    }
  }
}

void end_stuck_rank(const std::string& reason) {
  spdlog::critical("{}", reason);
  spdlog::default_logger()->flush();
  std::fflush(stdout);
  std::fflush(stderr);
  // Not exit(): destructors and atexit handlers would wait on the stuck stream or communicator.
  std::_Exit(1);
}

std::unique_ptr<CollectiveWatchdog> make_collective_watchdog(
    int world_size, const HostWaits& waits, std::chrono::milliseconds timeout,
    CollectiveWatchdog::HealthCheck health) {
  if (world_size < 2 || (timeout.count() <= 0 && !health)) return nullptr;
  return std::make_unique<CollectiveWatchdog>(waits, WatchdogOptions{timeout},
                                              std::move(health), end_stuck_rank);
}

}  // namespace kubetrain

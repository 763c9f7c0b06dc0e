#pragma once

// A rank whose peer has frozen (a node that hangs) or whose network has stopped waits forever in a
// collective: the host blocks in MPI, or on a GPU stream where NCCL's kernels spin. The pods stay
// Running, the GPUs stay held, and nothing fails until a deadline far away. The watchdog ends such
// a rank instead, with a message that says why, so that mpirun ends the job and the operator
// restarts it (what PyTorch's NCCL watchdog and Horovod's stall shutdown do).

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "worker/dist/host_waits.h"

namespace kubetrain {

struct WatchdogOptions {
  // A wait longer than this means the rank is stuck; zero never times out (the communicator's own
  // errors are still watched).
  std::chrono::milliseconds timeout{0};
  std::chrono::milliseconds poll_interval{1000};
};

class CollectiveWatchdog {
 public:
  // Returns the communicator's asynchronous error ("" while healthy). Called from the watchdog's
  // thread, so it must be safe to call while collectives are being issued (NCCL's
  // ncclCommGetAsyncError is).
  using HealthCheck = std::function<std::string()>;
  // Ends the rank; called at most once, from the watchdog's thread, with the reason.
  using OnStuck = std::function<void(const std::string& reason)>;

  // Starts polling. `waits` must outlive the watchdog.
  CollectiveWatchdog(const HostWaits& waits, WatchdogOptions options, HealthCheck health,
                     OnStuck on_stuck);
  // Stops polling and joins the thread.
  ~CollectiveWatchdog();
  CollectiveWatchdog(const CollectiveWatchdog&) = delete;
  CollectiveWatchdog& operator=(const CollectiveWatchdog&) = delete;

  // What one poll at `now` finds wrong, if anything (the thread's whole decision, exposed so that
  // it can be checked without waiting for real time to pass; the thread calls it holding its
  // lock).
  std::optional<std::string> check(WatchdogClock::time_point now) const;

  // From now on only waits are timed: what the health check reads is about to go away. Returns
  // once no check is running.
  void stop_health_checks();

 private:
  void run();

  const HostWaits& waits_;
  WatchdogOptions options_;
  HealthCheck health_;
  OnStuck on_stuck_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

// The worker's OnStuck: logs the reason as critical and ends the process at once with exit code 1,
// a failure worth a retry. The training thread cannot be unblocked safely, so nothing else runs:
// checkpoints are written atomically, so none is left half-written.
[[noreturn]] void end_stuck_rank(const std::string& reason);

// The worker's watchdog over the training thread's waits, or none where there is nothing to watch
// for: a single rank, or no timeout and no health check.
std::unique_ptr<CollectiveWatchdog> make_collective_watchdog(
    int world_size, const HostWaits& waits, std::chrono::milliseconds timeout,
    CollectiveWatchdog::HealthCheck health = {});

}  // namespace kubetrain

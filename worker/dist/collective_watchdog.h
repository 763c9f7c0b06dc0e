#pragma once

// A rank whose peer has died or whose network has stopped waits forever inside a collective: the
// host blocks in MPI, or on a GPU stream where NCCL's kernels spin. The pods stay Running, the
// GPUs stay held, and nothing fails until a deadline far away. The watchdog ends such a rank
// instead, with a message that says why, so that mpirun ends the job and the operator restarts
// it (what PyTorch's NCCL watchdog and Horovod's stall shutdown do).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace kubetrain {

using WatchdogClock = std::chrono::steady_clock;

// Where one thread (the training loop) blocks on work that may include a collective. Read by the
// watchdog's thread.
class HostWaits {
 public:
  // Marks the calling thread as waiting for `what` ("the MPI gradient allreduce") until
  // destroyed. A scope inside another one changes nothing: the outer wait goes on.
  class Scope {
   public:
    Scope(HostWaits& waits, const char* what);
    ~Scope();
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    HostWaits* waits_;  // null for an inner scope
  };

  [[nodiscard]] Scope enter(const char* what) { return Scope(*this, what); }

  struct Wait {
    const char* what;
    WatchdogClock::duration elapsed;
  };
  // The wait in progress at `now`, if any.
  std::optional<Wait> current(WatchdogClock::time_point now) const;

 private:
  static constexpr int64_t kIdle = -1;
  std::atomic<int64_t> since_{kIdle};  // time_since_epoch of the wait's start, in clock ticks
  std::atomic<const char*> what_{nullptr};
};

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
  // it can be checked without waiting for real time to pass).
  std::optional<std::string> check(WatchdogClock::time_point now) const;

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

// The watchdog a gradient reducer runs beside its collectives, or none where there is nothing to
// watch for: a single rank, or no timeout and no health check.
std::unique_ptr<CollectiveWatchdog> make_collective_watchdog(
    int world_size, const HostWaits& waits, std::chrono::milliseconds timeout,
    CollectiveWatchdog::HealthCheck health = {});

}  // namespace kubetrain

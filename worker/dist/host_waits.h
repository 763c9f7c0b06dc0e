#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>

namespace kubetrain {

using WatchdogClock = std::chrono::steady_clock;

// Where the training thread blocks on work that may include a collective: an MPI call, the
// gradient reducer's finish(), a wait on a GPU stream that runs NCCL's kernels. Entered and left
// by that one thread; read by the watchdog's (collective_watchdog.h).
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

}  // namespace kubetrain

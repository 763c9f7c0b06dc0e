#pragma once

// Creations and deletions this operator made that the informer cache has not shown yet, per job
// (client-go's ControllerExpectations, by pod name). A reconcile that runs on a cache older than
// its own writes skips those names instead of creating or deleting them again.

#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <string>

namespace kubetrain {

class Expectations {
 public:
  using Clock = std::chrono::steady_clock;

  // Expectations older than `timeout` lapse (a lost watch event must not block a job forever;
  // the next relist or reconcile sets things right).
  explicit Expectations(Clock::duration timeout = std::chrono::seconds(60)) : timeout_(timeout) {}

  void expect_creation(const std::string& job_key, const std::string& name);
  void expect_deletion(const std::string& job_key, const std::string& name);
  // Informer events: the cache now shows the pod (added) or no longer does (deleted).
  void observe_creation(const std::string& job_key, const std::string& name);
  void observe_deletion(const std::string& job_key, const std::string& name);

  bool creation_pending(const std::string& job_key, const std::string& name);
  bool deletion_pending(const std::string& job_key, const std::string& name);
  // The job is gone: forget everything about it.
  void forget(const std::string& job_key);

 private:
  using Pending = std::map<std::string, std::map<std::string, Clock::time_point>>;
  bool pending(Pending& pending, const std::string& job_key, const std::string& name);
  static void erase(Pending& pending, const std::string& job_key, const std::string& name);

  const Clock::duration timeout_;
  std::mutex mutex_;
  Pending creations_;
  Pending deletions_;
};

}  // namespace kubetrain

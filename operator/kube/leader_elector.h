#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "operator/kube/kube_client.h"

namespace kubetrain {

struct LeaderElectionConfig {
  std::string lease_namespace;
  std::string lease_name;  // e.g. "kubetrain-operator"
  std::string identity;    // unique per process, e.g. "<pod name>_<random>"
  // A candidate takes over a lease whose renewTime is older than lease_duration.
  std::chrono::milliseconds lease_duration{15000};
  // The leader gives up when it could not renew for this long (must be < lease_duration).
  std::chrono::milliseconds renew_deadline{10000};
  // How often to try acquiring or renewing.
  std::chrono::milliseconds retry_period{2000};
  // Clear holderIdentity on stop() while leading, so another candidate takes over at once.
  bool release_on_stop = true;
  // Called on the elector's thread. on_stopped_leading follows every on_started_leading (when
  // leadership is lost or on stop()); a controller that must not act without the lease stops its
  // work there.
  std::function<void()> on_started_leading;
  std::function<void()> on_stopped_leading;
  // Called when the observed holder changes (including to this identity).
  std::function<void(const std::string& holder)> on_new_leader;
};

// Leader election on a coordination.k8s.io/v1 Lease, like client-go's leaderelection with a
// LeaseLock: create the Lease or take it over once it expired (leaseTransitions + 1, acquireTime),
// renew (renewTime) every retry_period with optimistic concurrency through resourceVersion, and
// stop leading when renewals fail for renew_deadline. After losing the lease it stays a candidate.
class LeaderElector {
 public:
  LeaderElector(KubeClient& client, LeaderElectionConfig config);
  ~LeaderElector();  // stops
  LeaderElector(const LeaderElector&) = delete;
  LeaderElector& operator=(const LeaderElector&) = delete;

  // Starts the election thread (once).
  void start();
  // Stops the thread; releases the lease when leading and release_on_stop. Idempotent.
  void stop();

  bool is_leader() const { return leading_.load(); }
  // The holder last observed on the Lease (empty if none).
  std::string leader() const;

 private:
  void run(std::stop_token stop);
  // One acquire-or-renew attempt; returns whether this identity holds the lease afterwards.
  bool try_acquire_or_renew();
  void release();
  void set_observed_holder(const std::string& holder);

  KubeClient& client_;
  const LeaderElectionConfig config_;
  std::atomic<bool> leading_{false};
  mutable std::mutex mutex_;
  std::string observed_holder_;
  std::string observed_resource_version_;
  std::chrono::steady_clock::time_point observed_time_{};
  std::string observed_renew_time_;
  std::condition_variable_any wake_cv_;
  std::jthread thread_;
};

}  // namespace kubetrain

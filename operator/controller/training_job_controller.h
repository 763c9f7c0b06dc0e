#pragma once

// The TrainingJob controller: informers on jobs and their children, a work queue, and reconcile
// threads that carry out plan_reconcile's plan against the API.

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "operator/controller/expectations.h"
#include "operator/controller/operator_metrics.h"
#include "operator/kube/event_recorder.h"
#include "operator/kube/informer.h"
#include "operator/kube/kube_client.h"
#include "operator/kube/work_queue.h"

namespace kubetrain {

struct ControllerOptions {
  std::string namespace_name;  // empty: every namespace
  int threads = 4;
  std::chrono::milliseconds progress_timeout{1000};  // GET /progress on rank 0
};

class TrainingJobController {
 public:
  TrainingJobController(KubeClient& client, OperatorMetrics& metrics, ControllerOptions options);
  ~TrainingJobController();  // stops
  TrainingJobController(const TrainingJobController&) = delete;
  TrainingJobController& operator=(const TrainingJobController&) = delete;

  // Lists and watches; standby replicas do this too so that they take over with a warm cache.
  void start_informers();
  bool caches_synced() const;
  // Waits for the caches, then starts the reconcile threads (the leader only).
  void start_workers();
  void stop();

 private:
  struct Observation;

  void enqueue(const ObjectPtr& job);
  void enqueue_owner(const ObjectPtr& child);
  void on_pod_event(const ObjectPtr& pod, bool deleted);
  void worker_loop();
  // Returns false when the key must be retried with backoff.
  bool reconcile(const std::string& key);
  bool execute(const std::string& key, const ObjectPtr& job, const struct ReconcilePlan& plan);
  bool write_status(const ObjectPtr& job, const struct ReconcilePlan& plan);
  bool create_children(const std::string& key, const ObjectPtr& job, const struct ReconcilePlan& plan);
  bool delete_pods(const std::string& key, const ObjectPtr& job, const struct ReconcilePlan& plan);
  void record_job_metrics(const ObjectPtr& job, const struct ReconcilePlan& plan);

  KubeClient& client_;
  OperatorMetrics& metrics_;
  const ControllerOptions options_;
  EventRecorder events_;
  WorkQueue queue_;
  Expectations expectations_;
  std::unique_ptr<Informer> jobs_;
  std::unique_ptr<Informer> pods_;
  std::unique_ptr<Informer> services_;
  std::unique_ptr<Informer> config_maps_;
  std::unique_ptr<Informer> secrets_;
  std::vector<std::jthread> workers_;
  std::atomic<bool> stopped_{false};
};

}  // namespace kubetrain

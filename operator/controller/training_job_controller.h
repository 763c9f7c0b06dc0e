#pragma once

// The TrainingJob controller: informers on jobs and their children, a work queue, and reconcile
// threads that carry out plan_reconcile's plan against the API.

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "operator/controller/expectations.h"
#include "operator/controller/operator_metrics.h"
#include "operator/controller/reconcile_plan.h"
#include "operator/kube/event_recorder.h"
#include "operator/kube/informer.h"
#include "operator/kube/kube_client.h"
#include "operator/kube/work_queue.h"

namespace kubetrain {

struct ControllerOptions {
  std::string namespace_name;  // empty: every namespace
  int threads = 4;
  std::chrono::milliseconds progress_timeout{1000};  // GET /progress on rank 0
  Integrations integrations;  // the gang schedulers whose PodGroups are watched and created; Kueue
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
  bool delete_children(const ObjectPtr& job, const struct ReconcilePlan& plan);
  bool update_children(const ObjectPtr& job, const struct ReconcilePlan& plan);
  bool update_child(const std::string& ns, const ChildUpdate& update);
  // Kueue's ResourceFlavors and PriorityClass values, from their caches.
  KueueCluster kueue_cluster() const;
  // Removes the resource-in-use finalizer from the Workloads of a job that is gone or being
  // deleted (`uid` empty: every Workload labelled with its name), so that they can be deleted.
  bool release_workloads(const std::string& ns, const std::string& job, const std::string& uid);
  void record_job_metrics(const ObjectPtr& job, const struct ReconcilePlan& plan);
  // Every informer: jobs, pods, each observed child kind, then the cluster-scoped ones.
  std::vector<Informer*> informers() const;

  KubeClient& client_;
  OperatorMetrics& metrics_;
  const ControllerOptions options_;
  EventRecorder events_;
  WorkQueue queue_;
  Expectations expectations_;
  std::unique_ptr<Informer> jobs_;
  std::unique_ptr<Informer> pods_;
  // One per child kind the controller observes (not Secrets: it never reads them).
  std::vector<std::pair<const ResourceKind*, std::unique_ptr<Informer>>> children_;
  std::unique_ptr<Informer> flavors_;           // with Kueue only
  std::unique_ptr<Informer> priority_classes_;  // with Kueue only
  std::mutex workers_mutex_;  // guards workers_
  std::vector<std::jthread> workers_;
  std::atomic<bool> stopped_{false};
};

}  // namespace kubetrain

#pragma once

// One reconcile as a pure function: from the TrainingJob and what the cache holds, the status to
// write and the objects to create or delete. The controller only carries the plan out.

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "operator/controller/child_ref.h"
#include "operator/controller/kueue_admission.h"
#include "operator/controller/pod_view.h"
#include "operator/controller/training_job.h"
#include "operator/kube/resource_kind.h"

namespace kubetrain {

// What the operator was started to integrate with (its flags): the gang schedulers whose PodGroups
// it watches, and Kueue.
struct Integrations {
  bool volcano = false;
  bool coscheduling = false;
  bool kueue = false;

  bool watches(GangScheduler scheduler) const;
};

struct ObservedState {
  Integrations integrations;
  std::vector<PodView> pods;  // every pod labelled with the job's name
  // The job's other children that the caches hold (owned by this job), by kind and name. Secrets
  // are not among them: the operator never reads a Secret (see ReconcilePlan::create_children).
  std::map<ChildRef, std::shared_ptr<const nlohmann::json>> children;
  KueueCluster kueue;  // empty unless integrations.kueue
  // Rank 0's /progress report, polled this reconcile (see progress_url); nullopt if not polled
  // or unreachable.
  std::optional<nlohmann::json> progress;
  TimePoint now;
};

struct PlannedEvent {
  std::string type;  // Normal | Warning
  std::string reason;
  std::string message;
};

struct ReconcilePlan {
  JobStatus status;
  std::optional<TrainingJobSpec> spec;  // parsed and validated; nullopt for an invalid spec
  // Created in this order, all through one path, before any pod; a pod is only created once they
  // were. The SSH Secret is listed whenever pods are to be created, since it is never observed:
  // AlreadyExists means it exists, and the owner reference deletes it with the job.
  std::vector<ChildToCreate> create_children;
  std::vector<ChildRef> delete_children;  // a PodGroup on suspension, completion, gang restart
  // At most one write to the job's Workload (status, spec.active, finalizers): the next reconcile
  // sees its result through the watch and makes the next.
  std::vector<ChildUpdate> update_children;
  std::vector<nlohmann::json> create_pods;
  std::vector<std::string> delete_pods;
  std::vector<PlannedEvent> events;  // emitted once the status is written
  std::optional<std::chrono::milliseconds> requeue_after;  // the nearest deadline
  bool delete_job = false;  // ttlSecondsAfterFinished has passed
};

ReconcilePlan plan_reconcile(const ObjectMeta& metadata, const nlohmann::json& spec, const JobStatus& previous,
                             const ObservedState& observed);

// How often progress is polled while running: a third of progressDeadlineSeconds, 1..10 s.
std::chrono::milliseconds progress_poll_interval(const TrainingJobSpec& spec);

}  // namespace kubetrain

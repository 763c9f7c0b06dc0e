#pragma once

// Kueue's contract for a job controller, as pure functions of the job and its Workload: what the
// Workload allows this reconcile (create it, wait, stop for an eviction, start with the
// admission's flavors, fail), and the writes that keep the Workload in line with the job
// (spec.active, the admission an eviction ends, PodsReady, Finished, the finalizer).

#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "operator/controller/child_ref.h"
#include "operator/controller/job_pods.h"
#include "operator/controller/kueue_workload.h"
#include "operator/controller/training_job.h"

namespace kubetrain {

// Kueue's cluster-scoped objects that the operator reads: the ResourceFlavors, by name, and the
// value of each PriorityClass, by name.
struct KueueCluster {
  std::map<std::string, nlohmann::json> flavors;
  std::map<std::string, int64_t> priority_classes;
};

// What the job has besides its spec that the gate asks about.
struct KueueJobState {
  bool suspended = false;    // spec.runPolicy.suspend
  bool pods_remain = false;  // some pod of the job is still in the cache
};

// Where the Workload leaves the job this reconcile.
enum class KueueVerdict {
  kWait,  // no pods: the Workload is new, pending, evicted or deactivated
  kRun,   // admitted: the pods may run, with `scheduling` applied
  kFail,  // the admission cannot be applied, or the Workload was finished: the job fails
};

struct KueueGate {
  KueueVerdict verdict = KueueVerdict::kWait;
  std::string reason;   // kWait: the Suspended condition's reason; kFail: the Failed condition's
  std::string message;  // why; for kRun, "admitted by ClusterQueue CQ"
  std::map<std::string, PodScheduling> scheduling;  // kRun: what each podSet's pods get
  // No Workload exists: create build_workload(job, spec, priority).
  bool create_workload = false;
  std::optional<WorkloadPriority> priority;
  bool workload_updated = false;  // `write` updates a pending Workload to match the job's spec
  bool delete_workload = false;   // the Workload no longer matches the job and holds no pods: delete it
  std::optional<ChildUpdate> write;  // at most one write to the Workload
};

// `workload` is the job's Workload in the cache (owned by the job), or null. Call only for a job
// that Kueue manages (kueue_queue_name not empty) and that has not finished.
KueueGate kueue_gate(const ObjectMeta& job, const TrainingJobSpec& spec, const nlohmann::json* workload,
                     const KueueCluster& cluster, const KueueJobState& state, TimePoint now);

// The write that brings the Workload in line with the job's status once the reconcile is planned:
// Finished (Succeeded or Failed) once the job finished, then the finalizer removed; while the gate
// lets the job run (`admitted`), PodsReady (true once the launcher runs) for Kueue's
// waitForPodsReady.
std::optional<ChildUpdate> follow_job(const nlohmann::json& workload, const JobStatus& status, bool admitted,
                                      TimePoint now);

// The Workload without the resource-in-use finalizer, for a job that is deleted: nullopt when it
// has none.
std::optional<ChildUpdate> release_workload(const nlohmann::json& workload);

}  // namespace kubetrain

#pragma once

// Queueing through Kueue, as Kueue's contract for an external framework asks of a job controller,
// in pure functions of the job: the Workload (kueue.x-k8s.io/v1beta2) the operator creates for a
// TrainingJob labelled kueue.x-k8s.io/queue-name, and what an admission adds to the job's pods
// (each assigned ResourceFlavor's node labels and tolerations).

#include <map>
#include <optional>
#include <string>
#include <variant>

#include <nlohmann/json.hpp>

#include "operator/controller/job_pods.h"
#include "operator/controller/training_job.h"

namespace kubetrain {

inline constexpr const char* kKueueQueueNameLabel = "kueue.x-k8s.io/queue-name";
inline constexpr const char* kKueueJobUidLabel = "kueue.x-k8s.io/job-uid";
inline constexpr const char* kKueuePodSetLabel = "kueue.x-k8s.io/podset";
// Kueue removes it once the Workload is finished or its job gone; the quota stays held until then.
inline constexpr const char* kKueueResourceInUseFinalizer = "kueue.x-k8s.io/resource-in-use";
// A digest of what Kueue reserves quota for and picks flavors by, set by build_workload: the
// stored podSets cannot be compared with freshly built ones, since the API server applies the
// Workload CRD's defaults to them.
inline constexpr const char* kQuotaDigestAnnotation = "kubetrain.dev/quota-digest";
inline constexpr const char* kWorkersPodSet = "workers";
inline constexpr const char* kLauncherPodSet = "launcher";

// The job's kueue.x-k8s.io/queue-name label; empty when Kueue does not manage the job.
std::string kueue_queue_name(const ObjectMeta& job);

// Kueue's own name for the Workload of an owner (GetWorkloadNameForOwnerWithGVK):
// "trainingjob-NAME" cut to 247 characters, "-", and the first 5 hex digits of the SHA-1 of
// "TrainingJob\nkubetrain.dev\nNAME\nUID", so that Kueue's tools find it where they look.
std::string workload_name(const ObjectMeta& job);

// The priority Kueue reads from the Workload: a PriorityClass and its value.
struct WorkloadPriority {
  std::string priority_class;
  int64_t value = 0;
};

// The Workload of the job: owned by it (controller), labelled kueue.x-k8s.io/job-uid and with the
// job's name, with the resource-in-use finalizer; spec.queueName, and podSets "workers" (count
// workers) and "launcher" (count 1) whose templates are the pods' without what names one pod.
nlohmann::json build_workload(const ObjectMeta& job, const TrainingJobSpec& spec,
                              const std::optional<WorkloadPriority>& priority);

// How a Workload differs from the one the job would get now (BUILT, from build_workload).
struct WorkloadDrift {
  bool queue = false;  // spec.queueName: the job's queue label changed
  // The podSets' quota digest: a count, the containers' resources, or the nodeSelector, affinity,
  // tolerations or priorityClassName of a template changed. Other changes (the image, say) take
  // effect at the next gang start, as without Kueue, and need no new quota. A Workload without
  // the digest annotation counts as matching.
  bool quota = false;
};
WorkloadDrift workload_drift(const nlohmann::json& workload, const nlohmann::json& built);

// What an admitted Workload's status.admission adds to the pods of each podSet (by name), from
// the ResourceFlavors by name: the flavors' spec.nodeLabels merged into the nodeSelector, their
// spec.tolerations added, and the label kueue.x-k8s.io/podset. A string instead says why the
// admission cannot be applied: a flavor not found, or a node label that the job's own
// nodeSelector sets to another value (Kueue treats that as a permanent failure to start).
using AdmittedScheduling = std::variant<std::map<std::string, PodScheduling>, std::string>;
AdmittedScheduling admitted_pod_scheduling(const nlohmann::json& workload, const TrainingJobSpec& spec,
                                           const std::map<std::string, nlohmann::json>& flavors);

}  // namespace kubetrain

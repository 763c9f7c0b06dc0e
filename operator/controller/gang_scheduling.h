#pragma once

// Gang scheduling as pure functions of the job: the PodGroup the operator creates for each gang
// attempt (Volcano's scheduling.volcano.sh/v1beta1, or scheduler-plugins' scheduling.x-k8s.io/
// v1alpha1 for its coscheduling plugin), what it adds to the pods of the gang, and what a
// PodGroup's status says about a gang that waits.

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "operator/controller/job_pods.h"
#include "operator/controller/training_job.h"
#include "operator/kube/resource_kind.h"

namespace kubetrain {

// How a pod names its group: Volcano reads the annotation, coscheduling the label.
inline constexpr const char* kVolcanoGroupAnnotation = "scheduling.k8s.io/group-name";
inline constexpr const char* kCoschedulingGroupLabel = "scheduling.x-k8s.io/pod-group";

const ResourceKind& pod_group_kind(GangScheduler scheduler);
// "volcano" or "coscheduling", as spec.runPolicy.schedulingPolicy.gangScheduler spells it.
std::string gang_scheduler_label(GangScheduler scheduler);
// The PodGroup carries the job's name.
std::string pod_group_name(const std::string& job);

// schedulingPolicy.schedulerName, else spec.template.spec.schedulerName, else the name each
// project's installation gives its scheduler: "volcano", "scheduler-plugins-scheduler".
std::string gang_scheduler_name(const TrainingJobSpec& spec);
// minAvailable, else every worker. The launcher is not counted: it is created only once the
// workers are Ready, so the workers cannot wait for it.
int64_t gang_min_member(const TrainingJobSpec& spec);
// schedulingPolicy.minResources, else the requests of minMember workers (a container's limits
// where it sets no request, as Kubernetes defaults them), e.g. {"cpu": "8", "nvidia.com/gpu": "32"}.
nlohmann::json gang_min_resources(const TrainingJobSpec& spec);

// The PodGroup of gang attempt `attempt`: owned by the job, labelled with its name and attempt.
nlohmann::json build_pod_group(const ObjectMeta& job, const TrainingJobSpec& spec, int64_t attempt);
// The scheduler name and the group label or annotation of the pods of the gang (the launcher
// too: it joins the group once the workers run).
PodScheduling gang_pod_scheduling(const ObjectMeta& job, const TrainingJobSpec& spec);

// Why a gang waits, as the PodGroup's status says it.
struct GangWait {
  std::string reason;   // the scheduler's reason (Volcano's Unschedulable condition), else PodGroupPHASE
  std::string message;  // "PodGroup j (volcano, minMember 4) is Inqueue: ..."
};
// nullopt when the PodGroup's phase says the gang was placed (Running, Scheduled, Completed, ...).
std::optional<GangWait> gang_wait(const nlohmann::json& pod_group, GangScheduler scheduler);

}  // namespace kubetrain

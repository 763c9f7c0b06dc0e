#include "operator/controller/kueue_admission.h"

#include <algorithm>

#include "operator/controller/rfc3339.h"

namespace kubetrain {
namespace {

using nlohmann::json;

// Conditions of a Workload (metav1.Condition, a list keyed by type).
const json* find_condition(const json& workload, const std::string& type) {
  const auto status = workload.find("status");
  if (status == workload.end() || !status->is_object()) return nullptr;
  const auto conditions = status->find("conditions");
  if (conditions == status->end() || !conditions->is_array()) return nullptr;
  for (const json& condition : *conditions) {
    if (condition.value("type", "") == type) return &condition;
  }
  return nullptr;
}

bool is_true(const json& workload, const std::string& type) {
  const json* condition = find_condition(workload, type);
  return condition != nullptr && condition->value("status", "") == "True";
}

std::string condition_text(const json* condition, const char* field) {
  return condition == nullptr ? std::string() : condition->value(field, "");
}

// As Kubernetes' meta.SetStatusCondition: lastTransitionTime moves only when the status does.
void set_condition(json& workload, const std::string& type, bool value, const std::string& reason,
                   const std::string& message, TimePoint now) {
  json& conditions = workload["status"]["conditions"];
  if (!conditions.is_array()) conditions = json::array();
  const std::string text = value ? "True" : "False";
  auto it = std::find_if(conditions.begin(), conditions.end(),
                         [&](const json& condition) { return condition.value("type", "") == type; });
  if (it == conditions.end()) {
    conditions.push_back({{"type", type}, {"status", text}, {"lastTransitionTime", format_rfc3339(now)}});
    it = conditions.end() - 1;
  } else if (it->value("status", "") != text) {
    (*it)["lastTransitionTime"] = format_rfc3339(now);
  }
  (*it)["status"] = text;
  (*it)["reason"] = reason;
  (*it)["message"] = message;
  (*it)["observedGeneration"] = workload["metadata"].value("generation", 0);
}

bool has_quota_reservation(const json& workload) {
  const json status = workload.value("status", json::object());
  return is_true(workload, "QuotaReserved") || (status.contains("admission") && !status["admission"].is_null());
}

bool has_finalizer(const json& workload) {
  const json finalizers = workload["metadata"].value("finalizers", json::array());
  return std::find(finalizers.begin(), finalizers.end(), kKueueResourceInUseFinalizer) != finalizers.end();
}

ChildUpdate write(const json& workload, json object, bool status, std::string what) {
  return {ChildRef{&kinds::kWorkloads, workload["metadata"].value("name", "")}, std::move(object), status,
          std::move(what)};
}

// As Kueue's own job reconciler does once an evicted job's pods are gone: the admission cleared,
// QuotaReserved and Admitted false, and Requeued true where Kueue requeues by itself.
ChildUpdate cleared_admission(const json& workload, const json& evicted, TimePoint now) {
  json object = workload;
  const std::string reason = evicted.value("reason", "");
  const std::string message = evicted.value("message", "");
  const bool requeued = reason == "Preempted" || reason == "AdmissionCheck";
  set_condition(object, "Requeued", requeued, reason.empty() ? "Evicted" : reason, message, now);
  set_condition(object, "QuotaReserved", false, "Pending", message, now);
  if (is_true(object, "Admitted")) {
    set_condition(object, "Admitted", false, "NoReservation", "The workload has no reservation", now);
  }
  object["status"].erase("admission");
  return write(workload, std::move(object), true, "clear the admission after eviction");
}

// Marks a Workload that the operator deactivated for a suspended job, so that resuming the job
// reactivates it and a Workload that someone else deactivated stays so.
constexpr const char* kDeactivatedAnnotation = "kubetrain.dev/deactivated-by-suspension";

bool deactivated_by_suspension(const json& workload) {
  const json annotations = workload["metadata"].value("annotations", json::object());
  return annotations.value(kDeactivatedAnnotation, "") == "true";
}

ChildUpdate with_active(const json& workload, bool active) {
  json object = workload;
  object["spec"]["active"] = active;
  json& annotations = object["metadata"]["annotations"];
  if (!annotations.is_object()) annotations = json::object();
  if (active) {
    annotations.erase(kDeactivatedAnnotation);
  } else {
    annotations[kDeactivatedAnnotation] = "true";
  }
  return write(workload, std::move(object), false, active ? "reactivate" : "deactivate");
}

std::string queue_description(const ObjectMeta& job) {
  return "Workload " + workload_name(job) + " in LocalQueue " + kueue_queue_name(job);
}

// As Kueue's updateWorkloadToMatchJob, for a Workload that holds no quota: the spec the job would
// get now, with spec.active kept (suspension owns it).
ChildUpdate matched_to_job(const json& workload, const json& built) {
  json object = workload;
  const bool active = workload["spec"].value("active", true);
  object["spec"] = built["spec"];
  object["spec"]["active"] = active;
  json& annotations = object["metadata"]["annotations"];
  if (!annotations.is_object()) annotations = json::object();
  annotations[kQuotaDigestAnnotation] = built["metadata"]["annotations"][kQuotaDigestAnnotation];
  return write(workload, std::move(object), false, "update to match the job's spec");
}

// The priority the Workload takes from the template's PriorityClass (none when it names none), or
// in `missing` why it cannot be known yet.
struct PriorityLookup {
  std::optional<WorkloadPriority> priority;
  std::string missing;
};

PriorityLookup workload_priority(const TrainingJobSpec& spec, const KueueCluster& cluster) {
  const std::string priority_class = template_pod_spec(spec).value("priorityClassName", "");
  if (priority_class.empty()) return {};
  const auto found = cluster.priority_classes.find(priority_class);
  if (found == cluster.priority_classes.end()) {
    return {std::nullopt, "spec.template.spec.priorityClassName " + priority_class +
                              " names no PriorityClass; the Workload is created once it exists"};
  }
  return {WorkloadPriority{priority_class, found->second}, ""};
}

}  // namespace

KueueGate kueue_gate(const ObjectMeta& job, const TrainingJobSpec& spec, const json* workload,
                     const KueueCluster& cluster, const KueueJobState& state, TimePoint now) {
  KueueGate gate;
  gate.reason = "WaitingForAdmission";
  const PriorityLookup priority = workload_priority(spec, cluster);
  if (workload == nullptr) {
    if (!priority.missing.empty()) {
      gate.message = priority.missing;
      return gate;
    }
    gate.priority = priority.priority;
    gate.create_workload = !state.suspended;
    gate.message = "created " + queue_description(job) + "; waiting for Kueue to admit it";
    return gate;
  }
  const json& metadata = (*workload)["metadata"];
  if (metadata.contains("deletionTimestamp") && !metadata["deletionTimestamp"].is_null()) {
    gate.reason = "WorkloadDeleted";
    gate.message = "Workload " + workload_name(job) + " is being deleted; a new one is created once it is gone";
    if (!state.pods_remain) gate.write = release_workload(*workload);
    return gate;
  }
  if (const json* finished = find_condition(*workload, "Finished"); finished && finished->value("status", "") == "True") {
    gate.verdict = KueueVerdict::kFail;
    gate.reason = "WorkloadFinished";
    gate.message = "Workload " + workload_name(job) + " was declared finished (" + finished->value("reason", "") +
                   "): " + finished->value("message", "");
    return gate;
  }
  // Evicted stays true until Kueue admits the Workload again; once its quota is released the job
  // simply waits.
  const json* evicted = find_condition(*workload, "Evicted");
  if (evicted != nullptr && evicted->value("status", "") == "True" && has_quota_reservation(*workload)) {
    gate.reason = "Evicted";
    gate.message = "evicted by Kueue (" + evicted->value("reason", "") + "): " + evicted->value("message", "");
    if (!state.pods_remain) gate.write = cleared_admission(*workload, *evicted, now);
    return gate;
  }
  if (priority.missing.empty()) {
    const json built = build_workload(job, spec, priority.priority);
    const WorkloadDrift drift = workload_drift(*workload, built);
    if (!has_quota_reservation(*workload) && (drift.queue || drift.quota)) {
      gate.write = matched_to_job(*workload, built);
      gate.workload_updated = true;
      gate.message = "updated " + queue_description(job) + " to match the job's spec; waiting for Kueue to admit it";
      return gate;
    }
    // The quota was reserved for another shape of job: as Kueue does with a Workload that no
    // longer matches its job, stop the job and replace the Workload (the finalizer first).
    // A suspended job's Workload gives its quota back first and is then updated above.
    if (drift.quota && !state.suspended) {
      gate.reason = "WorkloadOutOfDate";
      gate.message = "the job's spec changed after Kueue reserved quota for Workload " + workload_name(job) +
                     ": its pods are stopped and the Workload is replaced by one that matches the job";
      if (!state.pods_remain) {
        gate.write = release_workload(*workload);
        gate.delete_workload = !gate.write;
      }
      return gate;
    }
  }
  const bool active = workload->value("spec", json::object()).value("active", true);
  if (state.suspended) {
    // Kueue's documented way to stop a Workload: it evicts a deactivated one, releasing its quota.
    if (active) gate.write = with_active(*workload, false);
    gate.reason = "Suspended";
    gate.message = "the job is suspended; Workload " + workload_name(job) + " is deactivated";
    return gate;
  }
  if (!active) {
    if (deactivated_by_suspension(*workload)) {
      gate.write = with_active(*workload, true);
      gate.message = "the job was resumed; waiting for Kueue to admit " + queue_description(job) + " again";
    } else {
      gate.message = "Workload " + workload_name(job) + " is deactivated (spec.active is false)";
    }
    return gate;
  }
  if (!is_true(*workload, "Admitted")) {
    const json* reserved = find_condition(*workload, "QuotaReserved");
    gate.message = "waiting for Kueue to admit " + queue_description(job);
    if (const std::string pending = condition_text(reserved, "message"); !pending.empty()) gate.message += ": " + pending;
    return gate;
  }
  AdmittedScheduling admitted = admitted_pod_scheduling(*workload, spec, cluster.flavors);
  if (const auto* error = std::get_if<std::string>(&admitted)) {
    gate.verdict = KueueVerdict::kFail;
    gate.reason = "AdmissionFailed";
    gate.message = "the admission of Workload " + workload_name(job) + " cannot be applied: " + *error;
    json object = *workload;
    set_condition(object, "Finished", true, "FailedToStart", *error, now);
    gate.write = write(*workload, std::move(object), true, "finish: the admission cannot be applied");
    return gate;
  }
  gate.verdict = KueueVerdict::kRun;
  gate.scheduling = std::get<std::map<std::string, PodScheduling>>(std::move(admitted));
  const json admission = (*workload)["status"].value("admission", json::object());
  gate.message = "admitted by ClusterQueue " + admission.value("clusterQueue", "");
  return gate;
}

std::optional<ChildUpdate> follow_job(const json& workload, const JobStatus& status, bool admitted, TimePoint now) {
  if (status.finished()) {
    if (is_true(workload, "Finished")) return release_workload(workload);
    const bool succeeded = status.is_true("Succeeded");
    const Condition* outcome = status.condition(succeeded ? "Succeeded" : "Failed");
    json object = workload;
    set_condition(object, "Finished", true, succeeded ? "Succeeded" : "Failed",
                  outcome != nullptr ? outcome->message : "", now);
    return write(workload, std::move(object), true, "finish");
  }
  if (!admitted) return std::nullopt;
  // Kueue's own reasons: WaitForRecovery once the pods had been ready, as after a gang restart.
  const bool ready = status.is_true("Running");
  const json* before = find_condition(workload, "PodsReady");
  if (before != nullptr && (before->value("status", "") == "True") == ready) return std::nullopt;
  json object = workload;
  if (ready) {
    set_condition(object, "PodsReady", true, "PodsReady", "All pods reached readiness and the workload is running", now);
  } else {
    const bool recovering = before != nullptr && before->value("status", "") == "True";
    set_condition(object, "PodsReady", false, recovering ? "WaitForRecovery" : "WaitForStart",
                  "Not all pods are ready or succeeded", now);
  }
  return write(workload, std::move(object), true, ready ? "pods ready" : "pods not ready");
}

std::optional<ChildUpdate> release_workload(const json& workload) {
  if (!has_finalizer(workload)) return std::nullopt;
  json object = workload;
  json& finalizers = object["metadata"]["finalizers"];
  finalizers.erase(std::remove(finalizers.begin(), finalizers.end(), kKueueResourceInUseFinalizer), finalizers.end());
  return write(workload, std::move(object), false, "remove the finalizer " + std::string(kKueueResourceInUseFinalizer));
}

}  // namespace kubetrain

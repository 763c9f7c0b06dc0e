#include "operator/controller/gang_scheduling.h"

#include <cctype>
#include <cstdint>

#include "operator/controller/child_objects.h"

namespace kubetrain {
namespace {

using nlohmann::json;

const SchedulingPolicy& policy_of(const TrainingJobSpec& spec) { return spec.run_policy.scheduling_policy; }

std::string template_string(const TrainingJobSpec& spec, const char* key) {
  const json pod_spec = template_pod_spec(spec);
  const auto it = pod_spec.find(key);
  return it != pod_spec.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// `quantity` (a Kubernetes quantity: "500m", "1.5Gi", "4", 8) times `factor`, exactly: the decimal
// mantissa is scaled as an integer and the suffix (SI, binary or exponent) kept, so "1.5Gi" x 4 is
// "6Gi". nullopt for what is not a plain quantity.
std::optional<std::string> multiply_quantity(const json& quantity, int64_t factor) {
  const std::string text = quantity.is_string() ? quantity.get<std::string>()
                           : quantity.is_number() ? quantity.dump()
                                                  : std::string();
  std::size_t end = 0;
  int64_t mantissa = 0;
  int decimals = -1;  // digits after the point; -1 before one is seen
  for (; end < text.size(); ++end) {
    const char c = text[end];
    if (c == '.' && decimals < 0) {
      decimals = 0;
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      if (mantissa > (INT64_MAX / 10) / factor) return std::nullopt;
      mantissa = mantissa * 10 + (c - '0');
      if (decimals >= 0) ++decimals;
    } else {
      break;
    }
  }
  if (end == 0 || (end == 1 && decimals == 0)) return std::nullopt;
  const std::string suffix = text.substr(end);
  const std::string product = std::to_string(mantissa * factor);
  if (decimals <= 0) return product + suffix;
  const std::size_t scale = static_cast<std::size_t>(decimals);
  const std::string padded = std::string(product.size() <= scale ? scale + 1 - product.size() : 0, '0') + product;
  const std::string whole = padded.substr(0, padded.size() - scale);
  std::string fraction = padded.substr(padded.size() - scale);
  while (!fraction.empty() && fraction.back() == '0') fraction.pop_back();
  return fraction.empty() ? whole + suffix : whole + "." + fraction + suffix;
}

}  // namespace

const ResourceKind& pod_group_kind(GangScheduler scheduler) {
  return scheduler == GangScheduler::kVolcano ? kinds::kVolcanoPodGroups : kinds::kCoschedulingPodGroups;
}

std::string gang_scheduler_label(GangScheduler scheduler) {
  switch (scheduler) {
    case GangScheduler::kVolcano: return "volcano";
    case GangScheduler::kCoscheduling: return "coscheduling";
    case GangScheduler::kNone: break;
  }
  return "none";
}

std::string pod_group_name(const std::string& job) { return job; }

std::string gang_scheduler_name(const TrainingJobSpec& spec) {
  if (!policy_of(spec).scheduler_name.empty()) return policy_of(spec).scheduler_name;
  if (std::string name = template_string(spec, "schedulerName"); !name.empty()) return name;
  return policy_of(spec).gang_scheduler == GangScheduler::kVolcano ? "volcano" : "scheduler-plugins-scheduler";
}

int64_t gang_min_member(const TrainingJobSpec& spec) { return policy_of(spec).min_available.value_or(spec.workers); }

json gang_min_resources(const TrainingJobSpec& spec) {
  if (policy_of(spec).min_resources.is_object()) return policy_of(spec).min_resources;
  json per_worker = spec.resources.value("limits", json::object());
  const json requests = spec.resources.value("requests", json::object());
  for (const auto& [name, quantity] : requests.items()) per_worker[name] = quantity;
  json total = json::object();
  for (const auto& [name, quantity] : per_worker.items()) {
    if (auto product = multiply_quantity(quantity, gang_min_member(spec))) total[name] = *product;
  }
  return total;
}

json build_pod_group(const ObjectMeta& job, const TrainingJobSpec& spec, int64_t attempt) {
  const SchedulingPolicy& policy = policy_of(spec);
  const ResourceKind& kind = pod_group_kind(policy.gang_scheduler);
  json group_spec = {{"minMember", gang_min_member(spec)}};
  if (json resources = gang_min_resources(spec); !resources.empty()) group_spec["minResources"] = resources;
  if (policy.gang_scheduler == GangScheduler::kVolcano) {
    if (!policy.queue.empty()) group_spec["queue"] = policy.queue;
    std::string priority = policy.priority_class.empty() ? template_string(spec, "priorityClassName")
                                                         : policy.priority_class;
    if (!priority.empty()) group_spec["priorityClassName"] = priority;
  } else if (policy.schedule_timeout_seconds) {
    group_spec["scheduleTimeoutSeconds"] = *policy.schedule_timeout_seconds;
  }
  return {{"apiVersion", kind.api_version()},
          {"kind", kind.kind},
          {"metadata", child_metadata(job, pod_group_name(job.name), {{kAttemptLabel, std::to_string(attempt)}})},
          {"spec", group_spec}};
}

PodScheduling gang_pod_scheduling(const ObjectMeta& job, const TrainingJobSpec& spec) {
  PodScheduling scheduling;
  const GangScheduler scheduler = policy_of(spec).gang_scheduler;
  if (scheduler == GangScheduler::kNone) return scheduling;
  scheduling.scheduler_name = gang_scheduler_name(spec);
  if (scheduler == GangScheduler::kVolcano) {
    scheduling.annotations[kVolcanoGroupAnnotation] = pod_group_name(job.name);
  } else {
    scheduling.labels[kCoschedulingGroupLabel] = pod_group_name(job.name);
  }
  return scheduling;
}

std::optional<GangWait> gang_wait(const json& pod_group, GangScheduler scheduler) {
  const json status = pod_group.value("status", json::object());
  const std::string phase = status.value("phase", "Pending");
  // Volcano: Pending, Inqueue, Running, Unknown (some members lost), Completed.
  // Coscheduling: Pending, PreScheduling, Scheduling, Scheduled, Running, Finished, Failed.
  if (phase == "Running" || phase == "Completed" || phase == "Scheduled" || phase == "Finished") return std::nullopt;
  const json spec = pod_group.value("spec", json::object());
  GangWait wait{"PodGroup" + phase,
                "PodGroup " + pod_group.value("metadata", json::object()).value("name", "") + " (" + gang_scheduler_label(scheduler) +
                    ", minMember " + std::to_string(spec.value("minMember", 0)) + ") is " + phase};
  for (const json& condition : status.value("conditions", json::array())) {
    if (condition.value("type", "") == "Unschedulable" && condition.value("status", "") == "True") {
      if (!condition.value("reason", "").empty()) wait.reason = condition["reason"];
      if (!condition.value("message", "").empty()) wait.message += ": " + condition["message"].get<std::string>();
    }
  }
  return wait;
}

}  // namespace kubetrain

#include "operator/controller/training_job.h"

namespace kubetrain {
namespace {

using nlohmann::json;

std::string type_name(const json& value) { return value.type_name(); }

// Reads an integer field, applying `fallback` when absent or null.
int64_t read_int(const json& object, const char* key, const std::string& path, int64_t fallback) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return fallback;
  if (it->is_number_integer() || it->is_number_unsigned()) return it->get<int64_t>();
  if (it->is_number_float() && it->get<double>() == static_cast<double>(static_cast<int64_t>(*it))) {
    return static_cast<int64_t>(it->get<double>());
  }
  throw InvalidSpecError(path + "." + key + " must be an integer, not " + type_name(*it));
}

std::optional<int64_t> read_optional_int(const json& object, const char* key, const std::string& path) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return std::nullopt;
  return read_int(object, key, path, 0);
}

int64_t read_at_least(const json& object, const char* key, const std::string& path, int64_t fallback,
                      int64_t minimum) {
  const int64_t value = read_int(object, key, path, fallback);
  if (value < minimum) {
    throw InvalidSpecError(path + "." + key + " must be at least " + std::to_string(minimum) + ", not " +
                           std::to_string(value));
  }
  return value;
}

json read_object(const json& object, const char* key, const std::string& path) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return json::object();
  if (!it->is_object()) {
    throw InvalidSpecError(path + "." + key + " must be an object, not " + type_name(*it));
  }
  return *it;
}

std::string read_string(const json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

CleanPodPolicy parse_clean_pod_policy(const json& run_policy) {
  const auto it = run_policy.find("cleanPodPolicy");
  if (it == run_policy.end() || it->is_null()) return CleanPodPolicy::kRunning;
  const std::string text = it->is_string() ? it->get<std::string>() : it->dump();
  if (text == "Running") return CleanPodPolicy::kRunning;
  if (text == "All") return CleanPodPolicy::kAll;
  if (text == "None") return CleanPodPolicy::kNone;
  throw InvalidSpecError("spec.runPolicy.cleanPodPolicy '" + text + "' is not one of: Running, All, None");
}

GangScheduler parse_gang_scheduler(const json& policy, const std::string& path) {
  const auto it = policy.find("gangScheduler");
  if (it == policy.end() || it->is_null()) return GangScheduler::kNone;
  const std::string text = it->is_string() ? it->get<std::string>() : it->dump();
  if (text == "volcano") return GangScheduler::kVolcano;
  if (text == "coscheduling") return GangScheduler::kCoscheduling;
  throw InvalidSpecError(path + ".gangScheduler '" + text + "' is not one of: volcano, coscheduling");
}

std::string read_name(const json& object, const char* key, const std::string& path) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return {};
  if (!it->is_string()) throw InvalidSpecError(path + "." + key + " must be a string, not " + type_name(*it));
  return it->get<std::string>();
}

SchedulingPolicy parse_scheduling_policy(const json& run_policy, const std::string& run_policy_path) {
  const json object = read_object(run_policy, "schedulingPolicy", run_policy_path);
  const std::string path = run_policy_path + ".schedulingPolicy";
  SchedulingPolicy policy;
  policy.gang_scheduler = parse_gang_scheduler(object, path);
  if (policy.gang_scheduler == GangScheduler::kNone) {
    for (const auto& [key, value] : object.items()) {
      if (!value.is_null()) {
        throw InvalidSpecError(path + "." + key + " needs " + path +
                               ".gangScheduler (volcano or coscheduling): without a gang scheduler it does nothing");
      }
    }
    return policy;
  }
  const bool volcano = policy.gang_scheduler == GangScheduler::kVolcano;
  policy.scheduler_name = read_name(object, "schedulerName", path);
  policy.min_available = read_optional_int(object, "minAvailable", path);
  policy.queue = read_name(object, "queue", path);
  policy.priority_class = read_name(object, "priorityClass", path);
  policy.schedule_timeout_seconds = read_optional_int(object, "scheduleTimeoutSeconds", path);
  if (const auto it = object.find("minResources"); it != object.end() && !it->is_null()) {
    if (!it->is_object()) throw InvalidSpecError(path + ".minResources must be an object, not " + type_name(*it));
    policy.min_resources = *it;
  }
  if (!policy.queue.empty() && !volcano) {
    throw InvalidSpecError(path + ".queue is Volcano's; coscheduling has no queues (use Kueue for queueing)");
  }
  if (policy.schedule_timeout_seconds && volcano) {
    throw InvalidSpecError(path + ".scheduleTimeoutSeconds is coscheduling's; Volcano's PodGroup has none");
  }
  if (policy.schedule_timeout_seconds && *policy.schedule_timeout_seconds < 1) {
    throw InvalidSpecError(path + ".scheduleTimeoutSeconds must be at least 1, not " +
                           std::to_string(*policy.schedule_timeout_seconds));
  }
  return policy;
}

RunPolicy parse_run_policy(const json& spec) {
  const json object = read_object(spec, "runPolicy", "spec");
  const std::string path = "spec.runPolicy";
  RunPolicy policy;
  policy.backoff_limit = read_at_least(object, "backoffLimit", path, policy.backoff_limit, 0);
  policy.startup_deadline_seconds =
      read_at_least(object, "startupDeadlineSeconds", path, policy.startup_deadline_seconds, 1);
  policy.progress_deadline_seconds =
      read_at_least(object, "progressDeadlineSeconds", path, policy.progress_deadline_seconds, 1);
  policy.active_deadline_seconds = read_optional_int(object, "activeDeadlineSeconds", path);
  if (policy.active_deadline_seconds && *policy.active_deadline_seconds < 1) {
    throw InvalidSpecError(path + ".activeDeadlineSeconds must be at least 1, not " +
                           std::to_string(*policy.active_deadline_seconds));
  }
  policy.ttl_seconds_after_finished = read_optional_int(object, "ttlSecondsAfterFinished", path);
  if (policy.ttl_seconds_after_finished && *policy.ttl_seconds_after_finished < 0) {
    throw InvalidSpecError(path + ".ttlSecondsAfterFinished must be at least 0, not " +
                           std::to_string(*policy.ttl_seconds_after_finished));
  }
  policy.clean_pod_policy = parse_clean_pod_policy(object);
  if (const auto it = object.find("suspend"); it != object.end() && !it->is_null()) {
    if (!it->is_boolean()) throw InvalidSpecError(path + ".suspend must be true or false");
    policy.suspend = it->get<bool>();
  }
  policy.scheduling_policy = parse_scheduling_policy(object, path);
  return policy;
}

json optional_to_json(const std::optional<int64_t>& value) { return value ? json(*value) : json(); }

Condition parse_condition(const json& object) {
  return {read_string(object, "type"), read_string(object, "status"), read_string(object, "reason"),
          read_string(object, "message"), read_string(object, "lastTransitionTime")};
}

std::optional<int64_t> plain_optional_int(const json& object, const char* key) {
  const auto it = object.find(key);
  if (it == object.end() || !it->is_number()) return std::nullopt;
  return it->get<int64_t>();
}

int64_t plain_int(const json& object, const char* key) { return plain_optional_int(object, key).value_or(0); }

}  // namespace

int TrainingJobSpec::status_port() const {
  const auto it = training.find("statusPort");
  return it != training.end() && it->is_number_integer() ? it->get<int>() : 9400;
}

const Condition* JobStatus::condition(std::string_view type) const {
  for (const Condition& condition : conditions) {
    if (condition.type == type) return &condition;
  }
  return nullptr;
}

bool JobStatus::is_true(std::string_view type) const {
  const Condition* found = condition(type);
  return found != nullptr && found->status == "True";
}

ObjectMeta parse_object_meta(const json& object) {
  const json metadata = object.value("metadata", json::object());
  ObjectMeta meta;
  meta.name = read_string(metadata, "name");
  meta.namespace_ = read_string(metadata, "namespace");
  meta.uid = read_string(metadata, "uid");
  meta.resource_version = read_string(metadata, "resourceVersion");
  meta.generation = plain_int(metadata, "generation");
  meta.creation_timestamp = read_string(metadata, "creationTimestamp");
  meta.deleting = metadata.contains("deletionTimestamp") && !metadata["deletionTimestamp"].is_null();
  if (metadata.contains("labels") && metadata["labels"].is_object()) meta.labels = metadata["labels"];
  return meta;
}

JobStatus parse_status(const json& status) {
  JobStatus result;
  if (!status.is_object()) return result;
  result.state = read_string(status, "state");
  result.ready_ranks = read_string(status, "readyRanks");
  for (const json& condition : status.value("conditions", json::array())) {
    if (condition.is_object()) result.conditions.push_back(parse_condition(condition));
  }
  const json workers = status.value("workers", json::object());
  result.workers = {plain_int(workers, "active"), plain_int(workers, "ready"), plain_int(workers, "succeeded"),
                    plain_int(workers, "failed")};
  for (const json& worker : status.value("workerStatuses", json::array())) {
    if (!worker.is_object()) continue;
    result.worker_statuses.push_back({read_string(worker, "pod"), read_string(worker, "node"),
                                      read_string(worker, "phase"), plain_int(worker, "restarts"),
                                      plain_optional_int(worker, "lastExitCode"), read_string(worker, "reason")});
  }
  if (const auto it = status.find("failure"); it != status.end() && it->is_object()) {
    result.failure = Failure{read_string(*it, "pod"),     plain_optional_int(*it, "rank"),
                             read_string(*it, "node"),    read_string(*it, "reason"),
                             plain_optional_int(*it, "exitCode"), read_string(*it, "message"),
                             read_string(*it, "firstObservedAt")};
  }
  result.start_time = read_string(status, "startTime");
  result.completion_time = read_string(status, "completionTime");
  result.restarts = plain_int(status, "restarts");
  result.observed_generation = plain_int(status, "observedGeneration");
  if (const auto it = status.find("progress"); it != status.end() && it->is_object()) result.progress = *it;
  if (const auto it = status.find("result"); it != status.end() && it->is_object()) result.result = *it;
  return result;
}

TrainingJobSpec parse_spec(const json& spec) {
  if (!spec.is_object()) throw InvalidSpecError("spec must be an object");
  TrainingJobSpec result;
  result.workers = read_at_least(spec, "workers", "spec", result.workers, 1);
  result.slots_per_worker = read_at_least(spec, "slotsPerWorker", "spec", result.slots_per_worker, 1);
  const auto image = spec.find("image");
  if (image == spec.end() || !image->is_string() || image->get<std::string>().empty()) {
    throw InvalidSpecError("spec.image must name the worker image, e.g. kubetrain-worker:0.1.0");
  }
  result.image = image->get<std::string>();
  result.resources = read_object(spec, "resources", "spec");
  result.pod_template = read_object(spec, "template", "spec");
  result.training = read_object(spec, "training", "spec");
  result.run_policy = parse_run_policy(spec);
  return result;
}

json status_to_json(const JobStatus& status) {
  json conditions = json::array();
  for (const Condition& condition : status.conditions) {
    conditions.push_back({{"type", condition.type},
                          {"status", condition.status},
                          {"reason", condition.reason},
                          {"message", condition.message},
                          {"lastTransitionTime", condition.last_transition_time}});
  }
  json workers = json::array();
  for (const WorkerStatus& worker : status.worker_statuses) {
    workers.push_back({{"pod", worker.pod},
                       {"node", worker.node},
                       {"phase", worker.phase},
                       {"restarts", worker.restarts},
                       {"lastExitCode", optional_to_json(worker.last_exit_code)},
                       {"reason", worker.reason}});
    if (!worker.last_exit_code) workers.back().erase("lastExitCode");
  }
  json failure;
  if (status.failure) {
    const Failure& f = *status.failure;
    failure = {{"pod", f.pod},         {"node", f.node},       {"reason", f.reason},
               {"message", f.message}, {"firstObservedAt", f.first_observed_at}};
    if (f.rank) failure["rank"] = *f.rank;
    if (f.exit_code) failure["exitCode"] = *f.exit_code;
  }
  auto string_or_null = [](const std::string& time) { return time.empty() ? json() : json(time); };
  return {{"state", string_or_null(status.state)},
          {"readyRanks", string_or_null(status.ready_ranks)},
          {"conditions", conditions},
          {"workers",
           {{"active", status.workers.active},
            {"ready", status.workers.ready},
            {"succeeded", status.workers.succeeded},
            {"failed", status.workers.failed}}},
          {"workerStatuses", workers},
          {"failure", failure},
          {"startTime", string_or_null(status.start_time)},
          {"completionTime", string_or_null(status.completion_time)},
          {"restarts", status.restarts},
          {"observedGeneration", status.observed_generation},
          {"progress", status.progress.value_or(json())},
          {"result", status.result.value_or(json())}};
}

std::string to_string(CleanPodPolicy policy) {
  switch (policy) {
    case CleanPodPolicy::kRunning: return "Running";
    case CleanPodPolicy::kAll: return "All";
    case CleanPodPolicy::kNone: return "None";
  }
  return "Running";
}

}  // namespace kubetrain

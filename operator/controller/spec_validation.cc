#include "operator/controller/spec_validation.h"

namespace kubetrain {
namespace {

// The worker's default when training.globalBatchSize is absent (worker/config/config.h).
constexpr int64_t kDefaultGlobalBatchSize = 256;
constexpr std::size_t kMaxDnsLabel = 63;

void validate_global_batch(const TrainingJobSpec& spec) {
  int64_t global_batch = kDefaultGlobalBatchSize;
  if (const auto it = spec.training.find("globalBatchSize"); it != spec.training.end()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 1) {
      throw InvalidSpecError("spec.training.globalBatchSize must be a positive integer, not " + it->dump());
    }
    global_batch = it->get<int64_t>();
  }
  if (std::string error = batch_divisibility_error(global_batch, spec.ranks()); !error.empty()) {
    throw InvalidSpecError(error + " (workers " + std::to_string(spec.workers) + " x slotsPerWorker " +
                           std::to_string(spec.slots_per_worker) + ")");
  }
}

void validate_status_port(const TrainingJobSpec& spec) {
  const auto it = spec.training.find("statusPort");
  if (it == spec.training.end()) return;
  if (!it->is_number_integer() || it->get<int64_t>() < 0 || it->get<int64_t>() > 65535) {
    throw InvalidSpecError("spec.training.statusPort must be a port number 0..65535 (0: no progress), not " +
                           it->dump());
  }
}

void validate_template(const TrainingJobSpec& spec) {
  const nlohmann::json& tmpl = spec.pod_template;
  for (const char* key : {"metadata", "spec"}) {
    if (tmpl.contains(key) && !tmpl[key].is_object()) {
      throw InvalidSpecError(std::string("spec.template.") + key + " must be an object");
    }
  }
  const nlohmann::json pod_spec = tmpl.value("spec", nlohmann::json::object());
  for (const char* key : {"volumes", "tolerations", "imagePullSecrets", "containers"}) {
    if (pod_spec.contains(key) && !pod_spec[key].is_array()) {
      throw InvalidSpecError(std::string("spec.template.spec.") + key + " must be a list");
    }
  }
  for (const char* key : {"nodeSelector", "affinity", "securityContext"}) {
    if (pod_spec.contains(key) && !pod_spec[key].is_object()) {
      throw InvalidSpecError(std::string("spec.template.spec.") + key + " must be an object");
    }
  }
  if (pod_spec.contains("schedulerName") && !pod_spec["schedulerName"].is_string()) {
    throw InvalidSpecError("spec.template.spec.schedulerName must be a string");
  }
  const nlohmann::json containers = pod_spec.value("containers", nlohmann::json::array());
  if (containers.size() > 1) {
    throw InvalidSpecError("spec.template.spec.containers may hold at most one container (the worker), not " +
                           std::to_string(containers.size()));
  }
  for (const nlohmann::json& container : containers) {
    for (const char* key : {"env", "volumeMounts"}) {
      if (container.contains(key) && !container[key].is_array()) {
        throw InvalidSpecError(std::string("spec.template.spec.containers[0].") + key + " must be a list");
      }
    }
  }
}

void validate_gang(const TrainingJobSpec& spec) {
  const SchedulingPolicy& policy = spec.run_policy.scheduling_policy;
  if (!policy.min_available) return;
  // Every worker takes part in every allreduce: a gang smaller than all of them would start ranks
  // that wait for the rest, holding their GPUs.
  if (*policy.min_available < 1 || *policy.min_available > spec.workers) {
    throw InvalidSpecError("spec.runPolicy.schedulingPolicy.minAvailable must be 1.." + std::to_string(spec.workers) +
                           " (the workers), not " + std::to_string(*policy.min_available));
  }
}

void validate_name(const ObjectMeta& metadata, const TrainingJobSpec& spec) {
  // Pod hostnames NAME-worker-I must be DNS labels.
  const std::string longest = metadata.name + "-worker-" + std::to_string(spec.workers - 1);
  if (longest.size() > kMaxDnsLabel) {
    throw InvalidSpecError("metadata.name '" + metadata.name + "' is too long: worker hostname '" + longest +
                           "' exceeds " + std::to_string(kMaxDnsLabel) + " characters");
  }
}

}  // namespace

std::string batch_divisibility_error(int64_t global_batch_size, int64_t ranks) {
  if (ranks <= 0 || global_batch_size % ranks == 0) return {};
  const int64_t lower = global_batch_size / ranks * ranks;
  const int64_t upper = lower + ranks;
  const std::string suggestion =
      lower > 0 ? std::to_string(lower) + " or " + std::to_string(upper) : std::to_string(upper);
  return "spec.training.globalBatchSize " + std::to_string(global_batch_size) + " is not divisible by " +
         std::to_string(ranks) + " ranks; use " + suggestion;
}

void validate_training_job(const ObjectMeta& metadata, const TrainingJobSpec& spec) {
  validate_name(metadata, spec);
  validate_global_batch(spec);
  validate_status_port(spec);
  validate_template(spec);
  validate_gang(spec);
}

}  // namespace kubetrain

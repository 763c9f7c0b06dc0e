#include "operator/controller/kueue_workload.h"

#include <openssl/evp.h>

#include <algorithm>
#include <set>
#include <stdexcept>

#include "operator/controller/child_objects.h"

namespace kubetrain {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxWorkloadName = 253;  // a DNS subdomain
constexpr std::size_t kHashLength = 5;

std::string sha1_hex(const std::string& text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha1(), nullptr) != 1) {
    throw std::runtime_error("OpenSSL could not compute a SHA-1 digest");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 0xf];
  }
  return hex;
}

// A pod as a podSet's template: only labels and annotations in its metadata (the Workload API's
// rule), and nothing that names one pod of the set.
json pod_set_template(json pod) {
  json labels = pod["metadata"].value("labels", json::object());
  labels.erase(kReplicaIndexLabel);
  labels.erase(kAttemptLabel);
  json metadata = {{"labels", labels}};
  if (pod["metadata"].contains("annotations")) metadata["annotations"] = pod["metadata"]["annotations"];
  pod["spec"].erase("hostname");
  return {{"metadata", metadata}, {"spec", pod["spec"]}};
}

// Per podSet, what Kueue counts against quota and matches flavors against.
json quota_relevant(const json& pod_sets) {
  json relevant = json::array();
  for (const json& pod_set : pod_sets) {
    const json pod_spec = pod_set["template"].value("spec", json::object());
    json resources = json::array();
    for (const char* list : {"initContainers", "containers"}) {
      for (const json& container : pod_spec.value(list, json::array())) {
        resources.push_back(container.value("resources", json::object()));
      }
    }
    json entry = {{"name", pod_set.value("name", "")}, {"count", pod_set.value("count", 1)}, {"resources", resources}};
    for (const char* field : {"nodeSelector", "affinity", "tolerations", "priorityClassName"}) {
      if (pod_spec.contains(field)) entry[field] = pod_spec[field];
    }
    relevant.push_back(std::move(entry));
  }
  return relevant;
}

std::string quota_digest(const json& pod_sets) { return sha1_hex(quota_relevant(pod_sets).dump()).substr(0, 16); }

}  // namespace

std::string kueue_queue_name(const ObjectMeta& job) {
  const auto it = job.labels.find(kKueueQueueNameLabel);
  return it != job.labels.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string workload_name(const ObjectMeta& job) {
  std::string prefix = "trainingjob-" + job.name;
  prefix.resize(std::min(prefix.size(), kMaxWorkloadName - kHashLength - 1));
  const std::string hash = sha1_hex(std::string(kTrainingJobKind) + "\nkubetrain.dev\n" + job.name + "\n" + job.uid);
  return prefix + "-" + hash.substr(0, kHashLength);
}

json build_workload(const ObjectMeta& job, const TrainingJobSpec& spec, const std::optional<WorkloadPriority>& priority) {
  json metadata = child_metadata(job, workload_name(job), {{kKueueJobUidLabel, job.uid}});
  metadata["finalizers"] = json::array({kKueueResourceInUseFinalizer});
  json workload_spec = {
      {"queueName", kueue_queue_name(job)},
      {"podSets", json::array({{{"name", kWorkersPodSet},
                                {"count", spec.workers},
                                {"template", pod_set_template(build_worker_pod(job, spec, 0, 0))}},
                               {{"name", kLauncherPodSet},
                                {"count", 1},
                                {"template", pod_set_template(build_launcher_pod(job, spec, 0))}}})}};
  metadata["annotations"][kQuotaDigestAnnotation] = quota_digest(workload_spec["podSets"]);
  if (priority) {
    workload_spec["priorityClassRef"] = {
        {"group", "scheduling.k8s.io"}, {"kind", "PriorityClass"}, {"name", priority->priority_class}};
    workload_spec["priority"] = priority->value;
  }
  return {{"apiVersion", "kueue.x-k8s.io/v1beta2"}, {"kind", "Workload"}, {"metadata", metadata}, {"spec", workload_spec}};
}

WorkloadDrift workload_drift(const json& workload, const json& built) {
  const json spec = workload.value("spec", json::object());
  const json annotations = workload["metadata"].value("annotations", json::object());
  const std::string digest = annotations.is_object() ? annotations.value(kQuotaDigestAnnotation, "") : "";
  WorkloadDrift drift;
  drift.queue = spec.value("queueName", "") != built["spec"].value("queueName", "");
  drift.quota = !digest.empty() && digest != built["metadata"]["annotations"].value(kQuotaDigestAnnotation, "");
  return drift;
}

AdmittedScheduling admitted_pod_scheduling(const json& workload, const TrainingJobSpec& spec,
                                           const std::map<std::string, json>& flavors) {
  const json own_selector = template_pod_spec(spec).value("nodeSelector", json::object());
  const json admission = workload.value("status", json::object()).value("admission", json::object());
  std::map<std::string, PodScheduling> by_pod_set;
  for (const json& assignment : admission.value("podSetAssignments", json::array())) {
    const std::string pod_set = assignment.value("name", "");
    PodScheduling scheduling;
    scheduling.labels[kKueuePodSetLabel] = pod_set;
    std::set<std::string> flavor_names;
    const json assigned = assignment.value("flavors", json::object());  // resource -> flavor
    for (const auto& [resource, flavor] : assigned.items()) {
      if (flavor.is_string()) flavor_names.insert(flavor.get<std::string>());
    }
    for (const std::string& name : flavor_names) {
      const auto found = flavors.find(name);
      if (found == flavors.end()) return "ResourceFlavor " + name + " of podSet " + pod_set + " was not found";
      const json flavor_spec = found->second.value("spec", json::object());
      const json node_labels = flavor_spec.value("nodeLabels", json::object());
      for (const auto& [key, value] : node_labels.items()) {
        for (const json* selector : {&own_selector, static_cast<const json*>(&scheduling.node_selector)}) {
          if (selector->contains(key) && (*selector)[key] != value) {
            return "ResourceFlavor " + name + " needs node label " + key + "=" + value.get<std::string>() +
                   ", but the pods of podSet " + pod_set + " select " + key + "=" + (*selector)[key].get<std::string>();
          }
        }
        scheduling.node_selector[key] = value;
      }
      for (const json& toleration : flavor_spec.value("tolerations", json::array())) {
        const json& added = scheduling.tolerations;
        if (std::find(added.begin(), added.end(), toleration) == added.end()) scheduling.tolerations.push_back(toleration);
      }
    }
    by_pod_set[pod_set] = std::move(scheduling);
  }
  return by_pod_set;
}

}  // namespace kubetrain

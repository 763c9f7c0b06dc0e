#include "tests/fakeapi/pod_binding.h"

#include <vector>

#include "operator/kube/api_time.h"
#include "tests/fakeapi/json_fields.h"
#include "tests/fakeapi/status_error.h"

namespace kubetrain::fakeapi {
namespace {

using json = nlohmann::json;

// The message of a failed storage precondition, as kube-apiserver's etcd storage words it.
std::string precondition_failure(const json& pod, const std::string& what,
                                 const std::string& expected, const std::string& actual) {
  const json& metadata = pod["metadata"];
  return "StorageError: invalid object, Code: 4, Key: /registry/pods/" +
         metadata.value("namespace", "") + "/" + metadata.value("name", "") +
         ", ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: " + what +
         " in precondition: " + expected + ", " + what + " in object meta: " + actual;
}

// PodScheduled=True, keeping the time it became True if it already was.
void set_scheduled(json& status, const std::string& now) {
  json& conditions = status["conditions"];
  if (!conditions.is_array()) conditions = json::array();
  json scheduled = {{"type", "PodScheduled"},
                    {"status", "True"},
                    {"lastProbeTime", nullptr},
                    {"lastTransitionTime", now}};
  for (auto& condition : conditions) {
    if (condition.value("type", "") != "PodScheduled") continue;
    if (condition.value("status", "") == "True" && condition.contains("lastTransitionTime")) {
      scheduled["lastTransitionTime"] = condition["lastTransitionTime"];
    }
    condition = std::move(scheduled);
    return;
  }
  conditions.push_back(std::move(scheduled));
}

}  // namespace

void validate_binding(const json& binding, const std::string& ns, const std::string& pod_name) {
  if (!binding.is_object()) {
    throw StatusError(400, "BadRequest", "the body is not a Binding object");
  }
  const json metadata = member(binding, "metadata");
  if (string_at(metadata, "name") != pod_name) {
    throw StatusError(400, "BadRequest", "name in URL does not match name in Binding object");
  }
  std::string binding_ns = string_at(metadata, "namespace");
  if (!binding_ns.empty() && binding_ns != ns) {
    throw StatusError(400, "BadRequest",
                      "the namespace of the provided object does not match the namespace sent on "
                      "the request");
  }
  // kube-apiserver returns ValidatePodBinding's errors as a plain error, which it answers with
  // 500 and no reason.
  const json target = member(binding, "target");
  std::vector<std::string> errors;
  std::string kind = string_at(target, "kind");
  if (!kind.empty() && kind != "Node") {
    errors.push_back("target.kind: Unsupported value: \"" + kind +
                     "\": supported values: \"Node\", \"<empty>\"");
  }
  if (string_at(target, "name").empty()) errors.push_back("target.name: Required value");
  if (!errors.empty()) throw StatusError(500, "", aggregate(errors));
}

json bound_pod(const json& pod, const json& binding, std::chrono::system_clock::time_point now) {
  const json& metadata = pod["metadata"];
  const json binding_metadata = member(binding, "metadata");
  std::string name = metadata.value("name", "");
  const std::pair<const char*, const char*> preconditions[] = {
      {"uid", "UID"}, {"resourceVersion", "ResourceVersion"}};
  for (const auto& [field, what] : preconditions) {
    std::string expected = string_at(binding_metadata, field);
    std::string actual = metadata.value(field, "");
    if (!expected.empty() && expected != actual) {
      throw conflict("pods", name, precondition_failure(pod, what, expected, actual));
    }
  }
  auto refuse = [&](const std::string& why) { return conflict("pods/binding", name, why); };
  if (metadata.contains("deletionTimestamp") && !metadata["deletionTimestamp"].is_null()) {
    throw refuse("pod " + name + " is being deleted, cannot be assigned to a host");
  }
  const json spec = member(pod, "spec");
  if (std::string node = string_at(spec, "nodeName"); !node.empty()) {
    throw refuse("pod " + name + " is already assigned to node \"" + node + "\"");
  }
  if (spec.contains("schedulingGates") && !spec["schedulingGates"].empty()) {
    throw refuse("pod " + name + " has non-empty .spec.schedulingGates");
  }

  json bound = pod;
  bound["spec"]["nodeName"] = binding["target"]["name"];
  const json annotations = member(binding_metadata, "annotations");
  for (const auto& [key, value] : annotations.items()) {
    bound["metadata"]["annotations"][key] = value;
  }
  if (!bound["status"].is_object()) bound["status"] = json::object();
  set_scheduled(bound["status"], format_api_time(now));
  return bound;
}

json binding_created_status() {
  return {{"kind", "Status"},
          {"apiVersion", "v1"},
          {"metadata", json::object()},
          {"status", "Success"},
          {"code", 201}};
}

}  // namespace kubetrain::fakeapi

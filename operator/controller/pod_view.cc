#include "operator/controller/pod_view.h"

#include "operator/controller/child_objects.h"

namespace kubetrain {
namespace {

using nlohmann::json;

std::string string_at(const json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int64_t label_number(const json& labels, const char* key) {
  const std::string text = string_at(labels, key);
  if (text.empty()) return -1;
  try {
    return std::stoll(text);
  } catch (const std::exception&) {
    return -1;
  }
}

void read_termination(const json& terminated, PodView& view) {
  if (terminated.contains("exitCode") && terminated["exitCode"].is_number_integer()) {
    view.exit_code = terminated["exitCode"].get<int64_t>();
  }
  view.terminated_reason = string_at(terminated, "reason");
  view.finished_at = string_at(terminated, "finishedAt");
}

void read_container_status(const json& container, PodView& view) {
  if (container.contains("restartCount") && container["restartCount"].is_number_integer()) {
    view.restarts = container["restartCount"].get<int64_t>();
  }
  const json state = container.value("state", json::object());
  const json last_state = container.value("lastState", json::object());
  if (state.contains("terminated") && state["terminated"].is_object()) {
    read_termination(state["terminated"], view);
  } else if (last_state.contains("terminated") && last_state["terminated"].is_object()) {
    read_termination(last_state["terminated"], view);
  }
  if (state.contains("waiting") && state["waiting"].is_object()) {
    view.waiting_reason = string_at(state["waiting"], "reason");
    view.waiting_message = string_at(state["waiting"], "message");
  }
}

}  // namespace

bool PodView::failed() const {
  if (phase == "Failed") return true;
  if (status_reason == "NodeLost" || status_reason == "Evicted") return true;
  // A container that exited non-zero (it may be restarting in place) broke the MPI world.
  return exit_code.has_value() && *exit_code != 0;
}

std::string PodView::failure_reason() const {
  if (terminated_reason == "OOMKilled") return "OOMKilled";
  if (!status_reason.empty()) return status_reason;
  if (!terminated_reason.empty()) return terminated_reason;
  return phase == "Failed" ? "Failed" : "Error";
}

PodView parse_pod_view(const json& pod) {
  PodView view;
  const json metadata = pod.value("metadata", json::object());
  const json labels = metadata.value("labels", json::object());
  view.name = string_at(metadata, "name");
  view.uid = string_at(metadata, "uid");
  view.deleting = metadata.contains("deletionTimestamp") && !metadata["deletionTimestamp"].is_null();
  const std::string role = string_at(labels, kRoleLabel);
  view.role = role == "worker" ? PodRole::kWorker : role == "launcher" ? PodRole::kLauncher : PodRole::kOther;
  view.index = label_number(labels, kReplicaIndexLabel);
  view.attempt = label_number(labels, kAttemptLabel);

  view.node = string_at(pod.value("spec", json::object()), "nodeName");
  const json status = pod.value("status", json::object());
  view.phase = string_at(status, "phase");
  view.pod_ip = string_at(status, "podIP");
  view.status_reason = string_at(status, "reason");
  view.status_message = string_at(status, "message");
  for (const json& condition : status.value("conditions", json::array())) {
    const std::string type = string_at(condition, "type");
    const std::string value = string_at(condition, "status");
    if (type == "Ready") view.ready = value == "True";
    if (type == "PodScheduled" && value == "False" && string_at(condition, "reason") == "Unschedulable") {
      view.waiting_reason = "Unschedulable";
      view.waiting_message = string_at(condition, "message");
    }
  }
  const json containers = status.value("containerStatuses", json::array());
  if (!containers.empty() && containers[0].is_object()) read_container_status(containers[0], view);
  if (view.phase == "Unknown" && view.status_reason.empty()) view.status_reason = "NodeLost";
  return view;
}

}  // namespace kubetrain

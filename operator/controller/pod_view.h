#pragma once

// What the controller needs to know about one observed pod, read from its JSON.

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace kubetrain {

enum class PodRole { kWorker, kLauncher, kOther };

struct PodView {
  std::string name;
  std::string uid;
  PodRole role = PodRole::kOther;
  int64_t index = -1;     // kubetrain.dev/replica-index (workers)
  int64_t attempt = -1;   // kubetrain.dev/attempt: the gang restart that created the pod
  std::string phase;      // Pending | Running | Succeeded | Failed | Unknown
  bool ready = false;
  bool deleting = false;
  std::string node;
  std::string pod_ip;
  int64_t restarts = 0;
  std::string status_reason;   // status.reason, e.g. Evicted, NodeLost
  std::string status_message;
  std::string waiting_reason;  // e.g. ImagePullBackOff, or Unschedulable from PodScheduled
  std::string waiting_message;
  std::optional<int64_t> exit_code;  // the main container's termination (current or last)
  std::string terminated_reason;     // OOMKilled, Error, Completed
  std::string finished_at;

  // Phase Failed, or a container that terminated with a non-zero code, or lost its node.
  bool failed() const;
  bool succeeded() const { return phase == "Succeeded"; }
  // The pod still runs or will (cleanPodPolicy Running deletes these).
  bool active() const { return !deleting && (phase == "Pending" || phase == "Running" || phase.empty()); }
  // Why it failed, most specific first: OOMKilled, Evicted, NodeLost, Error, ...
  std::string failure_reason() const;
};

PodView parse_pod_view(const nlohmann::json& pod);

}  // namespace kubetrain

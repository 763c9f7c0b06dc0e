#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>

#include <nlohmann/json.hpp>

#include "operator/kube/kube_client.h"

namespace kubetrain {

enum class EventType { kNormal, kWarning };

// Creates core/v1 Events about objects (what `kubectl describe` lists). A repeat of the same
// (object, type, reason, message) within `aggregation_window` patches the existing Event's count
// and lastTimestamp instead of creating another, as client-go's recorder does.
// Recording is best effort: API failures are logged, never thrown. Thread-safe.
class EventRecorder {
 public:
  EventRecorder(KubeClient& client, std::string component, std::string host = {},
                std::chrono::seconds aggregation_window = std::chrono::minutes(10));

  // `object` is the involved object as read from the API (apiVersion, kind, metadata.name,
  // namespace, uid and resourceVersion are copied into involvedObject). `reason` is a stable
  // UpperCamelCase word ("Created", "GangRestart"); `message` is for people.
  void record(const nlohmann::json& object, EventType type, std::string_view reason,
              std::string_view message);

 private:
  struct Recorded {
    std::string namespace_name;
    std::string event_name;
    int count = 0;
    std::chrono::steady_clock::time_point last;
  };

  KubeClient& client_;
  const std::string component_;
  const std::string host_;
  const std::chrono::seconds window_;
  std::mutex mutex_;
  // (uid, type, reason, message) -> the Event created for it.
  std::map<std::tuple<std::string, std::string, std::string, std::string>, Recorded> recorded_;
};

}  // namespace kubetrain

#include "operator/kube/event_recorder.h"

#include <cstdio>

#include <spdlog/spdlog.h>

#include "operator/kube/api_time.h"

namespace kubetrain {
namespace {

using json = nlohmann::json;

const char* type_name(EventType type) { return type == EventType::kWarning ? "Warning" : "Normal"; }

}  // namespace

EventRecorder::EventRecorder(KubeClient& client, std::string component, std::string host,
                             std::chrono::seconds aggregation_window)
    : client_(client),
      component_(std::move(component)),
      host_(std::move(host)),
      window_(aggregation_window) {}

void EventRecorder::record(const json& object, EventType type, std::string_view reason,
                           std::string_view message) {
  const json metadata = object.value("metadata", json::object());
  std::string ns = metadata.value("namespace", "");
  if (ns.empty()) ns = "default";  // events about cluster-scoped objects
  std::string name = metadata.value("name", "");
  std::string uid = metadata.value("uid", "");
  auto now_text = format_api_time(std::chrono::system_clock::now());
  auto now = std::chrono::steady_clock::now();
  auto key = std::make_tuple(uid.empty() ? ns + "/" + name : uid, std::string(type_name(type)),
                             std::string(reason), std::string(message));

  std::unique_lock lock(mutex_);
  auto it = recorded_.find(key);
  if (it != recorded_.end() && now - it->second.last < window_) {
    // A repeat: bump the existing Event's count instead of creating another.
    Recorded& seen = it->second;
    seen.count += 1;
    seen.last = now;
    Recorded snapshot = seen;
    lock.unlock();
    try {
      client_.merge_patch(kinds::kEvents, snapshot.namespace_name, snapshot.event_name,
                          {{"count", snapshot.count}, {"lastTimestamp", now_text}});
      return;
    } catch (const std::exception& error) {
      spdlog::debug("event {}/{}: count update failed ({}), creating a new event",
                    snapshot.namespace_name, snapshot.event_name, error.what());
    }
    lock.lock();
    recorded_.erase(key);
  }
  lock.unlock();

  auto stamp = std::chrono::duration_cast<std::chrono::nanoseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
  char suffix[32];
  std::snprintf(suffix, sizeof suffix, ".%llx", static_cast<unsigned long long>(stamp));
  std::string event_name = name + suffix;
  json event = {
      {"metadata", {{"name", event_name}, {"namespace", ns}}},
      {"involvedObject",
       {{"apiVersion", object.value("apiVersion", "")},
        {"kind", object.value("kind", "")},
        {"name", name},
        {"namespace", metadata.value("namespace", "")},
        {"uid", uid},
        {"resourceVersion", metadata.value("resourceVersion", "")}}},
      {"reason", reason},
      {"message", message},
      {"type", type_name(type)},
      {"source", {{"component", component_}}},
      {"reportingComponent", component_},
      {"reportingInstance", host_},
      {"firstTimestamp", now_text},
      {"lastTimestamp", now_text},
      {"count", 1}};
  if (!host_.empty()) event["source"]["host"] = host_;
  try {
    client_.create(kinds::kEvents, ns, event);
  } catch (const std::exception& error) {
    spdlog::warn("event {} {} on {}/{} not recorded: {}", type_name(type), reason, ns, name,
                 error.what());
    return;
  }
  lock.lock();
  recorded_[key] = Recorded{ns, event_name, 1, now};
  // Forget entries past the window so the map does not grow without bound.
  for (auto entry = recorded_.begin(); entry != recorded_.end();) {
    entry = now - entry->second.last >= window_ ? recorded_.erase(entry) : std::next(entry);
  }
}

}  // namespace kubetrain

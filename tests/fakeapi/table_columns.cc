#include "tests/fakeapi/table_columns.h"

#include <cstdint>

#include "operator/controller/rfc3339.h"
#include "tests/fakeapi/json_fields.h"
#include "tests/fakeapi/json_path.h"

namespace kubetrain::fakeapi {
namespace {

using json = nlohmann::json;
using TimePoint = std::chrono::system_clock::time_point;

json definition(const char* name, const char* type, const char* description, int priority = 0,
                const char* format = "") {
  return {{"name", name},
          {"type", type},
          {"format", format},
          {"description", description},
          {"priority", priority}};
}

TableColumn name_column() {
  return {definition("Name", "string", "Name must be unique within a namespace. Cannot be updated.",
                     0, "name"),
          [](const json& object) { return object["metadata"].value("name", ""); }};
}

TableColumn age_column(TimePoint now) {
  return {definition("Age", "string",
                     "CreationTimestamp is a timestamp representing the server time when this "
                     "object was created."),
          [now](const json& object) {
            return age_since(object["metadata"].value("creationTimestamp", ""), now);
          }};
}

// "5m" or "5m30s": the smaller unit only where it is not 0.
std::string in_units(long long large, const char* large_unit, long long small = 0,
                     const char* small_unit = "") {
  std::string text = std::to_string(large) + large_unit;
  if (small != 0) text += std::to_string(small) + small_unit;
  return text;
}

// kubectl's duration.HumanDuration: coarser the longer ago.
std::string human_duration(std::chrono::seconds elapsed) {
  long long seconds = elapsed.count();
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";  // clocks a second apart
  if (seconds < 120) return in_units(seconds, "s");
  long long minutes = seconds / 60;
  if (minutes < 10) return in_units(minutes, "m", seconds % 60, "s");
  if (minutes < 180) return in_units(minutes, "m");
  long long hours = seconds / 3600;
  if (hours < 8) return in_units(hours, "h", minutes % 60, "m");
  if (hours < 48) return in_units(hours, "h");
  if (hours < 24 * 8) return in_units(hours / 24, "d", hours % 24, "h");
  if (hours < 24 * 365 * 2) return in_units(hours / 24, "d");
  if (hours < 24 * 365 * 8) return in_units(hours / 24 / 365, "y", hours / 24 % 365, "d");
  return in_units(hours / 24 / 365, "y");
}

// A CRD column's cell, typed as apiextensions' table convertor types it. kube-apiserver prints
// values of string columns that are not strings with Go's fmt; here they appear as JSON.
json custom_cell(const std::string& type, const json& value, TimePoint now) {
  if (value.is_null()) return nullptr;
  if (type == "string") return value.is_string() ? value.get<std::string>() : value.dump();
  if (type == "integer" && value.is_number()) return value.get<std::int64_t>();
  if (type == "number" && value.is_number()) return value.get<double>();
  if (type == "boolean" && value.is_boolean()) return value;
  if (type == "date" && value.is_string()) {
    std::string timestamp = value.get<std::string>();
    return parse_rfc3339(timestamp) ? age_since(timestamp, now) : "<invalid>";
  }
  return nullptr;
}

std::vector<TableColumn> custom_columns(const ResourceInfo& resource, const std::string& version,
                                        TimePoint now) {
  std::vector<TableColumn> columns = {name_column()};
  auto printer_columns = resource.printer_columns.find(version);
  if (printer_columns == resource.printer_columns.end()) return columns;
  for (const auto& column : printer_columns->second) {
    std::string type = column.value("type", "string");
    std::string path = column.value("jsonPath", "");
    json shown = {{"name", column.value("name", "")},
                  {"type", type},
                  {"format", column.value("format", "")},
                  {"description", column.value("description", "")},
                  {"priority", column.value("priority", 0)}};
    columns.push_back({shown, [type, path, now](const json& object) -> json {
                         try {
                           auto value = first_json_path_result(object, path);
                           return value ? custom_cell(type, *value, now) : json(nullptr);
                         } catch (const std::invalid_argument&) {
                           return nullptr;
                         }
                       }});
  }
  return columns;
}

// The Status column of kubectl get pods, as kube-apiserver's pod printer works it out.
std::string pod_status(const json& pod) {
  const json status = member(pod, "status");
  std::string reason = string_at(status, "phase");
  if (!string_at(status, "reason").empty()) reason = string_at(status, "reason");
  bool running = false;
  const json statuses = status.value("containerStatuses", json::array());
  for (auto it = statuses.rbegin(); it != statuses.rend(); ++it) {
    const json state = member(*it, "state");
    if (!string_at(member(state, "waiting"), "reason").empty()) {
      reason = string_at(member(state, "waiting"), "reason");
    } else if (state.contains("terminated")) {
      const json terminated = state["terminated"];
      if (!string_at(terminated, "reason").empty()) {
        reason = string_at(terminated, "reason");
      } else if (integer_at(terminated, "signal").value_or(0) != 0) {
        reason = "Signal:" + std::to_string(*integer_at(terminated, "signal"));
      } else {
        reason = "ExitCode:" + std::to_string(integer_at(terminated, "exitCode").value_or(0));
      }
    } else if (state.contains("running") && it->value("ready", false)) {
      running = true;
    }
  }
  if (reason == "Completed" && running) reason = "Running";
  if (member(pod, "metadata").contains("deletionTimestamp")) {
    reason = string_at(status, "reason") == "NodeLost" ? "Unknown" : "Terminating";
  }
  return reason;
}

std::string pod_ready(const json& pod) {
  int ready = 0;
  for (const auto& container : member(pod, "status").value("containerStatuses", json::array())) {
    if (container.value("ready", false) && member(container, "state").contains("running")) ++ready;
  }
  auto total = member(pod, "spec").value("containers", json::array()).size();
  return std::to_string(ready) + "/" + std::to_string(total);
}

std::string pod_restarts(const json& pod, TimePoint now) {
  std::int64_t restarts = 0;
  std::string last_restart;
  for (const auto& container : member(pod, "status").value("containerStatuses", json::array())) {
    restarts += integer_at(container, "restartCount").value_or(0);
    std::string finished =
        string_at(member(member(container, "lastState"), "terminated"), "finishedAt");
    if (finished > last_restart) last_restart = finished;  // RFC 3339 in UTC sorts as text
  }
  std::string text = std::to_string(restarts);
  if (restarts != 0 && !last_restart.empty()) text += " (" + age_since(last_restart, now) + " ago)";
  return text;
}

std::string or_none(const std::string& text) { return text.empty() ? "<none>" : text; }

std::vector<TableColumn> pod_columns(TimePoint now) {
  return {
      name_column(),
      {definition("Ready", "string",
                  "The aggregate readiness state of this pod for accepting traffic."),
       pod_ready},
      {definition("Status", "string", "The aggregate status of the containers in this pod."),
       pod_status},
      {definition("Restarts", "string",
                  "The number of times the containers in this pod have been restarted and when "
                  "the last container in this pod has restarted."),
       [now](const json& pod) { return pod_restarts(pod, now); }},
      age_column(now),
      {definition("IP", "string", "IP address allocated to the pod.", 1),
       [](const json& pod) { return or_none(string_at(member(pod, "status"), "podIP")); }},
      {definition("Node", "string", "The node the pod is bound to.", 1),
       [](const json& pod) { return or_none(string_at(member(pod, "spec"), "nodeName")); }},
      {definition("Nominated Node", "string",
                  "The node the scheduler nominated for the pod by preempting others.", 1),
       [](const json& pod) {
         return or_none(string_at(member(pod, "status"), "nominatedNodeName"));
       }},
      {definition("Readiness Gates", "string", "Conditions the pod's readiness also waits for.", 1),
       [](const json& pod) -> std::string {
         const json gates = member(pod, "spec").value("readinessGates", json::array());
         if (gates.empty()) return "<none>";
         int met = 0;
         for (const auto& gate : gates) {
           for (const auto& condition : member(pod, "status").value("conditions", json::array())) {
             if (condition.value("type", "") == gate.value("conditionType", "") &&
                 condition.value("status", "") == "True") {
               ++met;
             }
           }
         }
         return std::to_string(met) + "/" + std::to_string(gates.size());
       }},
  };
}

}  // namespace

std::string age_since(const std::string& timestamp, TimePoint now) {
  auto time = parse_rfc3339(timestamp);
  if (!time) return "<unknown>";
  return human_duration(std::chrono::duration_cast<std::chrono::seconds>(now - *time));
}

std::vector<TableColumn> table_columns(const ResourceInfo& resource, const std::string& version,
                                       TimePoint now) {
  if (resource.custom) return custom_columns(resource, version, now);
  if (resource.resource() == "pods") return pod_columns(now);
  return {name_column(), age_column(now)};
}

}  // namespace kubetrain::fakeapi

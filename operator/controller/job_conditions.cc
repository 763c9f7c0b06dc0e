#include "operator/controller/job_conditions.h"

namespace kubetrain {

bool set_condition(JobStatus& status, const std::string& type, bool value, const std::string& reason,
                   const std::string& message, TimePoint now) {
  const std::string text = value ? "True" : "False";
  for (Condition& condition : status.conditions) {
    if (condition.type != type) continue;
    const bool changed = condition.status != text;
    if (changed) condition.last_transition_time = format_rfc3339(now);
    condition.status = text;
    condition.reason = reason;
    condition.message = message;
    return changed;
  }
  status.conditions.push_back({type, text, reason, message, format_rfc3339(now)});
  return true;
}

std::string job_state(const JobStatus& status) {
  for (const char* type : {"Failed", "Succeeded", "Suspended", "Restarting", "Stalled", "Running", "Created"}) {
    if (status.is_true(type)) return type;
  }
  return {};
}

}  // namespace kubetrain

#pragma once

#include <string>

#include "operator/controller/training_job.h"

namespace kubetrain {

// Sets condition `type`, adding it when absent; lastTransitionTime changes only when the status
// does. Returns true when the status changed (a transition worth an Event).
bool set_condition(JobStatus& status, const std::string& type, bool value, const std::string& reason,
                   const std::string& message, TimePoint now);

// The most significant true condition, as kubectl get shows it: Failed, Succeeded, Suspended,
// Restarting, Stalled, Running, Created (empty before the first reconcile).
std::string job_state(const JobStatus& status);

}  // namespace kubetrain

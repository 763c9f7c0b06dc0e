#pragma once

// One reconcile as a pure function: from the TrainingJob and what the cache holds, the status to
// write and the objects to create or delete. The controller only carries the plan out.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "operator/controller/pod_view.h"
#include "operator/controller/training_job.h"

namespace kubetrain {

struct ObservedState {
  std::vector<PodView> pods;  // every pod labelled with the job's name
  bool has_service = false;
  bool has_config_map = false;
  bool has_secret = false;
  // Rank 0's /progress report, polled this reconcile (see progress_url); nullopt if not polled
  // or unreachable.
  std::optional<nlohmann::json> progress;
  TimePoint now;
};

struct PlannedEvent {
  std::string type;  // Normal | Warning
  std::string reason;
  std::string message;
};

struct ReconcilePlan {
  JobStatus status;
  std::optional<TrainingJobSpec> spec;  // parsed and validated; nullopt for an invalid spec
  bool create_service = false;
  bool create_config_map = false;
  bool create_secret = false;
  std::vector<nlohmann::json> create_pods;
  std::vector<std::string> delete_pods;
  std::vector<PlannedEvent> events;  // emitted once the status is written
  std::optional<std::chrono::milliseconds> requeue_after;  // the nearest deadline
  bool delete_job = false;  // ttlSecondsAfterFinished has passed
};

ReconcilePlan plan_reconcile(const ObjectMeta& metadata, const nlohmann::json& spec, const JobStatus& previous,
                             const ObservedState& observed);

// How often progress is polled while running: a third of progressDeadlineSeconds, 1..10 s.
std::chrono::milliseconds progress_poll_interval(const TrainingJobSpec& spec);

}  // namespace kubetrain

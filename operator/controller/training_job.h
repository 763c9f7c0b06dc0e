#pragma once

// The TrainingJob resource (kubetrain.dev/v1alpha1) as C++ values: the spec with its defaults
// applied, the status the operator writes, and their JSON forms. Field names follow the CRD in
// charts/kubetrain/crds/ (camelCase beside each member).

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "operator/controller/rfc3339.h"

namespace kubetrain {

inline constexpr const char* kTrainingJobApiVersion = "kubetrain.dev/v1alpha1";
inline constexpr const char* kTrainingJobKind = "TrainingJob";

// A spec the operator cannot build; the message names the field and what would be valid.
class InvalidSpecError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class CleanPodPolicy { kRunning, kAll, kNone };

// The scheduler that places a gang (all the workers that must start together) at once.
enum class GangScheduler { kNone, kVolcano, kCoscheduling };

// runPolicy.schedulingPolicy: gang scheduling through a PodGroup. Fields that mean what they mean
// in mpi-operator's SchedulingPolicy carry its names.
struct SchedulingPolicy {
  GangScheduler gang_scheduler = GangScheduler::kNone;  // gangScheduler: volcano | coscheduling
  std::string scheduler_name;            // schedulerName: the scheduler's name in the cluster
  std::optional<int64_t> min_available;  // minAvailable: workers that must start together (all)
  std::string queue;                     // queue: Volcano's queue
  std::string priority_class;            // priorityClass: the PodGroup's PriorityClass
  std::optional<int64_t> schedule_timeout_seconds;  // scheduleTimeoutSeconds: coscheduling's
  nlohmann::json min_resources;          // minResources; null: minAvailable workers' requests
};

struct RunPolicy {
  int64_t backoff_limit = 3;                       // backoffLimit: gang restarts before Failed
  int64_t startup_deadline_seconds = 600;          // startupDeadlineSeconds
  int64_t progress_deadline_seconds = 1800;        // progressDeadlineSeconds
  std::optional<int64_t> active_deadline_seconds;  // activeDeadlineSeconds
  std::optional<int64_t> ttl_seconds_after_finished;  // ttlSecondsAfterFinished
  CleanPodPolicy clean_pod_policy = CleanPodPolicy::kRunning;  // cleanPodPolicy
  bool suspend = false;                            // suspend
  SchedulingPolicy scheduling_policy;              // schedulingPolicy
};

struct TrainingJobSpec {
  int64_t workers = 1;          // workers: worker pods
  int64_t slots_per_worker = 1; // slotsPerWorker: MPI ranks per worker pod
  std::string image;            // image
  nlohmann::json resources = nlohmann::json::object();     // resources: worker container resources
  nlohmann::json pod_template = nlohmann::json::object();  // template: PodTemplateSpec fields
  nlohmann::json training = nlohmann::json::object();      // training: the worker config verbatim
  RunPolicy run_policy;         // runPolicy

  int64_t ranks() const { return workers * slots_per_worker; }
  // training.statusPort: where rank 0 serves /progress (default 9400).
  int status_port() const;
};

struct Condition {
  std::string type;
  std::string status;  // "True" | "False"
  std::string reason;
  std::string message;
  std::string last_transition_time;

  bool operator==(const Condition&) const = default;
};

struct WorkerCounts {
  int64_t active = 0, ready = 0, succeeded = 0, failed = 0;
  bool operator==(const WorkerCounts&) const = default;
};

struct WorkerStatus {
  std::string pod;
  std::string node;
  std::string phase;
  int64_t restarts = 0;
  std::optional<int64_t> last_exit_code;
  std::string reason;
  bool operator==(const WorkerStatus&) const = default;
};

// The root cause of a failure: the first pod that failed, a worker before the launcher.
struct Failure {
  std::string pod;
  std::optional<int64_t> rank;  // worker index (first MPI rank = index * slotsPerWorker)
  std::string node;
  std::string reason;
  std::optional<int64_t> exit_code;
  std::string message;
  std::string first_observed_at;
  bool operator==(const Failure&) const = default;
};

struct JobStatus {
  std::string state;        // state: the most significant true condition (kubectl get's State)
  std::string ready_ranks;  // readyRanks: "16/16", ranks on Ready workers out of all ranks
  std::vector<Condition> conditions;
  WorkerCounts workers;
  std::vector<WorkerStatus> worker_statuses;
  std::optional<Failure> failure;
  std::string start_time;
  std::string completion_time;
  int64_t restarts = 0;
  int64_t observed_generation = 0;
  // progress: rank 0's /progress (epoch, step, totalSteps, loss, top1, imagesPerSecond, lossScale,
  // state) plus lastStepTime, when the step last advanced.
  std::optional<nlohmann::json> progress;
  std::optional<nlohmann::json> result;  // result: top1, imagesPerSecond, wallSeconds

  bool operator==(const JobStatus&) const = default;

  const Condition* condition(std::string_view type) const;
  bool is_true(std::string_view type) const;
  bool finished() const { return is_true("Succeeded") || is_true("Failed"); }
};

struct ObjectMeta {
  std::string name;
  std::string namespace_;
  std::string uid;
  std::string resource_version;
  int64_t generation = 0;
  std::string creation_timestamp;
  bool deleting = false;  // deletionTimestamp set
  nlohmann::json labels = nlohmann::json::object();
};

struct TrainingJob {
  ObjectMeta metadata;
  TrainingJobSpec spec;
  JobStatus status;
};

// Reads metadata and status; they never fail on a well-formed object. The spec is parsed by
// parse_spec so that a bad spec still leaves a job whose status can be written.
ObjectMeta parse_object_meta(const nlohmann::json& object);
JobStatus parse_status(const nlohmann::json& status);

// Applies defaults; throws InvalidSpecError naming the field ("spec.workers must be ...").
TrainingJobSpec parse_spec(const nlohmann::json& spec);

// The status as the status subresource expects it; absent optional fields are null so that a
// merge patch clears them.
nlohmann::json status_to_json(const JobStatus& status);

std::string to_string(CleanPodPolicy policy);

}  // namespace kubetrain

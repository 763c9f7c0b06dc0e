#include "operator/controller/reconcile_plan.h"

#include <algorithm>
#include <map>

#include "operator/controller/child_objects.h"
#include "operator/controller/job_conditions.h"
#include "operator/controller/job_pods.h"
#include "operator/controller/spec_validation.h"
#include "operator/controller/training_progress.h"

namespace kubetrain {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

// Waiting reasons that will not resolve by themselves.
bool is_startup_blocker(const std::string& reason) {
  return reason == "ImagePullBackOff" || reason == "ErrImagePull" || reason == "CreateContainerConfigError" ||
         reason == "InvalidImageName" || reason == "Unschedulable" || reason == "CrashLoopBackOff";
}

std::string describe(const Failure& failure) {
  std::string text = "pod " + failure.pod + " " + failure.reason;
  if (failure.exit_code) text += " (exit code " + std::to_string(*failure.exit_code) + ")";
  if (!failure.message.empty()) text += ": " + failure.message;
  return text;
}

class Planner {
 public:
  Planner(const ObjectMeta& metadata, const JobStatus& previous, const ObservedState& observed)
      : meta_(metadata), previous_(previous), observed_(observed), now_(observed.now) {
    plan_.status = previous;
    plan_.status.observed_generation = metadata.generation;
  }

  ReconcilePlan run(const json& spec_json) {
    if (meta_.deleting) return std::move(plan_);  // garbage collection removes the children
    try {
      TrainingJobSpec spec = parse_spec(spec_json);
      validate_training_job(meta_, spec);
      plan_.spec = std::move(spec);
    } catch (const InvalidSpecError& error) {
      invalid_spec(error.what());
      plan_.status.state = job_state(plan_.status);
      return std::move(plan_);
    }
    const TrainingJobSpec& spec = *plan_.spec;
    attempt_ = plan_.status.restarts;
    index_pods(spec);
    if (status().finished()) {
      finished(spec);
    } else if (spec.run_policy.suspend) {
      suspend(spec);
    } else {
      active(spec);
    }
    plan_.status.state = job_state(plan_.status);
    plan_.status.ready_ranks = std::to_string(plan_.status.workers.ready * spec.slots_per_worker) + "/" +
                               std::to_string(spec.ranks());
    return std::move(plan_);
  }

 private:
  JobStatus& status() { return plan_.status; }

  void event(const std::string& type, const std::string& reason, const std::string& message) {
    plan_.events.push_back({type, reason, message});
  }

  void requeue_at(TimePoint when) {
    const milliseconds delay = std::max(milliseconds(0), std::chrono::duration_cast<milliseconds>(when - now_)) +
                               milliseconds(50);  // land just past the deadline
    if (!plan_.requeue_after || delay < *plan_.requeue_after) plan_.requeue_after = delay;
  }

  void invalid_spec(const std::string& message) {
    const Condition* failed = status().condition("Failed");
    if (failed != nullptr && failed->status == "True" && failed->reason == "InvalidSpec" &&
        failed->message == message) {
      return;
    }
    set_condition(status(), "Failed", true, "InvalidSpec", message, now_);
    if (status().completion_time.empty()) status().completion_time = format_rfc3339(now_);
    event("Warning", "InvalidSpec", message);
  }

  // Splits the observed pods into this attempt's workers and launcher, and stale ones to delete.
  void index_pods(const TrainingJobSpec& spec) {
    for (const PodView& pod : observed_.pods) {
      names_.push_back(pod.name);
      const bool current = pod.attempt == attempt_;
      if (current && pod.role == PodRole::kWorker && pod.index >= 0 && pod.index < spec.workers &&
          pod.name == worker_pod_name(meta_.name, pod.index)) {
        workers_[pod.index] = &pod;
      } else if (current && pod.role == PodRole::kLauncher && pod.name == launcher_pod_name(meta_.name)) {
        launcher_ = &pod;
      } else if (!pod.deleting) {
        plan_.delete_pods.push_back(pod.name);
      }
    }
  }

  bool name_taken(const std::string& name) const {
    return std::find(names_.begin(), names_.end(), name) != names_.end();
  }

  void update_worker_statuses() {
    WorkerCounts counts;
    std::vector<WorkerStatus> statuses;
    for (const auto& [index, pod] : workers_) {
      if (pod->active()) ++counts.active;
      if (pod->ready) ++counts.ready;
      if (pod->succeeded()) ++counts.succeeded;
      if (pod->failed()) ++counts.failed;
      std::string reason = pod->failed() ? pod->failure_reason() : pod->waiting_reason;
      statuses.push_back({pod->name, pod->node, pod->phase, pod->restarts, pod->exit_code, reason});
    }
    status().workers = counts;
    status().worker_statuses = std::move(statuses);
  }

  void delete_current_pods(bool keep_failed_launcher, bool only_active) {
    for (const auto& [index, pod] : workers_) {
      if (!pod->deleting && (!only_active || pod->active())) plan_.delete_pods.push_back(pod->name);
    }
    if (launcher_ != nullptr && !launcher_->deleting) {
      const bool keep = keep_failed_launcher && launcher_->failed();
      if (!keep && (!only_active || launcher_->active())) plan_.delete_pods.push_back(launcher_->name);
    }
  }

  void apply_clean_pod_policy(const TrainingJobSpec& spec) {
    switch (spec.run_policy.clean_pod_policy) {
      case CleanPodPolicy::kNone: return;
      case CleanPodPolicy::kRunning: delete_current_pods(true, true); return;
      case CleanPodPolicy::kAll: delete_current_pods(true, false); return;
    }
  }

  void finish(const TrainingJobSpec& spec, bool succeeded, const std::string& reason, const std::string& message) {
    set_condition(status(), succeeded ? "Succeeded" : "Failed", true, reason, message, now_);
    set_condition(status(), "Running", false, succeeded ? "Succeeded" : "Failed", message, now_);
    set_condition(status(), "Restarting", false, reason, message, now_);
    status().completion_time = format_rfc3339(now_);
    if (succeeded) status().result = training_result(status().progress, status().start_time, now_);
    event(succeeded ? "Normal" : "Warning", succeeded ? "Succeeded" : "Failed", message);
    update_worker_statuses();
    apply_clean_pod_policy(spec);
    schedule_ttl(spec);
  }

  void schedule_ttl(const TrainingJobSpec& spec) {
    if (!spec.run_policy.ttl_seconds_after_finished) return;
    const auto completed = parse_rfc3339(status().completion_time);
    if (!completed) return;
    const TimePoint expiry = *completed + seconds(*spec.run_policy.ttl_seconds_after_finished);
    if (now_ >= expiry) {
      plan_.delete_job = true;
    } else {
      requeue_at(expiry);
    }
  }

  void finished(const TrainingJobSpec& spec) {
    update_worker_statuses();
    apply_clean_pod_policy(spec);
    schedule_ttl(spec);
  }

  void suspend(const TrainingJobSpec& spec) {
    (void)spec;
    delete_current_pods(false, false);
    workers_.clear();
    launcher_ = nullptr;
    update_worker_statuses();
    if (set_condition(status(), "Suspended", true, "Suspended", "the job is suspended; its pods are deleted", now_)) {
      event("Normal", "Suspended", "TrainingJob suspended: pods deleted");
    }
    set_condition(status(), "Running", false, "Suspended", "the job is suspended", now_);
  }

  void active(const TrainingJobSpec& spec) {
    if (const Condition* suspended = status().condition("Suspended"); suspended && suspended->status == "True") {
      set_condition(status(), "Suspended", false, "Resumed", "the job was resumed", now_);
      event("Normal", "Resumed", "TrainingJob resumed: pods recreated");
      status().start_time = format_rfc3339(now_);  // deadlines count from the resume
    }
    if (status().start_time.empty()) status().start_time = format_rfc3339(now_);
    if (!status().is_true("Created")) {
      set_condition(status(), "Created", true, "Created",
                    "Service, ConfigMap, Secret and " + std::to_string(spec.workers) + " worker pods created", now_);
      event("Normal", "Created",
            "created Service " + service_name(meta_.name) + ", ConfigMap " + config_map_name(meta_.name) +
                ", Secret " + secret_name(meta_.name) + " and " + std::to_string(spec.workers) + " worker pods");
    }
    update_worker_statuses();
    if (active_deadline_passed(spec)) return;
    if (const auto root = root_cause(spec)) {
      handle_failure(spec, *root);
      return;
    }
    if (launcher_ != nullptr && launcher_->succeeded()) {
      finish(spec, true, "Succeeded", "mpirun exited 0");
      return;
    }
    ensure_children(spec);
    if (launcher_ == nullptr) {
      startup(spec);
    } else {
      running(spec);
    }
  }

  bool active_deadline_passed(const TrainingJobSpec& spec) {
    if (!spec.run_policy.active_deadline_seconds) return false;
    const auto start = parse_rfc3339(status().start_time);
    if (!start) return false;
    const TimePoint deadline = *start + seconds(*spec.run_policy.active_deadline_seconds);
    if (now_ < deadline) {
      requeue_at(deadline);
      return false;
    }
    finish(spec, false, "DeadlineExceeded",
           "the job ran longer than activeDeadlineSeconds " + std::to_string(*spec.run_policy.active_deadline_seconds));
    return true;
  }

  // A worker that failed (the earliest to terminate) is the root cause; the launcher only when no
  // worker failed, since mpirun exits when any rank's host goes away.
  std::optional<Failure> root_cause(const TrainingJobSpec& spec) {
    std::optional<Failure> worst;
    for (const auto& [index, pod] : workers_) {
      const bool gone = pod->deleting && !pod->failed();
      if (!pod->failed() && !gone) continue;
      Failure failure{pod->name,
                      index,
                      pod->node,
                      gone ? "Deleted" : pod->failure_reason(),
                      pod->exit_code,
                      gone ? "the worker pod was deleted" : pod->status_message,
                      pod->finished_at.empty() ? format_rfc3339(now_) : pod->finished_at};
      if (!worst || failure.first_observed_at < worst->first_observed_at) worst = failure;
    }
    // A worker this attempt had seen that vanished from the cache was deleted behind our back.
    for (const WorkerStatus& seen : previous_.worker_statuses) {
      if (worst || seen.phase.empty() || name_taken(seen.pod) || previous_.restarts != attempt_) continue;
      for (int64_t index = 0; index < spec.workers; ++index) {
        if (worker_pod_name(meta_.name, index) == seen.pod) {
          worst = Failure{seen.pod, index, seen.node, "Deleted", std::nullopt, "the worker pod was deleted",
                          format_rfc3339(now_)};
        }
      }
    }
    if (!worst && launcher_ != nullptr && launcher_->failed()) {
      worst = Failure{launcher_->name,
                      std::nullopt,
                      launcher_->node,
                      launcher_->failure_reason(),
                      launcher_->exit_code,
                      launcher_->status_message,
                      launcher_->finished_at.empty() ? format_rfc3339(now_) : launcher_->finished_at};
    }
    return worst;
  }

  void handle_failure(const TrainingJobSpec& spec, const Failure& failure) {
    status().failure = failure;
    const bool launcher = !failure.rank.has_value();
    if (launcher && failure.exit_code == 2) {
      finish(spec, false, "InvalidConfig", "the worker rejected its configuration (exit code 2); see the launcher's log");
      return;
    }
    if (launcher && failure.exit_code == 3) {
      finish(spec, false, "DataError", "the data set is missing or corrupt (exit code 3); see the launcher's log");
      return;
    }
    if (status().restarts >= spec.run_policy.backoff_limit) {
      finish(spec, false, "BackoffLimitExceeded",
             "gang restarted " + std::to_string(status().restarts) + " times (backoffLimit " +
                 std::to_string(spec.run_policy.backoff_limit) + "); last failure: " + describe(failure));
      return;
    }
    delete_current_pods(false, false);
    status().restarts += 1;
    status().worker_statuses.clear();
    status().workers = {};
    status().progress.reset();
    const std::string message = "gang restart " + std::to_string(status().restarts) + " of " +
                                std::to_string(spec.run_policy.backoff_limit) + " after " + describe(failure);
    set_condition(status(), "Restarting", true, failure.reason, message, now_);
    set_condition(status(), "Running", false, "Restarting", message, now_);
    event("Warning", "Restarting", message);
  }

  void ensure_children(const TrainingJobSpec& spec) {
    plan_.create_service = !observed_.has_service;
    plan_.create_config_map = !observed_.has_config_map;
    plan_.create_secret = !observed_.has_secret;
    for (int64_t index = 0; index < spec.workers; ++index) {
      const std::string name = worker_pod_name(meta_.name, index);
      // A same-named pod of an older attempt must vanish first: never two pods with one name.
      if (workers_.count(index) == 0 && !name_taken(name)) {
        plan_.create_pods.push_back(build_worker_pod(meta_, spec, index, attempt_));
      }
    }
  }

  TimePoint attempt_start() const {
    TimePoint start = parse_rfc3339(plan_.status.start_time).value_or(now_);
    if (const Condition* restarting = plan_.status.condition("Restarting");
        restarting != nullptr && restarting->status == "True") {
      start = std::max(start, parse_rfc3339(restarting->last_transition_time).value_or(start));
    }
    return start;
  }

  void startup(const TrainingJobSpec& spec) {
    const bool all_ready = static_cast<int64_t>(workers_.size()) == spec.workers &&
                           std::all_of(workers_.begin(), workers_.end(), [](const auto& entry) {
                             return entry.second->ready && !entry.second->deleting;
                           });
    if (all_ready) {
      if (!name_taken(launcher_pod_name(meta_.name))) {
        plan_.create_pods.push_back(build_launcher_pod(meta_, spec, attempt_));
        event("Normal", "WorkersReady", "all " + std::to_string(spec.workers) + " worker pods are Ready");
        event("Normal", "LauncherCreated", "created launcher pod " + launcher_pod_name(meta_.name) +
                                               " running mpirun -np " + std::to_string(spec.ranks()));
      }
      return;
    }
    const TimePoint deadline = attempt_start() + seconds(spec.run_policy.startup_deadline_seconds);
    if (now_ < deadline) {
      requeue_at(deadline);
      return;
    }
    // Name the worker that blocks startup, preferring one with a reason that will not clear.
    const PodView* blocker = nullptr;
    for (const auto& [index, pod] : workers_) {
      if (pod->ready) continue;
      if (blocker == nullptr || (is_startup_blocker(pod->waiting_reason) && !is_startup_blocker(blocker->waiting_reason))) {
        blocker = pod;
      }
    }
    std::string reason = "StartupDeadlineExceeded";
    std::string message = "workers were not Ready within startupDeadlineSeconds " +
                          std::to_string(spec.run_policy.startup_deadline_seconds);
    if (blocker != nullptr) {
      if (is_startup_blocker(blocker->waiting_reason)) reason = blocker->waiting_reason;
      message += "; " + blocker->name + " is " + (blocker->waiting_reason.empty() ? blocker->phase : blocker->waiting_reason);
      if (!blocker->waiting_message.empty()) message += ": " + blocker->waiting_message;
      status().failure = Failure{blocker->name, blocker->index, blocker->node, reason, std::nullopt,
                                 blocker->waiting_message, format_rfc3339(now_)};
    }
    finish(spec, false, reason, message);
  }

  void running(const TrainingJobSpec& spec) {
    if (launcher_->phase != "Running") return;
    if (set_condition(status(), "Running", true, "Running",
                      "mpirun runs " + std::to_string(spec.ranks()) + " ranks on " + std::to_string(spec.workers) +
                          " workers",
                      now_)) {
      event("Normal", "Running", "launcher " + launcher_->name + " is running");
    }
    if (status().is_true("Restarting")) {
      set_condition(status(), "Restarting", false, "Running", "the restarted gang is running", now_);
    }
    if (observed_.progress) status().progress = merge_progress(status().progress, *observed_.progress, now_);
    check_stall(spec);
    requeue_at(now_ + progress_poll_interval(spec));
  }

  void check_stall(const TrainingJobSpec& spec) {
    TimePoint since = parse_rfc3339(status().condition("Running")->last_transition_time).value_or(now_);
    if (status().progress && status().progress->contains("lastStepTime")) {
      const auto last = parse_rfc3339((*status().progress)["lastStepTime"].get<std::string>());
      if (last) since = std::max(since, *last);
    }
    const TimePoint deadline = since + seconds(spec.run_policy.progress_deadline_seconds);
    if (now_ >= deadline) {
      const std::string message = "no training step for progressDeadlineSeconds " +
                                  std::to_string(spec.run_policy.progress_deadline_seconds);
      if (set_condition(status(), "Stalled", true, "NoProgress", message, now_)) event("Warning", "Stalled", message);
    } else if (status().is_true("Stalled")) {
      set_condition(status(), "Stalled", false, "Progressing", "training steps advance again", now_);
      event("Normal", "Progressing", "training steps advance again");
    }
  }

  const ObjectMeta& meta_;
  const JobStatus& previous_;
  const ObservedState& observed_;
  TimePoint now_;
  ReconcilePlan plan_;
  int64_t attempt_ = 0;
  std::map<int64_t, const PodView*> workers_;
  const PodView* launcher_ = nullptr;
  std::vector<std::string> names_;
};

}  // namespace

ReconcilePlan plan_reconcile(const ObjectMeta& metadata, const json& spec, const JobStatus& previous,
                             const ObservedState& observed) {
  return Planner(metadata, previous, observed).run(spec);
}

milliseconds progress_poll_interval(const TrainingJobSpec& spec) {
  const milliseconds third(spec.run_policy.progress_deadline_seconds * 1000 / 3);
  return std::clamp(third, milliseconds(1000), milliseconds(10000));
}

}  // namespace kubetrain

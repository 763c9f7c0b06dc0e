#include "operator/controller/reconcile_plan.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "operator/controller/child_objects.h"
#include "operator/controller/gang_scheduling.h"
#include "operator/controller/job_conditions.h"
#include "operator/controller/job_pods.h"
#include "operator/controller/kueue_workload.h"
#include "operator/controller/spec_validation.h"
#include "operator/controller/ssh_key_pair.h"
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
      check_integrations(spec);
      plan_.spec = std::move(spec);
    } catch (const InvalidSpecError& error) {
      invalid_spec(error.what());
      plan_.status.state = job_state(plan_.status);
      return std::move(plan_);
    }
    const TrainingJobSpec& spec = *plan_.spec;
    attempt_ = plan_.status.restarts;
    gang_ = spec.run_policy.scheduling_policy.gang_scheduler;
    worker_scheduling_ = launcher_scheduling_ = gang_pod_scheduling(meta_, spec);
    kueue_ = observed_.integrations.kueue && !kueue_queue_name(meta_).empty();
    index_pods(spec);
    find_pod_group();
    if (status().finished()) {
      finished(spec);
    } else if (kueue_) {
      queued(spec);
    } else if (spec.run_policy.suspend) {
      suspend();
    } else {
      active(spec);
    }
    ensure_secret_for_new_pods();
    if (kueue_) follow_workload();
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

  void check_integrations(const TrainingJobSpec& spec) const {
    const GangScheduler gang = spec.run_policy.scheduling_policy.gang_scheduler;
    if (!observed_.integrations.kueue && !kueue_queue_name(meta_).empty()) {
      throw InvalidSpecError(std::string("metadata.labels[") + kKueueQueueNameLabel +
                             "] is set, but this operator does not queue jobs through Kueue: install the chart "
                             "with kueue.enabled=true (operator flag --kueue)");
    }
    if (gang == GangScheduler::kNone || observed_.integrations.watches(gang)) return;
    const std::string name = gang_scheduler_label(gang);
    throw InvalidSpecError("spec.runPolicy.schedulingPolicy.gangScheduler is " + name +
                           ", but this operator does not manage " + name +
                           " PodGroups: install the chart with gangScheduling." + name +
                           "=true (operator flag --gang-schedulers=" + name + ")");
  }

  // The job's PodGroup in the cache: current_pod_group_ when it belongs to this attempt.
  void find_pod_group() {
    if (gang_ == GangScheduler::kNone) return;
    const auto it = observed_.children.find(ChildRef{&pod_group_kind(gang_), pod_group_name(meta_.name)});
    if (it == observed_.children.end()) return;
    observed_pod_group_ = it->second.get();
    const json labels = observed_pod_group_->value("metadata", json::object()).value("labels", json::object());
    if (labels.value(kAttemptLabel, "") == std::to_string(attempt_)) current_pod_group_ = observed_pod_group_;
  }

  void delete_pod_group() {
    if (observed_pod_group_ == nullptr) return;
    plan_.delete_children.push_back({&pod_group_kind(gang_), pod_group_name(meta_.name)});
    observed_pod_group_ = current_pod_group_ = nullptr;
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
    delete_pod_group();
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
    delete_pod_group();
    schedule_ttl(spec);
  }

  void suspend() { hold("Suspended", "the job is suspended; its pods are deleted"); }

  // Sets a condition that says why the job waits, with an event `event_reason` when it starts to
  // wait and when the reason changes, not each time Kueue or a scheduler rewrites its message.
  void set_waiting_condition(const std::string& type, bool value, const std::string& reason,
                             const std::string& message, const std::string& event_reason) {
    const Condition* before = status().condition(type);
    const bool new_reason = before == nullptr || before->reason != reason;
    if (set_condition(status(), type, value, reason, message, now_) || new_reason) {
      event("Normal", event_reason, message);
    }
  }

  // No pods while the job is suspended or waits for Kueue.
  void hold(const std::string& reason, const std::string& message) {
    delete_current_pods(false, false);
    delete_pod_group();
    workers_.clear();
    launcher_ = nullptr;
    update_worker_statuses();
    set_waiting_condition("Suspended", true, reason, message, reason);
    set_condition(status(), "Running", false, reason, message, now_);
  }

  // A job that Kueue manages runs only while its Workload is admitted (kueue_admission.h).
  void queued(const TrainingJobSpec& spec) {
    const Condition* suspended = status().condition("Suspended");
    KueueJobState state;
    state.suspended = spec.run_policy.suspend;
    state.pods_remain = !observed_.pods.empty();
    KueueGate gate = kueue_gate(meta_, spec, workload(), observed_.kueue, state, now_);
    if (gate.write) plan_.update_children.push_back(std::move(*gate.write));
    if (gate.create_workload) {
      create_child(kinds::kWorkloads, workload_name(meta_),
                   [meta = meta_, spec, priority = gate.priority] { return build_workload(meta, spec, priority); });
      event("Normal", "CreatedWorkload", gate.message);
    }
    if (gate.workload_updated) event("Normal", "UpdatedWorkload", gate.message);
    if (gate.delete_workload) plan_.delete_children.push_back(ChildRef{&kinds::kWorkloads, workload_name(meta_)});
    if (spec.run_policy.suspend) {
      suspend();
      return;
    }
    switch (gate.verdict) {
      case KueueVerdict::kWait: hold(gate.reason, gate.message); return;
      case KueueVerdict::kFail: finish(spec, false, gate.reason, gate.message); return;
      case KueueVerdict::kRun: break;
    }
    admitted_ = true;
    if (suspended != nullptr && suspended->status == "True") {
      set_condition(status(), "Suspended", false, "Admitted", gate.message, now_);
      event("Normal", "Admitted", gate.message);
      status().start_time = format_rfc3339(now_);  // deadlines count from the admission
    }
    worker_scheduling_.add(gate.scheduling[kWorkersPodSet]);
    launcher_scheduling_.add(gate.scheduling[kLauncherPodSet]);
    active(spec);
  }

  const json* workload() const {
    const auto it = observed_.children.find(ChildRef{&kinds::kWorkloads, workload_name(meta_)});
    return it == observed_.children.end() ? nullptr : it->second.get();
  }

  void follow_workload() {
    if (!plan_.update_children.empty()) return;  // one write per reconcile
    const json* current = workload();
    if (current == nullptr) return;
    if (auto write = follow_job(*current, status(), admitted_, now_)) plan_.update_children.push_back(std::move(*write));
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
    delete_pod_group();  // the next attempt gets a PodGroup of its own
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

  void create_child(const ResourceKind& kind, const std::string& name, std::function<json()> build) {
    ChildToCreate child;
    child.ref.kind = &kind;
    child.ref.name = name;
    child.build = std::move(build);
    plan_.create_children.push_back(std::move(child));
  }

  void ensure_child(const ResourceKind& kind, const std::string& name, std::function<json()> build) {
    if (observed_.children.count(ChildRef{&kind, name}) == 0) create_child(kind, name, std::move(build));
  }

  // Every pod mounts the Secret, which is never observed: it is created (or found to exist) with
  // each batch of new pods, before them.
  void ensure_secret_for_new_pods() {
    if (plan_.create_pods.empty()) return;
    create_child(kinds::kSecrets, secret_name(meta_.name), [meta = meta_] {
      return build_ssh_secret(meta, generate_ssh_key_pair("kubetrain@" + meta.name));
    });
  }

  void ensure_children(const TrainingJobSpec& spec) {
    ensure_child(kinds::kServices, service_name(meta_.name), [meta = meta_] { return build_service(meta); });
    ensure_child(kinds::kConfigMaps, config_map_name(meta_.name),
                 [meta = meta_, spec] { return build_config_map(meta, spec); });
    if (!ensure_pod_group(spec)) return;
    for (int64_t index = 0; index < spec.workers; ++index) {
      const std::string name = worker_pod_name(meta_.name, index);
      // A same-named pod of an older attempt must vanish first: never two pods with one name.
      if (workers_.count(index) == 0 && !name_taken(name)) {
        plan_.create_pods.push_back(build_worker_pod(meta_, spec, index, attempt_, worker_scheduling_));
      }
    }
  }

  // True when the gang's pods may be created: no gang scheduling, or this attempt's PodGroup is in
  // the cache (a pod created before its group would be scheduled alone, or join an older group
  // of the same name that is being deleted).
  bool ensure_pod_group(const TrainingJobSpec& spec) {
    if (gang_ == GangScheduler::kNone || current_pod_group_ != nullptr) return true;
    if (observed_pod_group_ != nullptr) {
      delete_pod_group();  // an older attempt's; its DELETED event brings the next reconcile
    } else {
      create_child(pod_group_kind(gang_), pod_group_name(meta_.name),
                   [meta = meta_, spec, attempt = attempt_] { return build_pod_group(meta, spec, attempt); });
    }
    return false;
  }

  TimePoint attempt_start() const {
    TimePoint start = parse_rfc3339(plan_.status.start_time).value_or(now_);
    for (const char* type : {"Restarting", "GangScheduled"}) {
      if (const Condition* condition = plan_.status.condition(type); condition != nullptr && condition->status == "True") {
        start = std::max(start, parse_rfc3339(condition->last_transition_time).value_or(start));
      }
    }
    return start;
  }

  // Whether every worker of this attempt is bound to a node; sets GangScheduled either way, with
  // the PodGroup's phase and the scheduler's reason while the gang waits.
  bool gang_placed(const TrainingJobSpec& spec) {
    const bool placed = static_cast<int64_t>(workers_.size()) == spec.workers &&
                        std::all_of(workers_.begin(), workers_.end(),
                                    [](const auto& entry) { return !entry.second->node.empty(); });
    if (placed) {
      if (set_condition(status(), "GangScheduled", true, "Scheduled",
                        "all " + std::to_string(spec.workers) + " workers are placed on nodes", now_)) {
        event("Normal", "GangScheduled", "the gang scheduler placed all " + std::to_string(spec.workers) + " workers");
      }
      return true;
    }
    GangWait wait{"PodGroupCreating", "creating PodGroup " + pod_group_name(meta_.name)};
    if (current_pod_group_ != nullptr) {
      wait = gang_wait(*current_pod_group_, gang_)
                 .value_or(GangWait{"Binding", "PodGroup " + pod_group_name(meta_.name) + " is placed; binding its pods"});
    }
    // Coscheduling tells through the pods: a worker's PodScheduled message says why it waits.
    for (const auto& [index, pod] : workers_) {
      if (pod->waiting_reason == "Unschedulable" && !pod->waiting_message.empty()) {
        wait.message += "; " + pod->name + ": " + pod->waiting_message;
        break;
      }
    }
    set_waiting_condition("GangScheduled", false, wait.reason, wait.message, "GangWaiting");
    return false;
  }

  void startup(const TrainingJobSpec& spec) {
    // Waiting for the gang scheduler to place every worker at once is queueing, not a failed
    // startup: the startup deadline counts from when the gang was placed. Asked before readiness,
    // so that one reconcile which sees the workers bound and Ready at once still records it.
    if (gang_ != GangScheduler::kNone && !gang_placed(spec)) return;
    const bool all_ready = static_cast<int64_t>(workers_.size()) == spec.workers &&
                           std::all_of(workers_.begin(), workers_.end(), [](const auto& entry) {
                             return entry.second->ready && !entry.second->deleting;
                           });
    if (all_ready) {
      if (!name_taken(launcher_pod_name(meta_.name))) {
        plan_.create_pods.push_back(build_launcher_pod(meta_, spec, attempt_, launcher_scheduling_));
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
  GangScheduler gang_ = GangScheduler::kNone;
  PodScheduling worker_scheduling_;    // what the gang scheduler and Kueue's admission add to the pods
  PodScheduling launcher_scheduling_;
  bool kueue_ = false;     // Kueue manages the job
  bool admitted_ = false;  // ... and its Workload lets it run this reconcile
  const json* observed_pod_group_ = nullptr;  // the job's PodGroup in the cache, of any attempt
  const json* current_pod_group_ = nullptr;   // ... when it is this attempt's
  std::map<int64_t, const PodView*> workers_;
  const PodView* launcher_ = nullptr;
  std::vector<std::string> names_;
};

}  // namespace

bool Integrations::watches(GangScheduler scheduler) const {
  switch (scheduler) {
    case GangScheduler::kVolcano: return volcano;
    case GangScheduler::kCoscheduling: return coscheduling;
    case GangScheduler::kNone: return true;
  }
  return false;
}

bool ChildRef::operator<(const ChildRef& other) const {
  return std::tie(kind->group, kind->plural, name) < std::tie(other.kind->group, other.kind->plural, other.name);
}

ReconcilePlan plan_reconcile(const ObjectMeta& metadata, const json& spec, const JobStatus& previous,
                             const ObservedState& observed) {
  return Planner(metadata, previous, observed).run(spec);
}

milliseconds progress_poll_interval(const TrainingJobSpec& spec) {
  const milliseconds third(spec.run_policy.progress_deadline_seconds * 1000 / 3);
  return std::clamp(third, milliseconds(1000), milliseconds(10000));
}

}  // namespace kubetrain

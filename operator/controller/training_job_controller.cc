#include "operator/controller/training_job_controller.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <vector>

#include "operator/controller/child_objects.h"
#include "operator/controller/kueue_workload.h"
#include "operator/controller/progress_client.h"
#include "operator/controller/reconcile_plan.h"
#include "operator/controller/training_progress.h"

namespace kubetrain {
namespace {

using nlohmann::json;
using std::chrono::duration;
using std::chrono::steady_clock;

WorkQueueOptions queue_options(OperatorMetrics& metrics) {
  WorkQueueOptions options;
  // No global bucket: the API client's QPS limit already protects the server, and a shared queue
  // bucket throttles every reconcile of every job (mpi-operator's hidden 10/s).
  options.qps = 0;
  options.base_delay = std::chrono::milliseconds(10);
  options.max_delay = std::chrono::seconds(60);
  options.on_queue_latency = [&metrics](double seconds) { metrics.queue_latency.observe(seconds); };
  return options;
}

InformerOptions child_informer_options(const std::string& ns) {
  InformerOptions options;
  options.namespace_name = ns;
  options.label_selector = kJobNameLabel;  // only objects of some TrainingJob
  return options;
}

std::string job_key_of_child(const json& child) {
  const json metadata = child.value("metadata", json::object());
  const json labels = metadata.value("labels", json::object());
  const auto name = labels.find(kJobNameLabel);
  if (name == labels.end() || !name->is_string()) return {};
  return metadata.value("namespace", "") + "/" + name->get<std::string>();
}

// The child belongs to this very job (same uid), not to an older job of the same name.
bool owned_by(const json& child, const std::string& uid) {
  const json metadata = child.value("metadata", json::object());
  for (const json& owner : metadata.value("ownerReferences", json::array())) {
    if (owner.value("controller", false) && owner.value("uid", "") == uid) return true;
  }
  return false;
}

double seconds_between(const std::string& from, TimePoint to) {
  const auto start = parse_rfc3339(from);
  return start ? duration<double>(to - *start).count() : 0;
}

}  // namespace

TrainingJobController::TrainingJobController(KubeClient& client, OperatorMetrics& metrics, ControllerOptions options)
    : client_(client),
      metrics_(metrics),
      options_(std::move(options)),
      events_(client, "kubetrain-operator"),
      queue_(queue_options(metrics)) {
  InformerOptions job_options;
  job_options.namespace_name = options_.namespace_name;
  jobs_ = std::make_unique<Informer>(client_, kinds::kTrainingJobs, job_options);
  pods_ = std::make_unique<Informer>(client_, kinds::kPods, child_informer_options(options_.namespace_name));
  std::vector<const ResourceKind*> child_kinds = {&kinds::kServices, &kinds::kConfigMaps};
  if (options_.integrations.volcano) child_kinds.push_back(&kinds::kVolcanoPodGroups);
  if (options_.integrations.coscheduling) child_kinds.push_back(&kinds::kCoschedulingPodGroups);
  if (options_.integrations.kueue) {
    child_kinds.push_back(&kinds::kWorkloads);
    flavors_ = std::make_unique<Informer>(client_, kinds::kResourceFlavors);
    priority_classes_ = std::make_unique<Informer>(client_, kinds::kPriorityClasses);
  }
  for (const ResourceKind* kind : child_kinds) {
    children_.emplace_back(kind,
                           std::make_unique<Informer>(client_, *kind, child_informer_options(options_.namespace_name)));
  }

  jobs_->add_handlers({[this](const ObjectPtr& job) { enqueue(job); },
                       [this](const ObjectPtr&, const ObjectPtr& job) { enqueue(job); },
                       [this](const ObjectPtr& job) { enqueue(job); }});
  pods_->add_handlers({[this](const ObjectPtr& pod) { on_pod_event(pod, false); },
                       [this](const ObjectPtr&, const ObjectPtr& pod) { enqueue_owner(pod); },
                       [this](const ObjectPtr& pod) { on_pod_event(pod, true); }});
  for (const auto& [kind, informer] : children_) {
    informer->add_handlers({[this](const ObjectPtr& child) { enqueue_owner(child); },
                            [this](const ObjectPtr&, const ObjectPtr& child) { enqueue_owner(child); },
                            [this](const ObjectPtr& child) { enqueue_owner(child); }});
  }
  metrics_.queue_depth = [this] { return queue_.depth(); };
  metrics_.queue_retries = [this] { return queue_.retries(); };
  metrics_.jobs_by_state = [this] {
    std::map<std::string, std::size_t> counts;
    for (const ObjectPtr& job : jobs_->list()) {
      ++counts[job->contains("status") ? (*job)["status"].value("state", "") : ""];
    }
    return counts;
  };
}

TrainingJobController::~TrainingJobController() { stop(); }

std::vector<Informer*> TrainingJobController::informers() const {
  std::vector<Informer*> all = {jobs_.get(), pods_.get()};
  for (const auto& [kind, informer] : children_) all.push_back(informer.get());
  for (Informer* cluster : {flavors_.get(), priority_classes_.get()}) {
    if (cluster != nullptr) all.push_back(cluster);
  }
  return all;
}

void TrainingJobController::start_informers() {
  for (Informer* informer : informers()) informer->start();
}

bool TrainingJobController::caches_synced() const {
  for (const Informer* informer : informers()) {
    if (!informer->has_synced()) return false;
  }
  return true;
}

void TrainingJobController::start_workers() {
  // Reconciling before the pod cache is complete would mistake unseen pods for deleted ones.
  for (const Informer* informer : informers()) {
    while (!stopped_ && !informer->wait_for_sync(std::chrono::milliseconds(200))) {
    }
  }
  // start_workers runs on a thread of its own (main.cc), stop() on another: the lock orders the
  // threads' start before their join.
  std::lock_guard lock(workers_mutex_);
  if (stopped_) return;
  spdlog::info("caches synced ({} TrainingJobs, {} pods); starting {} reconcile threads", jobs_->size(),
               pods_->size(), options_.threads);
  for (int i = 0; i < options_.threads; ++i) workers_.emplace_back([this] { worker_loop(); });
}

void TrainingJobController::stop() {
  if (stopped_.exchange(true)) return;
  queue_.shut_down();
  {
    std::lock_guard lock(workers_mutex_);
    workers_.clear();  // joins
  }
  for (Informer* informer : informers()) informer->stop();
}

void TrainingJobController::enqueue(const ObjectPtr& job) { queue_.add(Informer::key_of(*job)); }

void TrainingJobController::enqueue_owner(const ObjectPtr& child) {
  const std::string key = job_key_of_child(*child);
  if (!key.empty()) queue_.add(key);
}

void TrainingJobController::on_pod_event(const ObjectPtr& pod, bool deleted) {
  const std::string key = job_key_of_child(*pod);
  if (key.empty()) return;
  const std::string name = (*pod)["metadata"].value("name", "");
  if (deleted) {
    expectations_.observe_deletion(key, name);
  } else {
    expectations_.observe_creation(key, name);
  }
  queue_.add(key);
}

void TrainingJobController::worker_loop() {
  while (auto key = queue_.get()) {
    const auto start = steady_clock::now();
    bool ok = false;
    try {
      ok = reconcile(*key);
    } catch (const std::exception& error) {
      spdlog::error("reconcile {}: {}", *key, error.what());
    }
    metrics_.reconcile_duration.observe(duration<double>(steady_clock::now() - start).count());
    if (ok) {
      queue_.forget(*key);
    } else {
      ++metrics_.reconcile_errors;
      queue_.add_rate_limited(*key);
    }
    queue_.done(*key);
  }
}

bool TrainingJobController::reconcile(const std::string& key) {
  const ObjectPtr job = jobs_->get_by_key(key);
  if (!job) {
    expectations_.forget(key);
    const auto slash = key.find('/');
    return release_workloads(key.substr(0, slash), key.substr(slash + 1), "");
  }
  const ObjectMeta meta = parse_object_meta(*job);
  if (meta.deleting && !release_workloads(meta.namespace_, meta.name, meta.uid)) return false;
  const JobStatus previous = parse_status(job->value("status", json::object()));

  ObservedState observed;
  observed.now = Clock::now();
  observed.integrations = options_.integrations;
  // Copied only for a job that Kueue queues: every other reconcile would pay for it in vain.
  if (options_.integrations.kueue && !kueue_queue_name(meta).empty()) observed.kueue = kueue_cluster();
  const LabelSelector selector = LabelSelector::from_map({{kJobNameLabel, meta.name}});
  for (const ObjectPtr& pod : pods_->list(meta.namespace_, selector)) {
    if (owned_by(*pod, meta.uid)) observed.pods.push_back(parse_pod_view(*pod));
  }
  for (const auto& [kind, informer] : children_) {
    for (const ObjectPtr& child : informer->list(meta.namespace_, selector)) {
      if (owned_by(*child, meta.uid)) observed.children[{kind, (*child)["metadata"].value("name", "")}] = child;
    }
  }
  if (!previous.finished()) {
    try {
      const TrainingJobSpec spec = parse_spec(job->value("spec", json::object()));
      if (const auto url = progress_url(spec, observed.pods, previous.restarts)) {
        observed.progress = fetch_progress(*url, options_.progress_timeout);
      }
    } catch (const InvalidSpecError&) {
      // plan_reconcile reports it.
    }
  }

  const ReconcilePlan plan = plan_reconcile(meta, job->value("spec", json::object()), previous, observed);
  spdlog::debug("reconcile {} (resourceVersion {}, attempt {}): {} pods seen, {} to create, {} to delete", key,
                meta.resource_version, previous.restarts, observed.pods.size(), plan.create_pods.size(),
                plan.delete_pods.size());
  const bool ok = execute(key, job, plan);
  if (ok && plan.requeue_after) queue_.add_after(key, *plan.requeue_after);
  return ok;
}

bool TrainingJobController::execute(const std::string& key, const ObjectPtr& job, const ReconcilePlan& plan) {
  // Status first: with the resourceVersion precondition a stale cache ends here with a conflict
  // instead of acting (restarting or deleting) on an outdated view.
  if (!write_status(job, plan)) return false;
  if (plan.delete_job) {
    const ObjectMeta meta = parse_object_meta(*job);
    DeleteOptions options;
    options.propagation_policy = "Background";
    options.precondition_uid = meta.uid;
    try {
      client_.remove(kinds::kTrainingJobs, meta.namespace_, meta.name, options);
      spdlog::info("deleted TrainingJob {} (ttlSecondsAfterFinished)", key);
    } catch (const ApiError& error) {
      if (!error.is_not_found() && !error.is_conflict()) throw;
    }
    return true;
  }
  const bool deleted = delete_pods(key, job, plan) & delete_children(job, plan);  // both, whatever the first did
  const bool updated = update_children(job, plan);
  const bool created = create_children(key, job, plan);
  return deleted && updated && created;
}

bool TrainingJobController::update_children(const ObjectPtr& job, const ReconcilePlan& plan) {
  const std::string ns = parse_object_meta(*job).namespace_;
  bool ok = true;
  for (const ChildUpdate& update : plan.update_children) ok = update_child(ns, update) && ok;
  return ok;
}

bool TrainingJobController::update_child(const std::string& ns, const ChildUpdate& update) {
  try {
    if (update.status) {
      client_.update_status(*update.ref.kind, ns, update.object);
    } else {
      client_.update(*update.ref.kind, ns, update.object);
    }
    spdlog::debug("{} {}/{}: {}", update.ref.kind->kind, ns, update.ref.name, update.what);
  } catch (const ApiError& error) {
    if (error.is_not_found()) return true;
    // A conflict means the cache is behind: the watch brings the newer object and a retry.
    if (!error.is_conflict()) {
      spdlog::warn("{} {}/{}: {}: {}", update.ref.kind->kind, ns, update.ref.name, update.what, error.what());
    }
    return false;
  }
  return true;
}

KueueCluster TrainingJobController::kueue_cluster() const {
  KueueCluster cluster;
  for (const ObjectPtr& flavor : flavors_->list()) cluster.flavors[(*flavor)["metadata"].value("name", "")] = *flavor;
  for (const ObjectPtr& priority_class : priority_classes_->list()) {
    const json& object = *priority_class;
    if (object.contains("value") && object["value"].is_number_integer()) {
      cluster.priority_classes[object["metadata"].value("name", "")] = object["value"].get<int64_t>();
    }
  }
  return cluster;
}

bool TrainingJobController::release_workloads(const std::string& ns, const std::string& job, const std::string& uid) {
  if (!options_.integrations.kueue) return true;
  const auto workloads = std::find_if(children_.begin(), children_.end(),
                                      [](const auto& child) { return child.first == &kinds::kWorkloads; });
  bool ok = true;
  for (const ObjectPtr& workload : workloads->second->list(ns, LabelSelector::from_map({{kJobNameLabel, job}}))) {
    if (!uid.empty() && !owned_by(*workload, uid)) continue;
    if (const auto update = release_workload(*workload)) ok = update_child(ns, *update) && ok;
  }
  return ok;
}

bool TrainingJobController::write_status(const ObjectPtr& job, const ReconcilePlan& plan) {
  const ObjectMeta meta = parse_object_meta(*job);
  const JobStatus previous = parse_status(job->value("status", json::object()));
  if (plan.status == previous) return true;
  try {
    client_.patch_status(kinds::kTrainingJobs, meta.namespace_, meta.name,
                         {{"metadata", {{"resourceVersion", meta.resource_version}}},
                          {"status", status_to_json(plan.status)}});
  } catch (const ApiError& error) {
    if (error.is_conflict()) {
      spdlog::debug("status of {}/{}: conflict, requeued", meta.namespace_, meta.name);
      return false;
    }
    if (error.is_not_found()) return true;  // deleted meanwhile
    spdlog::warn("status of {}/{}: {}", meta.namespace_, meta.name, error.what());
    return false;
  }
  record_job_metrics(job, plan);
  for (const PlannedEvent& event : plan.events) {
    events_.record(*job, event.type == "Warning" ? EventType::kWarning : EventType::kNormal, event.reason,
                   event.message);
    spdlog::info("{}/{}: {} {}", meta.namespace_, meta.name, event.reason, event.message);
  }
  return true;
}

void TrainingJobController::record_job_metrics(const ObjectPtr& job, const ReconcilePlan& plan) {
  const JobStatus previous = parse_status(job->value("status", json::object()));
  const TimePoint now = Clock::now();
  if (plan.status.restarts > previous.restarts) metrics_.gang_restarts += plan.status.restarts - previous.restarts;
  if (!previous.finished() && plan.status.finished()) {
    const std::string outcome = plan.status.is_true("Succeeded") ? "Succeeded" : "Failed";
    metrics_.job_duration.observe(seconds_between(plan.status.start_time, now), "outcome=\"" + outcome + "\"");
  }
  if (!previous.is_true("Running") && plan.status.is_true("Running") && plan.status.restarts == 0) {
    metrics_.time_to_running.observe(seconds_between(parse_object_meta(*job).creation_timestamp, now));
  }
}

bool TrainingJobController::delete_pods(const std::string& key, const ObjectPtr& job, const ReconcilePlan& plan) {
  const ObjectMeta meta = parse_object_meta(*job);
  bool ok = true;
  for (const std::string& name : plan.delete_pods) {
    if (expectations_.deletion_pending(key, name)) continue;
    expectations_.expect_deletion(key, name);
    try {
      client_.remove(kinds::kPods, meta.namespace_, name);
    } catch (const ApiError& error) {
      expectations_.observe_deletion(key, name);  // gone already, or still there: nothing to wait for
      if (error.is_not_found()) continue;
      spdlog::warn("delete pod {}/{}: {}", meta.namespace_, name, error.what());
      ok = false;
    }
  }
  return ok;
}

bool TrainingJobController::delete_children(const ObjectPtr& job, const ReconcilePlan& plan) {
  const ObjectMeta meta = parse_object_meta(*job);
  bool ok = true;
  for (const ChildRef& child : plan.delete_children) {
    try {
      client_.remove(*child.kind, meta.namespace_, child.name);
      spdlog::debug("deleted {} {}/{}", child.kind->kind, meta.namespace_, child.name);
    } catch (const ApiError& error) {
      if (error.is_not_found()) continue;
      spdlog::warn("delete {} {}/{}: {}", child.kind->kind, meta.namespace_, child.name, error.what());
      ok = false;
    }
  }
  return ok;
}

bool TrainingJobController::create_children(const std::string& key, const ObjectPtr& job, const ReconcilePlan& plan) {
  if (!plan.spec) return true;
  const ObjectMeta meta = parse_object_meta(*job);
  std::atomic<bool> ok = true;
  // True when this call created the object. Runs on several threads at once for pods.
  auto create = [&](const ResourceKind& kind, const json& object) {
    try {
      client_.create(kind, meta.namespace_, object);
      spdlog::debug("created {} {}/{}", kind.kind, meta.namespace_, object["metadata"].value("name", ""));
    } catch (const ApiError& error) {
      if (error.is_already_exists()) {  // made by an earlier reconcile or replica
        spdlog::debug("{} {}/{} already exists", kind.kind, meta.namespace_, object["metadata"].value("name", ""));
        // Its ADDED event may already have been handled: expecting it again would wait forever.
        return false;
      }
      spdlog::warn("create {} {}/{}: {}", kind.kind, meta.namespace_,
                   object["metadata"].value("name", ""), error.what());
      ok = false;
      return false;
    }
    return true;
  };
  for (const ChildToCreate& child : plan.create_children) create(*child.ref.kind, child.build());
  std::vector<const json*> pods;
  for (const json& pod : plan.create_pods) {
    const std::string name = pod["metadata"]["name"];
    if (expectations_.creation_pending(key, name)) {
      spdlog::debug("pod {} of {}: creation not yet in the cache", name, key);
      continue;
    }
    expectations_.expect_creation(key, name);
    pods.push_back(&pod);
  }
  // Slow start, as the Job controller does: pods are created in batches of 1, 2, 4, ... in
  // parallel within a batch, so a 64-worker job takes 7 round trips instead of 64, and a create
  // that keeps failing (quota, admission) stops after a small batch instead of 64 errors.
  size_t next = 0;
  for (size_t batch = 1; next < pods.size() && ok; batch *= 2) {
    const size_t end = std::min(pods.size(), next + batch);
    std::vector<std::future<void>> creates;
    for (; next < end; ++next) {
      creates.push_back(std::async(std::launch::async, [&, pod = pods[next]] {
        if (!create(kinds::kPods, *pod)) {
          expectations_.observe_creation(key, (*pod)["metadata"]["name"].get<std::string>());
        }
      }));
    }
    for (auto& created : creates) created.get();
  }
  // Pods not attempted after a failed batch are no longer expected; the next reconcile retries.
  for (; next < pods.size(); ++next) {
    expectations_.observe_creation(key, (*pods[next])["metadata"]["name"].get<std::string>());
  }
  return ok;
}

}  // namespace kubetrain

#include "operator/controller/training_job_controller.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <vector>

#include "operator/controller/child_objects.h"
#include "operator/controller/progress_client.h"
#include "operator/controller/reconcile_plan.h"
#include "operator/controller/ssh_key_pair.h"
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
  services_ = std::make_unique<Informer>(client_, kinds::kServices, child_informer_options(options_.namespace_name));
  config_maps_ =
      std::make_unique<Informer>(client_, kinds::kConfigMaps, child_informer_options(options_.namespace_name));
  secrets_ = std::make_unique<Informer>(client_, kinds::kSecrets, child_informer_options(options_.namespace_name));

  jobs_->add_handlers({[this](const ObjectPtr& job) { enqueue(job); },
                       [this](const ObjectPtr&, const ObjectPtr& job) { enqueue(job); },
                       [this](const ObjectPtr& job) { enqueue(job); }});
  pods_->add_handlers({[this](const ObjectPtr& pod) { on_pod_event(pod, false); },
                       [this](const ObjectPtr&, const ObjectPtr& pod) { enqueue_owner(pod); },
                       [this](const ObjectPtr& pod) { on_pod_event(pod, true); }});
  for (Informer* informer : {services_.get(), config_maps_.get(), secrets_.get()}) {
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

void TrainingJobController::start_informers() {
  for (Informer* informer : {jobs_.get(), pods_.get(), services_.get(), config_maps_.get(), secrets_.get()}) {
    informer->start();
  }
}

bool TrainingJobController::caches_synced() const {
  for (const Informer* informer : {jobs_.get(), pods_.get(), services_.get(), config_maps_.get(), secrets_.get()}) {
    if (!informer->has_synced()) return false;
  }
  return true;
}

void TrainingJobController::start_workers() {
  // Reconciling before the pod cache is complete would mistake unseen pods for deleted ones.
  for (const Informer* informer : {jobs_.get(), pods_.get(), services_.get(), config_maps_.get(), secrets_.get()}) {
    while (!stopped_ && !informer->wait_for_sync(std::chrono::milliseconds(200))) {
    }
  }
  spdlog::info("caches synced ({} TrainingJobs, {} pods); starting {} reconcile threads", jobs_->size(),
               pods_->size(), options_.threads);
  for (int i = 0; i < options_.threads; ++i) workers_.emplace_back([this] { worker_loop(); });
}

void TrainingJobController::stop() {
  if (stopped_.exchange(true)) return;
  queue_.shut_down();
  workers_.clear();  // joins
  for (Informer* informer : {jobs_.get(), pods_.get(), services_.get(), config_maps_.get(), secrets_.get()}) {
    informer->stop();
  }
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
    return true;
  }
  const ObjectMeta meta = parse_object_meta(*job);
  const JobStatus previous = parse_status(job->value("status", json::object()));

  ObservedState observed;
  observed.now = Clock::now();
  const LabelSelector selector = LabelSelector::from_map({{kJobNameLabel, meta.name}});
  for (const ObjectPtr& pod : pods_->list(meta.namespace_, selector)) {
    if (owned_by(*pod, meta.uid)) observed.pods.push_back(parse_pod_view(*pod));
  }
  auto owned_child = [&](Informer& informer, const std::string& name) {
    const ObjectPtr child = informer.get(meta.namespace_, name);
    return child && owned_by(*child, meta.uid);
  };
  observed.has_service = owned_child(*services_, service_name(meta.name));
  observed.has_config_map = owned_child(*config_maps_, config_map_name(meta.name));
  observed.has_secret = owned_child(*secrets_, secret_name(meta.name));
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
  const bool deleted = delete_pods(key, job, plan);
  const bool created = create_children(key, job, plan);
  return deleted && created;
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
  if (plan.create_service) create(kinds::kServices, build_service(meta));
  if (plan.create_config_map) create(kinds::kConfigMaps, build_config_map(meta, *plan.spec));
  if (plan.create_secret) {
    create(kinds::kSecrets, build_ssh_secret(meta, generate_ssh_key_pair("kubetrain@" + meta.name)));
  }
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

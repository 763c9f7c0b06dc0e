#include "operator/kube/leader_elector.h"

#include "operator/kube/api_time.h"

#include <random>

#include <spdlog/spdlog.h>

namespace kubetrain {
namespace {

using json = nlohmann::json;

std::string micro_time_now() {
  return format_api_micro_time(std::chrono::system_clock::now());
}

}  // namespace

LeaderElector::LeaderElector(KubeClient& client, LeaderElectionConfig config)
    : client_(client), config_(std::move(config)) {
  if (config_.lease_name.empty() || config_.identity.empty()) {
    throw std::invalid_argument("leader election needs a lease name and an identity");
  }
  if (config_.renew_deadline >= config_.lease_duration) {
    throw std::invalid_argument("leader election: renew deadline must be shorter than the lease "
                                "duration");
  }
}

LeaderElector::~LeaderElector() { stop(); }

void LeaderElector::start() {
  if (thread_.joinable()) return;
  thread_ = std::jthread([this](std::stop_token stop) { run(stop); });
}

void LeaderElector::stop() {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  wake_cv_.notify_all();
  thread_.join();
}

std::string LeaderElector::leader() const {
  std::lock_guard lock(mutex_);
  return observed_holder_;
}

void LeaderElector::set_observed_holder(const std::string& holder) {
  bool changed;
  {
    std::lock_guard lock(mutex_);
    changed = holder != observed_holder_;
    observed_holder_ = holder;
  }
  if (changed && config_.on_new_leader) config_.on_new_leader(holder);
}

bool LeaderElector::try_acquire_or_renew() {
  auto now_text = micro_time_now();
  auto now = std::chrono::steady_clock::now();
  int duration_seconds = static_cast<int>(
      std::chrono::ceil<std::chrono::seconds>(config_.lease_duration).count());
  json lease;
  try {
    lease = client_.get(kinds::kLeases, config_.lease_namespace, config_.lease_name);
  } catch (const ApiError& error) {
    if (!error.is_not_found()) throw;
    json fresh = {{"metadata", {{"name", config_.lease_name},
                                {"namespace", config_.lease_namespace}}},
                  {"spec", {{"holderIdentity", config_.identity},
                            {"leaseDurationSeconds", duration_seconds},
                            {"acquireTime", now_text},
                            {"renewTime", now_text},
                            {"leaseTransitions", 0}}}};
    try {
      client_.create(kinds::kLeases, config_.lease_namespace, fresh);
    } catch (const ApiError& create_error) {
      if (create_error.is_already_exists() || create_error.is_conflict()) return false;
      throw;
    }
    std::lock_guard lock(mutex_);
    observed_time_ = now;
    observed_renew_time_ = now_text;
    return true;
  }

  json spec = lease.value("spec", json::object());
  std::string holder = spec.value("holderIdentity", "");
  std::string renew_time = spec.value("renewTime", "");
  auto record_duration = std::chrono::seconds(spec.value("leaseDurationSeconds", duration_seconds));
  bool expired;
  {
    // Expiry is judged on this process's clock from when the record last changed (as client-go
    // does), so clock skew between candidates does not matter.
    std::lock_guard lock(mutex_);
    if (renew_time != observed_renew_time_ || holder != observed_holder_) {
      observed_renew_time_ = renew_time;
      observed_time_ = now;
    }
    expired = observed_time_ + record_duration <= now;
  }
  set_observed_holder(holder);
  bool held_by_me = holder == config_.identity;
  if (!holder.empty() && !held_by_me && !expired) return false;

  json updated = lease;
  updated["spec"]["holderIdentity"] = config_.identity;
  updated["spec"]["leaseDurationSeconds"] = duration_seconds;
  updated["spec"]["renewTime"] = now_text;
  if (!held_by_me) {
    updated["spec"]["acquireTime"] = now_text;
    updated["spec"]["leaseTransitions"] = spec.value("leaseTransitions", 0) + 1;
  }
  try {
    client_.update(kinds::kLeases, config_.lease_namespace, updated);
  } catch (const ApiError& error) {
    if (error.is_conflict()) return false;  // someone else wrote first
    throw;
  }
  std::lock_guard lock(mutex_);
  observed_renew_time_ = now_text;
  observed_time_ = now;
  return true;
}

void LeaderElector::release() {
  try {
    auto lease = client_.get(kinds::kLeases, config_.lease_namespace, config_.lease_name);
    if (lease["spec"].value("holderIdentity", "") != config_.identity) return;
    auto now_text = micro_time_now();
    lease["spec"]["holderIdentity"] = "";
    lease["spec"]["leaseDurationSeconds"] = 1;
    lease["spec"]["renewTime"] = now_text;
    lease["spec"]["acquireTime"] = now_text;
    client_.update(kinds::kLeases, config_.lease_namespace, lease);
  } catch (const std::exception& error) {
    spdlog::warn("leader election: releasing lease {}/{} failed: {}", config_.lease_namespace,
                 config_.lease_name, error.what());
  }
}

void LeaderElector::run(std::stop_token stop) {
  std::mt19937 random(std::random_device{}());
  std::uniform_real_distribution<double> jitter(1.0, 1.2);
  auto last_renew = std::chrono::steady_clock::now();
  std::mutex sleep_mutex;
  while (!stop.stop_requested()) {
    bool held = false;
    try {
      held = try_acquire_or_renew();
    } catch (const std::exception& error) {
      spdlog::warn("leader election on lease {}/{}: {}", config_.lease_namespace,
                   config_.lease_name, error.what());
    }
    auto now = std::chrono::steady_clock::now();
    if (held) {
      last_renew = now;
      if (!leading_.exchange(true)) {
        set_observed_holder(config_.identity);
        spdlog::info("leader election: {} acquired lease {}/{}", config_.identity,
                     config_.lease_namespace, config_.lease_name);
        if (config_.on_started_leading) config_.on_started_leading();
      }
    } else if (leading_.load()) {
      // Someone else holds it now, or renewals failed past the deadline.
      bool taken = leader() != config_.identity;
      if (taken || now - last_renew >= config_.renew_deadline) {
        leading_ = false;
        spdlog::warn("leader election: {} lost lease {}/{}", config_.identity,
                     config_.lease_namespace, config_.lease_name);
        if (config_.on_stopped_leading) config_.on_stopped_leading();
      }
    }
    auto period = std::chrono::duration_cast<std::chrono::milliseconds>(
        config_.retry_period * (leading_.load() ? 1.0 : jitter(random)));
    std::unique_lock lock(sleep_mutex);
    wake_cv_.wait_for(lock, stop, period, [] { return false; });
  }
  if (leading_.exchange(false)) {
    if (config_.release_on_stop) release();
    if (config_.on_stopped_leading) config_.on_stopped_leading();
  }
}

}  // namespace kubetrain

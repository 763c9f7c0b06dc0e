#include "tests/operator/test_cluster.h"

#include <httplib.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "operator/controller/child_objects.h"
#include "operator/controller/rfc3339.h"
#include "operator/kube/resource_kind.h"

namespace kubetrain::e2e {
namespace {

// Retries a call through injected 409/429/5xx answers and dropped connections.
template <typename Call>
auto retry(Call call) {
  for (int attempt = 0;; ++attempt) {
    try {
      return call();
    } catch (const ApiError& error) {
      const bool injected = error.is_transient() || error.is_conflict();
      if (!injected || attempt >= 50) throw;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
}

}  // namespace

TestCluster::TestCluster(std::vector<std::string> fake_server_args) {
  fake_server_args.insert(fake_server_args.begin(), {"--port", "0"});
  server_ = std::make_unique<fakeapi::FakeApiServerProcess>(KUBETRAIN_FAKE_APISERVER_BINARY, fake_server_args);
  static int counter = 0;
  kubeconfig_path_ = "/tmp/kubetrain-e2e-" + std::to_string(getpid()) + "-" + std::to_string(++counter) + ".yaml";
  std::ofstream(kubeconfig_path_) << "apiVersion: v1\nkind: Config\n"
                                  << "clusters: [{name: fake, cluster: {server: \"" << server_->url() << "\"}}]\n"
                                  << "users: [{name: test, user: {}}]\n"
                                  << "contexts: [{name: test, context: {cluster: fake, user: test, namespace: default}}]\n"
                                  << "current-context: test\n";
  KubeConfig config;
  config.server = server_->url();
  ClientOptions options;
  options.qps = 0;
  client_ = std::make_unique<KubeClient>(config, options);
}

TestCluster::~TestCluster() { std::remove(kubeconfig_path_.c_str()); }

void TestCluster::create_job(const std::string& ns, const std::string& name, const json& spec) {
  const json job = {{"apiVersion", "kubetrain.dev/v1alpha1"},
                    {"kind", "TrainingJob"},
                    {"metadata", {{"name", name}, {"namespace", ns}}},
                    {"spec", spec}};
  retry([&] {
    try {
      return client_->create(kinds::kTrainingJobs, ns, job);
    } catch (const ApiError& error) {
      if (error.is_already_exists()) return job;
      throw;
    }
  });
}

std::optional<json> TestCluster::get(const ResourceKind& kind, const std::string& ns, const std::string& name) {
  return retry([&]() -> std::optional<json> {
    try {
      return client_->get(kind, ns, name);
    } catch (const ApiError& error) {
      if (error.is_not_found()) return std::nullopt;
      throw;
    }
  });
}

std::optional<json> TestCluster::job(const std::string& ns, const std::string& name) {
  return get(kinds::kTrainingJobs, ns, name);
}

std::optional<json> TestCluster::pod(const std::string& ns, const std::string& name) {
  return get(kinds::kPods, ns, name);
}

void TestCluster::patch_job_spec(const std::string& ns, const std::string& name, const json& spec_patch) {
  retry([&] { return client_->merge_patch(kinds::kTrainingJobs, ns, name, {{"spec", spec_patch}}); });
}

std::vector<json> TestCluster::pods(const std::string& ns, const std::string& job) {
  ListOptions options;
  options.label_selector = std::string(kJobNameLabel) + "=" + job;
  return retry([&] { return client_->list(kinds::kPods, ns, options).items; });
}

std::vector<json> TestCluster::events(const std::string& ns) {
  return retry([&] { return client_->list(kinds::kEvents, ns).items; });
}

void TestCluster::patch_pod_status(const std::string& ns, const std::string& pod, const json& status) {
  retry([&] {
    try {
      return client_->patch_status(kinds::kPods, ns, pod, {{"status", status}});
    } catch (const ApiError& error) {
      if (error.is_not_found()) return json();  // deleted meanwhile: nothing to report
      throw;
    }
  });
}

void TestCluster::make_ready(const std::string& ns, const std::string& pod) {
  patch_pod_status(ns, pod,
                   {{"phase", "Running"},
                    {"podIP", "127.0.0.1"},
                    {"conditions", json::array({{{"type", "Ready"}, {"status", "True"}}})},
                    {"containerStatuses",
                     json::array({{{"name", "worker"}, {"ready", true}, {"restartCount", 0},
                                   {"state", {{"running", {{"startedAt", format_rfc3339(Clock::now())}}}}}}})}});
}

void TestCluster::make_running(const std::string& ns, const std::string& pod) { make_ready(ns, pod); }

void TestCluster::terminate(const std::string& ns, const std::string& pod, int exit_code, const std::string& reason) {
  patch_pod_status(ns, pod,
                   {{"phase", exit_code == 0 ? "Succeeded" : "Failed"},
                    {"conditions", json::array({{{"type", "Ready"}, {"status", "False"}}})},
                    {"containerStatuses",
                     json::array({{{"name", "main"},
                                   {"ready", false},
                                   {"restartCount", 0},
                                   {"state",
                                    {{"terminated",
                                      {{"exitCode", exit_code},
                                       {"reason", reason},
                                       {"finishedAt", format_rfc3339(Clock::now())}}}}}}})}});
}

void TestCluster::make_waiting(const std::string& ns, const std::string& pod, const std::string& reason) {
  patch_pod_status(
      ns, pod,
      {{"phase", "Pending"},
       {"containerStatuses",
        json::array({{{"name", "worker"},
                      {"ready", false},
                      {"restartCount", 0},
                      {"state", {{"waiting", {{"reason", reason}, {"message", "Back-off pulling image"}}}}}}})}});
}

bool TestCluster::start_job(const std::string& ns, const std::string& job, int workers, int attempt) {
  const std::string attempt_text = std::to_string(attempt);
  auto current = [&](const json& pod, const std::string& role) {
    const json labels = pod["metadata"].value("labels", json::object());
    return labels.value(kRoleLabel, "") == role && labels.value(kAttemptLabel, "") == attempt_text &&
           !pod["metadata"].contains("deletionTimestamp");
  };
  std::vector<std::string> names;
  if (!wait_until(
          [&] {
            names.clear();
            for (const json& pod : pods(ns, job)) {
              if (current(pod, "worker")) names.push_back(pod["metadata"]["name"]);
            }
            return static_cast<int>(names.size()) == workers;
          },
          std::chrono::seconds(20))) {
    return false;
  }
  for (const std::string& name : names) make_ready(ns, name);
  const std::string launcher = job + "-launcher";
  if (!wait_until(
          [&] {
            const auto pod = this->pod(ns, launcher);
            return pod && current(*pod, "launcher");
          },
          std::chrono::seconds(20))) {
    return false;
  }
  make_running(ns, launcher);
  return true;
}

json TestCluster::requests() {
  httplib::Client http(server_->url());
  const auto response = http.Get("/fake/requests");
  return response ? json::parse(response->body, nullptr, false) : json::array();
}

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return condition();
}

bool condition_true(const json& job, const std::string& type) {
  for (const json& condition : job.value("status", json::object()).value("conditions", json::array())) {
    if (condition.value("type", "") == type) return condition.value("status", "") == "True";
  }
  return false;
}

std::string condition_reason(const json& job, const std::string& type) {
  for (const json& condition : job.value("status", json::object()).value("conditions", json::array())) {
    if (condition.value("type", "") == type) return condition.value("reason", "");
  }
  return {};
}

}  // namespace kubetrain::e2e

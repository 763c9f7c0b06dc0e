#pragma once

// A fake API server plus the kubelet's part, played by the test: helpers that patch pod status as
// a node would report it.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "operator/kube/kube_client.h"
#include "tests/fakeapi/fake_api_server.h"

namespace kubetrain::e2e {

using nlohmann::json;

class TestCluster {
 public:
  explicit TestCluster(std::vector<std::string> fake_server_args = {});
  ~TestCluster();

  const std::string& kubeconfig() const { return kubeconfig_path_; }
  std::string url() const { return server_->url(); }
  KubeClient& client() { return *client_; }

  // Every call below retries injected or transient failures until it succeeds.
  void create_job(const std::string& ns, const std::string& name, const json& spec);
  std::optional<json> job(const std::string& ns, const std::string& name);
  void patch_job_spec(const std::string& ns, const std::string& name, const json& spec_patch);
  std::vector<json> pods(const std::string& ns, const std::string& job);
  std::optional<json> pod(const std::string& ns, const std::string& name);
  std::optional<json> get(const ResourceKind& kind, const std::string& ns, const std::string& name);
  std::vector<json> events(const std::string& ns);

  // The kubelet: Running and Ready with podIP 127.0.0.1; a terminated container; a waiting one.
  void make_ready(const std::string& ns, const std::string& pod);
  void make_running(const std::string& ns, const std::string& pod);
  void terminate(const std::string& ns, const std::string& pod, int exit_code, const std::string& reason);
  void make_waiting(const std::string& ns, const std::string& pod, const std::string& reason);

  // Waits until every worker of the job's current attempt exists, makes them Ready, waits for the
  // launcher and makes it Running. Returns false on timeout.
  bool start_job(const std::string& ns, const std::string& job, int workers, int attempt = 0);

  // GET /fake/requests: the server's request log.
  json requests();

 private:
  void patch_pod_status(const std::string& ns, const std::string& pod, const json& status);

  std::unique_ptr<fakeapi::FakeApiServerProcess> server_;
  std::unique_ptr<KubeClient> client_;
  std::string kubeconfig_path_;
};

// Polls `condition` every 50 ms until it holds or `timeout` passes.
bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

// Reads status.conditions[type].status == "True" from a TrainingJob object.
bool condition_true(const json& job, const std::string& type);
std::string condition_reason(const json& job, const std::string& type);

}  // namespace kubetrain::e2e

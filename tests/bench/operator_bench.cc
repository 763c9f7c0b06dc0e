// Measures kubetrain-operator against kubetrain-fake-apiserver (no server-side throttling):
// time from creating a 64-worker job until all its pods exist; 1,000 jobs x 8 workers: time until
// all pods exist, API requests per job, the operator's peak RSS, reconcile p50/p99.
// Prints one JSON object. Usage: operator_bench [--jobs N] [--workers N] [--big-workers N]

#include <httplib.h>
#include <unistd.h>

#include <cstdio>
#include <algorithm>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "operator/controller/child_objects.h"
#include "operator/kube/kube_client.h"
#include "tests/fakeapi/fake_api_server.h"
#include "tests/operator/operator_process.h"

namespace kubetrain::bench {
namespace {

using nlohmann::json;
using BenchClock = std::chrono::steady_clock;

json job(const std::string& ns, const std::string& name, int workers) {
  return {{"apiVersion", "kubetrain.dev/v1alpha1"},
          {"kind", "TrainingJob"},
          {"metadata", {{"name", name}, {"namespace", ns}}},
          {"spec",
           {{"workers", workers},
            {"slotsPerWorker", 1},
            {"image", "kubetrain-worker:bench"},
            {"training", {{"globalBatchSize", 64 * workers}}}}}};
}

std::size_t pod_count(KubeClient& client, const std::string& ns) {
  ListOptions options;
  options.label_selector = std::string(kRoleLabel) + "=worker";
  return client.list(kinds::kPods, ns, options).items.size();
}

double wait_for_pods(KubeClient& client, const std::string& ns, std::size_t expected, BenchClock::time_point start) {
  while (pod_count(client, ns) < expected) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  return std::chrono::duration<double>(BenchClock::now() - start).count();
}

// Peak resident set (VmHWM) of a process in MB.
double peak_rss_mb(int pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  return 0;
}

// The q-quantile of a Prometheus histogram in `metrics`, interpolated within its bucket.
double histogram_quantile(const std::string& metrics, const std::string& name, double q) {
  std::vector<std::pair<double, double>> buckets;  // (le, cumulative count)
  std::istringstream lines(metrics);
  const std::string prefix = name + "_bucket{le=\"";
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(prefix, 0) != 0) continue;
    const std::string le = line.substr(prefix.size(), line.find('"', prefix.size()) - prefix.size());
    const double bound = le == "+Inf" ? 1e300 : std::stod(le);
    buckets.emplace_back(bound, std::stod(line.substr(line.rfind(' ') + 1)));
  }
  if (buckets.empty() || buckets.back().second == 0) return 0;
  const double rank = q * buckets.back().second;
  double lower = 0, below = 0;
  for (const auto& [bound, count] : buckets) {
    if (count >= rank) {
      if (bound > 1e299) return lower;
      return lower + (bound - lower) * (rank - below) / std::max(count - below, 1.0);
    }
    lower = bound;
    below = count;
  }
  return lower;
}

double api_requests(const std::string& metrics, bool writes_only) {
  double total = 0;
  std::istringstream lines(metrics);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("kubetrain_api_requests_total{", 0) != 0) continue;
    if (writes_only && (line.find("verb=\"list\"") != std::string::npos ||
                        line.find("verb=\"watch\"") != std::string::npos ||
                        line.find("verb=\"get\"") != std::string::npos)) {
      continue;
    }
    total += std::stod(line.substr(line.rfind(' ') + 1));
  }
  return total;
}

}  // namespace
}  // namespace kubetrain::bench

int main(int argc, char** argv) {
  using namespace kubetrain;
  using namespace kubetrain::bench;
  int jobs = 1000, workers = 8, big_workers = 64;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--jobs") jobs = std::stoi(argv[i + 1]);
    if (flag == "--workers") workers = std::stoi(argv[i + 1]);
    if (flag == "--big-workers") big_workers = std::stoi(argv[i + 1]);
  }
  fakeapi::FakeApiServerProcess server(KUBETRAIN_FAKE_APISERVER_BINARY, {"--port", "0", "--no-request-log"});
  const std::string kubeconfig = "/tmp/kubetrain-bench-" + std::to_string(getpid()) + ".yaml";
  std::ofstream(kubeconfig) << "apiVersion: v1\nkind: Config\nclusters: [{name: f, cluster: {server: \""
                            << server.url() << "\"}}]\nusers: [{name: u, user: {}}]\n"
                            << "contexts: [{name: c, context: {cluster: f, user: u}}]\ncurrent-context: c\n";
  e2e::OperatorProcess operator_process(kubeconfig, {"--qps", "0"});
  KubeConfig config;
  config.server = server.url();
  ClientOptions options;
  options.qps = 0;
  KubeClient client(config, options);

  json report;
  auto start = BenchClock::now();
  client.create(kinds::kTrainingJobs, "big", job("big", "wide", big_workers));
  report["bigJobWorkers"] = big_workers;
  report["bigJobAllPodsSeconds"] = wait_for_pods(client, "big", big_workers, start);

  start = BenchClock::now();
  for (int i = 0; i < jobs; ++i) client.create(kinds::kTrainingJobs, "many", job("many", "job-" + std::to_string(i), workers));
  report["jobs"] = jobs;
  report["workersPerJob"] = workers;
  report["createJobsSeconds"] = std::chrono::duration<double>(BenchClock::now() - start).count();
  report["allPodsSeconds"] = wait_for_pods(client, "many", static_cast<std::size_t>(jobs) * workers, start);
  std::this_thread::sleep_for(std::chrono::seconds(2));  // let status writes settle

  const std::string metrics = operator_process.http_get("/metrics");
  const double total_jobs = jobs + 1;
  report["apiRequestsPerJob"] = api_requests(metrics, false) / total_jobs;
  report["apiWritesPerJob"] = api_requests(metrics, true) / total_jobs;
  report["reconcileP50Ms"] = 1000 * histogram_quantile(metrics, "kubetrain_reconcile_duration_seconds", 0.5);
  report["reconcileP99Ms"] = 1000 * histogram_quantile(metrics, "kubetrain_reconcile_duration_seconds", 0.99);
  report["operatorPeakRssMb"] = peak_rss_mb(operator_process.pid());
  std::cout << report.dump(2) << std::endl;
  std::remove(kubeconfig.c_str());
  return 0;
}

// kubetrain-operator: reconciles TrainingJobs (kubetrain.dev/v1alpha1) into MPI worker pods and a
// launcher, and reports what happens in their status. See README.md, "The operator".

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "common/logging.h"
#include "operator/controller/health_server.h"
#include "operator/controller/operator_metrics.h"
#include "operator/controller/training_job_controller.h"
#include "operator/kube/kube_config.h"
#include "operator/kube/kube_client.h"
#include "operator/kube/leader_elector.h"

namespace kubetrain {
namespace {

struct OperatorFlags {
  std::string kubeconfig;
  std::string namespace_name;
  int threads = 4;
  double qps = 50;
  int burst = 100;
  bool leader_elect = false;
  std::string leader_election_namespace;
  std::string leader_election_id = "kubetrain-operator";
  double lease_duration_seconds = 15;
  double renew_deadline_seconds = 10;
  double retry_period_seconds = 2;
  std::string metrics_addr = ":8080";
  std::string log_format = "text";
  std::string log_level = "info";
  std::vector<std::string> gang_schedulers;  // volcano, coscheduling
  bool kueue = false;  // queue jobs through Kueue
};

std::chrono::milliseconds millis(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
}

std::string identity() {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  std::random_device random;
  return std::string(host) + "_" + std::to_string(random() % 1000000);
}

// Blocks SIGINT/SIGTERM in every thread (set before any starts) so that run() can wait for them.
sigset_t termination_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

int run(const OperatorFlags& flags) {
  const sigset_t signals = termination_signals();
  const KubeConfig config = load_config(flags.kubeconfig);
  spdlog::info("kubetrain-operator: API server {}, namespace {}, {} threads, qps {} burst {}", config.server,
               flags.namespace_name.empty() ? "(all)" : flags.namespace_name, flags.threads, flags.qps, flags.burst);

  OperatorMetrics metrics;
  ClientOptions client_options;
  client_options.qps = flags.qps;
  client_options.burst = flags.burst;
  client_options.observer = metrics.api_calls.observer();
  KubeClient client(config, client_options);

  ControllerOptions controller_options;
  controller_options.namespace_name = flags.namespace_name;
  controller_options.threads = flags.threads;
  for (const std::string& scheduler : flags.gang_schedulers) {
    (scheduler == "volcano" ? controller_options.integrations.volcano : controller_options.integrations.coscheduling) =
        true;
  }
  controller_options.integrations.kueue = flags.kueue;
  TrainingJobController controller(client, metrics, controller_options);

  std::atomic<bool> leading{!flags.leader_elect};
  std::atomic<bool> lost_lease{false};
  metrics.is_leader = [&leading] { return leading.load(); };
  HealthServer health(
      flags.metrics_addr, [&metrics] { return metrics.render(); },
      // A standby is ready: it only waits for the lease.
      [&] { return flags.leader_elect || controller.caches_synced(); });
  const int port = health.start();
  spdlog::info("serving /metrics, /healthz and /readyz on port {}", port);

  controller.start_informers();
  std::jthread starter;
  std::unique_ptr<LeaderElector> elector;
  if (flags.leader_elect) {
    LeaderElectionConfig election;
    election.lease_namespace =
        flags.leader_election_namespace.empty() ? config.namespace_name : flags.leader_election_namespace;
    election.lease_name = flags.leader_election_id;
    election.identity = identity();
    election.lease_duration = millis(flags.lease_duration_seconds);
    election.renew_deadline = millis(flags.renew_deadline_seconds);
    election.retry_period = millis(flags.retry_period_seconds);
    // The elector keeps its own copy of `election`, which ends with this block: the callbacks
    // capture by value what they read of it, and by reference only what outlives the elector.
    election.on_started_leading = [&leading, &starter, &controller,
                                   lease = election.lease_namespace + "/" + election.lease_name,
                                   candidate = election.identity] {
      spdlog::info("acquired lease {} as {}", lease, candidate);
      leading = true;
      // Not on the elector's thread: waiting for the caches must not delay lease renewals.
      starter = std::jthread([&controller] { controller.start_workers(); });
    };
    election.on_stopped_leading = [&leading, &lost_lease] {
      if (leading.exchange(false)) lost_lease = true;
    };
    election.on_new_leader = [](const std::string& holder) { spdlog::info("leader is now {}", holder); };
    elector = std::make_unique<LeaderElector>(client, election);
    elector->start();
  } else {
    starter = std::jthread([&controller] { controller.start_workers(); });
  }

  const timespec tick{0, 200 * 1000 * 1000};
  int exit_code = 0;
  while (true) {
    const int signal = sigtimedwait(&signals, nullptr, &tick);
    if (signal == SIGINT || signal == SIGTERM) {
      spdlog::info("received signal {}; shutting down", signal);
      break;
    }
    if (lost_lease) {
      // Another replica may act now; continuing could make two writers.
      spdlog::error("lost the leader lease; exiting");
      exit_code = 1;
      break;
    }
  }
  controller.stop();
  if (elector) elector->stop();  // releases the lease so a standby takes over at once
  health.stop();
  return exit_code;
}

}  // namespace
}  // namespace kubetrain

int main(int argc, char** argv) {
  kubetrain::OperatorFlags flags;
  CLI::App app{"kubetrain-operator: reconciles TrainingJobs into MPI training on Kubernetes"};
  app.add_option("--kubeconfig", flags.kubeconfig,
                 "kubeconfig file (default: in-cluster config, else $KUBECONFIG or ~/.kube/config)");
  app.add_option("--namespace", flags.namespace_name, "watch only this namespace (default: all)");
  app.add_option("--threads", flags.threads, "reconcile threads")->check(CLI::Range(1, 256))->capture_default_str();
  app.add_option("--qps", flags.qps, "API requests per second (0: unlimited)")
      ->check(CLI::Range(0.0, 1e6))
      ->capture_default_str();
  app.add_option("--burst", flags.burst, "API request burst")->check(CLI::Range(1, 1000000))->capture_default_str();
  app.add_flag("--leader-elect", flags.leader_elect, "elect a leader on a Lease; only the leader reconciles");
  app.add_option("--leader-election-namespace", flags.leader_election_namespace,
                 "namespace of the Lease (default: the pod's namespace)");
  app.add_option("--leader-election-id", flags.leader_election_id, "name of the Lease")->capture_default_str();
  app.add_option("--leader-election-lease-duration", flags.lease_duration_seconds,
                 "seconds after which a standby takes over a lease that was not renewed")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--leader-election-renew-deadline", flags.renew_deadline_seconds,
                 "seconds the leader keeps trying to renew before giving up")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--leader-election-retry-period", flags.retry_period_seconds,
                 "seconds between attempts to acquire or renew the lease")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--metrics-addr", flags.metrics_addr, "HOST:PORT serving /metrics, /healthz, /readyz")
      ->capture_default_str();
  app.add_option("--log-format", flags.log_format, "text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  app.add_option("--log-level", flags.log_level, "trace, debug, info, warn, error")->capture_default_str();
  app.add_option("--gang-schedulers", flags.gang_schedulers,
                 "gang schedulers whose PodGroups the operator creates and watches (their CRDs must be "
                 "installed): volcano, coscheduling")
      ->delimiter(',')
      ->check(CLI::IsMember({"volcano", "coscheduling"}));
  app.add_flag("--kueue", flags.kueue,
               "queue TrainingJobs labelled kueue.x-k8s.io/queue-name through Kueue: one Workload per job, "
               "pods only while it is admitted (Kueue's CRDs must be installed)");
  CLI11_PARSE(app, argc, argv);
  if (flags.renew_deadline_seconds >= flags.lease_duration_seconds) {
    std::fprintf(stderr, "--leader-election-renew-deadline (%g) must be less than --leader-election-lease-duration (%g)\n",
                 flags.renew_deadline_seconds, flags.lease_duration_seconds);
    return 2;
  }
  try {
    kubetrain::setup_logging("operator", kubetrain::parse_log_format(flags.log_format), flags.log_level);
    return kubetrain::run(flags);
  } catch (const std::exception& error) {
    spdlog::critical("{}", error.what());
    return 1;
  }
}

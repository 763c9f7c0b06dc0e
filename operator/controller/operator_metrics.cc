#include "operator/controller/operator_metrics.h"

#include <sstream>

namespace kubetrain {

OperatorMetrics::OperatorMetrics()
    : reconcile_duration("kubetrain_reconcile_duration_seconds", "Time one reconcile of a TrainingJob took.",
                         exponential_buckets(0.0005, 2, 14)),
      queue_latency("kubetrain_workqueue_queue_duration_seconds",
                    "Time a TrainingJob key waited in the work queue before a reconcile picked it up.",
                    exponential_buckets(0.0005, 2, 16)),
      job_duration("kubetrain_job_duration_seconds", "Time from a TrainingJob's start to its completion.",
                   exponential_buckets(1, 2, 20)),
      time_to_running("kubetrain_job_time_to_running_seconds",
                      "Time from a TrainingJob's creation until its launcher ran.", exponential_buckets(0.25, 2, 16)) {}

namespace {

void gauge(std::ostringstream& out, const char* name, const char* help, double value) {
  out << "# HELP " << name << " " << help << "\n# TYPE " << name << " gauge\n" << name << " " << value << "\n";
}

}  // namespace

std::string OperatorMetrics::render() const {
  std::ostringstream out;
  out << reconcile_duration.render() << queue_latency.render() << job_duration.render() << time_to_running.render();
  out << "# HELP kubetrain_api_requests_total Kubernetes API requests by verb, resource and HTTP code.\n"
         "# TYPE kubetrain_api_requests_total counter\n";
  for (const auto& [key, count] : api_calls.snapshot()) {
    const auto& [verb, resource, code] = key;
    out << "kubetrain_api_requests_total{verb=\"" << verb << "\",resource=\"" << resource << "\",code=\"" << code
        << "\"} " << count << "\n";
  }
  out << "# HELP kubetrain_reconcile_errors_total Reconciles that failed and were requeued.\n"
         "# TYPE kubetrain_reconcile_errors_total counter\nkubetrain_reconcile_errors_total "
      << reconcile_errors.load() << "\n";
  out << "# HELP kubetrain_gang_restarts_total Gang restarts of TrainingJobs.\n"
         "# TYPE kubetrain_gang_restarts_total counter\nkubetrain_gang_restarts_total "
      << gang_restarts.load() << "\n";
  if (queue_depth) gauge(out, "kubetrain_workqueue_depth", "TrainingJob keys waiting for a reconcile.", queue_depth());
  if (queue_retries) {
    out << "# HELP kubetrain_workqueue_retries_total Rate-limited requeues.\n"
           "# TYPE kubetrain_workqueue_retries_total counter\nkubetrain_workqueue_retries_total "
        << queue_retries() << "\n";
  }
  if (jobs_by_state) {
    out << "# HELP kubetrain_jobs TrainingJobs by state.\n# TYPE kubetrain_jobs gauge\n";
    for (const auto& [state, count] : jobs_by_state()) {
      out << "kubetrain_jobs{state=\"" << (state.empty() ? "Pending" : state) << "\"} " << count << "\n";
    }
  }
  if (is_leader) gauge(out, "kubetrain_is_leader", "1 while this replica holds the leader lease.", is_leader() ? 1 : 0);
  return out.str();
}

}  // namespace kubetrain

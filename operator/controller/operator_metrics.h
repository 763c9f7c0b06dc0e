#pragma once

// The operator's Prometheus metrics, rendered in the text exposition format for /metrics.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "operator/controller/histogram.h"
#include "operator/kube/api_call_counter.h"

namespace kubetrain {

class OperatorMetrics {
 public:
  OperatorMetrics();

  Histogram reconcile_duration;  // kubetrain_reconcile_duration_seconds
  Histogram queue_latency;       // kubetrain_workqueue_queue_duration_seconds
  Histogram job_duration;        // kubetrain_job_duration_seconds{outcome}
  Histogram time_to_running;     // kubetrain_job_time_to_running_seconds
  ApiCallCounter api_calls;      // kubetrain_api_requests_total{verb,resource,code}
  std::atomic<std::uint64_t> reconcile_errors{0};  // kubetrain_reconcile_errors_total
  std::atomic<std::uint64_t> gang_restarts{0};     // kubetrain_gang_restarts_total

  // Read at scrape time.
  std::function<std::size_t()> queue_depth;                     // kubetrain_workqueue_depth
  std::function<std::uint64_t()> queue_retries;                 // kubetrain_workqueue_retries_total
  std::function<std::map<std::string, std::size_t>()> jobs_by_state;  // kubetrain_jobs{state}
  std::function<bool()> is_leader;                              // kubetrain_is_leader

  std::string render() const;
};

}  // namespace kubetrain

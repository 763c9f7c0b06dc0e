#pragma once

// A Prometheus histogram (cumulative buckets, sum, count) with optional labels; thread-safe.

#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace kubetrain {

class Histogram {
 public:
  Histogram(std::string name, std::string help, std::vector<double> bounds);

  // `labels` is the rendered label set without braces, e.g. outcome="Succeeded" (empty: none).
  void observe(double value, const std::string& labels = {});
  // The exposition text: # HELP, # TYPE, _bucket{le=...}, _sum, _count per label set.
  std::string render() const;
  // The q-quantile (0..1) of everything observed, interpolated within the bucket that holds it
  // (as PromQL's histogram_quantile does); 0 when empty.
  double quantile(double q) const;

 private:
  struct Series {
    std::vector<unsigned long long> counts;  // per bucket, not cumulative; last is +Inf
    double sum = 0;
    unsigned long long count = 0;
  };

  const std::string name_;
  const std::string help_;
  const std::vector<double> bounds_;
  mutable std::mutex mutex_;
  std::map<std::string, Series> series_;
};

// Bounds start, start*factor, ... (count of them), as Prometheus' ExponentialBuckets.
std::vector<double> exponential_buckets(double start, double factor, int count);

}  // namespace kubetrain

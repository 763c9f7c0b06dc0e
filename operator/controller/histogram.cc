#include "operator/controller/histogram.h"

#include <algorithm>
#include <sstream>

namespace kubetrain {

Histogram::Histogram(std::string name, std::string help, std::vector<double> bounds)
    : name_(std::move(name)), help_(std::move(help)), bounds_(std::move(bounds)) {}

void Histogram::observe(double value, const std::string& labels) {
  const std::size_t bucket =
      static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin());
  std::lock_guard lock(mutex_);
  Series& series = series_[labels];
  if (series.counts.empty()) series.counts.assign(bounds_.size() + 1, 0);
  ++series.counts[bucket];
  series.sum += value;
  ++series.count;
}

std::string Histogram::render() const {
  std::ostringstream out;
  out << "# HELP " << name_ << " " << help_ << "\n# TYPE " << name_ << " histogram\n";
  std::lock_guard lock(mutex_);
  for (const auto& [labels, series] : series_) {
    const std::string prefix = labels.empty() ? "" : labels + ",";
    const std::string braces = labels.empty() ? "" : "{" + labels + "}";
    unsigned long long cumulative = 0;
    for (std::size_t i = 0; i <= bounds_.size(); ++i) {
      cumulative += series.counts[i];
      out << name_ << "_bucket{" << prefix << "le=\"";
      if (i < bounds_.size()) {
        out << bounds_[i];
      } else {
        out << "+Inf";
      }
      out << "\"} " << cumulative << "\n";
    }
    out << name_ << "_sum" << braces << " " << series.sum << "\n";
    out << name_ << "_count" << braces << " " << series.count << "\n";
  }
  return out.str();
}

double Histogram::quantile(double q) const {
  std::lock_guard lock(mutex_);
  std::vector<unsigned long long> counts(bounds_.size() + 1, 0);
  unsigned long long total = 0;
  for (const auto& [labels, series] : series_) {
    for (std::size_t i = 0; i < counts.size(); ++i) counts[i] += series.counts[i];
    total += series.count;
  }
  if (total == 0) return 0;
  const double rank = q * static_cast<double>(total);
  unsigned long long cumulative = 0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    if (static_cast<double>(cumulative + counts[i]) >= rank && counts[i] > 0) {
      if (i == bounds_.size()) return bounds_.empty() ? 0 : bounds_.back();
      const double lower = i == 0 ? 0 : bounds_[i - 1];
      const double fraction = (rank - static_cast<double>(cumulative)) / static_cast<double>(counts[i]);
      return lower + (bounds_[i] - lower) * fraction;
    }
    cumulative += counts[i];
  }
  return bounds_.empty() ? 0 : bounds_.back();
}

std::vector<double> exponential_buckets(double start, double factor, int count) {
  std::vector<double> bounds;
  for (int i = 0; i < count; ++i, start *= factor) bounds.push_back(start);
  return bounds;
}

}  // namespace kubetrain

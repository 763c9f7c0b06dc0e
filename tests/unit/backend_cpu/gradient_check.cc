#include "tests/unit/backend_cpu/gradient_check.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "worker/backends/cpu/cpu_backend.h"

namespace kubetrain::testing {

Backend& cpu_backend() {
  static const std::unique_ptr<Backend> backend = make_cpu_backend();
  return *backend;
}

std::vector<double> random_normal(int64_t count, uint64_t seed, double stddev) {
  std::mt19937_64 generator(seed);
  std::normal_distribution<double> normal(0.0, stddev);
  std::vector<double> values(static_cast<size_t>(count));
  for (double& v : values) v = normal(generator);
  return values;
}

DeviceTensor::DeviceTensor(int64_t count)
    : buffer_(cpu_backend().allocate(static_cast<size_t>(count) * sizeof(float))), count_(count) {}

DeviceTensor::DeviceTensor(const std::vector<double>& values)
    : DeviceTensor(static_cast<int64_t>(values.size())) {
  std::vector<float> host(values.begin(), values.end());
  cpu_backend().upload(host.data(), data(), host.size() * sizeof(float));
}

std::vector<double> DeviceTensor::values() const {
  std::vector<float> host(static_cast<size_t>(count_));
  cpu_backend().download(buffer_->data(), host.data(), host.size() * sizeof(float));
  return {host.begin(), host.end()};
}

double relative_error(const std::vector<double>& actual, const std::vector<double>& expected) {
  if (actual.size() != expected.size()) return INFINITY;
  double max_difference = 0;
  double scale = 1e-12;
  for (size_t i = 0; i < actual.size(); ++i) {
    max_difference = std::max(max_difference, std::abs(actual[i] - expected[i]));
    scale = std::max(scale, std::abs(expected[i]));
  }
  return max_difference / scale;
}

std::vector<int64_t> probe_indices(int64_t size, int64_t limit) {
  std::vector<int64_t> indices;
  const int64_t count = std::min(size, limit);
  for (int64_t k = 0; k < count; ++k) indices.push_back(k * size / count);
  return indices;
}

std::vector<double> numeric_gradient(const std::function<double()>& objective,
                                     std::vector<double>& values,
                                     const std::vector<int64_t>& indices, double step) {
  std::vector<double> gradient;
  for (int64_t i : indices) {
    const double saved = values[i];
    values[i] = saved + step;
    const double up = objective();
    values[i] = saved - step;
    const double down = objective();
    values[i] = saved;
    gradient.push_back((up - down) / (2 * step));
  }
  return gradient;
}

std::vector<double> gather(const std::vector<double>& full, const std::vector<int64_t>& indices) {
  std::vector<double> picked;
  for (int64_t i : indices) picked.push_back(full[i]);
  return picked;
}

double dot(const std::vector<double>& weights, const std::vector<double>& values) {
  double sum = 0;
  for (size_t i = 0; i < weights.size(); ++i) sum += weights[i] * values[i];
  return sum;
}

}  // namespace kubetrain::testing

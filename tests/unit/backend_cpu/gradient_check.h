#pragma once

// Helpers shared by the CPU backend tests: random data, device round trips, error measures and
// central finite differences of double-precision reference functions.

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "worker/backend/backend.h"

namespace kubetrain::testing {

// One process-wide CPU backend: creating oneDNN's engine once keeps the suite fast.
Backend& cpu_backend();

std::vector<double> random_normal(int64_t count, uint64_t seed, double stddev = 1.0);

// Device memory holding fp32 copies of `values` (or `count` zeros).
class DeviceTensor {
 public:
  explicit DeviceTensor(const std::vector<double>& values);
  explicit DeviceTensor(int64_t count);

  float* data() { return buffer_->as<float>(); }
  std::vector<double> values() const;
  int64_t count() const { return count_; }

 private:
  std::unique_ptr<DeviceBuffer> buffer_;
  int64_t count_;
};

// max |actual - expected| / max |expected| (the error relative to the tensor's scale).
double relative_error(const std::vector<double>& actual, const std::vector<double>& expected);

// Indices of `size` elements to probe: all of them up to `limit`, else `limit` spread evenly.
std::vector<int64_t> probe_indices(int64_t size, int64_t limit = 96);

// d objective / d values[i] by central differences, for each i in `indices`; the result has one
// entry per index. `objective` reads `values` (perturbed in place, restored afterwards).
std::vector<double> numeric_gradient(const std::function<double()>& objective,
                                     std::vector<double>& values,
                                     const std::vector<int64_t>& indices, double step = 1e-5);

// The entries of `full` at `indices`.
std::vector<double> gather(const std::vector<double>& full, const std::vector<int64_t>& indices);

// sum_i weights[i] * values[i]: turns a tensor-valued function into a scalar objective whose
// gradient is the backward pass with output gradient `weights`.
double dot(const std::vector<double>& weights, const std::vector<double>& values);

}  // namespace kubetrain::testing

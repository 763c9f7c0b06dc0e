#include "tests/gpu/gpu_test_support.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "worker/backends/cuda/cuda_backend.h"

namespace kubetrain::testing {

void GpuTest::SetUp() {
  if (cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device";
  backend_ = make_cuda_backend(0, /*allow_tf32=*/false);
}

std::unique_ptr<DeviceBuffer> to_device(Backend& backend, const std::vector<float>& values,
                                        DataType type) {
  const auto count = static_cast<int64_t>(values.size());
  auto staging = backend.allocate(values.size() * sizeof(float));
  backend.upload(values.data(), staging->data(), values.size() * sizeof(float));
  auto tensor = backend.allocate(values.size() * size_of(type));
  backend.cast(DataType::kFloat32, staging->data(), type, tensor->data(), count);
  backend.synchronize();
  return tensor;
}

std::vector<float> to_host(Backend& backend, const void* tensor, DataType type, int64_t count) {
  auto staging = backend.allocate(static_cast<size_t>(count) * sizeof(float));
  backend.cast(type, tensor, DataType::kFloat32, staging->data(), count);
  std::vector<float> values(count);
  backend.download(staging->data(), values.data(), values.size() * sizeof(float));
  return values;
}

std::unique_ptr<DeviceBuffer> GpuTest::to_device(const std::vector<float>& values,
                                                 DataType type) {
  return testing::to_device(*backend_, values, type);
}

std::unique_ptr<DeviceBuffer> GpuTest::zeros(int64_t count, DataType type) {
  return backend_->allocate(static_cast<size_t>(count) * size_of(type));
}

std::vector<float> GpuTest::to_host(const void* device, DataType type, int64_t count) {
  return testing::to_host(*backend_, device, type, count);
}

std::vector<float> GpuTest::rounded(const std::vector<float>& values, DataType type) {
  auto tensor = to_device(values, type);
  return to_host(tensor->data(), type, static_cast<int64_t>(values.size()));
}

std::vector<float> random_values(int64_t count, uint32_t seed, float low, float high) {
  std::mt19937 generator(seed);
  std::uniform_real_distribution<float> distribution(low, high);
  std::vector<float> values(count);
  for (float& value : values) value = distribution(generator);
  return values;
}

double relative_error(const std::vector<float>& actual, const std::vector<double>& expected) {
  EXPECT_EQ(actual.size(), expected.size());
  double scale = 1e-12;
  double error = 0.0;
  for (size_t i = 0; i < std::min(actual.size(), expected.size()); ++i) {
    scale = std::max(scale, std::abs(expected[i]));
    const double difference = std::abs(static_cast<double>(actual[i]) - expected[i]);
    // NaN must fail the comparison, not vanish in std::max.
    error = std::isnan(difference) ? INFINITY : std::max(error, difference);
  }
  return error / scale;
}

std::string type_name(const ::testing::TestParamInfo<DataType>& info) {
  return std::string(to_string(info.param));
}

std::string format_and_type_name(const ::testing::TestParamInfo<FormatAndType>& info) {
  return std::string(to_string(std::get<0>(info.param))) + "_" +
         std::string(to_string(std::get<1>(info.param)));
}

double tolerance(DataType type) { return type == DataType::kFloat32 ? 1e-4 : 1e-2; }

}  // namespace kubetrain::testing

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>

#include "tests/unit/backend_cpu/gradient_check.h"
#include "worker/dist/communicator.h"
#include "worker/dist/gradient_reducer.h"
#include "worker/dist/host_gradient_reducer.h"

namespace kubetrain::testing {
namespace {

TEST(CpuBackendTest, DescribesOneDnnAndSupportsOnlyFp32) {
  Backend& backend = cpu_backend();
  EXPECT_EQ(backend.kind(), DeviceKind::kCpu);
  EXPECT_NE(backend.description().find("oneDNN 2."), std::string::npos) << backend.description();
  EXPECT_TRUE(backend.supports(DataType::kFloat32));
  EXPECT_FALSE(backend.supports(DataType::kFloat16));
  EXPECT_FALSE(backend.supports(DataType::kBFloat16));
}

TEST(CpuBackendTest, MemoryIsZeroedAlignedAndCopiesRoundTrip) {
  Backend& backend = cpu_backend();
  auto a = backend.allocate(1000);
  auto b = backend.allocate_host(1000);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a->data()) % 64, 0u);
  EXPECT_EQ(a->bytes(), 1000u);
  for (int i = 0; i < 250; ++i) EXPECT_EQ(a->as<float>()[i], 0.0f);
  std::vector<float> host(250), back(250);
  for (int i = 0; i < 250; ++i) host[i] = static_cast<float>(i) * 0.5f;
  backend.upload(host.data(), a->data(), 1000);
  backend.copy(a->data(), b->data(), 1000);
  backend.download(b->data(), back.data(), 1000);
  EXPECT_EQ(back, host);
  backend.fill_zero(b->data(), 1000);
  backend.synchronize();
  EXPECT_EQ(b->as<float>()[249], 0.0f);
  EXPECT_NE(backend.allocate(0)->data(), nullptr);
}

TEST(CpuBackendTest, AddInplaceAndCast) {
  Backend& backend = cpu_backend();
  const int64_t count = 100003;  // odd, and above the threshold for threads
  const std::vector<double> x = random_normal(count, 61), y = random_normal(count, 62);
  DeviceTensor x_d(x), y_d(y), copy_d(count);
  backend.add_inplace(DataType::kFloat32, x_d.data(), y_d.data(), count);
  std::vector<double> sum(count);
  for (int64_t i = 0; i < count; ++i) sum[i] = x[i] + y[i];
  EXPECT_LT(relative_error(y_d.values(), sum), 1e-6);
  backend.cast(DataType::kFloat32, x_d.data(), DataType::kFloat32, copy_d.data(), count);
  EXPECT_EQ(copy_d.values(), x_d.values());
  EXPECT_THROW(
      backend.cast(DataType::kFloat32, x_d.data(), DataType::kFloat16, copy_d.data(), count),
      std::invalid_argument);
  EXPECT_THROW(backend.add_inplace(DataType::kBFloat16, x_d.data(), y_d.data(), count),
               std::invalid_argument);
}

TEST(CpuBackendTest, AllFiniteFindsNanAndInfinityAnywhere) {
  Backend& backend = cpu_backend();
  const int64_t count = 70001;
  DeviceTensor values(random_normal(count, 63, 1e30));
  EXPECT_TRUE(backend.all_finite(values.data(), count));
  for (const float bad :
       {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
        -std::numeric_limits<float>::infinity()}) {
    for (const int64_t at : {int64_t{0}, int64_t{12345}, count - 1}) {
      const float saved = values.data()[at];
      values.data()[at] = bad;
      EXPECT_FALSE(backend.all_finite(values.data(), count)) << bad << " at " << at;
      values.data()[at] = saved;
    }
  }
  values.data()[0] = std::numeric_limits<float>::max();
  EXPECT_TRUE(backend.all_finite(values.data(), count));
}

TEST(CpuBackendTest, FillNormalIsDeterministicPerSeedWithTheRightMoments) {
  Backend& backend = cpu_backend();
  const int64_t count = 200001;
  DeviceTensor a(count), b(count), c(count);
  backend.fill_normal(DataType::kFloat32, a.data(), count, 3.0f, 2.0f, 42);
  backend.fill_normal(DataType::kFloat32, b.data(), count, 3.0f, 2.0f, 42);
  backend.fill_normal(DataType::kFloat32, c.data(), count, 3.0f, 2.0f, 43);
  const std::vector<double> values = a.values();
  EXPECT_EQ(values, b.values());
  EXPECT_NE(values, c.values());

  double sum = 0, sum_squares = 0, sum_fourth = 0;
  int64_t beyond_two_sigma = 0;
  for (double v : values) sum += v;
  const double mean = sum / count;
  for (double v : values) {
    const double d = v - mean;
    sum_squares += d * d;
    sum_fourth += d * d * d * d;
    beyond_two_sigma += std::abs(v - 3.0) > 4.0;
  }
  const double variance = sum_squares / count;
  // Standard errors for n = 200001: mean 2 / sqrt(n) = 0.0045, variance 4 * sqrt(2 / n) = 0.0126;
  // the bounds are five of them.
  EXPECT_NEAR(mean, 3.0, 0.023);
  EXPECT_NEAR(variance, 4.0, 0.063);
  EXPECT_NEAR(sum_fourth / count / (variance * variance), 3.0, 0.06);  // normal kurtosis
  EXPECT_NEAR(static_cast<double>(beyond_two_sigma) / count, 0.0455, 0.0025);
  // A prefix is the same whatever the count: value i depends on (seed, i) only.
  DeviceTensor prefix(7);
  backend.fill_normal(DataType::kFloat32, prefix.data(), 7, 3.0f, 2.0f, 42);
  EXPECT_EQ(prefix.values(), std::vector<double>(values.begin(), values.begin() + 7));
}

TEST(CpuBackendTest, GradientReducerOnOneRankKeepsTheGradients) {
  auto communicator = make_single_communicator();
  const int64_t count = 3 * kHostBucketBytes / 4 + 5;
  const std::vector<double> gradients = random_normal(count, 64);
  DeviceTensor gradients_d(gradients);
  auto reducer = cpu_backend().make_gradient_reducer(*communicator, gradients_d.data(), count);
  EXPECT_EQ(reducer->bucket_count(), 4);
  reducer->mark_ready(0, count);
  reducer->finish();
  EXPECT_LT(relative_error(gradients_d.values(), gradients), 1e-7);
}

}  // namespace
}  // namespace kubetrain::testing

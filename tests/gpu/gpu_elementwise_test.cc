// Memory, casts, add_inplace, fill_normal and all_finite of the CUDA backend, checked against
// properties computed on the host.

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "tests/gpu/gpu_test_support.h"

namespace kubetrain::testing {
namespace {

using GpuMemoryTest = GpuTest;

TEST_F(GpuMemoryTest, AllocationsAreZeroAndUploadsRoundTrip) {
  auto device = backend_->allocate(4096);
  std::vector<unsigned char> bytes(4096, 0xff);
  backend_->download(device->data(), bytes.data(), bytes.size());
  EXPECT_EQ(bytes, std::vector<unsigned char>(4096, 0));

  auto pinned = backend_->allocate_host(1000 * sizeof(float));
  const auto values = random_values(1000, 61);
  std::memcpy(pinned->data(), values.data(), 1000 * sizeof(float));
  backend_->upload(pinned->data(), device->data(), 1000 * sizeof(float));
  backend_->synchronize();
  auto copy = backend_->allocate(1000 * sizeof(float));
  backend_->copy(device->data(), copy->data(), 1000 * sizeof(float));
  std::vector<float> back(1000);
  backend_->download(copy->data(), back.data(), 1000 * sizeof(float));
  EXPECT_EQ(back, values);

  backend_->fill_zero(copy->data(), 1000 * sizeof(float));
  backend_->download(copy->data(), back.data(), 1000 * sizeof(float));
  EXPECT_EQ(back, std::vector<float>(1000, 0.0f));
}

class GpuCastTest : public GpuTest, public ::testing::WithParamInterface<DataType> {};

TEST_P(GpuCastTest, RoundTripKeepsValuesWithinTheTypesPrecision) {
  const DataType type = GetParam();
  // Magnitudes in [0.5, 2) with random signs stay in every type's normal range.
  auto values = random_values(3000, 62, 0.5f, 2.0f);
  const auto signs = random_values(3000, 63);
  for (size_t i = 0; i < values.size(); ++i) values[i] *= signs[i] < 0 ? -1.0f : 1.0f;
  // Half an ulp of the type's significand: 2^-11 (fp16), 2^-8 (bf16), exact for fp32.
  const double bound = type == DataType::kFloat16    ? std::ldexp(1.0, -11)
                       : type == DataType::kBFloat16 ? std::ldexp(1.0, -8)
                                                     : 0.0;
  const auto back = rounded(values, type);
  for (size_t i = 0; i < values.size(); ++i) {
    ASSERT_LE(std::abs(back[i] - values[i]), bound * std::abs(values[i])) << "element " << i;
  }
  // Values the type represents exactly survive unchanged, also between the 16-bit types.
  const std::vector<float> exact = {0.0f, 1.0f, -2.5f, 0.75f, 96.0f, -0.125f};
  EXPECT_EQ(rounded(exact, type), exact);
  auto source = to_device(exact, type);
  const DataType other = type == DataType::kFloat16 ? DataType::kBFloat16 : DataType::kFloat16;
  auto converted = zeros(static_cast<int64_t>(exact.size()), other);
  backend_->cast(type, source->data(), other, converted->data(),
                 static_cast<int64_t>(exact.size()));
  EXPECT_EQ(to_host(converted->data(), other, static_cast<int64_t>(exact.size())), exact);
}

TEST_P(GpuCastTest, AddInplaceAddsElementwise) {
  const DataType type = GetParam();
  const auto x = rounded(random_values(5000, 64), type);
  const auto y = rounded(random_values(5000, 65), type);
  auto x_d = to_device(x, type);
  auto y_d = to_device(y, type);
  backend_->add_inplace(type, x_d->data(), y_d->data(), 5000);
  std::vector<double> expected(5000);
  for (int i = 0; i < 5000; ++i) expected[i] = double{x[i]} + y[i];
  EXPECT_LE(relative_error(to_host(y_d->data(), type, 5000), expected), tolerance(type));
}

TEST_P(GpuCastTest, FillNormalIsDeterministicPerSeedWithTheRequestedMoments) {
  const DataType type = GetParam();
  const int64_t count = 100003;  // not a multiple of 4: the tail is filled too
  auto a = zeros(count, type);
  auto b = zeros(count, type);
  auto c = zeros(count, type);
  backend_->fill_normal(type, a->data(), count, 127.0f, 60.0f, 7);
  backend_->fill_normal(type, b->data(), count, 127.0f, 60.0f, 7);
  backend_->fill_normal(type, c->data(), count, 127.0f, 60.0f, 8);
  const auto va = to_host(a->data(), type, count);
  EXPECT_EQ(va, to_host(b->data(), type, count));
  EXPECT_NE(va, to_host(c->data(), type, count));
  double sum = 0.0;
  double squares = 0.0;
  for (float v : va) {
    sum += v;
    squares += double{v} * v;
  }
  const double mean = sum / count;
  const double stddev = std::sqrt(squares / count - mean * mean);
  EXPECT_NEAR(mean, 127.0, 1.0);    // standard error 60 / sqrt(1e5) = 0.19
  EXPECT_NEAR(stddev, 60.0, 1.0);
}

INSTANTIATE_TEST_SUITE_P(Types, GpuCastTest, all_types(), type_name);

using GpuAllFiniteTest = GpuTest;

TEST_F(GpuAllFiniteTest, DetectsInfinityAndNanAnywhere) {
  const int64_t count = 1 << 20;
  auto values = random_values(count, 66, -1e30f, 1e30f);
  auto device = to_device(values, DataType::kFloat32);
  EXPECT_TRUE(backend_->all_finite(device->as<float>(), count));
  const float bad[] = {std::numeric_limits<float>::infinity(),
                       -std::numeric_limits<float>::infinity(),
                       std::numeric_limits<float>::quiet_NaN()};
  for (int64_t position : {int64_t{0}, count / 3, count - 1}) {
    for (float value : bad) {
      backend_->upload(&value, device->as<float>() + position, sizeof(float));
      EXPECT_FALSE(backend_->all_finite(device->as<float>(), count))
          << value << " at " << position;
      backend_->upload(&values[position], device->as<float>() + position, sizeof(float));
    }
  }
  EXPECT_TRUE(backend_->all_finite(device->as<float>(), count));
}

}  // namespace
}  // namespace kubetrain::testing

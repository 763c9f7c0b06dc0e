// cuDNN batch norm (with the fused or unfused residual add and ReLU) against naive
// double-precision batch norm: the forward pass from the CPU backend's reference
// (tests/unit/backend_cpu/reference_ops.h), the running statistics and the backward pass written
// here, PyTorch's semantics.

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <tuple>
#include <vector>

#include "tests/gpu/gpu_test_support.h"
#include "tests/unit/backend_cpu/reference_ops.h"

namespace kubetrain::testing {
namespace {

std::vector<double> doubles(const std::vector<float>& values) {
  return {values.begin(), values.end()};
}

using Params = std::tuple<MemoryFormat, DataType, bool /*add_residual*/, bool /*relu*/>;

class GpuBatchNormTest : public GpuTest, public ::testing::WithParamInterface<Params> {
 protected:
  void SetUp() override {
    GpuTest::SetUp();
    if (IsSkipped()) return;
    std::tie(spec_.format, spec_.dtype, spec_.add_residual, spec_.relu) = GetParam();
    spec_.shape = {4, 8, 5, 5};
    spec_.momentum = 0.1f;
    count_ = spec_.shape.elements();
    channels_ = spec_.shape.c;
    x_ = rounded(random_values(count_, 11, -2.0f, 3.0f), spec_.dtype);
    residual_ = rounded(random_values(count_, 12), spec_.dtype);
    gamma_ = random_values(channels_, 13, 0.5f, 1.5f);
    beta_ = random_values(channels_, 14);
    running_mean_ = random_values(channels_, 15);
    running_var_ = random_values(channels_, 16, 0.5f, 2.0f);
  }

  // The layer's tensors on the device: x, residual, y and the per-channel fp32 tensors.
  struct Device {
    std::unique_ptr<DeviceBuffer> x, residual, y, channel;
    BatchNormTensors t;
    const void* residual_or_null;
  };
  Device to_device_tensors() {
    Device d;
    d.x = to_device(x_, spec_.dtype);
    d.residual = to_device(residual_, spec_.dtype);
    d.y = zeros(count_, spec_.dtype);
    // gamma, beta, running mean, running var, saved mean, saved 1/std: one block of 6 C floats.
    std::vector<float> channel;
    for (const auto* part : {&gamma_, &beta_, &running_mean_, &running_var_}) {
      channel.insert(channel.end(), part->begin(), part->end());
    }
    channel.resize(6 * channels_, 0.0f);
    d.channel = to_device(channel, DataType::kFloat32);
    float* p = d.channel->as<float>();
    const int64_t c = channels_;
    d.t = {p, p + c, p + 2 * c, p + 3 * c, p + 4 * c, p + 5 * c};
    d.residual_or_null = spec_.add_residual ? d.residual->data() : nullptr;
    return d;
  }
  // Per-channel fp32 tensor `index` (0 gamma ... 5 saved 1/std) back on the host.
  std::vector<float> channel_tensor(const Device& d, int index) {
    return to_host(d.channel->as<float>() + index * channels_, DataType::kFloat32, channels_);
  }

  BatchNormSpec spec_;
  int64_t count_ = 0;
  int64_t channels_ = 0;
  std::vector<float> x_, residual_, gamma_, beta_, running_mean_, running_var_;
};

TEST_P(GpuBatchNormTest, TrainingForwardAndBackwardMatchReference) {
  const DataType type = spec_.dtype;
  auto bn = backend_->make_batch_norm(spec_);
  auto d = to_device_tensors();
  bn->forward_training(d.x->data(), d.residual_or_null, d.y->data(), d.t);

  const BatchNormResult stats = batch_norm_training(spec_, doubles(x_), doubles(residual_),
                                                    doubles(gamma_), doubles(beta_));
  const auto& expected_y = stats.y;
  const auto y_host = to_host(d.y->data(), type, count_);
  EXPECT_LE(relative_error(y_host, expected_y), tolerance(type));

  const double m = static_cast<double>(count_ / channels_);
  std::vector<double> expected_rm(channels_), expected_rv(channels_), expected_mean(channels_),
      expected_inv_std(channels_);
  for (int64_t c = 0; c < channels_; ++c) {
    expected_rm[c] = 0.9 * running_mean_[c] + 0.1 * stats.mean[c];
    expected_rv[c] = 0.9 * running_var_[c] + 0.1 * stats.variance[c] * m / (m - 1.0);
    expected_mean[c] = stats.mean[c];
    expected_inv_std[c] = 1.0 / std::sqrt(stats.variance[c] + spec_.epsilon);
  }
  EXPECT_LE(relative_error(channel_tensor(d, 2), expected_rm), tolerance(type));
  EXPECT_LE(relative_error(channel_tensor(d, 3), expected_rv), tolerance(type));
  EXPECT_LE(relative_error(channel_tensor(d, 4), expected_mean), tolerance(type));
  EXPECT_LE(relative_error(channel_tensor(d, 5), expected_inv_std), tolerance(type));

  // Backward. The ReLU mask comes from the device's own y (as the contract says), so elements
  // within rounding of zero cannot flip between the two computations.
  const auto dy_values = rounded(random_values(count_, 17), type);
  std::vector<double> g(count_);
  for (int64_t i = 0; i < count_; ++i) {
    g[i] = (spec_.relu && !(y_host[i] > 0.0f)) ? 0.0 : dy_values[i];
  }
  std::vector<double> d_beta(channels_), d_gamma(channels_), expected_dx(count_);
  const Shape4 s = spec_.shape;
  auto xhat = [&](int64_t i, int64_t c) { return (x_[i] - stats.mean[c]) * expected_inv_std[c]; };
  for (int64_t n = 0; n < s.n; ++n)
    for (int64_t c = 0; c < s.c; ++c)
      for (int64_t h = 0; h < s.h; ++h)
        for (int64_t w = 0; w < s.w; ++w) {
          const int64_t i = offset_of(s, spec_.format, n, c, h, w);
          d_beta[c] += g[i];
          d_gamma[c] += g[i] * xhat(i, c);
        }
  for (int64_t n = 0; n < s.n; ++n)
    for (int64_t c = 0; c < s.c; ++c)
      for (int64_t h = 0; h < s.h; ++h)
        for (int64_t w = 0; w < s.w; ++w) {
          const int64_t i = offset_of(s, spec_.format, n, c, h, w);
          expected_dx[i] = gamma_[c] * expected_inv_std[c] / m *
                           (m * g[i] - d_beta[c] - xhat(i, c) * d_gamma[c]);
        }

  auto dy = to_device(dy_values, type);
  auto dx = zeros(count_, type);
  auto d_residual = zeros(count_, type);
  auto d_scale = zeros(channels_, DataType::kFloat32);
  auto d_bias = zeros(channels_, DataType::kFloat32);
  bn->backward(d.x->data(), d.y->data(), dy->data(), dx->data(),
               spec_.add_residual ? d_residual->data() : nullptr, d.t, d_scale->as<float>(),
               d_bias->as<float>());
  EXPECT_LE(relative_error(to_host(dx->data(), type, count_), expected_dx), tolerance(type));
  EXPECT_LE(relative_error(to_host(d_scale->data(), DataType::kFloat32, channels_), d_gamma),
            tolerance(type));
  EXPECT_LE(relative_error(to_host(d_bias->data(), DataType::kFloat32, channels_), d_beta),
            tolerance(type));
  if (spec_.add_residual) {
    EXPECT_LE(relative_error(to_host(d_residual->data(), type, count_), g), tolerance(type));
  }
}

TEST_P(GpuBatchNormTest, InferenceUsesRunningStatistics) {
  const DataType type = spec_.dtype;
  auto bn = backend_->make_batch_norm(spec_);
  auto d = to_device_tensors();
  bn->forward_inference(d.x->data(), d.residual_or_null, d.y->data(), d.t);
  EXPECT_LE(relative_error(to_host(d.y->data(), type, count_),
                           batch_norm_inference(spec_, doubles(x_), doubles(residual_),
                                                doubles(gamma_), doubles(beta_),
                                                doubles(running_mean_), doubles(running_var_))),
            tolerance(type));
  // Inference leaves the running statistics alone.
  EXPECT_EQ(channel_tensor(d, 2), running_mean_);
  EXPECT_EQ(channel_tensor(d, 3), running_var_);
}

INSTANTIATE_TEST_SUITE_P(
    FormatsTypesFusions, GpuBatchNormTest,
    ::testing::Combine(::testing::Values(MemoryFormat::kChannelsLast, MemoryFormat::kChannelsFirst),
                       ::testing::Values(DataType::kFloat32, DataType::kFloat16,
                                         DataType::kBFloat16),
                       ::testing::Bool(), ::testing::Bool()),
    [](const auto& info) {
      return std::string(to_string(std::get<0>(info.param))) + "_" +
             std::string(to_string(std::get<1>(info.param))) +
             (std::get<2>(info.param) ? "_add" : "") + (std::get<3>(info.param) ? "_relu" : "");
    });

}  // namespace
}  // namespace kubetrain::testing

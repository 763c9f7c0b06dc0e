#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "tests/unit/backend_cpu/gradient_check.h"
#include "tests/unit/backend_cpu/reference_ops.h"

namespace kubetrain::testing {
namespace {

struct Variant {
  bool add_residual;
  bool relu;
};

class BatchNormTest : public ::testing::TestWithParam<std::tuple<Shape4, Variant, MemoryFormat>> {
 protected:
  BatchNormSpec spec() const {
    const auto& [shape, variant, format] = GetParam();
    BatchNormSpec spec;
    spec.shape = shape;
    spec.add_residual = variant.add_residual;
    spec.relu = variant.relu;
    spec.momentum = 0.3f;  // not the default, so a hard-coded 0.1 would show
    spec.format = format;
    return spec;
  }
};

std::vector<double> shifted(std::vector<double> values, double offset) {
  for (double& v : values) v += offset;
  return values;
}

TEST_P(BatchNormTest, TrainingInferenceAndBackwardMatchDoubleReference) {
  const BatchNormSpec s = spec();
  const int64_t elements = s.shape.elements(), channels = s.shape.c;
  const double count = static_cast<double>(s.shape.n * s.shape.h * s.shape.w);
  std::vector<double> x = shifted(random_normal(elements, 11, 2.0), 0.5);
  std::vector<double> residual = random_normal(elements, 12);
  std::vector<double> gamma = shifted(random_normal(channels, 13, 0.2), 1.0);
  std::vector<double> beta = random_normal(channels, 14, 0.3);
  const std::vector<double> running_mean = random_normal(channels, 15, 0.1);
  const std::vector<double> running_var = shifted(random_normal(channels, 16, 0.1), 1.0);
  const std::vector<double> dy = random_normal(elements, 17);
  auto bn = cpu_backend().make_batch_norm(s);

  DeviceTensor x_d(x), residual_d(residual), y_d(elements), gamma_d(gamma), beta_d(beta);
  DeviceTensor running_mean_d(running_mean), running_var_d(running_var);
  DeviceTensor saved_mean_d(channels), saved_inv_std_d(channels);
  const BatchNormTensors tensors{gamma_d.data(),       beta_d.data(),       running_mean_d.data(),
                                 running_var_d.data(), saved_mean_d.data(), saved_inv_std_d.data()};
  const float* residual_pointer = s.add_residual ? residual_d.data() : nullptr;

  bn->forward_training(x_d.data(), residual_pointer, y_d.data(), tensors);
  const BatchNormResult expected = batch_norm_training(s, x, residual, gamma, beta);
  EXPECT_LT(relative_error(y_d.values(), expected.y), 1e-5);
  EXPECT_LT(relative_error(saved_mean_d.values(), expected.mean), 1e-5);
  std::vector<double> inv_std, new_mean, new_var;
  for (int64_t c = 0; c < channels; ++c) {
    inv_std.push_back(1 / std::sqrt(expected.variance[c] + s.epsilon));
    new_mean.push_back(0.7 * running_mean[c] + 0.3 * expected.mean[c]);
    new_var.push_back(0.7 * running_var[c] + 0.3 * expected.variance[c] * count / (count - 1));
  }
  EXPECT_LT(relative_error(saved_inv_std_d.values(), inv_std), 1e-5);
  EXPECT_LT(relative_error(running_mean_d.values(), new_mean), 1e-5);
  EXPECT_LT(relative_error(running_var_d.values(), new_var), 1e-5);

  // Backward of sum(dy * bn(x, residual, gamma, beta)); outputs start dirty.
  DeviceTensor dy_d(dy), dx_d(std::vector<double>(elements, 7.0));
  DeviceTensor d_residual_d(std::vector<double>(elements, 7.0));
  DeviceTensor d_gamma_d(std::vector<double>(channels, 7.0));
  DeviceTensor d_beta_d(std::vector<double>(channels, 7.0));
  bn->backward(x_d.data(), y_d.data(), dy_d.data(), dx_d.data(),
               s.add_residual ? d_residual_d.data() : nullptr, tensors, d_gamma_d.data(),
               d_beta_d.data());
  auto objective = [&] { return dot(dy, batch_norm_training(s, x, residual, gamma, beta).y); };
  const auto x_probes = probe_indices(elements);
  EXPECT_LT(
      relative_error(gather(dx_d.values(), x_probes), numeric_gradient(objective, x, x_probes)),
      1e-3);
  const auto c_probes = probe_indices(channels);
  EXPECT_LT(relative_error(d_gamma_d.values(), numeric_gradient(objective, gamma, c_probes)), 1e-3);
  EXPECT_LT(relative_error(d_beta_d.values(), numeric_gradient(objective, beta, c_probes)), 1e-3);
  if (s.add_residual) {
    EXPECT_LT(relative_error(gather(d_residual_d.values(), x_probes),
                             numeric_gradient(objective, residual, x_probes)),
              1e-3);
  }

  // Inference normalizes with the running statistics the training step just wrote.
  bn->forward_inference(x_d.data(), residual_pointer, y_d.data(), tensors);
  EXPECT_LT(relative_error(y_d.values(),
                           batch_norm_inference(s, x, residual, gamma, beta,
                                                running_mean_d.values(), running_var_d.values())),
            1e-5);
}

const Shape4 kShapes[] = {{2, 3, 4, 5}, {4, 16, 3, 3}};
const Variant kVariants[] = {{false, false}, {false, true}, {true, false}, {true, true}};

std::string case_name(const ::testing::TestParamInfo<BatchNormTest::ParamType>& info) {
  const auto& [shape, variant, format] = info.param;
  return std::string(format == MemoryFormat::kChannelsLast ? "nhwc" : "nchw") + "_c" +
         std::to_string(shape.c) + (variant.add_residual ? "_residual" : "") +
         (variant.relu ? "_relu" : "");
}

INSTANTIATE_TEST_SUITE_P(Variants, BatchNormTest,
                         ::testing::Combine(::testing::ValuesIn(kShapes),
                                            ::testing::ValuesIn(kVariants),
                                            ::testing::Values(MemoryFormat::kChannelsLast,
                                                              MemoryFormat::kChannelsFirst)),
                         case_name);

TEST(BatchNormSpecTest, TrainingWithOneValuePerChannelIsRefused) {
  BatchNormSpec spec;
  spec.shape = {1, 4, 1, 1};
  auto bn = cpu_backend().make_batch_norm(spec);
  DeviceTensor data(4), channel(4), stats_a(4), stats_b(4), stats_c(4), stats_d(4);
  const BatchNormTensors t{channel.data(), channel.data(), stats_a.data(),
                           stats_b.data(), stats_c.data(), stats_d.data()};
  EXPECT_THROW(bn->forward_training(data.data(), nullptr, data.data(), t), std::invalid_argument);
  spec.momentum = 1.5f;
  EXPECT_THROW(cpu_backend().make_batch_norm(spec), std::invalid_argument);
}

}  // namespace
}  // namespace kubetrain::testing

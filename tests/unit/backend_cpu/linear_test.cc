#include <gtest/gtest.h>

#include "tests/unit/backend_cpu/gradient_check.h"
#include "tests/unit/backend_cpu/reference_ops.h"

namespace kubetrain::testing {
namespace {

class LinearTest : public ::testing::TestWithParam<LinearSpec> {};

TEST_P(LinearTest, ForwardAndGradientsMatchDoubleReference) {
  const LinearSpec s = GetParam();
  std::vector<double> x = random_normal(s.batch * s.in_features, 31);
  std::vector<double> w = random_normal(s.out_features * s.in_features, 32, 0.3);
  std::vector<double> b = random_normal(s.out_features, 33);
  const std::vector<double> dy = random_normal(s.batch * s.out_features, 34);
  auto linear = cpu_backend().make_linear(s);

  DeviceTensor x_d(x), w_d(w), b_d(b), y_d(s.batch * s.out_features);
  linear->forward(x_d.data(), w_d.data(), b_d.data(), y_d.data());
  EXPECT_LT(relative_error(y_d.values(), linear_forward(s, x, w, b)), 1e-5);

  DeviceTensor dy_d(dy), dx_d(std::vector<double>(x.size(), 7.0));
  DeviceTensor dw_d(std::vector<double>(w.size(), 7.0)), db_d(std::vector<double>(b.size(), 7.0));
  linear->backward_data(dy_d.data(), w_d.data(), dx_d.data());
  linear->backward_weights(x_d.data(), dy_d.data(), dw_d.data(), db_d.data());
  auto objective = [&] { return dot(dy, linear_forward(s, x, w, b)); };
  const auto x_probes = probe_indices(static_cast<int64_t>(x.size()));
  const auto w_probes = probe_indices(static_cast<int64_t>(w.size()));
  const auto b_probes = probe_indices(static_cast<int64_t>(b.size()));
  EXPECT_LT(
      relative_error(gather(dx_d.values(), x_probes), numeric_gradient(objective, x, x_probes)),
      1e-4);
  EXPECT_LT(
      relative_error(gather(dw_d.values(), w_probes), numeric_gradient(objective, w, w_probes)),
      1e-4);
  EXPECT_LT(relative_error(db_d.values(), numeric_gradient(objective, b, b_probes)), 1e-4);
}

INSTANTIATE_TEST_SUITE_P(Shapes, LinearTest,
                         ::testing::Values(LinearSpec{1, 5, 3}, LinearSpec{4, 16, 10},
                                           LinearSpec{7, 33, 9}));

TEST(LinearSpecTest, RejectsEmptyDimensions) {
  EXPECT_THROW(cpu_backend().make_linear(LinearSpec{4, 0, 10}), std::invalid_argument);
}

}  // namespace
}  // namespace kubetrain::testing

// cuBLAS linear layer against a naive double-precision nn.Linear written here.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/gpu/gpu_test_support.h"

namespace kubetrain::testing {
namespace {

class GpuLinearTest : public GpuTest, public ::testing::WithParamInterface<DataType> {};

TEST_P(GpuLinearTest, ForwardAndGradientsMatchReference) {
  const DataType type = GetParam();
  const LinearSpec spec{.batch = 6, .in_features = 40, .out_features = 10, .dtype = type};
  const int64_t n = spec.batch, in = spec.in_features, out = spec.out_features;
  const auto x = rounded(random_values(n * in, 31), type);
  const auto w = rounded(random_values(out * in, 32), type);
  const auto b = random_values(out, 33);
  const auto dy = rounded(random_values(n * out, 34), type);

  std::vector<double> y(n * out), dx(n * in), dw(out * in), db(out);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t o = 0; o < out; ++o) {
      double sum = b[o];
      for (int64_t k = 0; k < in; ++k) {
        sum += double{x[i * in + k]} * w[o * in + k];
        dx[i * in + k] += double{dy[i * out + o]} * w[o * in + k];
        dw[o * in + k] += double{dy[i * out + o]} * x[i * in + k];
      }
      y[i * out + o] = sum;
      db[o] += dy[i * out + o];
    }

  auto linear = backend_->make_linear(spec);
  auto x_d = to_device(x, type);
  auto w_d = to_device(w, type);
  auto b_d = to_device(b, DataType::kFloat32);
  auto dy_d = to_device(dy, type);
  auto y_d = zeros(n * out, type);
  auto dx_d = zeros(n * in, type);
  auto dw_d = zeros(out * in, DataType::kFloat32);
  auto db_d = zeros(out, DataType::kFloat32);
  linear->forward(x_d->data(), w_d->data(), b_d->as<float>(), y_d->data());
  linear->backward_data(dy_d->data(), w_d->data(), dx_d->data());
  linear->backward_weights(x_d->data(), dy_d->data(), dw_d->as<float>(), db_d->as<float>());

  EXPECT_LE(relative_error(to_host(y_d->data(), type, n * out), y), tolerance(type));
  EXPECT_LE(relative_error(to_host(dx_d->data(), type, n * in), dx), tolerance(type));
  EXPECT_LE(relative_error(to_host(dw_d->data(), DataType::kFloat32, out * in), dw),
            tolerance(type));
  EXPECT_LE(relative_error(to_host(db_d->data(), DataType::kFloat32, out), db), tolerance(type));
}

INSTANTIATE_TEST_SUITE_P(Types, GpuLinearTest, all_types(), type_name);

}  // namespace
}  // namespace kubetrain::testing

// cuDNN max and global-average pooling against naive double-precision pooling written here.

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "tests/gpu/gpu_test_support.h"

namespace kubetrain::testing {
namespace {

class GpuPoolingTest : public GpuTest, public ::testing::WithParamInterface<FormatAndType> {
 protected:
  // Distinct values exactly representable in every type, so the maximum of a window is unique.
  static std::vector<float> distinct_values(int64_t count) {
    std::vector<int> order(count);
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), std::mt19937(21));
    std::vector<float> values(count);
    for (int64_t i = 0; i < count; ++i) values[i] = static_cast<float>(order[i] - count / 2) / 16;
    return values;
  }

  // Runs the pooling forward and backward on the device; compares y and dx with the references.
  void expect_matches(const PoolingSpec& spec, const std::vector<float>& x,
                      const std::vector<float>& dy, const std::vector<double>& expected_y,
                      const std::vector<double>& expected_dx) {
    const DataType type = spec.dtype;
    const int64_t x_count = spec.input.elements();
    const int64_t y_count = spec.output().elements();
    auto pool = backend_->make_pooling(spec);
    auto x_d = to_device(x, type);
    auto y_d = zeros(y_count, type);
    auto dy_d = to_device(dy, type);
    auto dx_d = zeros(x_count, type);
    pool->forward(x_d->data(), y_d->data(), /*training=*/true);
    pool->backward(x_d->data(), y_d->data(), dy_d->data(), dx_d->data());
    EXPECT_LE(relative_error(to_host(y_d->data(), type, y_count), expected_y), tolerance(type));
    EXPECT_LE(relative_error(to_host(dx_d->data(), type, x_count), expected_dx), tolerance(type));
  }
};

TEST_P(GpuPoolingTest, MaxPoolingMatchesReference) {
  const auto [format, type] = GetParam();
  PoolingSpec spec;
  spec.input = {1, 4, 8, 8};
  spec.kind = PoolingKind::kMax;
  spec.kernel = 3;
  spec.stride = 2;
  spec.padding = 1;
  spec.dtype = type;
  spec.format = format;
  const Shape4 in = spec.input;
  const Shape4 out = spec.output();
  const auto x = distinct_values(in.elements());
  const auto dy = rounded(random_values(out.elements(), 22), type);

  std::vector<double> expected_y(out.elements()), expected_dx(in.elements());
  for (int64_t n = 0; n < out.n; ++n)
    for (int64_t c = 0; c < out.c; ++c)
      for (int64_t oh = 0; oh < out.h; ++oh)
        for (int64_t ow = 0; ow < out.w; ++ow) {
          int64_t best = -1;
          for (int64_t r = 0; r < spec.kernel; ++r)
            for (int64_t s = 0; s < spec.kernel; ++s) {
              const int64_t ih = oh * spec.stride - spec.padding + r;
              const int64_t iw = ow * spec.stride - spec.padding + s;
              if (ih < 0 || ih >= in.h || iw < 0 || iw >= in.w) continue;
              const int64_t i = offset_of(in, format, n, c, ih, iw);
              if (best < 0 || x[i] > x[best]) best = i;
            }
          const int64_t o = offset_of(out, format, n, c, oh, ow);
          expected_y[o] = x[best];
          expected_dx[best] += dy[o];
        }

  expect_matches(spec, x, dy, expected_y, expected_dx);
}

TEST_P(GpuPoolingTest, GlobalAveragePoolingMatchesReference) {
  const auto [format, type] = GetParam();
  PoolingSpec spec;
  spec.input = {2, 16, 7, 7};
  spec.kind = PoolingKind::kGlobalAverage;
  spec.dtype = type;
  spec.format = format;
  const Shape4 in = spec.input;
  const Shape4 out = spec.output();
  const auto x = rounded(random_values(in.elements(), 23), type);
  const auto dy = rounded(random_values(out.elements(), 24), type);

  const double area = static_cast<double>(in.h * in.w);
  std::vector<double> expected_y(out.elements()), expected_dx(in.elements());
  for (int64_t n = 0; n < in.n; ++n)
    for (int64_t c = 0; c < in.c; ++c) {
      const int64_t o = offset_of(out, format, n, c, 0, 0);
      for (int64_t h = 0; h < in.h; ++h)
        for (int64_t w = 0; w < in.w; ++w) {
          const int64_t i = offset_of(in, format, n, c, h, w);
          expected_y[o] += x[i] / area;
          expected_dx[i] = dy[o] / area;
        }
    }

  expect_matches(spec, x, dy, expected_y, expected_dx);
}

INSTANTIATE_TEST_SUITE_P(FormatsTypes, GpuPoolingTest, all_formats_and_types(),
                         format_and_type_name);

}  // namespace
}  // namespace kubetrain::testing

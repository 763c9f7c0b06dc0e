// cuDNN convolution against a naive double-precision convolution written here.

#include <gtest/gtest.h>

#include <string>
#include <tuple>
#include <vector>

#include "tests/gpu/gpu_test_support.h"

namespace kubetrain::testing {
namespace {

struct ConvolutionReference {
  std::vector<double> y, dx, dw;
};

// y = x * w (cross-correlation), dx and dw for the upstream gradient dy; all in `format`.
ConvolutionReference reference_convolution(const ConvolutionSpec& spec,
                                           const std::vector<float>& x,
                                           const std::vector<float>& w,
                                           const std::vector<float>& dy) {
  const Shape4 in = spec.input;
  const Shape4 out = spec.output();
  const Shape4 ws = spec.weight();
  const MemoryFormat f = spec.format;
  ConvolutionReference r{std::vector<double>(out.elements()), std::vector<double>(in.elements()),
                         std::vector<double>(ws.elements())};
  for (int64_t n = 0; n < out.n; ++n)
    for (int64_t k = 0; k < out.c; ++k)
      for (int64_t oh = 0; oh < out.h; ++oh)
        for (int64_t ow = 0; ow < out.w; ++ow) {
          const int64_t yi = offset_of(out, f, n, k, oh, ow);
          double sum = 0.0;
          for (int64_t c = 0; c < in.c; ++c)
            for (int64_t kr = 0; kr < spec.kernel; ++kr)
              for (int64_t ks = 0; ks < spec.kernel; ++ks) {
                const int64_t ih = oh * spec.stride - spec.padding + kr;
                const int64_t iw = ow * spec.stride - spec.padding + ks;
                if (ih < 0 || ih >= in.h || iw < 0 || iw >= in.w) continue;
                const int64_t xi = offset_of(in, f, n, c, ih, iw);
                const int64_t wi = offset_of(ws, f, k, c, kr, ks);
                sum += double{x[xi]} * w[wi];
                r.dx[xi] += double{dy[yi]} * w[wi];
                r.dw[wi] += double{dy[yi]} * x[xi];
              }
          r.y[yi] = sum;
        }
  return r;
}

using Params = std::tuple<MemoryFormat, DataType, int /*kernel*/, int /*stride*/>;

class GpuConvolutionTest : public GpuTest, public ::testing::WithParamInterface<Params> {};

TEST_P(GpuConvolutionTest, MatchesDoublePrecisionReference) {
  const auto [format, type, kernel, stride] = GetParam();
  ConvolutionSpec spec;
  spec.input = {2, 8, 9, 9};
  spec.out_channels = 16;
  spec.kernel = kernel;
  spec.stride = stride;
  spec.padding = kernel / 2;
  spec.dtype = type;
  spec.format = format;
  const int64_t x_count = spec.input.elements();
  const int64_t y_count = spec.output().elements();
  const int64_t w_count = spec.weight().elements();

  const auto x = rounded(random_values(x_count, 1), type);
  const auto w = rounded(random_values(w_count, 2), type);
  const auto dy = rounded(random_values(y_count, 3), type);
  const auto expected = reference_convolution(spec, x, w, dy);

  auto conv = backend_->make_convolution(spec);
  auto x_d = to_device(x, type);
  auto w_d = to_device(w, type);
  auto dy_d = to_device(dy, type);
  auto y_d = zeros(y_count, type);
  auto dx_d = zeros(x_count, type);
  auto dw_d = zeros(w_count, DataType::kFloat32);
  conv->forward(x_d->data(), w_d->data(), y_d->data());
  conv->backward_data(dy_d->data(), w_d->data(), dx_d->data());
  conv->backward_weights(x_d->data(), dy_d->data(), dw_d->as<float>());

  EXPECT_LE(relative_error(to_host(y_d->data(), type, y_count), expected.y), tolerance(type));
  EXPECT_LE(relative_error(to_host(dx_d->data(), type, x_count), expected.dx), tolerance(type));
  EXPECT_LE(relative_error(to_host(dw_d->data(), DataType::kFloat32, w_count), expected.dw),
            tolerance(type));
}

INSTANTIATE_TEST_SUITE_P(
    FormatsTypesShapes, GpuConvolutionTest,
    ::testing::Combine(::testing::Values(MemoryFormat::kChannelsLast, MemoryFormat::kChannelsFirst),
                       ::testing::Values(DataType::kFloat32, DataType::kFloat16,
                                         DataType::kBFloat16),
                       ::testing::Values(1, 3), ::testing::Values(1, 2)),
    [](const auto& info) {
      return std::string(to_string(std::get<0>(info.param))) + "_" +
             std::string(to_string(std::get<1>(info.param))) + "_k" +
             std::to_string(std::get<2>(info.param)) + "_s" +
             std::to_string(std::get<3>(info.param));
    });

}  // namespace
}  // namespace kubetrain::testing

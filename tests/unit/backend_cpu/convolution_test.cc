#include <gtest/gtest.h>

#include <string>

#include "tests/unit/backend_cpu/gradient_check.h"
#include "tests/unit/backend_cpu/reference_ops.h"

namespace kubetrain::testing {
namespace {

struct ConvCase {
  Shape4 input;
  int64_t out_channels;
  int kernel, stride, padding;
};

class ConvolutionTest : public ::testing::TestWithParam<std::tuple<ConvCase, MemoryFormat>> {
 protected:
  ConvolutionSpec spec() const {
    const auto& [c, format] = GetParam();
    ConvolutionSpec spec{c.input, c.out_channels, c.kernel, c.stride, c.padding};
    spec.format = format;
    return spec;
  }
};

TEST_P(ConvolutionTest, ForwardAndBothGradientsMatchDoubleReference) {
  const ConvolutionSpec s = spec();
  std::vector<double> x = random_normal(s.input.elements(), 1);
  std::vector<double> w = random_normal(s.weight().elements(), 2, 0.3);
  const std::vector<double> dy = random_normal(s.output().elements(), 3);
  auto conv = cpu_backend().make_convolution(s);

  DeviceTensor x_device(x), w_device(w), y_device(s.output().elements());
  conv->forward(x_device.data(), w_device.data(), y_device.data());
  EXPECT_LT(relative_error(y_device.values(), conv_forward(s, x, w)), 1e-5);

  // Gradients of sum(dy * conv(x, w)); the output buffers start dirty to prove they are
  // overwritten.
  DeviceTensor dy_device(dy);
  DeviceTensor dx_device(std::vector<double>(x.size(), 7.0));
  DeviceTensor dw_device(std::vector<double>(w.size(), 7.0));
  conv->backward_data(dy_device.data(), w_device.data(), dx_device.data());
  conv->backward_weights(x_device.data(), dy_device.data(), dw_device.data());

  auto objective = [&] { return dot(dy, conv_forward(s, x, w)); };
  const auto x_probes = probe_indices(static_cast<int64_t>(x.size()));
  EXPECT_LT(relative_error(gather(dx_device.values(), x_probes),
                           numeric_gradient(objective, x, x_probes)),
            1e-4);
  const auto w_probes = probe_indices(static_cast<int64_t>(w.size()));
  EXPECT_LT(relative_error(gather(dw_device.values(), w_probes),
                           numeric_gradient(objective, w, w_probes)),
            1e-4);
}

// Odd channel counts, stride 2, padding, 1x1, 3x3 and the 7x7 stem; the 16-channel cases take
// oneDNN's jit kernels with blocked weights.
const ConvCase kCases[] = {
    {{2, 3, 7, 7}, 4, 3, 1, 1},   {{2, 5, 9, 8}, 6, 3, 2, 1},   {{3, 8, 6, 6}, 16, 1, 1, 0},
    {{2, 16, 7, 7}, 8, 1, 2, 0},  {{2, 3, 11, 11}, 8, 7, 2, 3}, {{2, 16, 8, 8}, 16, 3, 1, 1},
    {{2, 16, 9, 9}, 32, 3, 2, 1},
};

std::string case_name(const ::testing::TestParamInfo<ConvolutionTest::ParamType>& info) {
  const auto& [c, format] = info.param;
  return std::string(format == MemoryFormat::kChannelsLast ? "nhwc" : "nchw") + "_n" +
         std::to_string(c.input.n) + "c" + std::to_string(c.input.c) + "h" +
         std::to_string(c.input.h) + "w" + std::to_string(c.input.w) + "_k" +
         std::to_string(c.out_channels) + "r" + std::to_string(c.kernel) + "s" +
         std::to_string(c.stride) + "p" + std::to_string(c.padding);
}

INSTANTIATE_TEST_SUITE_P(Shapes, ConvolutionTest,
                         ::testing::Combine(::testing::ValuesIn(kCases),
                                            ::testing::Values(MemoryFormat::kChannelsLast,
                                                              MemoryFormat::kChannelsFirst)),
                         case_name);

TEST(ConvolutionSpecTest, RejectsBadSpecsWithTheFieldName) {
  ConvolutionSpec spec{{2, 3, 4, 4}, 8, 3, 0, 1};
  EXPECT_THROW(
      {
        try {
          cpu_backend().make_convolution(spec);
        } catch (const std::invalid_argument& e) {
          EXPECT_NE(std::string(e.what()).find("stride"), std::string::npos) << e.what();
          throw;
        }
      },
      std::invalid_argument);
  spec = {{2, 3, 2, 2}, 8, 7, 1, 0};
  EXPECT_THROW(cpu_backend().make_convolution(spec), std::invalid_argument);
  spec = {{2, 3, 8, 8}, 8, 3, 1, 1};
  spec.dtype = DataType::kFloat16;
  EXPECT_THROW(cpu_backend().make_convolution(spec), std::invalid_argument);
}

}  // namespace
}  // namespace kubetrain::testing

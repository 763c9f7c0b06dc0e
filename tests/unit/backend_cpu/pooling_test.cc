#include <gtest/gtest.h>

#include <string>

#include "tests/unit/backend_cpu/gradient_check.h"
#include "tests/unit/backend_cpu/reference_ops.h"

namespace kubetrain::testing {
namespace {

class PoolingTest : public ::testing::TestWithParam<std::tuple<PoolingSpec, MemoryFormat>> {
 protected:
  PoolingSpec spec() const {
    PoolingSpec spec = std::get<0>(GetParam());
    spec.format = std::get<1>(GetParam());
    return spec;
  }
};

TEST_P(PoolingTest, ForwardAndBackwardMatchDoubleReference) {
  const PoolingSpec s = spec();
  std::vector<double> x = random_normal(s.input.elements(), 21);
  const std::vector<double> dy = random_normal(s.output().elements(), 22);
  auto pool = cpu_backend().make_pooling(s);
  const std::vector<double> expected = pooling_forward(s, x);

  DeviceTensor x_d(x), y_d(s.output().elements());
  pool->forward(x_d.data(), y_d.data(), /*training=*/false);
  EXPECT_LT(relative_error(y_d.values(), expected), 1e-6);
  pool->forward(x_d.data(), y_d.data(), /*training=*/true);
  EXPECT_LT(relative_error(y_d.values(), expected), 1e-6);

  DeviceTensor dy_d(dy), dx_d(std::vector<double>(x.size(), 7.0));
  pool->backward(x_d.data(), y_d.data(), dy_d.data(), dx_d.data());
  auto objective = [&] { return dot(dy, pooling_forward(s, x)); };
  const auto probes = probe_indices(static_cast<int64_t>(x.size()));
  EXPECT_LT(relative_error(gather(dx_d.values(), probes), numeric_gradient(objective, x, probes)),
            1e-4);
}

PoolingSpec max_pool(Shape4 input, int kernel, int stride, int padding) {
  PoolingSpec spec;
  spec.input = input;
  spec.kernel = kernel;
  spec.stride = stride;
  spec.padding = padding;
  return spec;
}

PoolingSpec global_average(Shape4 input) {
  PoolingSpec spec;
  spec.input = input;
  spec.kind = PoolingKind::kGlobalAverage;
  return spec;
}

const PoolingSpec kCases[] = {
    max_pool({2, 3, 9, 9}, 3, 2, 1),   // the ResNet stem's pooling, odd size
    max_pool({2, 16, 8, 7}, 3, 2, 1),  // blocked-friendly channels, non-square
    max_pool({3, 5, 6, 6}, 2, 2, 0),  global_average({2, 3, 5, 5}), global_average({3, 16, 4, 4}),
};

std::string case_name(const ::testing::TestParamInfo<PoolingTest::ParamType>& info) {
  const auto& [s, format] = info.param;
  return std::string(format == MemoryFormat::kChannelsLast ? "nhwc" : "nchw") +
         (s.kind == PoolingKind::kMax
              ? "_max_k" + std::to_string(s.kernel) + "s" + std::to_string(s.stride) + "p" +
                    std::to_string(s.padding)
              : std::string("_global_average")) +
         "_c" + std::to_string(s.input.c) + "h" + std::to_string(s.input.h) + "w" +
         std::to_string(s.input.w);
}

INSTANTIATE_TEST_SUITE_P(Shapes, PoolingTest,
                         ::testing::Combine(::testing::ValuesIn(kCases),
                                            ::testing::Values(MemoryFormat::kChannelsLast,
                                                              MemoryFormat::kChannelsFirst)),
                         case_name);

TEST(PoolingSpecTest, RejectsAKernelLargerThanTheInput) {
  EXPECT_THROW(cpu_backend().make_pooling(max_pool({1, 1, 2, 2}, 5, 1, 0)), std::invalid_argument);
  EXPECT_THROW(cpu_backend().make_pooling(max_pool({1, 1, 8, 8}, 3, 0, 1)), std::invalid_argument);
}

}  // namespace
}  // namespace kubetrain::testing

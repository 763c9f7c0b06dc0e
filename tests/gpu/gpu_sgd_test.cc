// The single-launch SGD update over a segment table against PyTorch's torch.optim.SGD rule,
// evaluated here in double precision.

#include <gtest/gtest.h>

#include <vector>

#include "tests/gpu/gpu_test_support.h"

namespace kubetrain::testing {
namespace {

class GpuSgdTest : public GpuTest, public ::testing::WithParamInterface<bool /*nesterov*/> {};

TEST_P(GpuSgdTest, TwoStepsMatchReference) {
  // Segments of uneven sizes (one spans several blocks of the kernel), one without weight decay,
  // a gap that must stay untouched, and an empty one.
  const std::vector<ParameterSegment> segments = {
      {0, 10000, true}, {10000, 37, false}, {10100, 0, true}, {10100, 5000, true}};
  const int64_t total = 15100;
  const SgdHyperparameters hyper{.learning_rate = 0.05f,
                                 .momentum = 0.9f,
                                 .weight_decay = 1e-2f,
                                 .nesterov = GetParam(),
                                 .gradient_scale = 0.25f};
  auto weights = random_values(total, 51);
  const auto gradients = random_values(total, 52);
  std::vector<double> w(weights.begin(), weights.end()), m(total, 0.0);

  auto w_d = to_device(weights, DataType::kFloat32);
  auto g_d = to_device(gradients, DataType::kFloat32);
  auto m_d = zeros(total, DataType::kFloat32);
  for (int step = 0; step < 2; ++step) {
    backend_->sgd_update(segments, w_d->as<float>(), g_d->as<float>(), m_d->as<float>(), hyper);
    for (const auto& segment : segments) {
      for (int64_t i = segment.offset; i < segment.offset + segment.count; ++i) {
        const double g =
            gradients[i] * double{hyper.gradient_scale} +
            (segment.weight_decay ? double{hyper.weight_decay} * w[i] : 0.0);
        m[i] = hyper.momentum * m[i] + g;
        w[i] -= hyper.learning_rate * (hyper.nesterov ? g + hyper.momentum * m[i] : m[i]);
      }
    }
  }
  EXPECT_LE(relative_error(to_host(w_d->data(), DataType::kFloat32, total), w), 1e-6);
  EXPECT_LE(relative_error(to_host(m_d->data(), DataType::kFloat32, total), m), 1e-6);
}

INSTANTIATE_TEST_SUITE_P(Momentum, GpuSgdTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "nesterov" : "plain"; });

}  // namespace
}  // namespace kubetrain::testing

#include <gtest/gtest.h>

#include <vector>

#include "tests/unit/backend_cpu/gradient_check.h"

namespace kubetrain::testing {
namespace {

// torch.optim.SGD (dampening 0) step by step in double, written out from its documentation.
void reference_step(const std::vector<ParameterSegment>& segments, std::vector<double>& w,
                    const std::vector<double>& grad, std::vector<double>& m,
                    const SgdHyperparameters& h) {
  for (const auto& segment : segments) {
    for (int64_t i = segment.offset; i < segment.offset + segment.count; ++i) {
      double g = grad[i] * h.gradient_scale;
      if (segment.weight_decay) g += h.weight_decay * w[i];
      m[i] = h.momentum * m[i] + g;
      w[i] -= h.learning_rate * (h.nesterov ? g + h.momentum * m[i] : m[i]);
    }
  }
}

class SgdTest : public ::testing::TestWithParam<bool> {};

TEST_P(SgdTest, ThreeStepsMatchTorchSemanticsAndLeaveGapsAlone) {
  const SgdHyperparameters hyper{0.1f, 0.9f, 0.01f, GetParam(), 0.5f};
  // A gap [9, 12) that no segment covers, decay on the first and last segment only; the last
  // segment is long enough to take the multi-threaded path.
  const int64_t size = 12 + 70000;
  const std::vector<ParameterSegment> segments{{0, 5, true}, {5, 4, false}, {12, 70000, true}};
  std::vector<double> w = random_normal(size, 51), m(size, 0.0);
  DeviceTensor w_d(w), m_d(m);
  for (int step = 0; step < 3; ++step) {
    const std::vector<double> grad = random_normal(size, 52 + step);
    DeviceTensor grad_d(grad);
    cpu_backend().sgd_update(segments, w_d.data(), grad_d.data(), m_d.data(), hyper);
    reference_step(segments, w, grad, m, hyper);
  }
  EXPECT_LT(relative_error(w_d.values(), w), 1e-6);
  EXPECT_LT(relative_error(m_d.values(), m), 1e-6);
}

INSTANTIATE_TEST_SUITE_P(Nesterov, SgdTest, ::testing::Bool());

TEST(SgdHandComputedTest, OneElementByHand) {
  // w = 2, grad = 4 * scale 0.5 = 2, decay 0.1 * 2 = 0.2 -> g = 2.2; m = 0.9 * 1 + 2.2 = 3.1;
  // plain: w = 2 - 0.5 * 3.1 = 0.45; nesterov: w = 2 - 0.5 * (2.2 + 0.9 * 3.1) = -0.495.
  for (const bool nesterov : {false, true}) {
    DeviceTensor w(std::vector<double>{2.0}), grad(std::vector<double>{4.0});
    DeviceTensor m(std::vector<double>{1.0});
    const ParameterSegment segment{0, 1, true};
    cpu_backend().sgd_update({&segment, 1}, w.data(), grad.data(), m.data(),
                             {0.5f, 0.9f, 0.1f, nesterov, 0.5f});
    EXPECT_NEAR(w.values()[0], nesterov ? -0.495 : 0.45, 1e-6);
    EXPECT_NEAR(m.values()[0], 3.1, 1e-6);
  }
}

}  // namespace
}  // namespace kubetrain::testing

#include <gtest/gtest.h>

#include <cmath>

#include "tests/unit/backend_cpu/gradient_check.h"
#include "tests/unit/backend_cpu/reference_ops.h"

namespace kubetrain::testing {
namespace {

struct LossCase {
  int64_t batch, classes;
  float smoothing, gradient_scale;
};

class SoftmaxCrossEntropyTest : public ::testing::TestWithParam<LossCase> {};

TEST_P(SoftmaxCrossEntropyTest, LossAndGradientMatchDoubleReference) {
  const LossCase c = GetParam();
  SoftmaxCrossEntropySpec spec;
  spec.batch = c.batch;
  spec.classes = c.classes;
  spec.label_smoothing = c.smoothing;
  std::vector<double> logits = random_normal(c.batch * c.classes, 41, 3.0);
  logits[0] += 60;  // a large logit: the loss must subtract the maximum before exponentiating
  std::vector<int32_t> labels;
  for (int64_t n = 0; n < c.batch; ++n)
    labels.push_back(static_cast<int32_t>((n * 7 + 3) % c.classes));
  auto loss_op = cpu_backend().make_softmax_cross_entropy(spec);

  DeviceTensor logits_d(logits), d_logits_d(logits.size()), loss_d(1);
  auto labels_buffer = cpu_backend().allocate(labels.size() * sizeof(int32_t));
  cpu_backend().upload(labels.data(), labels_buffer->data(), labels.size() * sizeof(int32_t));
  loss_op->forward_backward(logits_d.data(), labels_buffer->as<int32_t>(), d_logits_d.data(),
                            c.gradient_scale, loss_d.data());

  const double expected = softmax_cross_entropy(spec, logits, labels);
  EXPECT_NEAR(loss_d.values()[0], expected, 1e-5 * std::abs(expected));
  auto objective = [&] { return c.gradient_scale * softmax_cross_entropy(spec, logits, labels); };
  const auto probes = probe_indices(static_cast<int64_t>(logits.size()), 1000);
  EXPECT_LT(relative_error(gather(d_logits_d.values(), probes),
                           numeric_gradient(objective, logits, probes)),
            1e-4);
}

INSTANTIATE_TEST_SUITE_P(Cases, SoftmaxCrossEntropyTest,
                         ::testing::Values(LossCase{5, 10, 0.0f, 1.0f}, LossCase{5, 10, 0.1f, 1.0f},
                                           LossCase{8, 7, 0.1f, 1024.0f / 2},
                                           LossCase{3, 1000, 0.2f, 0.25f}));

TEST(SoftmaxCrossEntropyLabelsTest, ALabelOutsideTheClassesIsAnError) {
  SoftmaxCrossEntropySpec spec;
  spec.batch = 2;
  spec.classes = 3;
  auto loss_op = cpu_backend().make_softmax_cross_entropy(spec);
  DeviceTensor logits(6), d_logits(6), loss(1);
  const int32_t labels[] = {0, 3};
  EXPECT_THROW(loss_op->forward_backward(logits.data(), labels, d_logits.data(), 1.0f, loss.data()),
               std::out_of_range);
  spec.label_smoothing = 1.0f;
  EXPECT_THROW(cpu_backend().make_softmax_cross_entropy(spec), std::invalid_argument);
}

}  // namespace
}  // namespace kubetrain::testing

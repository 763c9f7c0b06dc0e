// Softmax cross-entropy with label smoothing against a double-precision implementation of
// PyTorch's CrossEntropyLoss(label_smoothing=..., reduction="mean") written here.

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "tests/gpu/gpu_test_support.h"

namespace kubetrain::testing {
namespace {

class GpuSoftmaxCrossEntropyTest : public GpuTest,
                                   public ::testing::WithParamInterface<DataType> {};

TEST_P(GpuSoftmaxCrossEntropyTest, LossAndScaledGradientMatchReference) {
  const DataType type = GetParam();
  const SoftmaxCrossEntropySpec spec{
      .batch = 5, .classes = 1000, .label_smoothing = 0.1f, .dtype = type};
  const int64_t n = spec.batch, classes = spec.classes;
  const float gradient_scale = 128.0f;
  const auto logits = rounded(random_values(n * classes, 41, -4.0f, 4.0f), type);
  const std::vector<int32_t> labels = {0, 999, 17, 500, 17};

  double expected_loss = 0.0;
  std::vector<double> expected_grad(n * classes);
  const double eps = spec.label_smoothing;
  for (int64_t i = 0; i < n; ++i) {
    const float* row = &logits[i * classes];
    double max = row[0];
    for (int64_t j = 1; j < classes; ++j) max = std::max(max, double{row[j]});
    double sum = 0.0;
    for (int64_t j = 0; j < classes; ++j) sum += std::exp(row[j] - max);
    const double log_sum = max + std::log(sum);
    double smooth = 0.0;
    for (int64_t j = 0; j < classes; ++j) {
      const double log_p = row[j] - log_sum;
      smooth += -log_p / classes;
      const double target = (j == labels[i] ? 1.0 - eps : 0.0) + eps / classes;
      expected_grad[i * classes + j] = (std::exp(log_p) - target) / n * gradient_scale;
    }
    expected_loss += ((1.0 - eps) * -(row[labels[i]] - log_sum) + eps * smooth) / n;
  }

  auto op = backend_->make_softmax_cross_entropy(spec);
  auto logits_d = to_device(logits, type);
  auto labels_d = backend_->allocate(labels.size() * sizeof(int32_t));
  backend_->upload(labels.data(), labels_d->data(), labels.size() * sizeof(int32_t));
  auto grad_d = zeros(n * classes, type);
  auto loss_d = zeros(1, DataType::kFloat32);
  op->forward_backward(logits_d->data(), labels_d->as<int32_t>(), grad_d->data(), gradient_scale,
                       loss_d->as<float>());

  EXPECT_LE(relative_error(to_host(loss_d->data(), DataType::kFloat32, 1), {expected_loss}),
            tolerance(DataType::kFloat32));
  EXPECT_LE(relative_error(to_host(grad_d->data(), type, n * classes), expected_grad),
            tolerance(type));
}

TEST_P(GpuSoftmaxCrossEntropyTest, LabelOutOfRangeGivesNanLoss) {
  const DataType type = GetParam();
  const SoftmaxCrossEntropySpec spec{.batch = 2, .classes = 10, .dtype = type};
  auto op = backend_->make_softmax_cross_entropy(spec);
  auto logits_d = to_device(random_values(20, 42), type);
  const std::vector<int32_t> labels = {3, 10};
  auto labels_d = backend_->allocate(labels.size() * sizeof(int32_t));
  backend_->upload(labels.data(), labels_d->data(), labels.size() * sizeof(int32_t));
  auto grad_d = zeros(20, type);
  auto loss_d = zeros(1, DataType::kFloat32);
  op->forward_backward(logits_d->data(), labels_d->as<int32_t>(), grad_d->data(), 1.0f,
                       loss_d->as<float>());
  EXPECT_TRUE(std::isnan(to_host(loss_d->data(), DataType::kFloat32, 1)[0]));
}

INSTANTIATE_TEST_SUITE_P(Types, GpuSoftmaxCrossEntropyTest, all_types(), type_name);

}  // namespace
}  // namespace kubetrain::testing

#include "worker/backends/cpu/cpu_softmax_cross_entropy.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "worker/backends/cpu/fp32_only.h"

namespace kubetrain {
namespace {

void validate(const SoftmaxCrossEntropySpec& spec) {
  require_fp32(spec.dtype, "softmax cross-entropy");
  if (spec.batch < 1 || spec.classes < 2) {
    throw std::invalid_argument("softmax cross-entropy: need batch >= 1 and classes >= 2, got " +
                                std::to_string(spec.batch) + " and " +
                                std::to_string(spec.classes));
  }
  if (!(spec.label_smoothing >= 0 && spec.label_smoothing < 1)) {
    throw std::invalid_argument("softmax cross-entropy: labelSmoothing must be in [0, 1), got " +
                                std::to_string(spec.label_smoothing));
  }
}

// PyTorch's CrossEntropyLoss(label_smoothing=s): the target is (1 - s) * onehot + s / classes,
// the loss the batch mean of -sum(target * log_softmax(logits)).
class CpuSoftmaxCrossEntropy final : public SoftmaxCrossEntropy {
 public:
  explicit CpuSoftmaxCrossEntropy(const SoftmaxCrossEntropySpec& spec) : spec_(spec) {}

  void forward_backward(const void* logits_data, const int32_t* labels, void* d_logits_data,
                        float gradient_scale, float* loss) override {
    const int64_t batch = spec_.batch;
    const int64_t classes = spec_.classes;
    for (int64_t i = 0; i < batch; ++i) {
      if (labels[i] < 0 || labels[i] >= classes) {
        throw std::out_of_range("softmax cross-entropy: label " + std::to_string(labels[i]) +
                                " of example " + std::to_string(i) + " is outside [0, " +
                                std::to_string(classes) + ")");
      }
    }
    const auto* logits = static_cast<const float*>(logits_data);
    auto* d_logits = static_cast<float*>(d_logits_data);
    const float smooth = spec_.label_smoothing / static_cast<float>(classes);
    const float on_target = 1.0f - spec_.label_smoothing + smooth;
    const float step = gradient_scale / static_cast<float>(batch);
    double total = 0;

#pragma omp parallel for reduction(+ : total) if (batch * classes > 65536)
    for (int64_t i = 0; i < batch; ++i) {
      const float* z = logits + i * classes;
      float* dz = d_logits + i * classes;
      const float max = *std::max_element(z, z + classes);
      double sum_exp = 0;
      double sum_logits = 0;
      for (int64_t j = 0; j < classes; ++j) {
        sum_exp += std::exp(static_cast<double>(z[j] - max));
        sum_logits += z[j];
      }
      const double log_sum_exp = max + std::log(sum_exp);
      const int32_t label = labels[i];
      // -sum_j target_j * (z_j - lse) with sum_j target_j = 1.
      total += log_sum_exp - (on_target - smooth) * z[label] - smooth * sum_logits;
      const float inv_sum = static_cast<float>(1.0 / sum_exp);
      for (int64_t j = 0; j < classes; ++j) {
        dz[j] = (std::exp(z[j] - max) * inv_sum - smooth) * step;
      }
      dz[label] -= (on_target - smooth) * step;
    }
    *loss = static_cast<float>(total / static_cast<double>(batch));
  }

 private:
  SoftmaxCrossEntropySpec spec_;
};

}  // namespace

std::unique_ptr<SoftmaxCrossEntropy> make_cpu_softmax_cross_entropy(
    const SoftmaxCrossEntropySpec& spec) {
  validate(spec);
  return std::make_unique<CpuSoftmaxCrossEntropy>(spec);
}

}  // namespace kubetrain

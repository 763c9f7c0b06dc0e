#pragma once

// Naive double-precision forward passes that the CPU backend is checked against. Tensors are flat
// vectors in the layout the operator uses (worker/backend/tensor.h's offset_of).

#include <cstdint>
#include <vector>

#include "worker/backend/operators.h"

namespace kubetrain::testing {

std::vector<double> conv_forward(const ConvolutionSpec& spec, const std::vector<double>& x,
                                 const std::vector<double>& w);

struct BatchNormResult {
  std::vector<double> y;
  std::vector<double> mean;      // per channel
  std::vector<double> variance;  // biased, per channel
};

// Training mode: normalizes with the batch statistics.
BatchNormResult batch_norm_training(const BatchNormSpec& spec, const std::vector<double>& x,
                                    const std::vector<double>& residual,
                                    const std::vector<double>& gamma,
                                    const std::vector<double>& beta);
// Inference mode: normalizes with the given statistics.
std::vector<double> batch_norm_inference(const BatchNormSpec& spec, const std::vector<double>& x,
                                         const std::vector<double>& residual,
                                         const std::vector<double>& gamma,
                                         const std::vector<double>& beta,
                                         const std::vector<double>& mean,
                                         const std::vector<double>& variance);

std::vector<double> pooling_forward(const PoolingSpec& spec, const std::vector<double>& x);

// y[N, out] = x w^T + b.
std::vector<double> linear_forward(const LinearSpec& spec, const std::vector<double>& x,
                                   const std::vector<double>& w, const std::vector<double>& b);

// Mean over the batch of -sum_j target_j * log_softmax(logits)_j, with PyTorch's label smoothing.
double softmax_cross_entropy(const SoftmaxCrossEntropySpec& spec, const std::vector<double>& logits,
                             const std::vector<int32_t>& labels);

}  // namespace kubetrain::testing

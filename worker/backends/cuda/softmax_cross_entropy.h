#pragma once

#include <memory>

#include "worker/backend/operators.h"
#include "worker/backends/cuda/cuda_context.h"

namespace kubetrain::cuda {

// Softmax cross-entropy with label smoothing, PyTorch's CrossEntropyLoss(label_smoothing) with
// mean reduction, computed in fp32 whatever the logits' type. A label outside [0, classes)
// makes the loss and that row's gradient NaN, so the error cannot pass unnoticed.
std::unique_ptr<SoftmaxCrossEntropy> make_cuda_softmax_cross_entropy(
    CudaContext& context, const SoftmaxCrossEntropySpec& spec);

}  // namespace kubetrain::cuda

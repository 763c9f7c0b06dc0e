#pragma once

#include <memory>

#include "worker/backend/operators.h"
#include "worker/backends/cuda/cuda_context.h"

namespace kubetrain::cuda {

// cuDNN batch normalization (spatial-persistent for channels-last). When created, the operator
// tries, fastest first, cuDNN's fused BN + add + ReLU (channels-last fp16), plain cuDNN batch norm
// followed by our add/ReLU kernel, and last plain batch norm computed in fp32 on staged copies
// of 16-bit tensors; it keeps the first that cuDNN runs on a trial pass. The operator keeps
// cuDNN's reserve space between forward_training and backward, so each layer needs its own.
std::unique_ptr<BatchNorm> make_cudnn_batch_norm(CudaContext& context, const BatchNormSpec& spec);

}  // namespace kubetrain::cuda

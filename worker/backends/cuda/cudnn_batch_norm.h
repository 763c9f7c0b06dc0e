#pragma once

#include <memory>

#include "worker/backend/operators.h"
#include "worker/backends/cuda/cuda_context.h"

namespace kubetrain::cuda {

// cuDNN batch normalization (spatial-persistent for channels-last). The residual add and ReLU
// run inside cuDNN where it supports them (channels-last fp16 with channels a multiple of 4),
// else in our own kernels around plain cuDNN batch norm. The operator keeps cuDNN's reserve
// space between forward_training and backward, so each layer needs an operator of its own.
std::unique_ptr<BatchNorm> make_cudnn_batch_norm(CudaContext& context, const BatchNormSpec& spec);

}  // namespace kubetrain::cuda

#pragma once

#include <memory>

#include "worker/backend/operators.h"
#include "worker/backends/cuda/cuda_context.h"

namespace kubetrain::cuda {

// cuDNN max pooling, and global average pooling as a cuDNN average pool over the whole plane.
// When cuDNN does not run the spec's 16-bit type, pooling runs in fp32 on staged copies.
std::unique_ptr<Pooling> make_cudnn_pooling(CudaContext& context, const PoolingSpec& spec);

}  // namespace kubetrain::cuda

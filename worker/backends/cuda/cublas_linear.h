#pragma once

#include <memory>

#include "worker/backend/operators.h"
#include "worker/backends/cuda/cuda_context.h"

namespace kubetrain::cuda {

// nn.Linear through cublasGemmEx with fp32 accumulation (TF32 for fp32 data only when the
// backend allows it); the weight gradient is written in fp32 directly.
std::unique_ptr<Linear> make_cublas_linear(CudaContext& context, const LinearSpec& spec);

}  // namespace kubetrain::cuda

#pragma once

#include <memory>

#include "worker/backend/backend.h"

namespace kubetrain {

// The CUDA backend on GPU `device`: cuDNN, cuBLAS, NCCL and a few kernels of our own, all on one
// compute stream. With `allow_tf32` fp32 convolutions and matrix products may use TF32 tensor
// cores (faster, ~1e-3 relative error); without it fp32 is exact IEEE arithmetic.
// Throws std::runtime_error with the reason when the device cannot be used. Operators and
// reducers it makes refer to it and must be destroyed before it.
std::unique_ptr<Backend> make_cuda_backend(int device, bool allow_tf32 = false);

// Number of usable CUDA devices; 0 when there is no driver or no device (never throws).
int cuda_device_count();

}  // namespace kubetrain

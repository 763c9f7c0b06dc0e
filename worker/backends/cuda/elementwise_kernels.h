#pragma once

// Launchers for the element-wise kernels no CUDA library provides. All are asynchronous on
// `stream`; counts are in elements.

#include <cstdint>

#include <cuda_runtime_api.h>

#include "worker/backend/tensor.h"

namespace kubetrain::cuda {

void launch_cast(DataType from, const void* x, DataType to, void* y, int64_t count,
                 cudaStream_t stream);
// y += x
void launch_add_inplace(DataType type, const void* x, void* y, int64_t count, cudaStream_t stream);
// y = max(y + residual, 0) with either part optional (residual may be null, relu false).
void launch_add_relu(DataType type, const void* residual, bool relu, void* y, int64_t count,
                     cudaStream_t stream);
// dy = y > 0 ? dy : 0 (the ReLU backward from the ReLU's output).
void launch_relu_backward(DataType type, const void* y, void* dy, int64_t count,
                          cudaStream_t stream);
// Philox counter-based normal values: element i depends only on (seed, i).
void launch_fill_normal(DataType type, void* y, int64_t count, float mean, float stddev,
                        uint64_t seed, cudaStream_t stream);
// Sets *flag to 1 when any of the values is inf or NaN (leaves it alone otherwise).
void launch_find_non_finite(const float* x, int64_t count, int* flag, cudaStream_t stream);
// y[row, col] = bias[col] for a row-major [rows, cols] matrix in `type`.
void launch_broadcast_rows(DataType type, const float* bias, void* y, int64_t rows, int64_t cols,
                           cudaStream_t stream);

}  // namespace kubetrain::cuda

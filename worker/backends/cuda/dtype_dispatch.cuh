#pragma once

// Maps our DataType to the CUDA element type inside kernels; all arithmetic happens in fp32.

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <stdexcept>

#include "worker/backend/tensor.h"

namespace kubetrain::cuda {

__device__ __forceinline__ float to_float(float v) { return v; }
__device__ __forceinline__ float to_float(__half v) { return __half2float(v); }
__device__ __forceinline__ float to_float(__nv_bfloat16 v) { return __bfloat162float(v); }

template <typename T>
__device__ __forceinline__ T from_float(float v);
template <>
__device__ __forceinline__ float from_float<float>(float v) { return v; }
template <>
__device__ __forceinline__ __half from_float<__half>(float v) { return __float2half_rn(v); }
template <>
__device__ __forceinline__ __nv_bfloat16 from_float<__nv_bfloat16>(float v) {
  return __float2bfloat16_rn(v);
}

// Calls f(T{}) with T the element type of `type`.
template <typename F>
void dispatch_type(DataType type, F&& f) {
  switch (type) {
    case DataType::kFloat32: f(float{}); return;
    case DataType::kFloat16: f(__half{}); return;
    case DataType::kBFloat16: f(__nv_bfloat16{}); return;
  }
  throw std::invalid_argument("unknown DataType");
}

// Enough blocks of `threads` to cover `count` items, capped so a grid-stride loop does the rest.
inline unsigned grid_for(int64_t count, int threads) {
  const int64_t blocks = (count + threads - 1) / threads;
  return static_cast<unsigned>(blocks < 65535 * 8 ? (blocks > 0 ? blocks : 1) : 65535 * 8);
}

}  // namespace kubetrain::cuda

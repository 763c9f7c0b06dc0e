#include "worker/backends/cuda/elementwise_kernels.h"

#include <curand_kernel.h>

#include "worker/backends/cuda/cuda_check.h"
#include "worker/backends/cuda/dtype_dispatch.cuh"

namespace kubetrain::cuda {
namespace {

constexpr int kThreads = 256;

template <typename From, typename To>
__global__ void cast_kernel(const From* x, To* y, int64_t count) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < count;
       i += int64_t{gridDim.x} * blockDim.x) {
    y[i] = from_float<To>(to_float(x[i]));
  }
}

template <typename T>
__global__ void add_inplace_kernel(const T* x, T* y, int64_t count) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < count;
       i += int64_t{gridDim.x} * blockDim.x) {
    y[i] = from_float<T>(to_float(y[i]) + to_float(x[i]));
  }
}

template <typename T>
__global__ void add_relu_kernel(const T* residual, bool relu, T* y, int64_t count) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < count;
       i += int64_t{gridDim.x} * blockDim.x) {
    float v = to_float(y[i]);
    if (residual != nullptr) v += to_float(residual[i]);
    // fmaxf would turn NaN into 0 and hide a diverging run from the loss-scale check.
    if (relu && v < 0.0f) v = 0.0f;
    y[i] = from_float<T>(v);
  }
}

template <typename T>
__global__ void relu_backward_kernel(const T* y, T* dy, int64_t count) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < count;
       i += int64_t{gridDim.x} * blockDim.x) {
    if (!(to_float(y[i]) > 0.0f)) dy[i] = from_float<T>(0.0f);
  }
}

// Each thread owns four consecutive elements: Philox subsequence = element index / 4, so the
// values depend on (seed, index) only, never on the launch configuration.
template <typename T>
__global__ void fill_normal_kernel(T* y, int64_t count, float mean, float stddev, uint64_t seed) {
  const int64_t quads = (count + 3) / 4;
  for (int64_t q = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; q < quads;
       q += int64_t{gridDim.x} * blockDim.x) {
    curandStatePhilox4_32_10_t state;
    curand_init(seed, static_cast<unsigned long long>(q), 0, &state);
    const float4 v = curand_normal4(&state);
    const float values[4] = {v.x, v.y, v.z, v.w};
    for (int k = 0; k < 4; ++k) {
      const int64_t i = q * 4 + k;
      if (i < count) y[i] = from_float<T>(mean + stddev * values[k]);
    }
  }
}

__global__ void find_non_finite_kernel(const float* x, int64_t count, int* flag) {
  bool bad = false;
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < count;
       i += int64_t{gridDim.x} * blockDim.x) {
    bad |= !isfinite(x[i]);
  }
  // Every writer stores the same value, so the race is harmless.
  if (bad) *flag = 1;
}

template <typename T>
__global__ void broadcast_rows_kernel(const float* bias, T* y, int64_t rows, int64_t cols) {
  const int64_t count = rows * cols;
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < count;
       i += int64_t{gridDim.x} * blockDim.x) {
    y[i] = from_float<T>(bias[i % cols]);
  }
}

}  // namespace

void launch_cast(DataType from, const void* x, DataType to, void* y, int64_t count,
                 cudaStream_t stream) {
  if (count <= 0) return;
  if (from == to) {
    KUBETRAIN_CUDA_CHECK(
        cudaMemcpyAsync(y, x, count * size_of(from), cudaMemcpyDeviceToDevice, stream));
    return;
  }
  dispatch_type(from, [&](auto from_tag) {
    dispatch_type(to, [&](auto to_tag) {
      using From = decltype(from_tag);
      using To = decltype(to_tag);
      cast_kernel<<<grid_for(count, kThreads), kThreads, 0, stream>>>(
          static_cast<const From*>(x), static_cast<To*>(y), count);
    });
  });
  KUBETRAIN_CUDA_CHECK_LAUNCH();
}

void launch_add_inplace(DataType type, const void* x, void* y, int64_t count,
                        cudaStream_t stream) {
  if (count <= 0) return;
  dispatch_type(type, [&](auto tag) {
    using T = decltype(tag);
    add_inplace_kernel<<<grid_for(count, kThreads), kThreads, 0, stream>>>(
        static_cast<const T*>(x), static_cast<T*>(y), count);
  });
  KUBETRAIN_CUDA_CHECK_LAUNCH();
}

void launch_add_relu(DataType type, const void* residual, bool relu, void* y, int64_t count,
                     cudaStream_t stream) {
  if (count <= 0 || (residual == nullptr && !relu)) return;
  dispatch_type(type, [&](auto tag) {
    using T = decltype(tag);
    add_relu_kernel<<<grid_for(count, kThreads), kThreads, 0, stream>>>(
        static_cast<const T*>(residual), relu, static_cast<T*>(y), count);
  });
  KUBETRAIN_CUDA_CHECK_LAUNCH();
}

void launch_relu_backward(DataType type, const void* y, void* dy, int64_t count,
                          cudaStream_t stream) {
  if (count <= 0) return;
  dispatch_type(type, [&](auto tag) {
    using T = decltype(tag);
    relu_backward_kernel<<<grid_for(count, kThreads), kThreads, 0, stream>>>(
        static_cast<const T*>(y), static_cast<T*>(dy), count);
  });
  KUBETRAIN_CUDA_CHECK_LAUNCH();
}

void launch_fill_normal(DataType type, void* y, int64_t count, float mean, float stddev,
                        uint64_t seed, cudaStream_t stream) {
  if (count <= 0) return;
  dispatch_type(type, [&](auto tag) {
    using T = decltype(tag);
    fill_normal_kernel<<<grid_for((count + 3) / 4, kThreads), kThreads, 0, stream>>>(
        static_cast<T*>(y), count, mean, stddev, seed);
  });
  KUBETRAIN_CUDA_CHECK_LAUNCH();
}

void launch_find_non_finite(const float* x, int64_t count, int* flag, cudaStream_t stream) {
  if (count <= 0) return;
  find_non_finite_kernel<<<grid_for(count, kThreads), kThreads, 0, stream>>>(x, count, flag);
  KUBETRAIN_CUDA_CHECK_LAUNCH();
}

void launch_broadcast_rows(DataType type, const float* bias, void* y, int64_t rows, int64_t cols,
                           cudaStream_t stream) {
  if (rows <= 0 || cols <= 0) return;
  dispatch_type(type, [&](auto tag) {
    using T = decltype(tag);
    broadcast_rows_kernel<<<grid_for(rows * cols, kThreads), kThreads, 0, stream>>>(
        bias, static_cast<T*>(y), rows, cols);
  });
  KUBETRAIN_CUDA_CHECK_LAUNCH();
}

}  // namespace kubetrain::cuda

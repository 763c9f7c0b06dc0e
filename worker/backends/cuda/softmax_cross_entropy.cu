#include "worker/backends/cuda/softmax_cross_entropy.h"

#include <cub/block/block_reduce.cuh>

#include <stdexcept>
#include <string>

#include "worker/backends/cuda/cuda_check.h"
#include "worker/backends/cuda/device_memory.h"
#include "worker/backends/cuda/dtype_dispatch.cuh"

namespace kubetrain::cuda {
namespace {

constexpr int kThreads = 256;
using BlockReduce = cub::BlockReduce<float, kThreads>;

struct MaxOp {
  __device__ float operator()(float a, float b) const { return a > b ? a : b; }
};
struct SumOp {
  __device__ float operator()(float a, float b) const { return a + b; }
};

// Reduces `value` over the block; every thread gets the result.
template <typename Op>
__device__ float block_all_reduce(float value, Op op, BlockReduce::TempStorage& storage,
                                  float& result) {
  const float reduced = BlockReduce(storage).Reduce(value, op);
  if (threadIdx.x == 0) result = reduced;
  __syncthreads();
  const float all = result;
  __syncthreads();
  return all;
}

// One block per row: the row's loss into row_loss[row] and its scaled gradient into d_logits.
template <typename T>
__global__ void softmax_cross_entropy_rows(const T* logits, const int32_t* labels, T* d_logits,
                                           int64_t classes, float smoothing, float gradient_scale,
                                           float inverse_batch, float* row_loss) {
  __shared__ BlockReduce::TempStorage storage;
  __shared__ float result;
  const int64_t row = blockIdx.x;
  const T* x = logits + row * classes;
  T* dx = d_logits + row * classes;
  const int32_t label = labels[row];
  if (label < 0 || label >= classes) {
    for (int64_t j = threadIdx.x; j < classes; j += blockDim.x) dx[j] = from_float<T>(nanf(""));
    if (threadIdx.x == 0) row_loss[row] = nanf("");
    return;
  }

  float local_max = -INFINITY;
  for (int64_t j = threadIdx.x; j < classes; j += blockDim.x) {
    local_max = fmaxf(local_max, to_float(x[j]));
  }
  const float row_max = block_all_reduce(local_max, MaxOp{}, storage, result);

  float local_exp = 0.0f;
  float local_sum = 0.0f;
  for (int64_t j = threadIdx.x; j < classes; j += blockDim.x) {
    const float v = to_float(x[j]);
    local_exp += expf(v - row_max);
    local_sum += v;
  }
  const float sum_exp = block_all_reduce(local_exp, SumOp{}, storage, result);
  const float sum_logits = block_all_reduce(local_sum, SumOp{}, storage, result);
  const float log_sum_exp = row_max + logf(sum_exp);

  // target_j = (1 - smoothing) [j == label] + smoothing / classes
  const float uniform = smoothing / static_cast<float>(classes);
  const float scale = gradient_scale * inverse_batch;
  for (int64_t j = threadIdx.x; j < classes; j += blockDim.x) {
    const float p = expf(to_float(x[j]) - log_sum_exp);
    const float target = (j == label ? 1.0f - smoothing : 0.0f) + uniform;
    dx[j] = from_float<T>((p - target) * scale);
  }
  if (threadIdx.x == 0) {
    row_loss[row] =
        log_sum_exp - (1.0f - smoothing) * to_float(x[label]) - uniform * sum_logits;
  }
}

// Fixed-order sum of the row losses (deterministic, unlike atomics).
__global__ void mean_of_rows(const float* row_loss, int64_t rows, float* loss) {
  __shared__ BlockReduce::TempStorage storage;
  float sum = 0.0f;
  for (int64_t i = threadIdx.x; i < rows; i += blockDim.x) sum += row_loss[i];
  const float total = BlockReduce(storage).Sum(sum);
  if (threadIdx.x == 0) *loss = total / static_cast<float>(rows);
}

class CudaSoftmaxCrossEntropy final : public SoftmaxCrossEntropy {
 public:
  CudaSoftmaxCrossEntropy(CudaContext& context, const SoftmaxCrossEntropySpec& spec)
      : context_(context), spec_(spec), row_loss_(spec.batch * sizeof(float)) {}

  void forward_backward(const void* logits, const int32_t* labels, void* d_logits,
                        float gradient_scale, float* loss) override {
    const float inverse_batch = 1.0f / static_cast<float>(spec_.batch);
    dispatch_type(spec_.dtype, [&](auto tag) {
      using T = decltype(tag);
      softmax_cross_entropy_rows<<<static_cast<unsigned>(spec_.batch), kThreads, 0,
                                   context_.stream()>>>(
          static_cast<const T*>(logits), labels, static_cast<T*>(d_logits), spec_.classes,
          spec_.label_smoothing, gradient_scale, inverse_batch, row_loss_.as<float>());
    });
    KUBETRAIN_CUDA_CHECK_LAUNCH();
    mean_of_rows<<<1, kThreads, 0, context_.stream()>>>(row_loss_.as<float>(), spec_.batch, loss);
    KUBETRAIN_CUDA_CHECK_LAUNCH();
  }

 private:
  CudaContext& context_;
  SoftmaxCrossEntropySpec spec_;
  DeviceMemory row_loss_;
};

}  // namespace

std::unique_ptr<SoftmaxCrossEntropy> make_cuda_softmax_cross_entropy(
    CudaContext& context, const SoftmaxCrossEntropySpec& spec) {
  if (spec.batch <= 0 || spec.classes <= 0) {
    throw std::invalid_argument("softmax cross-entropy: batch " + std::to_string(spec.batch) +
                                " and classes " + std::to_string(spec.classes) +
                                " must be positive");
  }
  if (spec.label_smoothing < 0.0f || spec.label_smoothing >= 1.0f) {
    throw std::invalid_argument("softmax cross-entropy: label_smoothing " +
                                std::to_string(spec.label_smoothing) + " must be in [0, 1)");
  }
  return std::make_unique<CudaSoftmaxCrossEntropy>(context, spec);
}

}  // namespace kubetrain::cuda

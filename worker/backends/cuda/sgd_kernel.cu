#include "worker/backends/cuda/sgd_kernel.h"

#include "worker/backends/cuda/cuda_check.h"

namespace kubetrain::cuda {
namespace {

constexpr int kThreads = 256;

__global__ void sgd_kernel(const SgdSegment* table, int segments, float* weights,
                           const float* gradients, float* momentum_buffer,
                           SgdHyperparameters hyper) {
  const int64_t block = blockIdx.x;
  // Binary search for the last segment starting at or before this block.
  int low = 0;
  int high = segments - 1;
  while (low < high) {
    const int mid = (low + high + 1) / 2;
    if (table[mid].first_block <= block) {
      low = mid;
    } else {
      high = mid - 1;
    }
  }
  const SgdSegment segment = table[low];
  const int64_t begin = (block - segment.first_block) * kSgdElementsPerBlock;
  const int64_t end = min(segment.count, begin + kSgdElementsPerBlock);
  const float decay = segment.weight_decay ? hyper.weight_decay : 0.0f;
  for (int64_t local = begin + threadIdx.x; local < end; local += blockDim.x) {
    const int64_t i = segment.offset + local;
    const float w = weights[i];
    const float g = gradients[i] * hyper.gradient_scale + decay * w;
    const float m = hyper.momentum * momentum_buffer[i] + g;
    momentum_buffer[i] = m;
    weights[i] = w - hyper.learning_rate * (hyper.nesterov ? g + hyper.momentum * m : m);
  }
}

}  // namespace

void launch_sgd_update(const SgdSegment* table, int segments, int64_t total_blocks, float* weights,
                       const float* gradients, float* momentum, const SgdHyperparameters& hyper,
                       cudaStream_t stream) {
  if (segments == 0 || total_blocks == 0) return;
  sgd_kernel<<<static_cast<unsigned>(total_blocks), kThreads, 0, stream>>>(
      table, segments, weights, gradients, momentum, hyper);
  KUBETRAIN_CUDA_CHECK_LAUNCH();
}

}  // namespace kubetrain::cuda

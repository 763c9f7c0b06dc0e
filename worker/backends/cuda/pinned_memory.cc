#include "worker/backends/cuda/pinned_memory.h"

#include <cstring>

#include "worker/backends/cuda/cuda_check.h"

namespace kubetrain::cuda {

PinnedMemory::PinnedMemory(size_t bytes) : bytes_(bytes) {
  KUBETRAIN_CUDA_CHECK(cudaMallocHost(&data_, bytes == 0 ? 1 : bytes));
  std::memset(data_, 0, bytes);
}

PinnedMemory::~PinnedMemory() { cudaFreeHost(data_); }

}  // namespace kubetrain::cuda

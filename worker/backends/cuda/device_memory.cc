#include "worker/backends/cuda/device_memory.h"

#include <utility>

#include "worker/backends/cuda/cuda_check.h"

namespace kubetrain::cuda {

DeviceMemory::DeviceMemory(size_t bytes) : bytes_(bytes) {
  // cudaMalloc(0) is legal but gives nullptr; keep a valid address so kernels may take it.
  KUBETRAIN_CUDA_CHECK(cudaMalloc(&data_, bytes == 0 ? 1 : bytes));
}

DeviceMemory::~DeviceMemory() {
  if (data_ != nullptr) cudaFree(data_);
}

DeviceMemory::DeviceMemory(DeviceMemory&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), bytes_(std::exchange(other.bytes_, 0)) {}

DeviceMemory& DeviceMemory::operator=(DeviceMemory&& other) noexcept {
  if (this != &other) {
    if (data_ != nullptr) cudaFree(data_);
    data_ = std::exchange(other.data_, nullptr);
    bytes_ = std::exchange(other.bytes_, 0);
  }
  return *this;
}

}  // namespace kubetrain::cuda

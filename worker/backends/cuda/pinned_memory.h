#pragma once

#include <cstddef>

namespace kubetrain::cuda {

// Owns zero-initialised page-locked host memory (cudaMallocHost): the DMA engine copies from it
// asynchronously and at full speed.
class PinnedMemory {
 public:
  explicit PinnedMemory(size_t bytes);
  ~PinnedMemory();
  PinnedMemory(const PinnedMemory&) = delete;
  PinnedMemory& operator=(const PinnedMemory&) = delete;

  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }

 private:
  void* data_ = nullptr;
  size_t bytes_ = 0;
};

}  // namespace kubetrain::cuda

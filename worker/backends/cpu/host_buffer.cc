#include "worker/backends/cpu/host_buffer.h"

#include <algorithm>
#include <cstring>
#include <new>

namespace kubetrain {

HostBuffer::HostBuffer(size_t bytes) : bytes_(bytes) {
  // aligned_alloc wants a multiple of the alignment; a zero-byte request still gets a valid
  // pointer so callers never special-case empty tensors.
  const size_t rounded = std::max(kAlignment, (bytes + kAlignment - 1) / kAlignment * kAlignment);
  data_.reset(std::aligned_alloc(kAlignment, rounded));
  if (!data_) throw std::bad_alloc();
  std::memset(data_.get(), 0, rounded);
}

}  // namespace kubetrain

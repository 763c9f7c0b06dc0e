#pragma once

#include <cstddef>
#include <cstdlib>
#include <memory>

#include "worker/backend/backend.h"

namespace kubetrain {

// Zero-initialised host memory aligned to a cache line (64 bytes), which is also what oneDNN's
// vector kernels want for their loads and stores.
class HostBuffer final : public DeviceBuffer {
 public:
  static constexpr size_t kAlignment = 64;

  explicit HostBuffer(size_t bytes);

  void* data() override { return data_.get(); }
  size_t bytes() const override { return bytes_; }

 private:
  struct Free {
    void operator()(void* pointer) const { std::free(pointer); }
  };
  std::unique_ptr<void, Free> data_;
  size_t bytes_;
};

}  // namespace kubetrain

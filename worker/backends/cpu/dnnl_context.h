#pragma once

#include <array>
#include <memory>
#include <oneapi/dnnl/dnnl.hpp>

#include "worker/backend/tensor.h"
#include "worker/backends/cpu/host_buffer.h"

namespace kubetrain {

// Roles of the temporaries operators need during one call (tensors in a primitive's preferred
// layout). Operators run one at a time on the caller's thread and a temporary lives only during
// one call, so a single buffer per role, sized for the largest layer, serves every layer.
enum class ScratchSlot { kWeights, kInput, kSecondInput, kOutput, kCount };

// The one oneDNN engine and stream of a CPU backend, and the shared temporaries.
class DnnlContext {
 public:
  DnnlContext();

  const dnnl::engine& engine() const { return engine_; }
  dnnl::stream& stream() { return stream_; }

  // Grows `slot` to at least `bytes`; operators call it while they are planned, never per step.
  void reserve(ScratchSlot slot, size_t bytes);
  void* scratch(ScratchSlot slot) { return slots_[static_cast<size_t>(slot)]->data(); }

  // A memory object for `desc` with no buffer yet; bind() points it at one per call.
  dnnl::memory unbound(const dnnl::memory::desc& desc) const;

 private:
  dnnl::engine engine_;
  dnnl::stream stream_;
  std::array<std::unique_ptr<HostBuffer>, static_cast<size_t>(ScratchSlot::kCount)> slots_;
};

// Points `memory` at caller data; oneDNN's handle type is non-const even for inputs.
inline const dnnl::memory& bind(const dnnl::memory& memory, const void* data) {
  memory.set_data_handle(const_cast<void*>(data));
  return memory;
}

// Plain layouts of the interface (see worker/backend/tensor.h).
dnnl::memory::dims dims_of(const Shape4& shape);
dnnl::memory::desc activation_desc(const Shape4& shape, MemoryFormat format);
// Convolution weights {K, C, R, S}: OHWI for channels_last, OIHW for channels_first.
dnnl::memory::desc conv_weight_desc(const Shape4& shape, MemoryFormat format);
// A dense fp32 vector, e.g. per-channel parameters.
dnnl::memory::desc vector_desc(int64_t size);
// A dense fp32 row-major matrix.
dnnl::memory::desc matrix_desc(int64_t rows, int64_t cols);

}  // namespace kubetrain

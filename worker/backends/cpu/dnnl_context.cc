#include "worker/backends/cpu/dnnl_context.h"

namespace kubetrain {

using dnnl::memory;

DnnlContext::DnnlContext() : engine_(dnnl::engine::kind::cpu, 0), stream_(engine_) {
  for (auto& slot : slots_) slot = std::make_unique<HostBuffer>(0);
}

void DnnlContext::reserve(ScratchSlot slot, size_t bytes) {
  auto& buffer = slots_[static_cast<size_t>(slot)];
  if (buffer->bytes() < bytes) buffer = std::make_unique<HostBuffer>(bytes);
}

memory DnnlContext::unbound(const memory::desc& desc) const {
  return memory(desc, engine_, DNNL_MEMORY_NONE);
}

memory::dims dims_of(const Shape4& shape) { return {shape.n, shape.c, shape.h, shape.w}; }

memory::desc activation_desc(const Shape4& shape, MemoryFormat format) {
  return memory::desc(
      dims_of(shape), memory::data_type::f32,
      format == MemoryFormat::kChannelsLast ? memory::format_tag::nhwc : memory::format_tag::nchw);
}

memory::desc conv_weight_desc(const Shape4& shape, MemoryFormat format) {
  return memory::desc(
      dims_of(shape), memory::data_type::f32,
      format == MemoryFormat::kChannelsLast ? memory::format_tag::ohwi : memory::format_tag::oihw);
}

memory::desc vector_desc(int64_t size) {
  return memory::desc({size}, memory::data_type::f32, memory::format_tag::x);
}

memory::desc matrix_desc(int64_t rows, int64_t cols) {
  return memory::desc({rows, cols}, memory::data_type::f32, memory::format_tag::nc);
}

}  // namespace kubetrain

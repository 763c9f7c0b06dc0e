#pragma once

#include <oneapi/dnnl/dnnl.hpp>
#include <optional>

#include "worker/backends/cpu/dnnl_context.h"

namespace kubetrain {

// Connects a tensor in the caller's layout with the layout a primitive chose for it (often a
// blocked one such as OIhw8i8o for weights). When both agree the caller's buffer is handed to the
// primitive directly; otherwise a planned reorder goes through a shared scratch buffer.
class LayoutBridge {
 public:
  enum class Direction { kInput, kOutput };

  LayoutBridge(DnnlContext& context, const dnnl::memory::desc& user,
               const dnnl::memory::desc& primitive, ScratchSlot slot, Direction direction);

  bool reorders() const { return reorder_.has_value(); }

  // kInput: the memory to give the primitive, holding the values of `data`.
  const dnnl::memory& read(const void* data);
  // kOutput: the memory the primitive writes; then write_back() moves it into `data`.
  const dnnl::memory& target(void* data);
  void write_back();

 private:
  DnnlContext& context_;
  ScratchSlot slot_;
  Direction direction_;
  dnnl::memory user_;
  dnnl::memory internal_;
  std::optional<dnnl::reorder> reorder_;
};

}  // namespace kubetrain

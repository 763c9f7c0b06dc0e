#pragma once

// Runs cuDNN on fp32 copies of 16-bit tensors, for calls cuDNN does not offer in that type:
// inputs are widened into the context's staging tensors, outputs are computed there and narrowed
// back. Inactive, it hands the tensors through untouched.

#include <cstdint>

#include "worker/backend/tensor.h"
#include "worker/backends/cuda/cuda_context.h"

namespace kubetrain::cuda {

class Fp32Staging {
 public:
  // `max_count`: the most elements any staged tensor has.
  Fp32Staging(CudaContext& context, DataType type, int64_t max_count, bool active);

  bool active() const { return active_; }
  // The type cuDNN sees.
  DataType compute_type() const { return active_ ? DataType::kFloat32 : type_; }

  // What cuDNN reads for `tensor` (`count` elements): its fp32 copy in `slot`, or itself.
  const void* input(const void* tensor, int64_t count, int slot);
  // Where cuDNN writes the output meant for `tensor`; finish_output then narrows it into place.
  void* output(void* tensor, int slot);
  void finish_output(void* tensor, int64_t count, int slot);

 private:
  CudaContext& context_;
  DataType type_;
  bool active_;
};

}  // namespace kubetrain::cuda

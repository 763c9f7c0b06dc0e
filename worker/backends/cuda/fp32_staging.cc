#include "worker/backends/cuda/fp32_staging.h"

#include "worker/backends/cuda/elementwise_kernels.h"

namespace kubetrain::cuda {

Fp32Staging::Fp32Staging(CudaContext& context, DataType type, int64_t max_count, bool active)
    : context_(context), type_(type), active_(active && type != DataType::kFloat32) {
  if (active_) context.reserve_staging(static_cast<size_t>(max_count) * sizeof(float));
}

const void* Fp32Staging::input(const void* tensor, int64_t count, int slot) {
  if (!active_) return tensor;
  launch_cast(type_, tensor, DataType::kFloat32, context_.staging(slot), count, context_.stream());
  return context_.staging(slot);
}

void* Fp32Staging::output(void* tensor, int slot) {
  return active_ ? context_.staging(slot) : tensor;
}

void Fp32Staging::finish_output(void* tensor, int64_t count, int slot) {
  if (!active_) return;
  launch_cast(DataType::kFloat32, context_.staging(slot), type_, tensor, count, context_.stream());
}

}  // namespace kubetrain::cuda

#include "worker/backends/cpu/cpu_elementwise.h"

#include <cstring>

namespace kubetrain {
namespace {

constexpr int64_t kParallelElements = 1 << 15;

}  // namespace

void cpu_add_inplace(const float* __restrict x, float* __restrict y, int64_t count) {
#pragma omp parallel for simd if (count > kParallelElements)
  for (int64_t i = 0; i < count; ++i) y[i] += x[i];
}

bool cpu_all_finite(const float* x, int64_t count) {
  // An fp32 value is infinite or NaN exactly when its exponent bits are all ones; testing the
  // bits keeps the loop vectorisable.
  constexpr uint32_t kExponent = 0x7f800000u;
  uint32_t non_finite = 0;
#pragma omp parallel for simd reduction(| : non_finite) if (count > kParallelElements)
  for (int64_t i = 0; i < count; ++i) {
    uint32_t bits;
    std::memcpy(&bits, x + i, sizeof(bits));
    non_finite |= static_cast<uint32_t>((bits & kExponent) == kExponent);
  }
  return non_finite == 0;
}

}  // namespace kubetrain

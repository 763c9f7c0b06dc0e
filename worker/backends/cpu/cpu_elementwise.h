#pragma once

#include <cstdint>

namespace kubetrain {

// y += x over `count` fp32 values.
void cpu_add_inplace(const float* x, float* y, int64_t count);
// Whether none of `count` fp32 values is an infinity or a NaN.
bool cpu_all_finite(const float* x, int64_t count);

}  // namespace kubetrain

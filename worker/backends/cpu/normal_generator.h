#pragma once

#include <cstdint>

namespace kubetrain {

// Fills y[0, count) with normal(mean, stddev) values from a counter-based generator: value i
// depends only on (seed, i), so the result is the same on every call and for any thread count.
// Each pair of values comes from one splitmix64 hash of (seed, pair index) through Box-Muller.
void fill_normal_f32(float* y, int64_t count, float mean, float stddev, uint64_t seed);

}  // namespace kubetrain

#include "worker/backends/cpu/normal_generator.h"

#include <cmath>
#include <numbers>

namespace kubetrain {
namespace {

// splitmix64's finaliser: a bijective mix whose outputs for consecutive inputs pass BigCrush.
constexpr uint64_t mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

constexpr uint64_t kGolden = 0x9E3779B97F4A7C15ull;
constexpr float kTwoToMinus24 = 1.0f / 16777216.0f;

}  // namespace

void fill_normal_f32(float* y, int64_t count, float mean, float stddev, uint64_t seed) {
  const uint64_t key = mix(seed + kGolden);
  const int64_t pairs = (count + 1) / 2;
#pragma omp parallel for if (pairs > 16384)
  for (int64_t p = 0; p < pairs; ++p) {
    const uint64_t bits = mix(key + static_cast<uint64_t>(p + 1) * kGolden);
    // Two 24-bit uniforms; u1 in (0, 1] keeps the logarithm finite.
    const float u1 = static_cast<float>((bits >> 40) + 1) * kTwoToMinus24;
    const float u2 = static_cast<float>((bits >> 8) & 0xFFFFFFu) * kTwoToMinus24;
    const float radius = std::sqrt(-2.0f * std::log(u1)) * stddev;
    const float angle = 2.0f * std::numbers::pi_v<float> * u2;
    y[2 * p] = mean + radius * std::cos(angle);
    if (2 * p + 1 < count) y[2 * p + 1] = mean + radius * std::sin(angle);
  }
}

}  // namespace kubetrain

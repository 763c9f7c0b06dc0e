#pragma once

#include <cstdint>

namespace kubetrain {

// The random stream of one example: a SplitMix64 sequence whose start is a hash of its key
// (seed, pass, step, slot), so an example's augmentation depends only on where it sits in the
// pass, never on which loader thread handles it or when.
class ExampleRandom {
 public:
  ExampleRandom(uint64_t seed, uint64_t pass, uint64_t step, uint64_t slot) {
    state_ = mix(seed);
    state_ = mix(state_ ^ pass);
    state_ = mix(state_ ^ step);
    state_ = mix(state_ ^ slot);
  }

  uint64_t next_u64() {
    state_ += 0x9E3779B97F4A7C15ull;
    return mix(state_);
  }
  // Uniform in [0, 1).
  double uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }
  double uniform(double low, double high) { return low + (high - low) * uniform(); }
  // Uniform integer in [0, n); n > 0. The modulo bias is below 2^-50 for the small n used here.
  int64_t below(int64_t n) { return static_cast<int64_t>(next_u64() % static_cast<uint64_t>(n)); }
  bool coin() { return (next_u64() >> 63) != 0; }

 private:
  static uint64_t mix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }

  uint64_t state_;
};

}  // namespace kubetrain

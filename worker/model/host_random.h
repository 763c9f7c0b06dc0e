#pragma once

#include <cstdint>
#include <random>

namespace kubetrain {

// Deterministic random numbers for weight initialisation: the same seed gives the same values on
// every platform, because std::mt19937_64 is fully specified and the transforms below are ours
// (std::normal_distribution's algorithm is left to the library).
class HostRandom {
 public:
  explicit HostRandom(uint64_t seed) : engine_(seed) {}

  // Uniform in [low, high).
  double uniform(double low, double high);
  // Standard normal, by the Box-Muller transform (both values of each pair are used).
  double normal();

 private:
  double unit_interval();  // [0, 1) with 53 random bits

  std::mt19937_64 engine_;
  bool has_spare_ = false;
  double spare_ = 0.0;
};

}  // namespace kubetrain

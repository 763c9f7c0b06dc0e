#include "worker/model/host_random.h"

#include <cmath>
#include <numbers>

namespace kubetrain {

double HostRandom::unit_interval() {
  return static_cast<double>(engine_() >> 11) * 0x1.0p-53;
}

double HostRandom::uniform(double low, double high) {
  return low + (high - low) * unit_interval();
}

double HostRandom::normal() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_;
  }
  const double u1 = 1.0 - unit_interval();  // (0, 1]: the logarithm stays finite
  const double u2 = unit_interval();
  const double radius = std::sqrt(-2.0 * std::log(u1));
  const double angle = 2.0 * std::numbers::pi * u2;
  spare_ = radius * std::sin(angle);
  has_spare_ = true;
  return radius * std::cos(angle);
}

}  // namespace kubetrain

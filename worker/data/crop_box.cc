#include "worker/data/crop_box.h"

#include <algorithm>
#include <cmath>

namespace kubetrain {

CropBox central_square(int width, int height, double fraction) {
  const double side = fraction * std::min(width, height);
  return {(width - side) / 2, (height - side) / 2, side, side};
}

CropBox random_resized_crop(int width, int height, ExampleRandom& random) {
  constexpr double kMinArea = 0.08;
  constexpr double kMinRatio = 3.0 / 4.0;
  constexpr double kMaxRatio = 4.0 / 3.0;
  const double area = double{1} * width * height;
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double target = area * random.uniform(kMinArea, 1.0);
    const double ratio = std::exp(random.uniform(std::log(kMinRatio), std::log(kMaxRatio)));
    const double w = std::round(std::sqrt(target * ratio));
    const double h = std::round(std::sqrt(target / ratio));
    if (w >= 1 && h >= 1 && w <= width && h <= height) {
      const double x = static_cast<double>(random.below(static_cast<int64_t>(width - w) + 1));
      const double y = static_cast<double>(random.below(static_cast<int64_t>(height - h) + 1));
      return {x, y, w, h};
    }
  }
  const double ratio = double{1} * width / height;
  double w = width;
  double h = height;
  if (ratio < kMinRatio) h = std::round(w / kMinRatio);
  if (ratio > kMaxRatio) w = std::round(h * kMaxRatio);
  return {(width - w) / 2, (height - h) / 2, w, h};
}

}  // namespace kubetrain

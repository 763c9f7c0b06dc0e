#include "worker/data/bilinear_resize.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace kubetrain {
namespace {

// For each output coordinate: the two source indices it blends and the weight of the second.
struct Taps {
  std::vector<int> first;
  std::vector<int> second;
  std::vector<float> weight;
};

Taps taps_for(double start, double length, int source_size, int out_size) {
  Taps taps;
  const double step = length / out_size;
  for (int i = 0; i < out_size; ++i) {
    const double position =
        std::clamp(start + (i + 0.5) * step - 0.5, 0.0, static_cast<double>(source_size - 1));
    const int low = static_cast<int>(position);
    taps.first.push_back(low);
    taps.second.push_back(std::min(low + 1, source_size - 1));
    taps.weight.push_back(static_cast<float>(position - low));
  }
  return taps;
}

}  // namespace

void resize_bilinear(const ImageView& source, const CropBox& box, uint8_t* destination,
                     int dst_width, int dst_height) {
  const Taps columns = taps_for(box.x, box.width, source.width, dst_width);
  const Taps rows = taps_for(box.y, box.height, source.height, dst_height);
  const int channels = source.channels;
  const size_t stride = static_cast<size_t>(source.width) * channels;
  for (int y = 0; y < dst_height; ++y) {
    const uint8_t* top = source.pixels + rows.first[y] * stride;
    const uint8_t* bottom = source.pixels + rows.second[y] * stride;
    const float wy = rows.weight[y];
    uint8_t* out = destination + static_cast<size_t>(y) * dst_width * channels;
    for (int x = 0; x < dst_width; ++x) {
      const int left = columns.first[x] * channels;
      const int right = columns.second[x] * channels;
      const float wx = columns.weight[x];
      for (int c = 0; c < channels; ++c) {
        const float upper = top[left + c] + wx * (top[right + c] - top[left + c]);
        const float lower = bottom[left + c] + wx * (bottom[right + c] - bottom[left + c]);
        out[x * channels + c] = static_cast<uint8_t>(upper + wy * (lower - upper) + 0.5f);
      }
    }
  }
}

}  // namespace kubetrain

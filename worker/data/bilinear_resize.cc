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

// Horizontal pass over one source row: row_out[j] for j = x * channels + c. Restrict pointers,
// because uint8_t stores may otherwise alias everything and defeat the optimizer.
void blend_row(const uint8_t* __restrict source, const int* __restrict left,
               const int* __restrict right, const float* __restrict weight, int length,
               float* __restrict row_out) {
  for (int j = 0; j < length; ++j) {
    const float a = source[left[j]];
    row_out[j] = a + weight[j] * (static_cast<float>(source[right[j]]) - a);
  }
}

void blend_rows(const float* __restrict upper, const float* __restrict lower, float weight,
                int length, uint8_t* __restrict out) {
  for (int j = 0; j < length; ++j) {
    out[j] = static_cast<uint8_t>(upper[j] + weight * (lower[j] - upper[j]) + 0.5f);
  }
}

}  // namespace

void resize_bilinear(const ImageView& source, const CropBox& box, uint8_t* destination,
                     int dst_width, int dst_height) {
  const Taps columns = taps_for(box.x, box.width, source.width, dst_width);
  const Taps rows = taps_for(box.y, box.height, source.height, dst_height);
  const int channels = source.channels;
  const int length = dst_width * channels;
  std::vector<int> left(length);
  std::vector<int> right(length);
  std::vector<float> weight(length);
  for (int x = 0; x < dst_width; ++x) {
    for (int c = 0; c < channels; ++c) {
      left[x * channels + c] = columns.first[x] * channels + c;
      right[x * channels + c] = columns.second[x] * channels + c;
      weight[x * channels + c] = columns.weight[x];
    }
  }
  const size_t stride = static_cast<size_t>(source.width) * channels;
  // Horizontally blended source rows, cached: consecutive output rows mostly share them.
  std::vector<float> upper(length), lower(length);
  int upper_row = -1, lower_row = -1;
  for (int y = 0; y < dst_height; ++y) {
    const int top = rows.first[y];
    const int bottom = rows.second[y];
    if (top != upper_row) {
      if (top == lower_row) {
        upper.swap(lower);
        std::swap(upper_row, lower_row);
      } else {
        blend_row(source.pixels + top * stride, left.data(), right.data(), weight.data(), length,
                  upper.data());
        upper_row = top;
      }
    }
    if (bottom != lower_row) {
      blend_row(source.pixels + bottom * stride, left.data(), right.data(), weight.data(), length,
                lower.data());
      lower_row = bottom;
    }
    blend_rows(upper.data(), lower.data(), rows.weight[y], length,
               destination + static_cast<size_t>(y) * length);
  }
}

}  // namespace kubetrain

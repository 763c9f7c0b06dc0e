#pragma once

#include <cstdint>

#include "worker/data/crop_box.h"

namespace kubetrain {

// An interleaved uint8 image.
struct ImageView {
  const uint8_t* pixels;
  int width;
  int height;
  int channels;
};

// Scales `box` of `source` to dst_width x dst_height (same channels) with bilinear interpolation
// at pixel centres (OpenCV's INTER_LINEAR, PyTorch's align_corners=false); samples beyond the
// edge repeat the edge pixel.
void resize_bilinear(const ImageView& source, const CropBox& box, uint8_t* destination,
                     int dst_width, int dst_height);

}  // namespace kubetrain

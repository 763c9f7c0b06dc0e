#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "worker/data/batch_loader.h"

namespace kubetrain {

// Where a training example's pad-and-crop lands and whether it is mirrored.
struct Jitter {
  static constexpr int kPad = 4;  // the crop moves up to kPad pixels each way
  int dy = kPad;                  // 0..2*kPad; kPad is centred (no shift)
  int dx = kPad;
  bool flip = false;
};

// Turns one example's uint8 HWC pixels into normalized fp32 at one slot of a batch: fitted to the
// layout's H x W (centre-padded when up to 8 pixels smaller each way, as 28 -> 32; bilinear
// resize otherwise), jittered, grey repeated into every channel, written in the layout's format.
// Pixels outside the image (padding) are 0 before normalization.
class ExampleTransform {
 public:
  ExampleTransform(ImageShape source, const BatchLayout& layout, const Normalization& normalization);

  // `scratch` is the caller's reusable buffer for resized pixels.
  void apply(std::span<const uint8_t> pixels, const Jitter& jitter, int64_t slot, float* images,
             std::vector<uint8_t>& scratch) const;

 private:
  ImageShape source_;
  Shape4 shape_;
  bool resize_;
  int top_ = 0;   // centre padding when not resizing
  int left_ = 0;
  int64_t channel_stride_, row_stride_, column_stride_;
  std::vector<float> lookup_;  // [channel * 256 + pixel value]: the normalized value
};

}  // namespace kubetrain

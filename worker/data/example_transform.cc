#include "worker/data/example_transform.h"

#include <stdexcept>

#include "worker/data/bilinear_resize.h"

namespace kubetrain {
namespace {

constexpr int kMaxPadding = 8;  // per axis; beyond it (or when smaller) examples are resized

}  // namespace

ExampleTransform::ExampleTransform(ImageShape source, const BatchLayout& layout,
                                   const Normalization& normalization)
    : source_(source), shape_(layout.shape) {
  if (shape_.c < source.channels) {
    throw std::invalid_argument("ExampleTransform: the layout has fewer channels than the data");
  }
  if (normalization.mean.size() != static_cast<size_t>(shape_.c) ||
      normalization.stddev.size() != static_cast<size_t>(shape_.c)) {
    throw std::invalid_argument("ExampleTransform: normalization does not match the channels");
  }
  const int64_t pad_h = shape_.h - source.height;
  const int64_t pad_w = shape_.w - source.width;
  resize_ = pad_h < 0 || pad_w < 0 || pad_h > kMaxPadding || pad_w > kMaxPadding;
  if (!resize_) {
    top_ = static_cast<int>(pad_h / 2);
    left_ = static_cast<int>(pad_w / 2);
  }
  const bool last = layout.format == MemoryFormat::kChannelsLast;
  channel_stride_ = last ? 1 : shape_.h * shape_.w;
  row_stride_ = last ? shape_.w * shape_.c : shape_.w;
  column_stride_ = last ? shape_.c : 1;
  lookup_.resize(static_cast<size_t>(shape_.c));
  for (int64_t c = 0; c < shape_.c; ++c) {
    for (int v = 0; v < 256; ++v) {
      lookup_[c][v] = (v / 255.0f - normalization.mean[c]) / normalization.stddev[c];
    }
  }
}

void ExampleTransform::apply(std::span<const uint8_t> pixels, const Jitter& jitter, int64_t slot,
                             float* images, std::vector<uint8_t>& scratch) const {
  const int height = static_cast<int>(shape_.h);
  const int width = static_cast<int>(shape_.w);
  const int channels = source_.channels;
  const uint8_t* fitted = pixels.data();
  int fitted_height = source_.height;
  int fitted_width = source_.width;
  if (resize_) {
    scratch.resize(static_cast<size_t>(height) * width * channels);
    resize_bilinear({pixels.data(), source_.width, source_.height, channels},
                    {0, 0, double(source_.width), double(source_.height)}, scratch.data(), width,
                    height);
    fitted = scratch.data();
    fitted_height = height;
    fitted_width = width;
  }
  float* out = images + slot * shape_.c * shape_.h * shape_.w;
  const int row_shift = jitter.dy - Jitter::kPad - top_;
  const int column_shift = jitter.dx - Jitter::kPad - left_;
  for (int y = 0; y < height; ++y) {
    const int sy = y + row_shift;
    const bool row_inside = sy >= 0 && sy < fitted_height;
    for (int x = 0; x < width; ++x) {
      const int sx = (jitter.flip ? width - 1 - x : x) + column_shift;
      const bool inside = row_inside && sx >= 0 && sx < fitted_width;
      const uint8_t* pixel = inside ? fitted + (static_cast<size_t>(sy) * fitted_width + sx) * channels
                                    : nullptr;
      float* target = out + y * row_stride_ + x * column_stride_;
      for (int64_t c = 0; c < shape_.c; ++c) {
        const uint8_t value = pixel ? pixel[channels == 1 ? 0 : c] : 0;
        target[c * channel_stride_] = lookup_[c][value];
      }
    }
  }
}

}  // namespace kubetrain

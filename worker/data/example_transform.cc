#include "worker/data/example_transform.h"

#include <stdexcept>

#include "worker/data/bilinear_resize.h"

namespace kubetrain {
namespace {

constexpr int kMaxPadding = 8;  // per axis; beyond it (or when smaller) examples are resized

// Everything one example's write needs, copied into locals so float stores cannot alias it.
struct Plan {
  float* out;
  const float* lookup;
  const uint8_t* source;
  int height, width;                // output
  int source_height, source_width;  // fitted source
  int source_channels;
  int out_channels;
  int64_t channel_stride, row_stride, column_stride;
  int row_shift, column_shift;
  bool flip;
};

// kChannels: the output channel count when known at compile time, 0 otherwise.
template <int kChannels>
void write_example(const Plan& plan) {
  const int channels = kChannels ? kChannels : plan.out_channels;
  const int source_step = plan.source_channels == 1 ? 0 : 1;  // grey feeds every channel
  const float* __restrict lookup = plan.lookup;
  for (int y = 0; y < plan.height; ++y) {
    const int sy = y + plan.row_shift;
    const bool row_inside = sy >= 0 && sy < plan.source_height;
    const uint8_t* __restrict source_row =
        plan.source + static_cast<size_t>(row_inside ? sy : 0) * plan.source_width * plan.source_channels;
    float* __restrict row_out = plan.out + y * plan.row_stride;
    for (int x = 0; x < plan.width; ++x) {
      const int sx = (plan.flip ? plan.width - 1 - x : x) + plan.column_shift;
      float* __restrict target = row_out + x * plan.column_stride;
      if (!row_inside || sx < 0 || sx >= plan.source_width) {
        for (int c = 0; c < channels; ++c) target[c * plan.channel_stride] = lookup[c * 256];
        continue;
      }
      const uint8_t* __restrict pixel = source_row + sx * plan.source_channels;
      for (int c = 0; c < channels; ++c) {
        target[c * plan.channel_stride] = lookup[c * 256 + pixel[c * source_step]];
      }
    }
  }
}

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
  lookup_.resize(static_cast<size_t>(shape_.c) * 256);
  for (int64_t c = 0; c < shape_.c; ++c) {
    for (int v = 0; v < 256; ++v) {
      lookup_[c * 256 + v] = (v / 255.0f - normalization.mean[c]) / normalization.stddev[c];
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
  const Plan plan{images + slot * shape_.c * shape_.h * shape_.w,
                  lookup_.data(),
                  fitted,
                  height,
                  width,
                  fitted_height,
                  fitted_width,
                  channels,
                  static_cast<int>(shape_.c),
                  channel_stride_,
                  row_stride_,
                  column_stride_,
                  jitter.dy - Jitter::kPad - top_,
                  jitter.dx - Jitter::kPad - left_,
                  jitter.flip};
  // Compile-time channel counts for the usual cases let the per-pixel loop unroll.
  if (plan.out_channels == 3) {
    write_example<3>(plan);
  } else if (plan.out_channels == 1) {
    write_example<1>(plan);
  } else {
    write_example<0>(plan);
  }
}

}  // namespace kubetrain

#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace kubetrain {

// Element type of activations and of the compute copy of the weights. Master weights, gradients,
// optimizer state and BatchNorm parameters and statistics are always kFloat32.
enum class DataType : uint8_t { kFloat32, kFloat16, kBFloat16 };

constexpr size_t size_of(DataType type) { return type == DataType::kFloat32 ? 4 : 2; }
std::string_view to_string(DataType type);

// Memory order of 4-D activations and of convolution weights:
//   kChannelsLast : activations NHWC, conv weights OHWI (KRSC)
//   kChannelsFirst: activations NCHW, conv weights OIHW (KCRS), PyTorch's order
// Checkpoints always store PyTorch's order; see worker/model/model_state.h.
enum class MemoryFormat : uint8_t { kChannelsLast, kChannelsFirst };

std::string_view to_string(MemoryFormat format);

// Logical dimensions, always named in NCHW order whatever the memory format. A matrix [rows, cols]
// is {rows, cols, 1, 1}; NHWC and NCHW then coincide.
struct Shape4 {
  int64_t n = 1;
  int64_t c = 1;
  int64_t h = 1;
  int64_t w = 1;

  constexpr int64_t elements() const { return n * c * h * w; }
  constexpr bool operator==(const Shape4&) const = default;
};

// Offset of logical element (n, c, h, w) in a dense tensor of `shape` stored in `format`.
constexpr int64_t offset_of(const Shape4& shape, MemoryFormat format, int64_t n, int64_t c,
                            int64_t h, int64_t w) {
  return format == MemoryFormat::kChannelsLast
             ? ((n * shape.h + h) * shape.w + w) * shape.c + c
             : ((n * shape.c + c) * shape.h + h) * shape.w + w;
}

}  // namespace kubetrain

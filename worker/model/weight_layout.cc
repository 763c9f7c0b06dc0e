#include "worker/model/weight_layout.h"

namespace kubetrain {

std::vector<float> reorder(std::span<const float> values, const Shape4& shape, MemoryFormat from,
                           MemoryFormat to) {
  std::vector<float> out(values.begin(), values.end());
  if (from == to) return out;
  for (int64_t n = 0; n < shape.n; ++n)
    for (int64_t c = 0; c < shape.c; ++c)
      for (int64_t h = 0; h < shape.h; ++h)
        for (int64_t w = 0; w < shape.w; ++w)
          out[offset_of(shape, to, n, c, h, w)] = values[offset_of(shape, from, n, c, h, w)];
  return out;
}

std::vector<int64_t> pytorch_shape(const TensorInfo& tensor) {
  const Shape4& s = tensor.shape;
  if (tensor.conv_weight) return {s.n, s.c, s.h, s.w};
  if (tensor.weight_decay) return {s.n, s.c};  // a linear layer's weight [out, in]
  return {s.n};
}

}  // namespace kubetrain

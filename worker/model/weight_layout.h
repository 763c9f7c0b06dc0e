#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "worker/backend/tensor.h"
#include "worker/model/parameter_store.h"

namespace kubetrain {

// Reorders a tensor of logical `shape` (a conv weight {K, C, R, S}) from memory format `from` to
// `to`: channels_first is PyTorch's OIHW, channels_last is OHWI.
std::vector<float> reorder(std::span<const float> values, const Shape4& shape, MemoryFormat from,
                           MemoryFormat to);

// PyTorch's shape of a parameter or buffer: conv weights 4-D, linear weights 2-D, the rest 1-D.
std::vector<int64_t> pytorch_shape(const TensorInfo& tensor);

}  // namespace kubetrain

#include "worker/backend/tensor.h"

namespace kubetrain {

std::string_view to_string(DataType type) {
  switch (type) {
    case DataType::kFloat32: return "fp32";
    case DataType::kFloat16: return "fp16";
    case DataType::kBFloat16: return "bf16";
  }
  return "?";
}

std::string_view to_string(MemoryFormat format) {
  return format == MemoryFormat::kChannelsLast ? "channels_last" : "channels_first";
}

}  // namespace kubetrain

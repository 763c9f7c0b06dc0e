#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "worker/model/parameter_store.h"

namespace kubetrain {

// Collects a model's parameters and buffers in forward order while its layers are planned, giving
// each its offset in the flat buffers that the ParameterStore then allocates.
class ParameterLayout {
 public:
  // Returns the parameter's offset in elements.
  int64_t add_parameter(std::string name, Shape4 shape, bool weight_decay, bool conv_weight);
  int64_t add_buffer(std::string name, Shape4 shape);

  const std::vector<TensorInfo>& parameters() const { return parameters_; }
  const std::vector<TensorInfo>& buffers() const { return buffers_; }

 private:
  std::vector<TensorInfo> parameters_;
  std::vector<TensorInfo> buffers_;
  int64_t parameter_end_ = 0;
  int64_t buffer_end_ = 0;
};

}  // namespace kubetrain

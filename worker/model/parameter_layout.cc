#include "worker/model/parameter_layout.h"

#include <utility>

namespace kubetrain {

int64_t ParameterLayout::add_parameter(std::string name, Shape4 shape, bool weight_decay,
                                       bool conv_weight) {
  const int64_t offset = parameter_end_;
  parameters_.push_back({std::move(name), shape, offset, weight_decay, conv_weight});
  parameter_end_ += shape.elements();
  return offset;
}

int64_t ParameterLayout::add_buffer(std::string name, Shape4 shape) {
  const int64_t offset = buffer_end_;
  buffers_.push_back({std::move(name), shape, offset, false, false});
  buffer_end_ += shape.elements();
  return offset;
}

}  // namespace kubetrain

#include "worker/model/parameter_store.h"

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace kubetrain {
namespace {

// Checks that `tensors` tile [0, total) in order, so that the flat buffers have no gaps or overlaps
// and gradients can be finalized from the end; returns the total.
int64_t contiguous_extent(const std::vector<TensorInfo>& tensors, const char* what) {
  int64_t next = 0;
  for (const auto& tensor : tensors) {
    if (tensor.offset != next || tensor.elements() <= 0) {
      throw std::invalid_argument(std::string(what) + " \"" + tensor.name + "\" has offset " +
                                  std::to_string(tensor.offset) + " and " +
                                  std::to_string(tensor.elements()) +
                                  " elements; expected a non-empty tensor at offset " +
                                  std::to_string(next));
    }
    next += tensor.elements();
  }
  return next;
}

std::vector<ParameterSegment> merge_segments(const std::vector<TensorInfo>& parameters) {
  std::vector<ParameterSegment> segments;
  for (const auto& p : parameters) {
    if (!segments.empty() && segments.back().weight_decay == p.weight_decay) {
      segments.back().count += p.elements();
    } else {
      segments.push_back({p.offset, p.elements(), p.weight_decay});
    }
  }
  return segments;
}

}  // namespace

ParameterStore::ParameterStore(Backend& backend, std::vector<TensorInfo> parameters,
                               std::vector<TensorInfo> buffers, DataType compute_type)
    : backend_(backend),
      parameters_(std::move(parameters)),
      buffers_(std::move(buffers)),
      compute_type_(compute_type) {
  parameter_count_ = contiguous_extent(parameters_, "parameter");
  buffer_count_ = contiguous_extent(buffers_, "buffer");
  if (parameter_count_ == 0) throw std::invalid_argument("a model needs at least one parameter");
  const size_t fp32_bytes = static_cast<size_t>(parameter_count_) * sizeof(float);
  weights_ = backend_.allocate(fp32_bytes);
  gradients_ = backend_.allocate(fp32_bytes);
  momentum_ = backend_.allocate(fp32_bytes);
  if (compute_type_ != DataType::kFloat32) {
    compute_copy_ = backend_.allocate(static_cast<size_t>(parameter_count_) * size_of(compute_type_));
  }
  buffers_data_ = backend_.allocate(static_cast<size_t>(std::max<int64_t>(buffer_count_, 1)) *
                                    sizeof(float));
  segments_ = merge_segments(parameters_);
}

void* ParameterStore::compute_weights() {
  return compute_copy_ ? compute_copy_->data() : weights_->data();
}

void ParameterStore::sync_compute_weights() {
  if (!compute_copy_) return;
  backend_.cast(DataType::kFloat32, weights_->data(), compute_type_, compute_copy_->data(),
                parameter_count_);
}

}  // namespace kubetrain

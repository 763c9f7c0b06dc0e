#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "worker/backend/backend.h"

namespace kubetrain {

// One named tensor inside a flat buffer. Names are torchvision's state_dict keys where the
// architecture matches ("conv1.weight", "layer1.0.bn2.running_var", "fc.bias"); shapes are
// PyTorch's logical shapes: conv {K, C, R, S}, linear {out, in, 1, 1}, per-channel {C, 1, 1, 1}.
struct TensorInfo {
  std::string name;
  Shape4 shape;
  int64_t offset = 0;        // in elements, inside its flat buffer
  bool weight_decay = false; // conv and linear weights only
  bool conv_weight = false;  // stored in the model's MemoryFormat (OHWI for channels_last)
  int64_t elements() const { return shape.elements(); }
};

// Every trainable parameter of a model in one contiguous fp32 buffer, in forward order, so the
// backward pass finalizes gradients from the end of the buffer towards its start and one allreduce
// (in buckets) covers them all. Beside it: gradients, momentum, the compute-dtype copy of the
// weights (when precision is not fp32), and the BatchNorm running statistics ("buffers").
class ParameterStore {
 public:
  // `parameters` and `buffers` must each tile their flat buffer in order, from offset 0 without
  // gaps (std::invalid_argument otherwise). Everything is allocated zeroed on `backend`.
  ParameterStore(Backend& backend, std::vector<TensorInfo> parameters,
                 std::vector<TensorInfo> buffers, DataType compute_type);

  // The backend that owns the buffers (to download or upload them).
  Backend& backend() const { return backend_; }

  const std::vector<TensorInfo>& parameters() const { return parameters_; }
  const std::vector<TensorInfo>& buffers() const { return buffers_; }
  int64_t parameter_count() const { return parameter_count_; }
  int64_t buffer_count() const { return buffer_count_; }
  DataType compute_type() const { return compute_type_; }

  float* weights() { return weights_->as<float>(); }
  float* gradients() { return gradients_->as<float>(); }
  float* momentum() { return momentum_->as<float>(); }
  float* running_stats() { return buffers_data_->as<float>(); }
  // The weights in the compute type; the fp32 master weights themselves when that is fp32.
  void* compute_weights();
  // Refreshes the compute copy from the master weights (after every optimizer step or load).
  void sync_compute_weights();
  // Parameter runs for Backend::sgd_update, merged where neighbours agree on weight decay.
  const std::vector<ParameterSegment>& segments() const { return segments_; }

 private:
  Backend& backend_;
  std::vector<TensorInfo> parameters_;
  std::vector<TensorInfo> buffers_;
  DataType compute_type_;
  int64_t parameter_count_ = 0;
  int64_t buffer_count_ = 0;
  std::unique_ptr<DeviceBuffer> weights_, gradients_, momentum_, compute_copy_, buffers_data_;
  std::vector<ParameterSegment> segments_;
};

}  // namespace kubetrain

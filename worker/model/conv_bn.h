#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "worker/backend/backend.h"
#include "worker/model/host_random.h"
#include "worker/model/parameter_layout.h"
#include "worker/model/parameter_store.h"

namespace kubetrain {

// Called with each run [offset, offset + count) of the flat gradient buffer once it is final.
using GradientsReady = std::function<void(int64_t offset, int64_t count)>;

struct ConvBnOptions {
  std::string conv_name;  // e.g. "layer2.0.conv1" or "layer2.0.downsample.0"
  std::string bn_name;    // e.g. "layer2.0.bn1" or "layer2.0.downsample.1"
  ConvolutionSpec conv;
  bool relu = true;
  bool add_residual = false;  // y = [relu](bn(conv(x)) + residual)
};

// A bias-free convolution followed by BatchNorm (and the fused residual add and ReLU): the unit
// every ResNet is made of. It owns the two activations its backward pass needs, the convolution's
// output and the BatchNorm's output, and remembers its input from the last forward.
class ConvBn {
 public:
  ConvBn(Backend& backend, const ConvBnOptions& options, ParameterLayout& layout);

  const Shape4& output_shape() const { return output_shape_; }
  const void* output() const { return bn_output_->data(); }

  // torchvision's initialisation into the host images of the flat weight and statistics buffers:
  // conv kaiming_normal_(mode="fan_out", nonlinearity="relu"), BN gamma 1, beta 0, mean 0, var 1.
  void initialize(std::span<float> weights, std::span<float> running_stats,
                  HostRandom& random) const;

  // `x` and `residual` must stay valid until backward.
  void forward(ParameterStore& store, const void* x, const void* residual, bool training);

  // BatchNorm's backward: consumes dy, writes the gradient of the convolution's output into
  // d_conv_output and, with a residual, the residual's gradient into d_residual; reports the
  // BatchNorm parameters' gradients.
  void backward_batch_norm(ParameterStore& store, void* dy, void* d_conv_output,
                           void* d_residual, const GradientsReady& ready);
  // The convolution's backward: the weight gradient (reported), and dx unless it is null.
  void backward_convolution(ParameterStore& store, const void* d_conv_output, void* dx,
                            const GradientsReady& ready);

 private:
  BatchNormTensors batch_norm_tensors(ParameterStore& store);

  Backend& backend_;
  ConvolutionSpec conv_spec_;
  Shape4 output_shape_;
  std::unique_ptr<Convolution> conv_;
  std::unique_ptr<BatchNorm> bn_;
  int64_t conv_weight_offset_;
  int64_t bn_scale_offset_;  // beta follows gamma
  int64_t running_mean_offset_;  // the variance follows the mean
  std::unique_ptr<DeviceBuffer> conv_output_, bn_output_, saved_statistics_;
  const void* input_ = nullptr;
};

}  // namespace kubetrain

#include "worker/model/conv_bn.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "worker/model/weight_layout.h"

namespace kubetrain {

ConvBn::ConvBn(Backend& backend, const ConvBnOptions& options, ParameterLayout& layout)
    : backend_(backend), conv_spec_(options.conv), output_shape_(options.conv.output()) {
  const int64_t channels = output_shape_.c;
  conv_weight_offset_ = layout.add_parameter(options.conv_name + ".weight", conv_spec_.weight(),
                                             /*weight_decay=*/true, /*conv_weight=*/true);
  bn_scale_offset_ = layout.add_parameter(options.bn_name + ".weight", {channels, 1, 1, 1},
                                          false, false);
  layout.add_parameter(options.bn_name + ".bias", {channels, 1, 1, 1}, false, false);
  running_mean_offset_ = layout.add_buffer(options.bn_name + ".running_mean", {channels, 1, 1, 1});
  layout.add_buffer(options.bn_name + ".running_var", {channels, 1, 1, 1});

  BatchNormSpec bn_spec;
  bn_spec.shape = output_shape_;
  bn_spec.add_residual = options.add_residual;
  bn_spec.relu = options.relu;
  bn_spec.dtype = conv_spec_.dtype;
  bn_spec.format = conv_spec_.format;
  conv_ = backend_.make_convolution(conv_spec_);
  bn_ = backend_.make_batch_norm(bn_spec);

  const size_t activation_bytes =
      static_cast<size_t>(output_shape_.elements()) * size_of(conv_spec_.dtype);
  conv_output_ = backend_.allocate(activation_bytes);
  bn_output_ = backend_.allocate(activation_bytes);
  saved_statistics_ = backend_.allocate(2 * static_cast<size_t>(channels) * sizeof(float));
}

void ConvBn::initialize(std::span<float> weights, std::span<float> running_stats,
                        HostRandom& random) const {
  const Shape4 shape = conv_spec_.weight();
  const double fan_out = static_cast<double>(shape.n * shape.h * shape.w);
  const double stddev = std::sqrt(2.0 / fan_out);
  std::vector<float> oihw(static_cast<size_t>(shape.elements()));
  for (auto& value : oihw) value = static_cast<float>(stddev * random.normal());
  const auto stored = reorder(oihw, shape, MemoryFormat::kChannelsFirst, conv_spec_.format);
  std::copy(stored.begin(), stored.end(), weights.begin() + conv_weight_offset_);

  const int64_t channels = output_shape_.c;
  auto gamma = weights.subspan(bn_scale_offset_, channels);
  auto beta = weights.subspan(bn_scale_offset_ + channels, channels);
  std::fill(gamma.begin(), gamma.end(), 1.0f);
  std::fill(beta.begin(), beta.end(), 0.0f);
  auto mean = running_stats.subspan(running_mean_offset_, channels);
  auto var = running_stats.subspan(running_mean_offset_ + channels, channels);
  std::fill(mean.begin(), mean.end(), 0.0f);
  std::fill(var.begin(), var.end(), 1.0f);
}

BatchNormTensors ConvBn::batch_norm_tensors(ParameterStore& store) {
  const int64_t channels = output_shape_.c;
  float* saved = saved_statistics_->as<float>();
  float* stats = store.running_stats() + running_mean_offset_;
  const float* scale = store.weights() + bn_scale_offset_;
  return {scale, scale + channels, stats, stats + channels, saved, saved + channels};
}

void ConvBn::forward(ParameterStore& store, const void* x, const void* residual, bool training) {
  input_ = x;
  const auto* weight = static_cast<const std::byte*>(store.compute_weights()) +
                       conv_weight_offset_ * size_of(conv_spec_.dtype);
  conv_->forward(x, weight, conv_output_->data());
  const BatchNormTensors tensors = batch_norm_tensors(store);
  if (training) {
    bn_->forward_training(conv_output_->data(), residual, bn_output_->data(), tensors);
  } else {
    bn_->forward_inference(conv_output_->data(), residual, bn_output_->data(), tensors);
  }
}

void ConvBn::backward_batch_norm(ParameterStore& store, void* dy, void* d_conv_output,
                                 void* d_residual, const GradientsReady& ready) {
  float* d_scale = store.gradients() + bn_scale_offset_;
  const int64_t channels = output_shape_.c;
  bn_->backward(conv_output_->data(), bn_output_->data(), dy, d_conv_output, d_residual,
                batch_norm_tensors(store), d_scale, d_scale + channels);
  ready(bn_scale_offset_, 2 * channels);
}

void ConvBn::backward_convolution(ParameterStore& store, const void* d_conv_output, void* dx,
                                  const GradientsReady& ready) {
  conv_->backward_weights(input_, d_conv_output, store.gradients() + conv_weight_offset_);
  ready(conv_weight_offset_, conv_spec_.weight().elements());
  if (dx != nullptr) {
    const auto* weight = static_cast<const std::byte*>(store.compute_weights()) +
                         conv_weight_offset_ * size_of(conv_spec_.dtype);
    conv_->backward_data(d_conv_output, weight, dx);
  }
}

}  // namespace kubetrain

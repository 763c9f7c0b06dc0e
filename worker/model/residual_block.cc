#include "worker/model/residual_block.h"

#include <algorithm>

namespace kubetrain {

ResidualBlock::ResidualBlock(Backend& backend, const ResidualBlockOptions& options,
                             ParameterLayout& layout)
    : backend_(backend), dtype_(options.dtype), input_shape_(options.input) {
  const bool bottleneck = options.kind == ResidualBlockKind::kBottleneck;
  // {kernel, stride, out channels} of each convolution on the main path.
  struct Step {
    int kernel;
    int stride;
    int64_t channels;
  };
  std::vector<Step> steps;
  if (bottleneck) {
    steps = {{1, 1, options.width}, {3, options.stride, options.width}, {1, 1, 4 * options.width}};
  } else {
    steps = {{3, options.stride, options.width}, {3, 1, options.width}};
  }
  main_.reserve(steps.size());
  Shape4 shape = options.input;
  for (size_t i = 0; i < steps.size(); ++i) {
    const std::string index = std::to_string(i + 1);
    const bool last = i + 1 == steps.size();
    ConvBnOptions unit;
    unit.conv_name = options.prefix + ".conv" + index;
    unit.bn_name = options.prefix + ".bn" + index;
    unit.conv = {shape, steps[i].channels, steps[i].kernel, steps[i].stride,
                 steps[i].kernel / 2, options.dtype, options.format};
    unit.relu = true;
    unit.add_residual = last;
    main_.emplace_back(backend, unit, layout);
    shape = main_.back().output_shape();
  }
  if (options.stride != 1 || options.input.c != shape.c) {
    ConvBnOptions projection;
    projection.conv_name = options.prefix + ".downsample.0";
    projection.bn_name = options.prefix + ".downsample.1";
    projection.conv = {options.input, shape.c, 1, options.stride, 0, options.dtype,
                       options.format};
    projection.relu = false;
    downsample_.emplace(backend, projection, layout);
  }
}

int64_t ResidualBlock::largest_activation() const {
  int64_t largest = input_shape_.elements();
  for (const auto& unit : main_) largest = std::max(largest, unit.output_shape().elements());
  return largest;
}

void ResidualBlock::initialize(std::span<float> weights, std::span<float> running_stats,
                               HostRandom& random) const {
  for (const auto& unit : main_) unit.initialize(weights, running_stats, random);
  if (downsample_) downsample_->initialize(weights, running_stats, random);
}

void ResidualBlock::forward(ParameterStore& store, const void* x, bool training) {
  input_ = x;
  if (downsample_) downsample_->forward(store, x, nullptr, training);
  const void* residual = downsample_ ? downsample_->output() : x;
  const void* current = x;
  for (size_t i = 0; i < main_.size(); ++i) {
    main_[i].forward(store, current, i + 1 == main_.size() ? residual : nullptr, training);
    current = main_[i].output();
  }
}

void ResidualBlock::backward(ParameterStore& store, const GradientScratch& scratch,
                             const GradientsReady& ready) {
  auto [grad, work, residual] = scratch;
  // Gradients are reported in decreasing offset order: downsample's sit after the main path's.
  // The last BatchNorm's gradients are final first but are reported after downsample's.
  ConvBn& last = main_.back();
  int64_t last_offset = 0, last_count = 0;
  last.backward_batch_norm(store, grad, work, residual, [&](int64_t offset, int64_t count) {
    last_offset = offset;
    last_count = count;
  });
  if (downsample_) {
    downsample_->backward_batch_norm(store, residual, grad, nullptr, ready);
    downsample_->backward_convolution(store, grad, residual, ready);
  }
  ready(last_offset, last_count);
  last.backward_convolution(store, work, grad, ready);
  for (auto unit = main_.rbegin() + 1; unit != main_.rend(); ++unit) {
    unit->backward_batch_norm(store, grad, work, nullptr, ready);
    unit->backward_convolution(store, work, grad, ready);
  }
  // Both paths reach the block's input.
  backend_.add_inplace(dtype_, residual, grad, input_shape_.elements());
}

}  // namespace kubetrain

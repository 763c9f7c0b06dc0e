#pragma once

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "worker/model/conv_bn.h"
#include "worker/model/resnet_architecture.h"

namespace kubetrain {

// Three activation-sized scratch buffers for gradients. By convention the gradient flowing
// backward enters and leaves a layer in [0]; [1] and [2] are free between layers.
using GradientScratch = std::array<void*, 3>;

struct ResidualBlockOptions {
  std::string prefix;   // "layer2.0"
  ResidualBlockKind kind;
  Shape4 input;
  int64_t width;        // channels of the 3x3 convolutions
  int stride;
  DataType dtype;
  MemoryFormat format;
};

// torchvision's BasicBlock or Bottleneck (v1.5): y = relu(main(x) + shortcut(x)), with a projection
// shortcut (1x1 conv with the block's stride + BN, "downsample") whenever the shape changes.
// Parameters are laid out in torchvision's order: the main path's convs and BNs, then downsample.
class ResidualBlock {
 public:
  ResidualBlock(Backend& backend, const ResidualBlockOptions& options, ParameterLayout& layout);

  const Shape4& output_shape() const { return main_.back().output_shape(); }
  const void* output() const { return main_.back().output(); }
  // Largest activation of the block, in elements (to size the gradient scratch buffers).
  int64_t largest_activation() const;

  void initialize(std::span<float> weights, std::span<float> running_stats,
                  HostRandom& random) const;
  void forward(ParameterStore& store, const void* x, bool training);
  // scratch[0] holds d(output) on entry and d(input) on return.
  void backward(ParameterStore& store, const GradientScratch& scratch,
                const GradientsReady& ready);

 private:
  Backend& backend_;
  DataType dtype_;
  Shape4 input_shape_;
  std::vector<ConvBn> main_;
  std::optional<ConvBn> downsample_;
  const void* input_ = nullptr;
};

}  // namespace kubetrain

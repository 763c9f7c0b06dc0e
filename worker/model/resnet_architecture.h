#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kubetrain {

enum class ResidualBlockKind {
  kBasic,       // 3x3 -> 3x3
  kBottleneck,  // 1x1 -> 3x3 (carries the stride, v1.5) -> 1x1 with 4x the width
};

// The shape of one ResNet family member, as torchvision (ImageNet-style) and He et al. section 4.2
// (CIFAR-style) define them.
struct ResNetArchitecture {
  bool imagenet_stem = false;          // 7x7/2 conv + 3x3/2 max pool; else a 3x3/1 conv
  int64_t stem_channels = 16;
  ResidualBlockKind block = ResidualBlockKind::kBasic;
  std::vector<int> blocks_per_stage;   // stage s > 0 starts with a stride-2 block
  std::vector<int64_t> stage_widths;   // 3x3 conv channels of each stage

  int64_t expansion() const { return block == ResidualBlockKind::kBottleneck ? 4 : 1; }
};

// resnet20/32/44/56/110 (CIFAR-style) and resnet18/34/50/101/152; throws std::invalid_argument
// naming the valid names for anything else.
ResNetArchitecture resnet_architecture(const std::string& name);

}  // namespace kubetrain

#pragma once

// The ResNet variants the worker builds, as the config spells them.

#include <string_view>
#include <vector>

namespace kubetrain {

// resnet20/32/44/56/110 (CIFAR-style), then resnet18/34/50/101/152 (ImageNet-style, v1.5).
const std::vector<std::string_view>& model_names();

// ImageNet-style models start with a stride-2 7x7 conv and a max pool and downsample by 32 overall;
// CIFAR-style ones downsample by 4.
bool is_imagenet_style(std::string_view model);

}  // namespace kubetrain

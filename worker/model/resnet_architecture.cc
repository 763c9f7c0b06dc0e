#include "worker/model/resnet_architecture.h"

#include <stdexcept>

namespace kubetrain {
namespace {

ResNetArchitecture cifar(int blocks) {
  return {false, 16, ResidualBlockKind::kBasic, {blocks, blocks, blocks}, {16, 32, 64}};
}

ResNetArchitecture imagenet(ResidualBlockKind block, std::vector<int> blocks) {
  return {true, 64, block, std::move(blocks), {64, 128, 256, 512}};
}

}  // namespace

ResNetArchitecture resnet_architecture(const std::string& name) {
  using enum ResidualBlockKind;
  // CIFAR-style depth 6n + 2: n basic blocks per stage.
  if (name == "resnet20") return cifar(3);
  if (name == "resnet32") return cifar(5);
  if (name == "resnet44") return cifar(7);
  if (name == "resnet56") return cifar(9);
  if (name == "resnet110") return cifar(18);
  if (name == "resnet18") return imagenet(kBasic, {2, 2, 2, 2});
  if (name == "resnet34") return imagenet(kBasic, {3, 4, 6, 3});
  if (name == "resnet50") return imagenet(kBottleneck, {3, 4, 6, 3});
  if (name == "resnet101") return imagenet(kBottleneck, {3, 4, 23, 3});
  if (name == "resnet152") return imagenet(kBottleneck, {3, 8, 36, 3});
  throw std::invalid_argument("unknown model \"" + name +
                              "\"; valid: resnet20, resnet32, resnet44, resnet56, resnet110, "
                              "resnet18, resnet34, resnet50, resnet101, resnet152");
}

}  // namespace kubetrain

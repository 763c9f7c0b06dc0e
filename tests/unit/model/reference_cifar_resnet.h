#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace kubetrain::test {

// Parameters by torchvision name in PyTorch's layouts (conv OIHW, linear [out, in]).
using ReferenceWeights = std::map<std::string, std::vector<double>>;

struct ReferenceInput {
  int64_t n, c, h, w;
  std::vector<double> nchw;
  std::vector<int> labels;
};

// A naive double-precision CIFAR ResNet (He et al. section 4.2 with projection shortcuts,
// torchvision's names) in training mode: BatchNorm normalises with the batch statistics.
// Returns the mean softmax cross-entropy with label smoothing (PyTorch's definition) and the
// logits [n, classes] in *logits.
double reference_cifar_resnet_loss(const ReferenceWeights& weights, int blocks_per_stage,
                                   const ReferenceInput& input, int classes,
                                   double label_smoothing, std::vector<double>* logits);

}  // namespace kubetrain::test

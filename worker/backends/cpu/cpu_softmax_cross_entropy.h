#pragma once

#include <memory>

#include "worker/backend/operators.h"

namespace kubetrain {

std::unique_ptr<SoftmaxCrossEntropy> make_cpu_softmax_cross_entropy(
    const SoftmaxCrossEntropySpec& spec);

}  // namespace kubetrain

#pragma once

#include <span>

#include "worker/backend/backend.h"

namespace kubetrain {

// Backend::sgd_update on host memory (torch.optim.SGD semantics, see worker/backend/backend.h).
void cpu_sgd_update(std::span<const ParameterSegment> segments, float* weights,
                    const float* gradients, float* momentum, const SgdHyperparameters& hyper);

}  // namespace kubetrain

#pragma once

#include <memory>

#include "worker/backend/operators.h"
#include "worker/backends/cpu/dnnl_context.h"

namespace kubetrain {

std::unique_ptr<BatchNorm> make_cpu_batch_norm(DnnlContext& context, const BatchNormSpec& spec);

}  // namespace kubetrain

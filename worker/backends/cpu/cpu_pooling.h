#pragma once

#include <memory>

#include "worker/backend/operators.h"
#include "worker/backends/cpu/dnnl_context.h"

namespace kubetrain {

std::unique_ptr<Pooling> make_cpu_pooling(DnnlContext& context, const PoolingSpec& spec);

}  // namespace kubetrain

#pragma once

#include <memory>

#include "worker/backend/operators.h"
#include "worker/backends/cpu/dnnl_context.h"

namespace kubetrain {

std::unique_ptr<Linear> make_cpu_linear(DnnlContext& context, const LinearSpec& spec);

}  // namespace kubetrain

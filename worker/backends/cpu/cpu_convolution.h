#pragma once

#include <memory>

#include "worker/backend/operators.h"
#include "worker/backends/cpu/dnnl_context.h"

namespace kubetrain {

// Throws std::invalid_argument for a spec oneDNN cannot run (names the bad field).
std::unique_ptr<Convolution> make_cpu_convolution(DnnlContext& context,
                                                  const ConvolutionSpec& spec);

}  // namespace kubetrain

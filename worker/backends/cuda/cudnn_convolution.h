#pragma once

#include <memory>

#include "worker/backend/operators.h"
#include "worker/backends/cuda/cuda_context.h"

namespace kubetrain::cuda {

// cuDNN convolution; the fastest algorithm for each direction is measured once, here, with
// cudnnFind*AlgorithmEx, and the shared workspace grown to what the winners need.
std::unique_ptr<Convolution> make_cudnn_convolution(CudaContext& context,
                                                    const ConvolutionSpec& spec);

}  // namespace kubetrain::cuda

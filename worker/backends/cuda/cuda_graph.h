#pragma once

#include <functional>
#include <memory>

#include "worker/backend/backend.h"
#include "worker/backends/cuda/cuda_context.h"

namespace kubetrain::cuda {

// Records what `work` issues on `context`'s stream (and on streams that join it through events)
// into a CUDA graph, instantiated and ready to replay on that stream. Throws std::runtime_error,
// with the stream no longer capturing, when `work` does something a graph cannot hold.
std::unique_ptr<RecordedWork> record_cuda_graph(CudaContext& context,
                                                const std::function<void()>& work);

}  // namespace kubetrain::cuda

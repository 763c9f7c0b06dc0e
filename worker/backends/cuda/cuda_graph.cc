#include "worker/backends/cuda/cuda_graph.h"

#include <cstdint>
#include <stdexcept>
#include <string>

#include "worker/backends/cuda/cuda_check.h"

namespace kubetrain::cuda {
namespace {

class CudaGraph final : public RecordedWork {
 public:
  // Takes ownership of `graph`.
  CudaGraph(CudaContext& context, cudaGraph_t graph, uint64_t memory_generation)
      : context_(context), graph_(graph), memory_generation_(memory_generation) {
    try {
      KUBETRAIN_CUDA_CHECK(cudaGraphGetNodes(graph_, nullptr, &operations_));
      KUBETRAIN_CUDA_CHECK(cudaGraphInstantiate(&executable_, graph_, 0));
      // Moves the graph's launch data to the device now rather than at the first replay.
      KUBETRAIN_CUDA_CHECK(cudaGraphUpload(executable_, context_.stream()));
    } catch (...) {
      if (executable_ != nullptr) cudaGraphExecDestroy(executable_);
      cudaGraphDestroy(graph_);
      throw;
    }
  }

  ~CudaGraph() override {
    // A replay may still be running: destroy the executable graph only after it.
    cudaStreamSynchronize(context_.stream());
    if (executable_ != nullptr) cudaGraphExecDestroy(executable_);
    cudaGraphDestroy(graph_);
  }

  CudaGraph(const CudaGraph&) = delete;
  CudaGraph& operator=(const CudaGraph&) = delete;

  bool replay() override {
    if (context_.memory_generation() != memory_generation_) return false;
    KUBETRAIN_CUDA_CHECK(cudaGraphLaunch(executable_, context_.stream()));
    return true;
  }

  size_t operations() const override { return operations_; }

 private:
  CudaContext& context_;
  cudaGraph_t graph_;
  cudaGraphExec_t executable_ = nullptr;
  uint64_t memory_generation_;
  size_t operations_ = 0;
};

// Ends a capture that `work` broke off, dropping what was recorded, and clears the error the
// capture left behind so that later calls on the stream are not blamed for it.
void abandon_capture(cudaStream_t stream) noexcept {
  cudaGraph_t partial = nullptr;
  cudaStreamEndCapture(stream, &partial);
  if (partial != nullptr) cudaGraphDestroy(partial);
  cudaGetLastError();
}

}  // namespace

std::unique_ptr<RecordedWork> record_cuda_graph(CudaContext& context,
                                                const std::function<void()>& work) {
  const cudaStream_t stream = context.stream();
  const uint64_t memory_generation = context.memory_generation();
  // Thread-local mode: a call from this thread that a graph cannot hold (a synchronization, a
  // plain cudaMalloc) ends the capture with an error; other threads (data loaders, the status
  // server) are not affected.
  KUBETRAIN_CUDA_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
  try {
    work();
  } catch (const std::exception& error) {
    abandon_capture(stream);
    throw std::runtime_error(std::string("recording a CUDA graph failed: ") + error.what());
  } catch (...) {
    abandon_capture(stream);
    throw;
  }
  cudaGraph_t graph = nullptr;
  const cudaError_t ended = cudaStreamEndCapture(stream, &graph);
  if (ended != cudaSuccess) {
    if (graph != nullptr) cudaGraphDestroy(graph);
    cudaGetLastError();
    throw std::runtime_error(std::string("recording a CUDA graph failed: cudaStreamEndCapture: ") +
                             cudaGetErrorString(ended));
  }
  auto recorded = std::make_unique<CudaGraph>(context, graph, memory_generation);
  if (context.memory_generation() != memory_generation) {
    throw std::runtime_error(
        "recording a CUDA graph failed: the shared workspace was replaced while recording");
  }
  return recorded;
}

}  // namespace kubetrain::cuda

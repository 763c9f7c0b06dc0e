#include "worker/backends/cuda/nccl_gradient_reducer.h"

#include <nccl.h>

#include <string>

#include "worker/backends/cuda/cuda_check.h"

namespace kubetrain::cuda {
namespace {

class NcclGradientReducer final : public GradientReducer {
 public:
  NcclGradientReducer(Communicator& communicator, CudaContext& context, float* gradients,
                      int64_t count, int64_t bucket_elements)
      : GradientReducer(gradients, count, bucket_elements), compute_stream_(context.stream()) {
    KUBETRAIN_CUDA_CHECK(cudaSetDevice(context.device()));
    // Rank 0 makes the id; every rank gets it through the host communicator (MPI).
    ncclUniqueId id{};
    if (communicator.rank() == 0) KUBETRAIN_CUDA_CHECK(ncclGetUniqueId(&id));
    communicator.broadcast(&id, sizeof(id), 0);
    KUBETRAIN_CUDA_CHECK(ncclCommInitRank(&comm_, communicator.size(), id, communicator.rank()));
    try {
      KUBETRAIN_CUDA_CHECK(cudaStreamCreateWithFlags(&comm_stream_, cudaStreamNonBlocking));
      KUBETRAIN_CUDA_CHECK(cudaEventCreateWithFlags(&gradients_ready_, cudaEventDisableTiming));
      KUBETRAIN_CUDA_CHECK(cudaEventCreateWithFlags(&reduced_, cudaEventDisableTiming));
    } catch (...) {
      release();
      throw;
    }
  }

  ~NcclGradientReducer() override { release(); }

 protected:
  void launch(float* data, int64_t count) override {
    // The event captures the compute stream's work issued so far, i.e. the kernels that wrote
    // this bucket; re-recording it later does not affect the wait enqueued here.
    KUBETRAIN_CUDA_CHECK(cudaEventRecord(gradients_ready_, compute_stream_));
    KUBETRAIN_CUDA_CHECK(cudaStreamWaitEvent(comm_stream_, gradients_ready_, 0));
    KUBETRAIN_CUDA_CHECK(ncclAllReduce(data, data, static_cast<size_t>(count), ncclFloat, ncclAvg,
                                       comm_, comm_stream_));
  }

  void wait_all() override {
    KUBETRAIN_CUDA_CHECK(cudaEventRecord(reduced_, comm_stream_));
    KUBETRAIN_CUDA_CHECK(cudaStreamWaitEvent(compute_stream_, reduced_, 0));
  }

 private:
  // What NCCL reports from its proxy threads, e.g. a peer's connection closed. The collectives
  // themselves then hang, so this is polled rather than returned.
  std::string health() const override {
    ncclResult_t state = ncclSuccess;
    if (ncclCommGetAsyncError(comm_, &state) != ncclSuccess) return "";
    if (state == ncclSuccess || state == ncclInProgress) return "";
    const char* detail = ncclGetLastError(comm_);
    return "NCCL reports " + std::string(ncclGetErrorString(state)) +
           (detail != nullptr && *detail != '\0' ? " (" + std::string(detail) + ")" : "");
  }

  void release() noexcept {
    if (comm_stream_ != nullptr) cudaStreamSynchronize(comm_stream_);
    if (comm_ != nullptr) ncclCommDestroy(comm_);
    if (reduced_ != nullptr) cudaEventDestroy(reduced_);
    if (gradients_ready_ != nullptr) cudaEventDestroy(gradients_ready_);
    if (comm_stream_ != nullptr) cudaStreamDestroy(comm_stream_);
  }

  cudaStream_t compute_stream_;
  ncclComm_t comm_ = nullptr;
  cudaStream_t comm_stream_ = nullptr;
  cudaEvent_t gradients_ready_ = nullptr;
  cudaEvent_t reduced_ = nullptr;
};

}  // namespace

std::unique_ptr<GradientReducer> make_nccl_gradient_reducer(Communicator& communicator,
                                                            CudaContext& context, float* gradients,
                                                            int64_t count,
                                                            int64_t bucket_elements) {
  return std::make_unique<NcclGradientReducer>(communicator, context, gradients, count,
                                               bucket_elements);
}

}  // namespace kubetrain::cuda

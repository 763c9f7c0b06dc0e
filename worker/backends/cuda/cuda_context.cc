#include "worker/backends/cuda/cuda_context.h"

#include "worker/backends/cuda/cuda_check.h"

namespace kubetrain::cuda {

CudaContext::CudaContext(int device, bool allow_tf32) : device_(device), allow_tf32_(allow_tf32) {
  KUBETRAIN_CUDA_CHECK(cudaSetDevice(device));
  KUBETRAIN_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  try {
    KUBETRAIN_CUDA_CHECK(cudnnCreate(&cudnn_));
    KUBETRAIN_CUDA_CHECK(cudnnSetStream(cudnn_, stream_));
    KUBETRAIN_CUDA_CHECK(cublasCreate(&cublas_));
    KUBETRAIN_CUDA_CHECK(cublasSetStream(cublas_, stream_));
    // TF32 is chosen per call through the compute type (see cublas_linear.cc); the default math
    // mode keeps cuBLAS from using it behind our back.
    KUBETRAIN_CUDA_CHECK(cublasSetMathMode(cublas_, CUBLAS_DEFAULT_MATH));
  } catch (...) {
    if (cublas_ != nullptr) cublasDestroy(cublas_);
    if (cudnn_ != nullptr) cudnnDestroy(cudnn_);
    cudaStreamDestroy(stream_);
    throw;
  }
}

CudaContext::~CudaContext() {
  cudaStreamSynchronize(stream_);
  cublasDestroy(cublas_);
  cudnnDestroy(cudnn_);
  cudaStreamDestroy(stream_);
}

namespace {

// Replaces `memory` with a block of at least `bytes`, after the queued work that may use it;
// tells whether it did.
bool grow(DeviceMemory& memory, size_t bytes, cudaStream_t stream) {
  if (bytes <= memory.bytes()) return false;
  KUBETRAIN_CUDA_CHECK(cudaStreamSynchronize(stream));
  memory = DeviceMemory();  // free first: the old and new blocks need not fit side by side
  memory = DeviceMemory(bytes);
  return true;
}

}  // namespace

void CudaContext::reserve_workspace(size_t bytes) {
  if (grow(workspace_, bytes, stream_)) ++memory_generation_;
}

void CudaContext::reserve_staging(size_t bytes) {
  for (auto& slot : staging_) {
    if (grow(slot, bytes, stream_)) ++memory_generation_;
  }
}

}  // namespace kubetrain::cuda

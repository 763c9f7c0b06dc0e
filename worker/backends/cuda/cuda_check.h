#pragma once

// Every CUDA, cuDNN, cuBLAS and NCCL call is wrapped in one of these: a failure throws
// std::runtime_error naming the call, the file and line, and the library's own error string.

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>
#include <nccl.h>

namespace kubetrain::cuda {

[[noreturn]] void throw_error(const char* library, const char* call, const char* file, int line,
                              const char* message);

inline void check(cudaError_t status, const char* call, const char* file, int line) {
  if (status != cudaSuccess) throw_error("CUDA", call, file, line, cudaGetErrorString(status));
}
inline void check(cudnnStatus_t status, const char* call, const char* file, int line) {
  if (status != CUDNN_STATUS_SUCCESS) {
    throw_error("cuDNN", call, file, line, cudnnGetErrorString(status));
  }
}
inline void check(cublasStatus_t status, const char* call, const char* file, int line) {
  if (status != CUBLAS_STATUS_SUCCESS) {
    throw_error("cuBLAS", call, file, line, cublasGetStatusString(status));
  }
}
inline void check(ncclResult_t status, const char* call, const char* file, int line) {
  if (status != ncclSuccess) throw_error("NCCL", call, file, line, ncclGetErrorString(status));
}

}  // namespace kubetrain::cuda

#define KUBETRAIN_CUDA_CHECK(call) ::kubetrain::cuda::check((call), #call, __FILE__, __LINE__)
// Kernel launches report configuration errors through cudaGetLastError.
#define KUBETRAIN_CUDA_CHECK_LAUNCH() KUBETRAIN_CUDA_CHECK(cudaGetLastError())

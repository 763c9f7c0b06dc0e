#pragma once

// What every CUDA operator of one backend shares: the device, the compute stream, the library
// handles bound to that stream, the TF32 choice and one scratch workspace. All operators run on
// the same stream one after another, so one workspace serves them all.

#include <cstddef>
#include <cstdint>

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>

#include "worker/backends/cuda/device_memory.h"
#include "worker/dist/host_waits.h"

namespace kubetrain::cuda {

class CudaContext {
 public:
  CudaContext(int device, bool allow_tf32);
  ~CudaContext();
  CudaContext(const CudaContext&) = delete;
  CudaContext& operator=(const CudaContext&) = delete;

  int device() const { return device_; }
  bool allow_tf32() const { return allow_tf32_; }
  cudaStream_t stream() const { return stream_; }
  cudnnHandle_t cudnn() const { return cudnn_; }
  cublasHandle_t cublas() const { return cublas_; }

  // Grows the shared workspace to at least `bytes` (operators call this once, when created).
  void reserve_workspace(size_t bytes);
  void* workspace() const { return workspace_.data(); }
  size_t workspace_bytes() const { return workspace_.bytes(); }

  // Shared fp32 staging tensors for operators that compute in fp32 on 16-bit data; like the
  // workspace they are grown when operators are created and used one operator at a time.
  static constexpr int kStagingSlots = 4;
  void reserve_staging(size_t bytes);
  void* staging(int slot) const { return staging_[slot].data(); }

  // Changes whenever the workspace or a staging tensor is replaced by a larger one: recordings
  // (CUDA graphs) hold their addresses and are out of date from then on.
  uint64_t memory_generation() const { return memory_generation_; }

  // Where the host blocks on the stream, which may be held up behind an allreduce (the backend's
  // host_waits()).
  HostWaits& host_waits() { return host_waits_; }

 private:
  int device_;
  bool allow_tf32_;
  cudaStream_t stream_ = nullptr;
  cudnnHandle_t cudnn_ = nullptr;
  cublasHandle_t cublas_ = nullptr;
  DeviceMemory workspace_;
  DeviceMemory staging_[kStagingSlots];
  uint64_t memory_generation_ = 0;
  HostWaits host_waits_;
};

}  // namespace kubetrain::cuda

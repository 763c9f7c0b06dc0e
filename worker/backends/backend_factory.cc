#include <stdexcept>
#include <string>

#include "worker/backend/backend.h"
#include "worker/backends/cpu/cpu_backend.h"
#ifdef KUBETRAIN_HAVE_CUDA
#include "worker/backends/cuda/cuda_backend.h"
#endif

namespace kubetrain {

std::unique_ptr<Backend> make_backend(DeviceKind kind, int local_rank) {
  switch (kind) {
    case DeviceKind::kCpu:
      return make_cpu_backend();
    case DeviceKind::kCuda: {
#ifdef KUBETRAIN_HAVE_CUDA
      const int devices = cuda_device_count();
      if (devices == 0) {
        throw std::runtime_error(
            "device cuda was requested but no CUDA device is visible "
            "(check the driver, CUDA_VISIBLE_DEVICES and the pod's GPU limit)");
      }
      if (local_rank < 0 || local_rank >= devices) {
        throw std::runtime_error("local rank " + std::to_string(local_rank) +
                                 " has no GPU: " + std::to_string(devices) +
                                 " CUDA devices are visible on this node; run at most that many "
                                 "ranks per node (slotsPerWorker)");
      }
      return make_cuda_backend(local_rank);
#else
      (void)local_rank;
      throw std::runtime_error(
          "this kubetrain-worker was built without CUDA; set device: cpu, or rebuild with "
          "-DKUBETRAIN_CUDA=ON where the CUDA toolkit, cuDNN and NCCL are installed");
#endif
    }
  }
  throw std::invalid_argument("unknown device kind " + std::to_string(static_cast<int>(kind)));
}

bool cuda_available() {
#ifdef KUBETRAIN_HAVE_CUDA
  return cuda_device_count() > 0;
#else
  return false;
#endif
}

}  // namespace kubetrain

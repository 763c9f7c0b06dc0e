#pragma once

#include <memory>

#include "worker/backend/backend.h"

namespace kubetrain {

// The oneDNN backend: fp32 on host memory, one engine and stream, OpenMP threads from
// OMP_NUM_THREADS or else every core available to the process (affinity and cgroup CPU limit).
// Operators run on the caller's thread, one at a time.
std::unique_ptr<Backend> make_cpu_backend();

}  // namespace kubetrain

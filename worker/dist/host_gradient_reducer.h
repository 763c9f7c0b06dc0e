#pragma once

#include <chrono>
#include <memory>

#include "worker/dist/communicator.h"
#include "worker/dist/gradient_reducer.h"

namespace kubetrain {

// Averages host-memory gradients over the communicator on a communication thread, so buckets are
// reduced while the backward pass computes the next ones (blocking MPI calls on a thread of their
// own progress reliably, which MPI_Iallreduce without a progress thread does not). A wait in
// finish() longer than `collective_timeout` (zero: none) ends the rank (collective_watchdog.h).
std::unique_ptr<GradientReducer> make_host_gradient_reducer(
    Communicator& communicator, float* gradients, int64_t count, int64_t bucket_elements,
    std::chrono::milliseconds collective_timeout);

// Horovod's default fusion threshold is 64 MB, PyTorch DDP's bucket 25 MB; CPU ranks start
// reducing sooner with smaller buckets.
constexpr int64_t kHostBucketBytes = 4 << 20;

}  // namespace kubetrain

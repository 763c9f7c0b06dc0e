#pragma once

#include <memory>

#include "worker/dist/communicator.h"
#include "worker/dist/gradient_reducer.h"
#include "worker/dist/host_waits.h"

namespace kubetrain {

// Averages host-memory gradients over the communicator on a communication thread, so buckets are
// reduced while the backward pass computes the next ones (blocking MPI calls on a thread of their
// own progress reliably, which MPI_Iallreduce without a progress thread does not). finish()'s
// wait for the last bucket is marked in `waits`.
std::unique_ptr<GradientReducer> make_host_gradient_reducer(Communicator& communicator,
                                                            float* gradients, int64_t count,
                                                            int64_t bucket_elements,
                                                            HostWaits& waits);

// Horovod's default fusion threshold is 64 MB, PyTorch DDP's bucket 25 MB; CPU ranks start
// reducing sooner with smaller buckets.
constexpr int64_t kHostBucketBytes = 4 << 20;

}  // namespace kubetrain

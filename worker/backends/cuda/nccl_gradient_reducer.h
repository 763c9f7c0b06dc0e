#pragma once

#include <cstdint>
#include <memory>

#include "worker/backends/cuda/cuda_context.h"
#include "worker/dist/communicator.h"
#include "worker/dist/gradient_reducer.h"

namespace kubetrain::cuda {

// Averages device-memory gradients with ncclAllReduce(ncclAvg) on a communication stream of its
// own. Each bucket waits (on the device, through an event) for the compute stream's work issued
// before it was launched; finish() makes the compute stream wait for the last allreduce. The host
// never blocks, so the reductions overlap the rest of the backward pass. Collective: every rank
// creates its reducer at the same point (ncclCommInitRank waits for all of them). health()
// reports NCCL's asynchronous errors.
std::unique_ptr<GradientReducer> make_nccl_gradient_reducer(Communicator& communicator,
                                                            CudaContext& context, float* gradients,
                                                            int64_t count,
                                                            int64_t bucket_elements);

// PyTorch DDP's default bucket is 25 MB; a few buckets per ResNet-50 step start communication
// early without paying NCCL's per-call latency too often.
constexpr int64_t kNcclBucketBytes = 16 << 20;

}  // namespace kubetrain::cuda

#pragma once

#include <cstdint>

#include <cuda_runtime_api.h>

#include "worker/backend/backend.h"

namespace kubetrain::cuda {

// One row of the device-side segment table: the segment and the first block that works on it.
struct SgdSegment {
  int64_t offset;
  int64_t count;
  int64_t first_block;
  int32_t weight_decay;
};

// Elements each block updates; the table's first_block values are laid out in these units.
constexpr int64_t kSgdElementsPerBlock = 4096;

// One launch over all segments: block b works on the segment whose first_block is the largest
// one <= b. `table` (device memory) holds `segments` rows in increasing first_block order.
void launch_sgd_update(const SgdSegment* table, int segments, int64_t total_blocks, float* weights,
                       const float* gradients, float* momentum, const SgdHyperparameters& hyper,
                       cudaStream_t stream);

}  // namespace kubetrain::cuda

#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kubetrain {

// The error for a globalBatchSize that does not divide by the world size, naming both numbers and
// the nearest valid sizes; empty when it divides. The worker exits with code 2 on it, on every rank.
std::string batch_divisibility_error(int64_t global_batch, int world_size);

// Which examples each rank reads (DESIGN.md, "Leftover-dropping sharding"): every epoch all ranks
// draw the same permutation of [0, N) from (seed, epoch); steps_per_epoch = floor(N / G); at step s
// rank r reads permutation positions [s*G + r*G/W, s*G + (r+1)*G/W). The N - steps*G leftovers are
// dropped, so every rank runs the same number of steps.
class ShardPlan {
 public:
  ShardPlan(int64_t examples, int64_t global_batch, int world_size, int rank, uint64_t seed);

  int64_t steps_per_epoch() const { return steps_per_epoch_; }
  int64_t dropped_per_epoch() const { return examples_ - steps_per_epoch_ * global_batch_; }
  int64_t local_batch() const { return global_batch_ / world_size_; }

  std::vector<int64_t> permutation(int64_t epoch) const;
  // This rank's index list for every step of `epoch`.
  std::vector<std::vector<int64_t>> epoch_batches(int64_t epoch) const;

 private:
  int64_t examples_;
  int64_t global_batch_;
  int world_size_;
  int rank_;
  uint64_t seed_;
  int64_t steps_per_epoch_;
};

// Evaluation: rank r takes the contiguous block [r*N/W, (r+1)*N/W) of the validation set (sizes
// differ by at most one), cut into batches of `local_batch`; the last batch may be short (the
// loader pads it). Every example is counted exactly once across ranks.
std::vector<std::vector<int64_t>> evaluation_batches(int64_t examples, int64_t local_batch,
                                                     int world_size, int rank);

}  // namespace kubetrain

#include "worker/dist/shard_plan.h"

#include <algorithm>
#include <numeric>
#include <random>
#include <stdexcept>

namespace kubetrain {

std::string batch_divisibility_error(int64_t global_batch, int world_size) {
  if (world_size <= 0) throw std::invalid_argument("world size must be positive");
  if (global_batch % world_size == 0 && global_batch > 0) return "";
  const int64_t below = global_batch / world_size * world_size;
  const int64_t above = below + world_size;
  std::string message = "globalBatchSize " + std::to_string(global_batch) +
                        " is not divisible by " + std::to_string(world_size) + " ranks; use ";
  if (below > 0) message += std::to_string(below) + " or ";
  return message + std::to_string(above);
}

ShardPlan::ShardPlan(int64_t examples, int64_t global_batch, int world_size, int rank,
                     uint64_t seed)
    : examples_(examples),
      global_batch_(global_batch),
      world_size_(world_size),
      rank_(rank),
      seed_(seed),
      steps_per_epoch_(global_batch > 0 ? examples / global_batch : 0) {
  if (const auto error = batch_divisibility_error(global_batch, world_size); !error.empty()) {
    throw std::invalid_argument(error);
  }
  if (rank < 0 || rank >= world_size) throw std::invalid_argument("rank out of range");
}

std::vector<int64_t> ShardPlan::permutation(int64_t epoch) const {
  std::vector<int64_t> order(static_cast<size_t>(examples_));
  std::iota(order.begin(), order.end(), int64_t{0});
  // A generator defined by the standard (not std::shuffle's unspecified algorithm) so that every
  // rank, whatever its standard library, draws the same permutation: Fisher-Yates on mt19937_64.
  std::mt19937_64 random(seed_ * 0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(epoch) + 1);
  for (int64_t i = examples_ - 1; i > 0; --i) {
    const auto j = static_cast<int64_t>(random() % static_cast<uint64_t>(i + 1));
    std::swap(order[static_cast<size_t>(i)], order[static_cast<size_t>(j)]);
  }
  return order;
}

std::vector<std::vector<int64_t>> ShardPlan::epoch_batches(int64_t epoch) const {
  const auto order = permutation(epoch);
  const int64_t local = local_batch();
  std::vector<std::vector<int64_t>> batches;
  batches.reserve(static_cast<size_t>(steps_per_epoch_));
  for (int64_t step = 0; step < steps_per_epoch_; ++step) {
    const auto first = order.begin() + step * global_batch_ + rank_ * local;
    batches.emplace_back(first, first + local);
  }
  return batches;
}

std::vector<std::vector<int64_t>> evaluation_batches(int64_t examples, int64_t local_batch,
                                                     int world_size, int rank) {
  const int64_t begin = examples * rank / world_size;
  const int64_t end = examples * (rank + 1) / world_size;
  std::vector<std::vector<int64_t>> batches;
  for (int64_t first = begin; first < end; first += local_batch) {
    std::vector<int64_t> batch(static_cast<size_t>(std::min(local_batch, end - first)));
    std::iota(batch.begin(), batch.end(), first);
    batches.push_back(std::move(batch));
  }
  return batches;
}

}  // namespace kubetrain

#include "worker/dist/shard_plan.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

namespace kubetrain {
namespace {

TEST(BatchDivisibility, NamesBothNumbersAndTheNearestValidSizes) {
  EXPECT_EQ(batch_divisibility_error(1000, 12),
            "globalBatchSize 1000 is not divisible by 12 ranks; use 996 or 1008");
  EXPECT_EQ(batch_divisibility_error(256, 3),
            "globalBatchSize 256 is not divisible by 3 ranks; use 255 or 258");
  EXPECT_EQ(batch_divisibility_error(2, 3), "globalBatchSize 2 is not divisible by 3 ranks; use 3");
  EXPECT_EQ(batch_divisibility_error(256, 8), "");
  EXPECT_THROW(ShardPlan(1000, 1000, 12, 0, 1), std::invalid_argument);
}

struct ShardCase {
  int64_t examples;
  int64_t global_batch;
  int world;
};

class ShardPlanProperties : public testing::TestWithParam<ShardCase> {};

TEST_P(ShardPlanProperties, ShardsAreDisjointEqualAndDropTheLeftovers) {
  const auto [examples, global_batch, world] = GetParam();
  const int64_t expected_steps = examples / global_batch;
  for (int64_t epoch = 0; epoch < 2; ++epoch) {
    std::set<int64_t> seen;
    for (int rank = 0; rank < world; ++rank) {
      const ShardPlan plan(examples, global_batch, world, rank, 7);
      EXPECT_EQ(plan.steps_per_epoch(), expected_steps);
      EXPECT_EQ(plan.dropped_per_epoch(), examples - expected_steps * global_batch);
      const auto batches = plan.epoch_batches(epoch);
      ASSERT_EQ(static_cast<int64_t>(batches.size()), expected_steps);
      for (const auto& batch : batches) {
        ASSERT_EQ(static_cast<int64_t>(batch.size()), global_batch / world);
        for (const int64_t index : batch) {
          EXPECT_GE(index, 0);
          EXPECT_LT(index, examples);
          EXPECT_TRUE(seen.insert(index).second) << "index " << index << " read twice";
        }
      }
    }
    EXPECT_EQ(static_cast<int64_t>(seen.size()), expected_steps * global_batch);
  }
}

INSTANTIATE_TEST_SUITE_P(Sizes, ShardPlanProperties,
                         testing::Values(ShardCase{1000, 96, 4}, ShardCase{60000, 256, 2},
                                         ShardCase{10, 3, 3}, ShardCase{17, 4, 1},
                                         ShardCase{5, 6, 2}));

TEST(ShardPlan, StepAtGlobalPositionsFollowsTheDesignFormula) {
  // Rank r at step s reads permutation positions [s*G + r*G/W, s*G + (r+1)*G/W).
  const ShardPlan rank1(100, 20, 4, 1, 3);
  const auto order = rank1.permutation(2);
  const auto batches = rank1.epoch_batches(2);
  for (int64_t step = 0; step < 5; ++step) {
    for (int64_t i = 0; i < 5; ++i) {
      EXPECT_EQ(batches[step][i], order[step * 20 + 5 + i]);
    }
  }
}

TEST(ShardPlan, EveryRankDrawsTheSamePermutationAndEpochsDiffer) {
  const ShardPlan rank0(5000, 100, 4, 0, 11);
  const ShardPlan rank3(5000, 100, 4, 3, 11);
  EXPECT_EQ(rank0.permutation(0), rank3.permutation(0));
  EXPECT_NE(rank0.permutation(0), rank0.permutation(1));
  auto sorted = rank0.permutation(1);
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 5000; ++i) ASSERT_EQ(sorted[i], i);
  const ShardPlan other_seed(5000, 100, 4, 0, 12);
  EXPECT_NE(rank0.permutation(0), other_seed.permutation(0));
}

TEST(EvaluationBatches, CountEveryExampleOnceWhenTheWorldDoesNotDivide) {
  for (const int world : {1, 2, 3, 7}) {
    for (const int64_t examples : {int64_t{10000}, int64_t{10001}, int64_t{5}, int64_t{2}}) {
      std::vector<int> counted(static_cast<size_t>(examples), 0);
      for (int rank = 0; rank < world; ++rank) {
        for (const auto& batch : evaluation_batches(examples, 64, world, rank)) {
          EXPECT_LE(batch.size(), 64u);
          for (const int64_t index : batch) ++counted[static_cast<size_t>(index)];
        }
      }
      EXPECT_TRUE(std::all_of(counted.begin(), counted.end(), [](int c) { return c == 1; }))
          << examples << " examples over " << world << " ranks";
    }
  }
}

}  // namespace
}  // namespace kubetrain

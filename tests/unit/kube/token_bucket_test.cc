#include <gtest/gtest.h>

#include "operator/kube/token_bucket.h"
#include "tests/unit/kube/fake_cluster.h"

namespace kubetrain {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

TEST(TokenBucketTest, BurstThenSteadyRate) {
  TokenBucket bucket(50, 5);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(bucket.try_acquire()) << i;
  EXPECT_FALSE(bucket.try_acquire());
  auto start = Clock::now();
  for (int i = 0; i < 10; ++i) bucket.acquire();
  auto elapsed = Clock::now() - start;
  // Ten tokens at 50/s: 200 ms.
  EXPECT_GE(elapsed, 190ms);
  EXPECT_LT(elapsed, 400ms);
}

TEST(TokenBucketTest, ZeroQpsIsUnlimited) {
  TokenBucket bucket(0, 1);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(bucket.try_acquire());
  EXPECT_EQ(bucket.reserve(), Clock::duration::zero());
}

TEST(TokenBucketTest, ClientRequestsAreLimited) {
  auto options = testing::FakeCluster::fast_client_options();
  options.qps = 100;
  options.burst = 5;
  testing::FakeCluster cluster({}, options);
  auto start = Clock::now();
  for (int i = 0; i < 25; ++i) cluster.client->list(kinds::kPods, "ns");
  // 5 from the burst, then 20 at 100/s.
  EXPECT_GE(Clock::now() - start, 190ms);
}

}  // namespace
}  // namespace kubetrain

#include <gtest/gtest.h>

#include <atomic>

#include "operator/kube/leader_elector.h"
#include "tests/unit/kube/fake_cluster.h"

namespace kubetrain {
namespace {

using namespace std::chrono_literals;
using testing::eventually;
using testing::FakeCluster;

struct Candidate {
  Candidate(KubeClient& client, const std::string& identity, bool release_on_stop) {
    LeaderElectionConfig config;
    config.lease_namespace = "ns";
    config.lease_name = "kubetrain-operator";
    config.identity = identity;
    config.lease_duration = 1s;
    config.renew_deadline = 600ms;
    config.retry_period = 100ms;
    config.release_on_stop = release_on_stop;
    config.on_started_leading = [this] { ++started; };
    config.on_stopped_leading = [this] { ++stopped; };
    elector = std::make_unique<LeaderElector>(client, config);
  }
  std::atomic<int> started{0};
  std::atomic<int> stopped{0};
  std::unique_ptr<LeaderElector> elector;
};

TEST(LeaderElectorTest, OneLeadsAndTheOtherTakesOverWhenRenewalsStop) {
  FakeCluster cluster;
  Candidate first(*cluster.client, "first", /*release_on_stop=*/false);
  Candidate second(*cluster.client, "second", false);
  first.elector->start();
  ASSERT_TRUE(eventually([&] { return first.elector->is_leader(); }, 3s));
  second.elector->start();
  // For several renew periods only the first leads.
  for (int i = 0; i < 15; ++i) {
    std::this_thread::sleep_for(100ms);
    ASSERT_TRUE(first.elector->is_leader());
    ASSERT_FALSE(second.elector->is_leader());
  }
  EXPECT_EQ(second.elector->leader(), "first");
  auto lease = cluster.client->get(kinds::kLeases, "ns", "kubetrain-operator");
  EXPECT_EQ(lease["spec"]["holderIdentity"], "first");
  EXPECT_EQ(lease["spec"]["leaseDurationSeconds"], 1);
  EXPECT_EQ(lease["spec"]["leaseTransitions"], 0);

  // The first stops renewing without releasing (as if it died): the lease expires and the
  // second takes over.
  auto stopped_at = std::chrono::steady_clock::now();
  first.elector->stop();
  EXPECT_EQ(first.stopped.load(), 1);
  ASSERT_TRUE(eventually([&] { return second.elector->is_leader(); }, 5s));
  auto takeover = std::chrono::steady_clock::now() - stopped_at;
  EXPECT_GE(takeover, 800ms) << "not before the lease expired";
  EXPECT_LT(takeover, 3s);
  lease = cluster.client->get(kinds::kLeases, "ns", "kubetrain-operator");
  EXPECT_EQ(lease["spec"]["holderIdentity"], "second");
  EXPECT_EQ(lease["spec"]["leaseTransitions"], 1);
  EXPECT_EQ(second.started.load(), 1);
}

TEST(LeaderElectorTest, ReleaseOnStopHandsOverAtOnce) {
  FakeCluster cluster;
  Candidate first(*cluster.client, "first", /*release_on_stop=*/true);
  Candidate second(*cluster.client, "second", true);
  first.elector->start();
  ASSERT_TRUE(eventually([&] { return first.elector->is_leader(); }, 3s));
  second.elector->start();
  std::this_thread::sleep_for(200ms);
  auto stopped_at = std::chrono::steady_clock::now();
  first.elector->stop();
  ASSERT_TRUE(eventually([&] { return second.elector->is_leader(); }, 5s));
  EXPECT_LT(std::chrono::steady_clock::now() - stopped_at, 900ms);
}

TEST(LeaderElectorTest, LeaderStepsDownWhenItCannotRenew) {
  FakeCluster cluster;
  Candidate only(*cluster.client, "only", false);
  only.elector->start();
  ASSERT_TRUE(eventually([&] { return only.elector->is_leader(); }, 3s));
  fakeapi::FaultConfig outage;
  outage.error_rate = 1.0;
  outage.codes = {500};
  cluster.server.set_faults(outage);
  ASSERT_TRUE(eventually([&] { return !only.elector->is_leader(); }, 5s));
  EXPECT_EQ(only.stopped.load(), 1);
  cluster.server.set_faults({});
  EXPECT_TRUE(eventually([&] { return only.elector->is_leader(); }, 5s)) << "it stays a candidate";
}

}  // namespace
}  // namespace kubetrain

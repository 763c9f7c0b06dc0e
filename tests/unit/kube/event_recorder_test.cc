#include <gtest/gtest.h>

#include "operator/kube/event_recorder.h"
#include "tests/unit/kube/fake_cluster.h"

namespace kubetrain {
namespace {

TEST(EventRecorderTest, CreatesEventsAndAggregatesRepeats) {
  testing::FakeCluster cluster;
  auto& client = *cluster.client;
  auto job = client.create(kinds::kTrainingJobs, "ns", testing::make_object("job"));
  EventRecorder recorder(client, "kubetrain-operator", "node-1");
  recorder.record(job, EventType::kNormal, "Created", "created 4 worker pods");
  recorder.record(job, EventType::kWarning, "GangRestart", "worker-1 was OOMKilled");
  recorder.record(job, EventType::kWarning, "GangRestart", "worker-1 was OOMKilled");

  auto events = client.list(kinds::kEvents, "ns").items;
  ASSERT_EQ(events.size(), 2u);
  std::map<std::string, nlohmann::json> by_reason;
  for (const auto& event : events) by_reason[event["reason"]] = event;
  const auto& created = by_reason.at("Created");
  EXPECT_EQ(created["type"], "Normal");
  EXPECT_EQ(created["count"], 1);
  EXPECT_EQ(created["involvedObject"]["kind"], "TrainingJob");
  EXPECT_EQ(created["involvedObject"]["name"], "job");
  EXPECT_EQ(created["involvedObject"]["uid"], job["metadata"]["uid"]);
  EXPECT_EQ(created["source"]["component"], "kubetrain-operator");
  const auto& restart = by_reason.at("GangRestart");
  EXPECT_EQ(restart["type"], "Warning");
  EXPECT_EQ(restart["count"], 2) << "a repeat bumps the count";
}

TEST(EventRecorderTest, FailuresAreSwallowed) {
  testing::FakeCluster cluster;
  fakeapi::FaultConfig faults;
  faults.error_rate = 1.0;
  faults.codes = {403};
  cluster.server.set_faults(faults);
  EventRecorder recorder(*cluster.client, "kubetrain-operator");
  EXPECT_NO_THROW(recorder.record(testing::make_object("job"), EventType::kNormal, "Created", "x"));
}

}  // namespace
}  // namespace kubetrain

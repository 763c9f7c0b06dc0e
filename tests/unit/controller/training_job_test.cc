#include "operator/controller/training_job.h"

#include <gtest/gtest.h>

namespace kubetrain {

using nlohmann::json;

TEST(TrainingJobSpec, AppliesDefaults) {
  const TrainingJobSpec spec = parse_spec({{"image", "kubetrain-worker:0.1.0"}});
  EXPECT_EQ(spec.workers, 1);
  EXPECT_EQ(spec.slots_per_worker, 1);
  EXPECT_EQ(spec.run_policy.backoff_limit, 3);
  EXPECT_EQ(spec.run_policy.startup_deadline_seconds, 600);
  EXPECT_EQ(spec.run_policy.progress_deadline_seconds, 1800);
  EXPECT_FALSE(spec.run_policy.active_deadline_seconds.has_value());
  EXPECT_FALSE(spec.run_policy.ttl_seconds_after_finished.has_value());
  EXPECT_EQ(spec.run_policy.clean_pod_policy, CleanPodPolicy::kRunning);
  EXPECT_FALSE(spec.run_policy.suspend);
  EXPECT_EQ(spec.status_port(), 9400);
}

TEST(TrainingJobSpec, ReadsEveryField) {
  const TrainingJobSpec spec = parse_spec(json::parse(R"({
    "workers": 4, "slotsPerWorker": 8, "image": "w:1", "resources": {"limits": {"nvidia.com/gpu": 8}},
    "template": {"spec": {"schedulerName": "volcano"}}, "training": {"model": "resnet50", "statusPort": 9500},
    "runPolicy": {"backoffLimit": 0, "startupDeadlineSeconds": 5, "progressDeadlineSeconds": 7,
                  "activeDeadlineSeconds": 100, "ttlSecondsAfterFinished": 0, "cleanPodPolicy": "All",
                  "suspend": true}})"));
  EXPECT_EQ(spec.ranks(), 32);
  EXPECT_EQ(spec.resources["limits"]["nvidia.com/gpu"], 8);
  EXPECT_EQ(spec.pod_template["spec"]["schedulerName"], "volcano");
  EXPECT_EQ(spec.training["model"], "resnet50");
  EXPECT_EQ(spec.status_port(), 9500);
  EXPECT_EQ(spec.run_policy.backoff_limit, 0);
  EXPECT_EQ(spec.run_policy.startup_deadline_seconds, 5);
  EXPECT_EQ(spec.run_policy.progress_deadline_seconds, 7);
  EXPECT_EQ(spec.run_policy.active_deadline_seconds, 100);
  EXPECT_EQ(spec.run_policy.ttl_seconds_after_finished, 0);
  EXPECT_EQ(spec.run_policy.clean_pod_policy, CleanPodPolicy::kAll);
  EXPECT_TRUE(spec.run_policy.suspend);
}

void expect_invalid(const json& spec, const std::string& fragment) {
  try {
    parse_spec(spec);
    FAIL() << "accepted " << spec.dump();
  } catch (const InvalidSpecError& error) {
    EXPECT_NE(std::string(error.what()).find(fragment), std::string::npos) << error.what();
  }
}

TEST(TrainingJobSpec, RejectsBadFieldsByName) {
  expect_invalid(json::object(), "spec.image");
  expect_invalid({{"image", "w"}, {"workers", 0}}, "spec.workers must be at least 1, not 0");
  expect_invalid({{"image", "w"}, {"workers", "four"}}, "spec.workers must be an integer");
  expect_invalid({{"image", "w"}, {"slotsPerWorker", -1}}, "spec.slotsPerWorker");
  expect_invalid({{"image", "w"}, {"training", 3}}, "spec.training must be an object");
  expect_invalid({{"image", "w"}, {"runPolicy", {{"cleanPodPolicy", "Some"}}}},
                 "spec.runPolicy.cleanPodPolicy 'Some' is not one of: Running, All, None");
  expect_invalid({{"image", "w"}, {"runPolicy", {{"backoffLimit", -2}}}}, "spec.runPolicy.backoffLimit");
  expect_invalid({{"image", "w"}, {"runPolicy", {{"activeDeadlineSeconds", 0}}}},
                 "spec.runPolicy.activeDeadlineSeconds");
  expect_invalid({{"image", "w"}, {"runPolicy", {{"suspend", "yes"}}}}, "spec.runPolicy.suspend");
}

TEST(JobStatus, RoundTripsThroughJson) {
  JobStatus status;
  status.state = "Running";
  status.ready_ranks = "3/4";
  status.conditions.push_back({"Running", "True", "Running", "ok", "2026-11-22T20:06:23Z"});
  status.workers = {4, 3, 0, 1};
  status.worker_statuses.push_back({"j-worker-0", "node-a", "Failed", 0, 137, "OOMKilled"});
  status.failure = Failure{"j-worker-0", 0, "node-a", "OOMKilled", 137, "", "2026-11-22T20:06:23Z"};
  status.start_time = "2026-11-22T20:00:00Z";
  status.restarts = 2;
  status.observed_generation = 5;
  status.progress = json{{"step", 10}};
  const json encoded = status_to_json(status);
  EXPECT_TRUE(encoded["completionTime"].is_null());  // a merge patch clears it
  EXPECT_TRUE(encoded["result"].is_null());
  EXPECT_EQ(parse_status(encoded), status);
}

TEST(ObjectMeta, ReadsIdentityAndDeletion) {
  const ObjectMeta meta = parse_object_meta(json::parse(
      R"({"metadata": {"name": "a", "namespace": "ns", "uid": "u1", "generation": 3, "resourceVersion": "7",
                       "deletionTimestamp": "2026-11-22T20:06:23Z"}})"));
  EXPECT_EQ(meta.name, "a");
  EXPECT_EQ(meta.namespace_, "ns");
  EXPECT_EQ(meta.uid, "u1");
  EXPECT_EQ(meta.generation, 3);
  EXPECT_EQ(meta.resource_version, "7");
  EXPECT_TRUE(meta.deleting);
}

}  // namespace kubetrain

#include "operator/controller/reconcile_plan.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "operator/controller/child_objects.h"
#include "operator/controller/training_progress.h"
#include "tests/unit/controller/plan_fixtures.h"

namespace kubetrain {

using namespace testing;  // the fixtures of plan_fixtures.h

TEST(ReconcilePlan, NewJobCreatesChildrenAndWorkersButNoLauncher) {
  const ReconcilePlan plan = plan_reconcile(job_meta(), job_spec(), {}, observed({}, kT0, false));
  EXPECT_EQ(created_children(plan), (std::vector<std::string>{"Service/j-worker", "ConfigMap/j-config", "Secret/j-ssh"}));
  EXPECT_EQ(created_names(plan), (std::vector<std::string>{"j-worker-0", "j-worker-1"}));
  // The bodies are those of child_objects.h; the Secret's holds a fresh key pair.
  const json secret = plan.create_children[2].build();
  EXPECT_EQ(secret["kind"], "Secret");
  EXPECT_NE(secret["stringData"].dump(), plan.create_children[2].build()["stringData"].dump());
  EXPECT_TRUE(plan.status.is_true("Created"));
  EXPECT_EQ(plan.status.start_time, "2026-11-22T20:06:23Z");
  EXPECT_EQ(plan.status.observed_generation, 4);
  EXPECT_TRUE(has_event(plan, "Created"));
  // The startup deadline is the next thing to look at.
  ASSERT_TRUE(plan.requeue_after.has_value());
  EXPECT_NEAR(plan.requeue_after->count(), 30000, 100);
}

TEST(ReconcilePlan, LauncherOnlyOnceEveryWorkerIsReady) {
  const JobStatus status = started_status();
  ReconcilePlan plan = plan_reconcile(
      job_meta(), job_spec(), status,
      observed({Pod("worker", 0, 0).running(), Pod("worker", 1, 0).running(false)}, kT0 + seconds(1)));
  EXPECT_TRUE(plan.create_pods.empty());
  plan = plan_reconcile(job_meta(), job_spec(), status, observed(ready_workers(), kT0 + seconds(2)));
  EXPECT_EQ(created_names(plan), (std::vector<std::string>{"j-launcher"}));
  EXPECT_TRUE(has_event(plan, "WorkersReady"));
  EXPECT_TRUE(has_event(plan, "LauncherCreated"));
}

TEST(ReconcilePlan, NothingIsCreatedTwiceWhileTheCacheShowsIt) {
  std::vector<Pod> pods = ready_workers();
  pods.push_back(Pod("launcher", 0, 0));
  const ReconcilePlan plan = plan_reconcile(job_meta(), job_spec(), started_status(), observed(pods, kT0));
  EXPECT_TRUE(plan.create_pods.empty());
  EXPECT_TRUE(plan.create_children.empty());
  EXPECT_TRUE(plan.delete_pods.empty());
}

TEST(ReconcilePlan, TheSecretIsCreatedWithEachBatchOfPodsSinceItIsNeverRead) {
  // Service and ConfigMap in the cache, one worker missing: the Secret comes before it.
  ReconcilePlan plan = plan_reconcile(job_meta(), job_spec(), started_status(),
                                      observed({Pod("worker", 0, 0).running()}, kT0 + seconds(1)));
  EXPECT_EQ(created_children(plan), (std::vector<std::string>{"Secret/j-ssh"}));
  EXPECT_EQ(created_names(plan), (std::vector<std::string>{"j-worker-1"}));
  // The launcher too.
  plan = plan_reconcile(job_meta(), job_spec(), started_status(), observed(ready_workers(), kT0 + seconds(2)));
  EXPECT_EQ(created_children(plan), (std::vector<std::string>{"Secret/j-ssh"}));
}

TEST(ReconcilePlan, RunningLauncherSetsRunningAndPollsProgress) {
  const JobStatus status = running_status();
  EXPECT_TRUE(status.is_true("Running"));
  EXPECT_EQ(status.state, "Running");
  EXPECT_EQ(status.ready_ranks, "4/4");
  EXPECT_EQ(status.workers.ready, 2);
  ASSERT_EQ(status.worker_statuses.size(), 2u);
  EXPECT_EQ(status.worker_statuses[1].pod, "j-worker-1");
  EXPECT_EQ(status.worker_statuses[1].node, "node-1");
  EXPECT_EQ(status.worker_statuses[1].phase, "Running");
}

TEST(ReconcilePlan, ExitZeroSucceedsWithResultAndDeletesRunningWorkers) {
  JobStatus status = running_status();
  status.progress = json{{"step", 100}, {"top1", 0.91}, {"imagesPerSecond", 1234.5}};
  std::vector<Pod> pods = ready_workers();
  pods.push_back(Pod("launcher", 0, 0).terminated(0, "Completed", "2026-11-22T20:07:00Z"));
  const ReconcilePlan plan = plan_reconcile(job_meta(), job_spec(), status, observed(pods, kT0 + seconds(40)));
  EXPECT_TRUE(plan.status.is_true("Succeeded"));
  EXPECT_FALSE(plan.status.is_true("Running"));
  EXPECT_EQ(plan.status.completion_time, "2026-11-22T20:07:03Z");
  EXPECT_EQ((*plan.status.result)["top1"], 0.91);
  EXPECT_EQ((*plan.status.result)["wallSeconds"], 40);
  // cleanPodPolicy Running: the sshd workers go, the finished launcher stays.
  EXPECT_EQ(plan.delete_pods, (std::vector<std::string>{"j-worker-0", "j-worker-1"}));
  EXPECT_TRUE(has_event(plan, "Succeeded"));
}

TEST(ReconcilePlan, LauncherExitOneRestartsTheGangUntilBackoffIsSpent) {
  JobStatus status = running_status();
  for (int restart = 1; restart <= 2; ++restart) {
    std::vector<Pod> pods = ready_workers(status.restarts);
    pods.push_back(Pod("launcher", 0, status.restarts).terminated(1, "Error", "2026-11-22T20:07:00Z"));
    const ReconcilePlan plan =
        plan_reconcile(job_meta(), job_spec(), status, observed(pods, kT0 + seconds(10 * restart)));
    EXPECT_EQ(plan.status.restarts, restart);
    EXPECT_TRUE(plan.status.is_true("Restarting"));
    EXPECT_FALSE(plan.status.is_true("Failed"));
    EXPECT_EQ(plan.delete_pods, (std::vector<std::string>{"j-worker-0", "j-worker-1", "j-launcher"}));
    EXPECT_EQ(plan.status.failure->pod, "j-launcher");
    EXPECT_TRUE(has_event(plan, "Restarting"));
    status = plan.status;
  }
  std::vector<Pod> pods = ready_workers(2);
  pods.push_back(Pod("launcher", 0, 2).terminated(1, "Error", "2026-11-22T20:08:00Z"));
  const ReconcilePlan plan = plan_reconcile(job_meta(), job_spec(), status, observed(pods, kT0 + seconds(60)));
  EXPECT_TRUE(plan.status.is_true("Failed"));
  EXPECT_EQ(plan.status.condition("Failed")->reason, "BackoffLimitExceeded");
  EXPECT_NE(plan.status.condition("Failed")->message.find("j-launcher"), std::string::npos);
  EXPECT_EQ(plan.status.restarts, 2);
  // The failed launcher is kept for its logs.
  EXPECT_EQ(plan.delete_pods, (std::vector<std::string>{"j-worker-0", "j-worker-1"}));
}

TEST(ReconcilePlan, PermanentExitCodesFailAtOnce) {
  for (const auto& [code, reason] : std::vector<std::pair<int, std::string>>{{2, "InvalidConfig"}, {3, "DataError"}}) {
    std::vector<Pod> pods = ready_workers();
    pods.push_back(Pod("launcher", 0, 0).terminated(code, "Error", "2026-11-22T20:07:00Z"));
    const ReconcilePlan plan =
        plan_reconcile(job_meta(), job_spec(), running_status(), observed(pods, kT0 + seconds(9)));
    EXPECT_TRUE(plan.status.is_true("Failed"));
    EXPECT_EQ(plan.status.condition("Failed")->reason, reason);
    EXPECT_EQ(plan.status.restarts, 0);
    EXPECT_EQ(plan.status.failure->exit_code, code);
  }
}

TEST(ReconcilePlan, AnOomKilledWorkerIsTheRootCauseNotTheLauncher) {
  std::vector<Pod> pods = {Pod("worker", 0, 0).running(),
                           Pod("worker", 1, 0).terminated(137, "OOMKilled", "2026-11-22T20:07:00Z"),
                           Pod("launcher", 0, 0).terminated(1, "Error", "2026-11-22T20:07:01Z")};
  const ReconcilePlan plan = plan_reconcile(job_meta(), job_spec(), running_status(), observed(pods, kT0 + seconds(9)));
  ASSERT_TRUE(plan.status.failure.has_value());
  EXPECT_EQ(plan.status.failure->pod, "j-worker-1");
  EXPECT_EQ(plan.status.failure->rank, 1);
  EXPECT_EQ(plan.status.failure->reason, "OOMKilled");
  EXPECT_EQ(plan.status.failure->exit_code, 137);
  EXPECT_EQ(plan.status.restarts, 1);
  EXPECT_EQ(plan.status.condition("Restarting")->reason, "OOMKilled");
}

TEST(ReconcilePlan, EvictedOrDeletedWorkersRestartTheGang) {
  ReconcilePlan plan = plan_reconcile(job_meta(), job_spec(), running_status(),
                                      observed({Pod("worker", 0, 0).running(), Pod("worker", 1, 0).evicted(),
                                                Pod("launcher", 0, 0).running()},
                                               kT0 + seconds(9)));
  EXPECT_EQ(plan.status.failure->reason, "Evicted");
  EXPECT_EQ(plan.status.restarts, 1);

  // worker-1 was seen by the previous reconcile and has vanished.
  plan = plan_reconcile(job_meta(), job_spec(), running_status(),
                        observed({Pod("worker", 0, 0).running(), Pod("launcher", 0, 0).running()}, kT0 + seconds(9)));
  EXPECT_EQ(plan.status.failure->pod, "j-worker-1");
  EXPECT_EQ(plan.status.failure->reason, "Deleted");
  EXPECT_EQ(plan.status.restarts, 1);
}

TEST(ReconcilePlan, StalePodsOfAnOlderAttemptAreDeletedBeforeTheirNamesAreReused) {
  JobStatus status = running_status();
  status.restarts = 1;
  status.worker_statuses.clear();
  // The cache still shows attempt 0's worker-0 (failed) and nothing else.
  const ReconcilePlan plan = plan_reconcile(
      job_meta(), job_spec(), status,
      observed({Pod("worker", 0, 0).terminated(137, "OOMKilled", "2026-11-22T20:07:00Z")}, kT0 + seconds(9)));
  EXPECT_EQ(plan.status.restarts, 1);  // not counted again
  EXPECT_EQ(plan.delete_pods, (std::vector<std::string>{"j-worker-0"}));
  EXPECT_EQ(created_names(plan), (std::vector<std::string>{"j-worker-1"}));
  EXPECT_EQ(plan.create_pods[0]["metadata"]["labels"][kAttemptLabel], "1");
}

TEST(ReconcilePlan, StartupDeadlineFailsWithTheWaitingReason) {
  const JobStatus status = started_status();
  std::vector<Pod> pods = {Pod("worker", 0, 0).running(), Pod("worker", 1, 0).waiting("ImagePullBackOff")};
  ReconcilePlan plan = plan_reconcile(job_meta(), job_spec(), status, observed(pods, kT0 + seconds(29)));
  EXPECT_FALSE(plan.status.finished());
  EXPECT_NEAR(plan.requeue_after->count(), 1000, 100);
  plan = plan_reconcile(job_meta(), job_spec(), status, observed(pods, kT0 + seconds(30)));
  EXPECT_TRUE(plan.status.is_true("Failed"));
  EXPECT_EQ(plan.status.condition("Failed")->reason, "ImagePullBackOff");
  EXPECT_NE(plan.status.condition("Failed")->message.find("j-worker-1"), std::string::npos);
  EXPECT_EQ(plan.status.failure->pod, "j-worker-1");
  // cleanPodPolicy Running removes the pending and running workers.
  EXPECT_EQ(plan.delete_pods, (std::vector<std::string>{"j-worker-0", "j-worker-1"}));
}

TEST(ReconcilePlan, ActiveDeadlineFailsTheJob) {
  json spec = job_spec();
  spec["runPolicy"]["activeDeadlineSeconds"] = 20;
  std::vector<Pod> pods = ready_workers();
  pods.push_back(Pod("launcher", 0, 0).running());
  ReconcilePlan plan = plan_reconcile(job_meta(), spec, running_status(), observed(pods, kT0 + seconds(19)));
  EXPECT_FALSE(plan.status.finished());
  EXPECT_LE(plan.requeue_after->count(), 1100);
  plan = plan_reconcile(job_meta(), spec, running_status(), observed(pods, kT0 + seconds(20)));
  EXPECT_EQ(plan.status.condition("Failed")->reason, "DeadlineExceeded");
  EXPECT_EQ(plan.delete_pods, (std::vector<std::string>{"j-worker-0", "j-worker-1", "j-launcher"}));
}

TEST(ReconcilePlan, TtlDeletesTheFinishedJob) {
  json spec = job_spec();
  spec["runPolicy"]["ttlSecondsAfterFinished"] = 10;
  JobStatus status = running_status();
  status.conditions.push_back({"Succeeded", "True", "Succeeded", "", "2026-11-22T20:06:30Z"});
  status.completion_time = "2026-11-22T20:06:30Z";
  ReconcilePlan plan = plan_reconcile(job_meta(), spec, status, observed({}, kT0 + seconds(10)));
  EXPECT_FALSE(plan.delete_job);
  EXPECT_NEAR(plan.requeue_after->count(), 7000, 100);
  plan = plan_reconcile(job_meta(), spec, status, observed({}, kT0 + seconds(17)));
  EXPECT_TRUE(plan.delete_job);
}

TEST(ReconcilePlan, CleanPodPolicyAllAndNone) {
  JobStatus status = running_status();
  status.conditions.push_back({"Failed", "True", "InvalidConfig", "", "2026-11-22T20:06:30Z"});
  std::vector<Pod> pods = ready_workers();
  pods.push_back(Pod("launcher", 0, 0).terminated(2, "Error", "2026-11-22T20:06:29Z"));
  json spec = job_spec();
  spec["runPolicy"]["cleanPodPolicy"] = "All";
  EXPECT_EQ(plan_reconcile(job_meta(), spec, status, observed(pods, kT0)).delete_pods,
            (std::vector<std::string>{"j-worker-0", "j-worker-1"}));  // the failed launcher stays
  spec["runPolicy"]["cleanPodPolicy"] = "None";
  EXPECT_TRUE(plan_reconcile(job_meta(), spec, status, observed(pods, kT0)).delete_pods.empty());
}

TEST(ReconcilePlan, SuspendDeletesPodsAndResumeRecreatesThem) {
  json spec = job_spec();
  spec["runPolicy"]["suspend"] = true;
  std::vector<Pod> pods = ready_workers();
  pods.push_back(Pod("launcher", 0, 0).running());
  ReconcilePlan plan = plan_reconcile(job_meta(), spec, running_status(), observed(pods, kT0 + seconds(10)));
  EXPECT_TRUE(plan.status.is_true("Suspended"));
  EXPECT_FALSE(plan.status.is_true("Running"));
  EXPECT_EQ(plan.delete_pods.size(), 3u);
  EXPECT_TRUE(plan.create_pods.empty());
  EXPECT_TRUE(has_event(plan, "Suspended"));

  const JobStatus suspended = plan.status;
  plan = plan_reconcile(job_meta(), job_spec(), suspended, observed({}, kT0 + seconds(100)));
  EXPECT_FALSE(plan.status.is_true("Suspended"));
  EXPECT_EQ(plan.status.condition("Suspended")->reason, "Resumed");
  EXPECT_EQ(created_names(plan), (std::vector<std::string>{"j-worker-0", "j-worker-1"}));
  EXPECT_EQ(plan.status.start_time, format_rfc3339(kT0 + seconds(100)));
  EXPECT_TRUE(has_event(plan, "Resumed"));
}

TEST(ReconcilePlan, InvalidSpecFailsAndCreatesNothing) {
  json spec = job_spec();
  spec["training"]["globalBatchSize"] = 10;
  const ReconcilePlan plan = plan_reconcile(job_meta(), spec, {}, observed({}, kT0, false));
  expect_refused(plan, "globalBatchSize 10 is not divisible by 4 ranks; use 8 or 12");
  EXPECT_EQ(plan.status.state, "Failed");
  EXPECT_TRUE(has_event(plan, "InvalidSpec"));
  // Level-based: reconciling again changes nothing and emits nothing.
  const ReconcilePlan again = plan_reconcile(job_meta(), spec, plan.status, observed({}, kT0 + seconds(5), false));
  EXPECT_EQ(again.status, plan.status);
  EXPECT_TRUE(again.events.empty());
}

TEST(ReconcilePlan, ProgressIsCopiedAndStalledRaisedWhenTheStepStops) {
  std::vector<Pod> pods = ready_workers();
  pods.push_back(Pod("launcher", 0, 0).running());
  ObservedState state = observed(pods, kT0 + seconds(10));
  state.progress = json{{"epoch", 1}, {"step", 50}, {"totalSteps", 500}, {"loss", 1.5}, {"imagesPerSecond", 900.0},
                        {"state", "training"}, {"unknownField", 1}};
  ReconcilePlan plan = plan_reconcile(job_meta(), job_spec(), running_status(), state);
  ASSERT_TRUE(plan.status.progress.has_value());
  EXPECT_EQ((*plan.status.progress)["step"], 50);
  EXPECT_EQ((*plan.status.progress)["totalSteps"], 500);
  EXPECT_EQ((*plan.status.progress)["percent"], 10);
  EXPECT_FALSE(plan.status.progress->contains("unknownField"));
  EXPECT_EQ((*plan.status.progress)["lastStepTime"], format_rfc3339(kT0 + seconds(10)));
  EXPECT_FALSE(plan.status.is_true("Stalled"));

  // Same step 59 s later: not yet; 60 s later: Stalled.
  state.now = kT0 + seconds(69);
  plan = plan_reconcile(job_meta(), job_spec(), plan.status, state);
  EXPECT_FALSE(plan.status.is_true("Stalled"));
  state.now = kT0 + seconds(70);
  plan = plan_reconcile(job_meta(), job_spec(), plan.status, state);
  EXPECT_TRUE(plan.status.is_true("Stalled"));
  EXPECT_EQ(plan.status.condition("Stalled")->reason, "NoProgress");
  EXPECT_EQ(plan.status.state, "Stalled");
  EXPECT_TRUE(has_event(plan, "Stalled"));

  state.progress = json{{"step", 51}};
  state.now = kT0 + seconds(75);
  plan = plan_reconcile(job_meta(), job_spec(), plan.status, state);
  EXPECT_FALSE(plan.status.is_true("Stalled"));
}

TEST(ReconcilePlan, ThroughputIsRoundedToATenthForKubectlsColumn) {
  std::vector<Pod> pods = ready_workers();
  pods.push_back(Pod("launcher", 0, 0).running());
  ObservedState state = observed(pods, kT0 + seconds(10));
  state.progress = json{{"step", 5}, {"imagesPerSecond", 443.12485746925745}};
  const ReconcilePlan plan = plan_reconcile(job_meta(), job_spec(), running_status(), state);
  ASSERT_TRUE(plan.status.progress.has_value());
  EXPECT_DOUBLE_EQ((*plan.status.progress)["imagesPerSecond"].get<double>(), 443.1);
  EXPECT_EQ((*plan.status.progress)["imagesPerSecond"].dump(), "443.1");
}

TEST(ReconcilePlan, ConditionTransitionTimesChangeOnlyWithTheStatus) {
  const JobStatus first = running_status();
  std::vector<Pod> pods = ready_workers();
  pods.push_back(Pod("launcher", 0, 0).running());
  const ReconcilePlan plan = plan_reconcile(job_meta(), job_spec(), first, observed(pods, kT0 + seconds(30)));
  EXPECT_EQ(plan.status.condition("Running")->last_transition_time,
            first.condition("Running")->last_transition_time);
  EXPECT_FALSE(has_event(plan, "Running"));
}

TEST(ProgressUrl, PointsAtWorkerZeroWhileTheLauncherRuns) {
  const TrainingJobSpec spec = parse_spec(job_spec());
  std::vector<PodView> pods = {Pod("worker", 0, 0).running().view(), Pod("launcher", 0, 0).view()};
  EXPECT_FALSE(progress_url(spec, pods, 0).has_value());
  pods[1] = Pod("launcher", 0, 0).running().view();
  EXPECT_EQ(progress_url(spec, pods, 0), "http://10.0.0.1:9400/progress");
  EXPECT_FALSE(progress_url(spec, pods, 1).has_value());
}

}  // namespace kubetrain

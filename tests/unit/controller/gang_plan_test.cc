// The reconcile plan of a gang-scheduled job: its PodGroup before its pods, one per attempt,
// deleted on suspension and completion, and a status that says why the gang waits.
#include <gtest/gtest.h>

#include "operator/controller/gang_scheduling.h"
#include "operator/controller/reconcile_plan.h"
#include "tests/unit/controller/plan_fixtures.h"

namespace kubetrain {
namespace {

using namespace testing;  // the fixtures of plan_fixtures.h

json volcano_job_spec() {
  json spec = job_spec();
  spec["runPolicy"]["schedulingPolicy"] = {{"gangScheduler", "volcano"}, {"queue", "research"}};
  return spec;
}

// The cache as plan_reconcile sees it on an operator that manages Volcano's PodGroups, with the
// job's PodGroup of attempt `group_attempt` (none when negative) in `phase`.
ObservedState gang_observed(std::vector<Pod> pods, TimePoint now, int64_t group_attempt,
                            const std::string& phase = "Running") {
  ObservedState state = observed(std::move(pods), now);
  state.integrations.volcano = true;
  if (group_attempt >= 0) {
    json group = build_pod_group(job_meta(), parse_spec(volcano_job_spec()), group_attempt);
    group["status"] = {{"phase", phase}};
    if (phase == "Inqueue") {
      group["status"]["conditions"] = json::array({{{"type", "Unschedulable"},
                                                    {"status", "True"},
                                                    {"reason", "NotEnoughResources"},
                                                    {"message", "2/2 tasks in gang unschedulable"}}});
    }
    state.children[{&kinds::kVolcanoPodGroups, "j"}] = std::make_shared<const json>(std::move(group));
  }
  return state;
}

std::vector<std::string> deleted_children(const ReconcilePlan& plan) {
  std::vector<std::string> names;
  for (const ChildRef& child : plan.delete_children) names.push_back(child.kind->kind + "/" + child.name);
  return names;
}

JobStatus gang_started_status() {
  return plan_reconcile(job_meta(), volcano_job_spec(), {}, gang_observed({}, kT0, -1)).status;
}

}  // namespace

TEST(GangPlan, AnOperatorWithoutThatSchedulerRefusesTheJobAndCreatesNothing) {
  const ReconcilePlan plan = plan_reconcile(job_meta(), volcano_job_spec(), {}, observed({}, kT0, false));
  expect_refused(plan, "gangScheduling.volcano=true");
}

TEST(GangPlan, ThePodGroupComesFirstThenThePodsThatNameIt) {
  ReconcilePlan plan = plan_reconcile(job_meta(), volcano_job_spec(), {}, gang_observed({}, kT0, -1));
  EXPECT_EQ(created_children(plan), (std::vector<std::string>{"PodGroup/j"}));
  EXPECT_TRUE(plan.create_pods.empty());  // not before the PodGroup is in the cache
  const json group = plan.create_children[0].build();
  EXPECT_EQ(group["apiVersion"], "scheduling.volcano.sh/v1beta1");
  EXPECT_EQ(group["metadata"]["labels"][kAttemptLabel], "0");
  EXPECT_EQ(group["spec"]["queue"], "research");

  plan = plan_reconcile(job_meta(), volcano_job_spec(), plan.status, gang_observed({}, kT0 + seconds(1), 0, "Pending"));
  EXPECT_EQ(created_children(plan), (std::vector<std::string>{"Secret/j-ssh"}));
  ASSERT_EQ(created_names(plan), (std::vector<std::string>{"j-worker-0", "j-worker-1"}));
  for (const json& pod : plan.create_pods) {
    EXPECT_EQ(pod["spec"]["schedulerName"], "volcano");
    EXPECT_EQ(pod["metadata"]["annotations"][kVolcanoGroupAnnotation], "j");
  }

  // Bound and Ready in the same reconcile: placed is recorded on the way to the launcher.
  plan = plan_reconcile(job_meta(), volcano_job_spec(), plan.status, gang_observed(ready_workers(), kT0 + seconds(2), 0));
  EXPECT_TRUE(plan.status.is_true("GangScheduled"));
  EXPECT_TRUE(has_event(plan, "GangScheduled"));
  ASSERT_EQ(created_names(plan), (std::vector<std::string>{"j-launcher"}));
  EXPECT_EQ(plan.create_pods[0]["spec"]["schedulerName"], "volcano");
  EXPECT_EQ(plan.create_pods[0]["metadata"]["annotations"][kVolcanoGroupAnnotation], "j");
}

TEST(GangPlan, AWaitingGangSaysWhyAndTheStartupDeadlineWaitsForIt) {
  const JobStatus started = gang_started_status();
  std::vector<Pod> pending = {Pod("worker", 0, 0).unbound(), Pod("worker", 1, 0).unbound()};
  // Long past startupDeadlineSeconds (30 s): queueing for the gang is not a failed startup.
  ReconcilePlan plan = plan_reconcile(job_meta(), volcano_job_spec(), started,
                                      gang_observed(pending, kT0 + seconds(600), 0, "Inqueue"));
  EXPECT_FALSE(plan.status.is_true("Failed"));
  const Condition* gang = plan.status.condition("GangScheduled");
  ASSERT_NE(gang, nullptr);
  EXPECT_EQ(gang->status, "False");
  EXPECT_EQ(gang->reason, "NotEnoughResources");
  EXPECT_EQ(gang->message, "PodGroup j (volcano, minMember 2) is Inqueue: 2/2 tasks in gang unschedulable");
  EXPECT_TRUE(has_event(plan, "GangWaiting"));

  // Placed at 600 s: the 30 s of startup count from then.
  std::vector<Pod> placed = {Pod("worker", 0, 0), Pod("worker", 1, 0)};
  plan = plan_reconcile(job_meta(), volcano_job_spec(), plan.status, gang_observed(placed, kT0 + seconds(601), 0));
  EXPECT_TRUE(plan.status.is_true("GangScheduled"));
  EXPECT_TRUE(has_event(plan, "GangScheduled"));
  plan = plan_reconcile(job_meta(), volcano_job_spec(), plan.status, gang_observed(placed, kT0 + seconds(620), 0));
  EXPECT_FALSE(plan.status.is_true("Failed"));
  plan = plan_reconcile(job_meta(), volcano_job_spec(), plan.status, gang_observed(placed, kT0 + seconds(632), 0));
  EXPECT_TRUE(plan.status.is_true("Failed"));
  EXPECT_EQ(plan.status.condition("Failed")->reason, "StartupDeadlineExceeded");
}

TEST(GangPlan, AGangRestartReplacesThePodGroupBeforeTheNewPods) {
  std::vector<Pod> pods = {Pod("worker", 0, 0).running(), Pod("worker", 1, 0).terminated(1, "Error", "2026-11-22T20:07:00Z"),
                           Pod("launcher", 0, 0).running()};
  ReconcilePlan plan = plan_reconcile(job_meta(), volcano_job_spec(), gang_started_status(),
                                      gang_observed(pods, kT0 + seconds(60), 0));
  EXPECT_EQ(plan.status.restarts, 1);
  EXPECT_EQ(deleted_children(plan), (std::vector<std::string>{"PodGroup/j"}));

  // The cache still shows attempt 0's PodGroup: deleted again, and no pod of attempt 1 yet.
  plan = plan_reconcile(job_meta(), volcano_job_spec(), plan.status, gang_observed({}, kT0 + seconds(61), 0));
  EXPECT_EQ(deleted_children(plan), (std::vector<std::string>{"PodGroup/j"}));
  EXPECT_TRUE(plan.create_pods.empty());
  // Gone: attempt 1's PodGroup is created; once seen, attempt 1's pods.
  plan = plan_reconcile(job_meta(), volcano_job_spec(), plan.status, gang_observed({}, kT0 + seconds(62), -1));
  ASSERT_EQ(created_children(plan), (std::vector<std::string>{"PodGroup/j"}));
  EXPECT_EQ(plan.create_children[0].build()["metadata"]["labels"][kAttemptLabel], "1");
  EXPECT_TRUE(plan.create_pods.empty());
  plan = plan_reconcile(job_meta(), volcano_job_spec(), plan.status, gang_observed({}, kT0 + seconds(63), 1, "Pending"));
  EXPECT_EQ(created_names(plan), (std::vector<std::string>{"j-worker-0", "j-worker-1"}));
  EXPECT_TRUE(plan.delete_children.empty());
}

TEST(GangPlan, SuspensionAndCompletionDeleteThePodGroup) {
  json suspended = volcano_job_spec();
  suspended["runPolicy"]["suspend"] = true;
  ReconcilePlan plan = plan_reconcile(job_meta(), suspended, gang_started_status(),
                                      gang_observed(ready_workers(), kT0 + seconds(5), 0));
  EXPECT_EQ(deleted_children(plan), (std::vector<std::string>{"PodGroup/j"}));

  std::vector<Pod> done = ready_workers();
  done.push_back(Pod("launcher", 0, 0).terminated(0, "Completed", "2026-11-22T20:08:00Z"));
  plan = plan_reconcile(job_meta(), volcano_job_spec(), gang_started_status(), gang_observed(done, kT0 + seconds(90), 0));
  EXPECT_TRUE(plan.status.is_true("Succeeded"));
  EXPECT_EQ(deleted_children(plan), (std::vector<std::string>{"PodGroup/j"}));
  // Finished and the PodGroup gone from the cache: nothing more to delete.
  plan = plan_reconcile(job_meta(), volcano_job_spec(), plan.status, gang_observed({}, kT0 + seconds(91), -1));
  EXPECT_TRUE(plan.delete_children.empty());
}

}  // namespace kubetrain

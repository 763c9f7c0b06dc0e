// The reconcile plan of a job that Kueue queues: a Workload first and no pods until it is admitted,
// the admission's flavors on the pods, an eviction that stops the pods before the quota is given
// back, suspension as deactivation, a Workload that follows the job's spec or is replaced when the
// job outgrew its quota, and a finished job that finishes its Workload and lets it go.
#include <gtest/gtest.h>

#include "operator/controller/kueue_workload.h"
#include "operator/controller/reconcile_plan.h"
#include "tests/unit/controller/plan_fixtures.h"

namespace kubetrain {
namespace {

using namespace testing;  // the fixtures of plan_fixtures.h

ObjectMeta queued_meta() {
  return parse_object_meta({{"metadata",
                             {{"name", "j"},
                              {"namespace", "ns"},
                              {"uid", "u"},
                              {"generation", 4},
                              {"labels", {{kKueueQueueNameLabel, "team-a"}}}}}});
}

json queued_spec() {
  json spec = job_spec();
  spec["template"] = {{"spec", {{"nodeSelector", {{"pool", "a"}}}}}};
  return spec;
}

json condition(const std::string& type, bool value, const std::string& reason, const std::string& message = "") {
  return {{"type", type},
          {"status", value ? "True" : "False"},
          {"reason", reason},
          {"message", message},
          {"lastTransitionTime", "2026-11-20T10:00:00Z"}};
}

// The job's Workload as Kueue leaves it: pending with `conditions`, or admitted to ClusterQueue
// "gpus" with flavor "a100" for both podSets when `admitted`.
json workload(const json& conditions, bool admitted) {
  json object = build_workload(queued_meta(), parse_spec(queued_spec()), std::nullopt);
  object["metadata"]["resourceVersion"] = "7";
  object["status"]["conditions"] = conditions;
  if (admitted) {
    object["status"]["admission"] = {
        {"clusterQueue", "gpus"},
        {"podSetAssignments",
         json::array({{{"name", "workers"}, {"flavors", {{"cpu", "a100"}, {"nvidia.com/gpu", "a100"}}}, {"count", 2}},
                      {{"name", "launcher"}, {"flavors", {{"cpu", "a100"}}}, {"count", 1}}})}};
  }
  return object;
}

json admitted_workload() {
  return workload(json::array({condition("QuotaReserved", true, "QuotaReserved"), condition("Admitted", true, "Admitted")}),
                  true);
}

json pending_workload() {
  return workload(json::array({condition("QuotaReserved", false, "Pending",
                                         "couldn't assign flavors to pod set workers: insufficient quota")}),
                  false);
}

json evicted_workload(const std::string& reason) {
  json object = admitted_workload();
  object["status"]["conditions"].push_back(condition("Evicted", true, reason, "Preempted to accommodate a workload"));
  return object;
}

// The cache of an operator started with --kueue, holding `job_workload` (none when null).
ObservedState kueue_observed(std::vector<Pod> pods, TimePoint now, const json& job_workload,
                             const std::string& flavor_pool = "a") {
  ObservedState state = observed(std::move(pods), now);
  state.integrations.kueue = true;
  state.kueue.flavors["a100"] = {
      {"metadata", {{"name", "a100"}}},
      {"spec",
       {{"nodeLabels", {{"pool", flavor_pool}, {"gpu", "a100"}}},
        {"tolerations", json::array({{{"key", "gpu"}, {"operator", "Exists"}, {"effect", "NoSchedule"}}})}}}};
  state.kueue.priority_classes["high"] = 1000;
  if (!job_workload.is_null()) {
    state.children[{&kinds::kWorkloads, workload_name(queued_meta())}] = std::make_shared<const json>(job_workload);
  }
  return state;
}

ReconcilePlan reconcile(const JobStatus& previous, const ObservedState& state, const json& spec = queued_spec()) {
  return plan_reconcile(queued_meta(), spec, previous, state);
}

const json* find_condition(const json& object, const std::string& type) {
  for (const json& entry : object["status"]["conditions"]) {
    if (entry["type"] == type) return &entry;
  }
  return nullptr;
}

// The status of a job whose Workload is pending.
JobStatus waiting_status() { return reconcile({}, kueue_observed({}, kT0, nullptr)).status; }

JobStatus admitted_status() {
  return reconcile(waiting_status(), kueue_observed({}, kT0 + seconds(5), admitted_workload())).status;
}

std::vector<Pod> running_gang() {
  std::vector<Pod> pods = ready_workers();
  pods.push_back(Pod("launcher", 0, 0).running());
  return pods;
}

}  // namespace

TEST(KueuePlan, AnOperatorWithoutKueueRefusesAQueuedJobAndCreatesNothing) {
  const ReconcilePlan plan = plan_reconcile(queued_meta(), queued_spec(), {}, observed({}, kT0, false));
  expect_refused(plan, "kueue.enabled=true");
}

TEST(KueuePlan, AJobWithoutTheLabelIsNotQueued) {
  ObservedState state = kueue_observed({}, kT0, nullptr);
  const ReconcilePlan plan = plan_reconcile(job_meta(), job_spec(), {}, state);
  EXPECT_EQ(created_names(plan), (std::vector<std::string>{"j-worker-0", "j-worker-1"}));
  for (const ChildToCreate& child : plan.create_children) EXPECT_NE(child.ref.kind, &kinds::kWorkloads);
}

TEST(KueuePlan, TheWorkloadComesFirstAndNoPodUntilItIsAdmitted) {
  ReconcilePlan plan = reconcile({}, kueue_observed({}, kT0, nullptr));
  ASSERT_EQ(created_children(plan), (std::vector<std::string>{"Workload/" + workload_name(queued_meta())}));
  const json created = plan.create_children[0].build();
  EXPECT_EQ(created["spec"]["queueName"], "team-a");
  EXPECT_FALSE(created["spec"].contains("priority"));
  EXPECT_TRUE(plan.create_pods.empty());
  EXPECT_TRUE(plan.status.is_true("Suspended"));
  EXPECT_EQ(plan.status.condition("Suspended")->reason, "WaitingForAdmission");
  EXPECT_EQ(plan.status.state, "Suspended");
  EXPECT_TRUE(has_event(plan, "CreatedWorkload"));
  EXPECT_TRUE(plan.status.start_time.empty());  // deadlines count from the admission

  // Pending: the job says what Kueue says, and the Workload is not created twice.
  plan = reconcile(plan.status, kueue_observed({}, kT0 + seconds(1), pending_workload()));
  EXPECT_TRUE(plan.create_children.empty());
  EXPECT_TRUE(plan.create_pods.empty());
  EXPECT_TRUE(plan.update_children.empty());
  EXPECT_NE(plan.status.condition("Suspended")->message.find("insufficient quota"), std::string::npos);
  EXPECT_FALSE(has_event(plan, "WaitingForAdmission"));  // the same reason: no second event
}

TEST(KueuePlan, TheWorkloadCarriesThePriorityOfTheWorkersPriorityClass) {
  json spec = queued_spec();
  spec["template"]["spec"]["priorityClassName"] = "high";
  ReconcilePlan plan = reconcile({}, kueue_observed({}, kT0, nullptr), spec);
  ASSERT_EQ(plan.create_children.size(), 1u);
  const json created = plan.create_children[0].build();
  EXPECT_EQ(created["spec"]["priority"], 1000);
  EXPECT_EQ(created["spec"]["priorityClassRef"]["name"], "high");

  spec["template"]["spec"]["priorityClassName"] = "missing";
  plan = reconcile({}, kueue_observed({}, kT0, nullptr), spec);
  EXPECT_TRUE(plan.create_children.empty());
  EXPECT_NE(plan.status.condition("Suspended")->message.find("missing names no PriorityClass"), std::string::npos);
}

TEST(KueuePlan, AnAdmissionStartsThePodsOnItsFlavor) {
  ReconcilePlan plan = reconcile(waiting_status(), kueue_observed({}, kT0 + seconds(5), admitted_workload()));
  ASSERT_EQ(created_names(plan), (std::vector<std::string>{"j-worker-0", "j-worker-1"}));
  EXPECT_FALSE(plan.status.is_true("Suspended"));
  EXPECT_EQ(plan.status.condition("Suspended")->reason, "Admitted");
  EXPECT_NE(plan.status.condition("Suspended")->message.find("ClusterQueue gpus"), std::string::npos);
  EXPECT_TRUE(has_event(plan, "Admitted"));
  EXPECT_EQ(plan.status.start_time, format_rfc3339(kT0 + seconds(5)));
  for (const json& pod : plan.create_pods) {
    EXPECT_EQ(pod["metadata"]["labels"][kKueuePodSetLabel], "workers");
    EXPECT_EQ(pod["spec"]["nodeSelector"], (json{{"pool", "a"}, {"gpu", "a100"}}));
    EXPECT_EQ(pod["spec"]["tolerations"][0]["key"], "gpu");
  }
  // Not running yet: Kueue's waitForPodsReady hears so.
  ASSERT_EQ(plan.update_children.size(), 1u);
  EXPECT_TRUE(plan.update_children[0].status);
  EXPECT_EQ((*find_condition(plan.update_children[0].object, "PodsReady"))["reason"], "WaitForStart");

  plan = reconcile(plan.status, kueue_observed(ready_workers(), kT0 + seconds(6), admitted_workload()));
  ASSERT_EQ(created_names(plan), (std::vector<std::string>{"j-launcher"}));
  EXPECT_EQ(plan.create_pods[0]["metadata"]["labels"][kKueuePodSetLabel], "launcher");
  EXPECT_EQ(plan.create_pods[0]["spec"]["nodeSelector"]["gpu"], "a100");
}

TEST(KueuePlan, PodsReadyFollowsTheLauncherRunning) {
  JobStatus status = admitted_status();
  const ReconcilePlan plan = reconcile(status, kueue_observed(running_gang(), kT0 + seconds(7), admitted_workload()));
  EXPECT_TRUE(plan.status.is_true("Running"));
  ASSERT_EQ(plan.update_children.size(), 1u);
  const json* ready = find_condition(plan.update_children[0].object, "PodsReady");
  ASSERT_NE(ready, nullptr);
  EXPECT_EQ((*ready)["status"], "True");
  EXPECT_EQ((*ready)["observedGeneration"], 0);
  // Kueue's own conditions are kept, and the write carries the cached resourceVersion.
  EXPECT_NE(find_condition(plan.update_children[0].object, "Admitted"), nullptr);
  EXPECT_EQ(plan.update_children[0].object["metadata"]["resourceVersion"], "7");

  json ready_workload = plan.update_children[0].object;
  EXPECT_TRUE(reconcile(plan.status, kueue_observed(running_gang(), kT0 + seconds(8), ready_workload))
                  .update_children.empty());
}

TEST(KueuePlan, AnEvictionStopsThePodsThenGivesTheQuotaBack) {
  const JobStatus running = reconcile(admitted_status(), kueue_observed(running_gang(), kT0 + seconds(7), admitted_workload())).status;
  ReconcilePlan plan = reconcile(running, kueue_observed(running_gang(), kT0 + seconds(8), evicted_workload("Preempted")));
  EXPECT_EQ(plan.delete_pods.size(), 3u);
  EXPECT_TRUE(plan.create_pods.empty());
  EXPECT_TRUE(plan.update_children.empty());  // not while pods remain
  EXPECT_TRUE(plan.status.is_true("Suspended"));
  EXPECT_EQ(plan.status.condition("Suspended")->reason, "Evicted");
  EXPECT_NE(plan.status.condition("Suspended")->message.find("Preempted"), std::string::npos);
  EXPECT_FALSE(plan.status.is_true("Running"));
  EXPECT_EQ(plan.status.restarts, 0);  // an eviction is not a failure
  EXPECT_TRUE(has_event(plan, "Evicted"));

  plan = reconcile(plan.status, kueue_observed({}, kT0 + seconds(9), evicted_workload("Preempted")));
  ASSERT_EQ(plan.update_children.size(), 1u);
  const ChildUpdate& update = plan.update_children[0];
  EXPECT_TRUE(update.status);
  EXPECT_FALSE(update.object["status"].contains("admission"));
  EXPECT_EQ((*find_condition(update.object, "QuotaReserved"))["status"], "False");
  EXPECT_EQ((*find_condition(update.object, "QuotaReserved"))["reason"], "Pending");
  EXPECT_EQ((*find_condition(update.object, "Admitted"))["status"], "False");
  EXPECT_EQ((*find_condition(update.object, "Requeued"))["status"], "True");
  EXPECT_EQ((*find_condition(update.object, "Evicted"))["status"], "True");  // Kueue's to reset

  // Released, the job waits again; admitted again, the same attempt starts anew.
  plan = reconcile(plan.status, kueue_observed({}, kT0 + seconds(10), update.object));
  EXPECT_TRUE(plan.update_children.empty());
  EXPECT_EQ(plan.status.condition("Suspended")->reason, "WaitingForAdmission");
  plan = reconcile(plan.status, kueue_observed({}, kT0 + seconds(20), admitted_workload()));
  EXPECT_EQ(created_names(plan), (std::vector<std::string>{"j-worker-0", "j-worker-1"}));
  EXPECT_EQ(plan.create_pods[0]["metadata"]["labels"][kAttemptLabel], "0");
  EXPECT_FALSE(plan.status.is_true("Restarting"));
}

TEST(KueuePlan, AnEvictionForAnotherReasonIsNotMarkedRequeued) {
  const ReconcilePlan plan = reconcile(admitted_status(), kueue_observed({}, kT0 + seconds(9), evicted_workload("PodsReadyTimeout")));
  ASSERT_EQ(plan.update_children.size(), 1u);
  EXPECT_EQ((*find_condition(plan.update_children[0].object, "Requeued"))["status"], "False");
  EXPECT_EQ((*find_condition(plan.update_children[0].object, "Requeued"))["reason"], "PodsReadyTimeout");
}

TEST(KueuePlan, AnAdmissionThatCannotBeAppliedFailsTheJobAndFinishesTheWorkload) {
  // The flavor needs pool=b; the job's own nodeSelector says pool=a.
  const ReconcilePlan plan = reconcile(waiting_status(), kueue_observed({}, kT0 + seconds(5), admitted_workload(), "b"));
  EXPECT_TRUE(plan.create_pods.empty());
  EXPECT_TRUE(plan.status.is_true("Failed"));
  EXPECT_EQ(plan.status.condition("Failed")->reason, "AdmissionFailed");
  EXPECT_NE(plan.status.condition("Failed")->message.find("pool=b"), std::string::npos);
  ASSERT_EQ(plan.update_children.size(), 1u);
  const json* finished = find_condition(plan.update_children[0].object, "Finished");
  ASSERT_NE(finished, nullptr);
  EXPECT_EQ((*finished)["reason"], "FailedToStart");
}

TEST(KueuePlan, AFinishedJobFinishesItsWorkloadThenReleasesIt) {
  JobStatus status = reconcile(admitted_status(), kueue_observed(running_gang(), kT0 + seconds(7), admitted_workload())).status;
  std::vector<Pod> done = ready_workers();
  done.push_back(Pod("launcher", 0, 0).terminated(0, "Completed", "2026-11-20T10:05:00Z"));
  ReconcilePlan plan = reconcile(status, kueue_observed(done, kT0 + seconds(60), admitted_workload()));
  EXPECT_TRUE(plan.status.is_true("Succeeded"));
  ASSERT_EQ(plan.update_children.size(), 1u);
  json finished = plan.update_children[0].object;
  EXPECT_EQ((*find_condition(finished, "Finished"))["reason"], "Succeeded");
  EXPECT_EQ((*find_condition(finished, "Finished"))["message"], "mpirun exited 0");

  plan = reconcile(plan.status, kueue_observed(done, kT0 + seconds(61), finished));
  ASSERT_EQ(plan.update_children.size(), 1u);
  EXPECT_FALSE(plan.update_children[0].status);
  EXPECT_EQ(plan.update_children[0].object["metadata"]["finalizers"], json::array());

  EXPECT_TRUE(reconcile(plan.status, kueue_observed(done, kT0 + seconds(62), plan.update_children[0].object))
                  .update_children.empty());
}

TEST(KueuePlan, SuspensionDeactivatesTheWorkloadAndResumingReactivatesIt) {
  json spec = queued_spec();
  spec["runPolicy"]["suspend"] = true;
  ReconcilePlan plan = reconcile(admitted_status(), kueue_observed(running_gang(), kT0 + seconds(8), admitted_workload()), spec);
  EXPECT_EQ(plan.delete_pods.size(), 3u);
  EXPECT_EQ(plan.status.condition("Suspended")->reason, "Suspended");
  ASSERT_EQ(plan.update_children.size(), 1u);
  EXPECT_FALSE(plan.update_children[0].status);
  EXPECT_EQ(plan.update_children[0].object["spec"]["active"], false);
  json deactivated = plan.update_children[0].object;

  spec["runPolicy"]["suspend"] = false;
  plan = reconcile(plan.status, kueue_observed({}, kT0 + seconds(30), deactivated), spec);
  ASSERT_EQ(plan.update_children.size(), 1u);
  EXPECT_EQ(plan.update_children[0].object["spec"]["active"], true);
  EXPECT_TRUE(plan.create_pods.empty());
  EXPECT_EQ(plan.status.condition("Suspended")->reason, "WaitingForAdmission");

  // A Workload that someone else deactivated stays so.
  json by_admin = admitted_workload();
  by_admin["spec"]["active"] = false;
  plan = reconcile(waiting_status(), kueue_observed({}, kT0 + seconds(31), by_admin), spec);
  EXPECT_TRUE(plan.update_children.empty());
  EXPECT_TRUE(plan.create_pods.empty());
  EXPECT_NE(plan.status.condition("Suspended")->message.find("deactivated"), std::string::npos);
}

namespace {

json with_worker_cpu(const std::string& cpu) {
  json spec = queued_spec();
  spec["resources"] = {{"requests", {{"cpu", cpu}}}};
  return spec;
}

const json& workers_cpu(const json& workload) {
  return workload["spec"]["podSets"][0]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"];
}

}  // namespace

TEST(KueuePlan, APendingWorkloadFollowsTheJobsSpec) {
  const json spec = with_worker_cpu("3");
  ReconcilePlan plan = reconcile(waiting_status(), kueue_observed({}, kT0 + seconds(1), pending_workload()), spec);
  ASSERT_EQ(plan.update_children.size(), 1u);
  const ChildUpdate& update = plan.update_children[0];
  EXPECT_FALSE(update.status);
  EXPECT_EQ(workers_cpu(update.object), "3");
  EXPECT_EQ(update.object["metadata"]["resourceVersion"], "7");
  EXPECT_EQ(update.object["spec"]["active"], true);
  EXPECT_NE((*find_condition(update.object, "QuotaReserved"))["message"], "") << "Kueue's status is kept";
  EXPECT_TRUE(has_event(plan, "UpdatedWorkload"));
  EXPECT_TRUE(plan.create_pods.empty());
  // Updated, it matches: no second write.
  plan = reconcile(plan.status, kueue_observed({}, kT0 + seconds(2), update.object), spec);
  EXPECT_TRUE(plan.update_children.empty());

  // A change that needs no new quota leaves the Workload as it is.
  json new_image = queued_spec();
  new_image["image"] = "w:2";
  EXPECT_TRUE(reconcile(waiting_status(), kueue_observed({}, kT0 + seconds(1), pending_workload()), new_image)
                  .update_children.empty());
}

TEST(KueuePlan, AnAdmittedWorkloadTheJobOutgrewIsReplaced) {
  const JobStatus running =
      reconcile(admitted_status(), kueue_observed(running_gang(), kT0 + seconds(7), admitted_workload())).status;
  const json spec = with_worker_cpu("4");
  ReconcilePlan plan = reconcile(running, kueue_observed(running_gang(), kT0 + seconds(8), admitted_workload()), spec);
  EXPECT_EQ(plan.delete_pods.size(), 3u);
  EXPECT_TRUE(plan.update_children.empty());  // not while pods remain
  EXPECT_TRUE(plan.status.is_true("Suspended"));
  EXPECT_EQ(plan.status.condition("Suspended")->reason, "WorkloadOutOfDate");
  EXPECT_EQ(plan.status.restarts, 0);

  // The pods gone: the finalizer first, then the Workload, then a new one for 4 CPUs.
  plan = reconcile(plan.status, kueue_observed({}, kT0 + seconds(9), admitted_workload()), spec);
  ASSERT_EQ(plan.update_children.size(), 1u);
  const json released = plan.update_children[0].object;
  EXPECT_EQ(released["metadata"]["finalizers"], json::array());
  plan = reconcile(plan.status, kueue_observed({}, kT0 + seconds(10), released), spec);
  EXPECT_TRUE(plan.update_children.empty());
  ASSERT_EQ(plan.delete_children.size(), 1u);
  EXPECT_EQ(plan.delete_children[0].name, workload_name(queued_meta()));
  plan = reconcile(plan.status, kueue_observed({}, kT0 + seconds(11), nullptr), spec);
  ASSERT_EQ(plan.create_children.size(), 1u);
  EXPECT_EQ(workers_cpu(plan.create_children[0].build()), "4");
  EXPECT_EQ(plan.status.condition("Suspended")->reason, "WaitingForAdmission");
  EXPECT_TRUE(plan.create_pods.empty());
}

TEST(KueuePlan, ADeletedWorkloadStopsThePodsAndIsLetGoOnceTheyAreGone) {
  json deleting = admitted_workload();
  deleting["metadata"]["deletionTimestamp"] = "2026-11-20T10:06:00Z";
  ReconcilePlan plan = reconcile(admitted_status(), kueue_observed(ready_workers(), kT0 + seconds(8), deleting));
  EXPECT_EQ(plan.delete_pods.size(), 2u);
  EXPECT_TRUE(plan.update_children.empty());
  EXPECT_EQ(plan.status.condition("Suspended")->reason, "WorkloadDeleted");
  plan = reconcile(plan.status, kueue_observed({}, kT0 + seconds(9), deleting));
  ASSERT_EQ(plan.update_children.size(), 1u);
  EXPECT_EQ(plan.update_children[0].object["metadata"]["finalizers"], json::array());
}

}  // namespace kubetrain

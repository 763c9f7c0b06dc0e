#include "operator/controller/gang_scheduling.h"

#include <gtest/gtest.h>

#include "operator/controller/child_objects.h"
#include "operator/controller/spec_validation.h"

namespace kubetrain {
namespace {

using nlohmann::json;

ObjectMeta job_meta() {
  return parse_object_meta({{"metadata", {{"name", "j"}, {"namespace", "team-a"}, {"uid", "uid-1"}}}});
}

// Four workers of 8 GPUs each; the policy is spec.runPolicy.schedulingPolicy.
TrainingJobSpec gang_spec(const json& policy, const json& extra = json::object()) {
  json spec = {{"workers", 4},
               {"slotsPerWorker", 8},
               {"image", "w:1"},
               {"resources",
                {{"requests", {{"cpu", "1500m"}, {"memory", "1.5Gi"}}},
                 {"limits", {{"nvidia.com/gpu", 8}, {"memory", "2Gi"}}}}},
               {"training", {{"globalBatchSize", 256}}},
               {"runPolicy", {{"schedulingPolicy", policy}}}};
  spec.update(extra);
  return parse_spec(spec);
}

TEST(GangScheduling, VolcanoPodGroupHasTheGangsSizeResourcesQueueAndOwner) {
  const TrainingJobSpec spec =
      gang_spec({{"gangScheduler", "volcano"}, {"queue", "research"}},
                {{"template", {{"spec", {{"priorityClassName", "high"}}}}}});
  const json group = build_pod_group(job_meta(), spec, 2);
  EXPECT_EQ(group["apiVersion"], "scheduling.volcano.sh/v1beta1");
  EXPECT_EQ(group["kind"], "PodGroup");
  EXPECT_EQ(group["metadata"]["name"], "j");
  EXPECT_EQ(group["metadata"]["namespace"], "team-a");
  EXPECT_EQ(group["metadata"]["labels"][kJobNameLabel], "j");
  EXPECT_EQ(group["metadata"]["labels"][kAttemptLabel], "2");
  const json owner = group["metadata"]["ownerReferences"][0];
  EXPECT_EQ(owner["kind"], "TrainingJob");
  EXPECT_EQ(owner["uid"], "uid-1");
  EXPECT_EQ(owner["controller"], true);
  // Every worker, not the launcher: it comes once the workers are Ready.
  EXPECT_EQ(group["spec"]["minMember"], 4);
  // A request wins over the limit of the same resource; a limit alone is the request.
  EXPECT_EQ(group["spec"]["minResources"],
            (json{{"cpu", "6000m"}, {"memory", "6Gi"}, {"nvidia.com/gpu", "32"}}));
  EXPECT_EQ(group["spec"]["queue"], "research");
  EXPECT_EQ(group["spec"]["priorityClassName"], "high");
  EXPECT_FALSE(group["spec"].contains("scheduleTimeoutSeconds"));
}

TEST(GangScheduling, CoschedulingPodGroupHasItsTimeoutAndNoQueue) {
  const TrainingJobSpec spec = gang_spec({{"gangScheduler", "coscheduling"},
                                          {"minAvailable", 3},
                                          {"scheduleTimeoutSeconds", 120},
                                          {"priorityClass", "ignored-by-coscheduling"}});
  const json group = build_pod_group(job_meta(), spec, 0);
  EXPECT_EQ(group["apiVersion"], "scheduling.x-k8s.io/v1alpha1");
  EXPECT_EQ(group["spec"]["minMember"], 3);
  EXPECT_EQ(group["spec"]["minResources"]["nvidia.com/gpu"], "24");
  EXPECT_EQ(group["spec"]["minResources"]["cpu"], "4500m");
  EXPECT_EQ(group["spec"]["scheduleTimeoutSeconds"], 120);
  EXPECT_FALSE(group["spec"].contains("queue"));
  EXPECT_FALSE(group["spec"].contains("priorityClassName"));
}

TEST(GangScheduling, MinResourcesGivenAreTakenAsTheyAre) {
  const TrainingJobSpec spec =
      gang_spec({{"gangScheduler", "volcano"}, {"minResources", {{"nvidia.com/gpu", 16}}}});
  EXPECT_EQ(gang_min_resources(spec), (json{{"nvidia.com/gpu", 16}}));
}

TEST(GangScheduling, QuantitiesMultiplyExactlyInEveryNotation) {
  auto total = [](const json& quantity, int workers) {
    return gang_min_resources(gang_spec({{"gangScheduler", "volcano"}, {"minAvailable", workers}},
                                        {{"resources", {{"requests", {{"x", quantity}}}}}}))["x"];
  };
  EXPECT_EQ(total("0.25", 2), "0.5");
  EXPECT_EQ(total("0.1", 3), "0.3");
  EXPECT_EQ(total("1.5Gi", 4), "6Gi");
  EXPECT_EQ(total("250m", 4), "1000m");
  EXPECT_EQ(total("1e3", 2), "2e3");
  EXPECT_EQ(total(8, 3), "24");
  EXPECT_EQ(total(".5", 1), "0.5");
  EXPECT_TRUE(total("lots", 2).is_null());  // not a quantity: left to the scheduler
}

TEST(GangScheduling, PodsCarryTheSchedulerAndTheirGroup) {
  PodScheduling volcano = gang_pod_scheduling(job_meta(), gang_spec({{"gangScheduler", "volcano"}}));
  EXPECT_EQ(volcano.scheduler_name, "volcano");
  EXPECT_EQ(volcano.annotations, (json{{kVolcanoGroupAnnotation, "j"}}));
  EXPECT_TRUE(volcano.labels.empty());

  PodScheduling coscheduling = gang_pod_scheduling(job_meta(), gang_spec({{"gangScheduler", "coscheduling"}}));
  EXPECT_EQ(coscheduling.scheduler_name, "scheduler-plugins-scheduler");
  EXPECT_EQ(coscheduling.labels, (json{{kCoschedulingGroupLabel, "j"}}));
  EXPECT_TRUE(coscheduling.annotations.empty());

  // The template's scheduler name, then the policy's, replace the default.
  const json in_template = {{"template", {{"spec", {{"schedulerName", "kube-batch"}}}}}};
  EXPECT_EQ(gang_pod_scheduling(job_meta(), gang_spec({{"gangScheduler", "volcano"}}, in_template)).scheduler_name,
            "kube-batch");
  EXPECT_EQ(gang_pod_scheduling(job_meta(), gang_spec({{"gangScheduler", "volcano"}, {"schedulerName", "vc"}},
                                                      in_template))
                .scheduler_name,
            "vc");
  EXPECT_EQ(gang_pod_scheduling(job_meta(), gang_spec(json::object())), PodScheduling{});
}

TEST(GangScheduling, AWaitingGangIsDescribedByThePodGroupsPhaseAndTheSchedulersReason) {
  json group = build_pod_group(job_meta(), gang_spec({{"gangScheduler", "volcano"}}), 0);
  auto wait = gang_wait(group, GangScheduler::kVolcano);
  ASSERT_TRUE(wait.has_value());
  EXPECT_EQ(wait->reason, "PodGroupPending");  // no status yet
  EXPECT_EQ(wait->message, "PodGroup j (volcano, minMember 4) is Pending");

  group["status"] = {{"phase", "Inqueue"},
                     {"conditions",
                      json::array({{{"type", "Unschedulable"},
                                    {"status", "True"},
                                    {"reason", "NotEnoughResources"},
                                    {"message", "4/4 tasks in gang unschedulable: pod group is not ready"}}})}};
  wait = gang_wait(group, GangScheduler::kVolcano);
  ASSERT_TRUE(wait.has_value());
  EXPECT_EQ(wait->reason, "NotEnoughResources");
  EXPECT_EQ(wait->message,
            "PodGroup j (volcano, minMember 4) is Inqueue: 4/4 tasks in gang unschedulable: pod group is not ready");

  group["status"] = {{"phase", "Running"}};
  EXPECT_FALSE(gang_wait(group, GangScheduler::kVolcano).has_value());
  group["status"] = {{"phase", "Scheduled"}};
  EXPECT_FALSE(gang_wait(group, GangScheduler::kCoscheduling).has_value());
  group["status"] = {{"phase", "PreScheduling"}};
  EXPECT_EQ(gang_wait(group, GangScheduler::kCoscheduling)->reason, "PodGroupPreScheduling");
}

TEST(GangScheduling, PolicyFieldsThatWouldDoNothingAreRefusedByName) {
  auto error_of = [](const json& policy, int64_t workers = 4) {
    try {
      ObjectMeta meta = job_meta();
      validate_training_job(meta, gang_spec(policy, {{"workers", workers}, {"training", {{"globalBatchSize", 64}}}}));
    } catch (const InvalidSpecError& error) {
      return std::string(error.what());
    }
    return std::string();
  };
  EXPECT_EQ(error_of({{"queue", "q"}}),
            "spec.runPolicy.schedulingPolicy.queue needs spec.runPolicy.schedulingPolicy.gangScheduler (volcano or "
            "coscheduling): without a gang scheduler it does nothing");
  EXPECT_EQ(error_of({{"gangScheduler", "kube-batch"}}),
            "spec.runPolicy.schedulingPolicy.gangScheduler 'kube-batch' is not one of: volcano, coscheduling");
  EXPECT_NE(error_of({{"gangScheduler", "coscheduling"}, {"queue", "q"}}).find("queue is Volcano's"), std::string::npos);
  EXPECT_NE(error_of({{"gangScheduler", "volcano"}, {"scheduleTimeoutSeconds", 5}}).find("coscheduling's"),
            std::string::npos);
  EXPECT_EQ(error_of({{"gangScheduler", "volcano"}, {"minAvailable", 5}}),
            "spec.runPolicy.schedulingPolicy.minAvailable must be 1..4 (the workers), not 5");
  EXPECT_EQ(error_of({{"gangScheduler", "volcano"}, {"minAvailable", 2}}), "");
  EXPECT_EQ(error_of(json::object()), "");
}

}  // namespace
}  // namespace kubetrain

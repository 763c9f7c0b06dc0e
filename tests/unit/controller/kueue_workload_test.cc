#include "operator/controller/kueue_workload.h"

#include <gtest/gtest.h>

#include "operator/controller/child_objects.h"

namespace kubetrain {
namespace {

using nlohmann::json;

ObjectMeta queued_job(const std::string& name = "mnist", const std::string& uid = "0b0d6c1e-5a4f-4f2c-9d1b-2f1e3c4d5e6f") {
  return parse_object_meta({{"metadata",
                             {{"name", name},
                              {"namespace", "team-a"},
                              {"uid", uid},
                              {"labels", {{kKueueQueueNameLabel, "team-a-queue"}}}}}});
}

TrainingJobSpec spec_with(const json& extra = json::object()) {
  json spec = {{"workers", 4},
               {"slotsPerWorker", 8},
               {"image", "w:1"},
               {"resources", {{"requests", {{"cpu", "32"}}}, {"limits", {{"nvidia.com/gpu", 8}}}}},
               {"training", {{"globalBatchSize", 256}}}};
  spec.update(extra);
  return parse_spec(spec);
}

json flavor(const std::string& name, const json& node_labels, const json& tolerations = json::array()) {
  return {{"metadata", {{"name", name}}}, {"spec", {{"nodeLabels", node_labels}, {"tolerations", tolerations}}}};
}

json admitted(const json& assignments) {
  return {{"status", {{"admission", {{"clusterQueue", "gpus"}, {"podSetAssignments", assignments}}}}}};
}

TEST(KueueWorkload, TheQueueComesFromTheJobsLabel) {
  EXPECT_EQ(kueue_queue_name(queued_job()), "team-a-queue");
  EXPECT_EQ(kueue_queue_name(parse_object_meta({{"metadata", {{"name", "j"}}}})), "");
}

TEST(KueueWorkload, IsNamedAsKueueNamesTheWorkloadOfAnOwner) {
  // Expected values: Python's hashlib over "TrainingJob\nkubetrain.dev\nNAME\nUID".
  EXPECT_EQ(workload_name(queued_job()), "trainingjob-mnist-d8f9d");
  const std::string name = workload_name(queued_job(std::string(250, 'a'), "u"));
  EXPECT_EQ(name.size(), 253u);
  EXPECT_EQ(name.substr(247), "-4a5f3");
}

TEST(KueueWorkload, HasTheJobsPodSetsOwnerLabelsAndFinalizer) {
  const json workload = build_workload(queued_job(), spec_with({{"template", {{"spec", {{"nodeSelector", {{"pool", "a"}}}}}}}}),
                                       std::nullopt);
  EXPECT_EQ(workload["apiVersion"], "kueue.x-k8s.io/v1beta2");
  EXPECT_EQ(workload["kind"], "Workload");
  const json& metadata = workload["metadata"];
  EXPECT_EQ(metadata["name"], "trainingjob-mnist-d8f9d");
  EXPECT_EQ(metadata["namespace"], "team-a");
  EXPECT_EQ(metadata["labels"][kKueueJobUidLabel], "0b0d6c1e-5a4f-4f2c-9d1b-2f1e3c4d5e6f");
  EXPECT_EQ(metadata["labels"][kJobNameLabel], "mnist");
  EXPECT_EQ(metadata["finalizers"], json::array({kKueueResourceInUseFinalizer}));
  EXPECT_EQ(metadata["ownerReferences"][0]["kind"], "TrainingJob");
  EXPECT_EQ(metadata["ownerReferences"][0]["controller"], true);
  EXPECT_EQ(workload["spec"]["queueName"], "team-a-queue");
  EXPECT_FALSE(workload["spec"].contains("priorityClassRef"));

  const json& pod_sets = workload["spec"]["podSets"];
  ASSERT_EQ(pod_sets.size(), 2u);
  EXPECT_EQ(pod_sets[0]["name"], kWorkersPodSet);
  EXPECT_EQ(pod_sets[0]["count"], 4);
  EXPECT_EQ(pod_sets[1]["name"], kLauncherPodSet);
  EXPECT_EQ(pod_sets[1]["count"], 1);
  const json& worker = pod_sets[0]["template"];
  for (const auto& [key, value] : worker["metadata"].items()) {
    EXPECT_TRUE(key == "labels" || key == "annotations") << key;  // the Workload API allows no more
  }
  EXPECT_FALSE(worker["metadata"]["labels"].contains(kReplicaIndexLabel));
  EXPECT_FALSE(worker["spec"].contains("hostname"));
  // What Kueue counts against the quota and filters flavors by.
  EXPECT_EQ(worker["spec"]["containers"][0]["resources"]["requests"]["cpu"], "32");
  EXPECT_EQ(worker["spec"]["containers"][0]["resources"]["limits"]["nvidia.com/gpu"], 8);
  EXPECT_EQ(worker["spec"]["nodeSelector"]["pool"], "a");
}

TEST(KueueWorkload, CarriesThePriorityClassAndItsValue) {
  const json workload = build_workload(queued_job(), spec_with(), WorkloadPriority{"high", 1000});
  EXPECT_EQ(workload["spec"]["priorityClassRef"],
            (json{{"group", "scheduling.k8s.io"}, {"kind", "PriorityClass"}, {"name", "high"}}));
  EXPECT_EQ(workload["spec"]["priority"], 1000);
}

TEST(KueueWorkload, DriftsOnlyWithWhatTheQuotaIsReservedFor) {
  const json stored = build_workload(queued_job(), spec_with(), std::nullopt);
  const auto drift = [&](const json& extra) { return workload_drift(stored, build_workload(queued_job(), spec_with(extra), std::nullopt)); };
  EXPECT_FALSE(drift(json::object()).quota);
  EXPECT_TRUE(drift({{"workers", 8}}).quota);
  EXPECT_TRUE(drift({{"resources", {{"requests", {{"cpu", "48"}}}, {"limits", {{"nvidia.com/gpu", 8}}}}}}).quota);
  EXPECT_TRUE(drift({{"template", {{"spec", {{"nodeSelector", {{"pool", "b"}}}}}}}}).quota);
  EXPECT_TRUE(drift({{"template", {{"spec", {{"priorityClassName", "high"}}}}}}).quota);
  EXPECT_FALSE(drift({{"image", "w:2"}}).quota) << "a new image needs no new quota";
  EXPECT_FALSE(drift({{"training", {{"globalBatchSize", 512}}}}).quota);

  ObjectMeta moved = queued_job();
  moved.labels[kKueueQueueNameLabel] = "team-b-queue";
  const WorkloadDrift requeued = workload_drift(stored, build_workload(moved, spec_with(), std::nullopt));
  EXPECT_TRUE(requeued.queue);
  EXPECT_FALSE(requeued.quota);

  // A Workload made before the digest existed is taken as it is.
  json undigested = stored;
  undigested["metadata"]["annotations"].erase(kQuotaDigestAnnotation);
  EXPECT_FALSE(workload_drift(undigested, build_workload(queued_job(), spec_with({{"workers", 8}}), std::nullopt)).quota);
}

TEST(KueueAdmission, FlavorsAddTheirNodeLabelsAndTolerationsToEachPodSet) {
  const json gpu_toleration = {{"key", "nvidia.com/gpu"}, {"operator", "Exists"}, {"effect", "NoSchedule"}};
  const std::map<std::string, json> flavors = {
      {"h200", flavor("h200", {{"gpu", "h200"}, {"pool", "a"}}, json::array({gpu_toleration}))},
      {"cpu-spot", flavor("cpu-spot", {{"spot", "true"}})}};
  const json workload = admitted(json::array(
      {{{"name", "workers"}, {"count", 4}, {"flavors", {{"cpu", "h200"}, {"nvidia.com/gpu", "h200"}}}},
       {{"name", "launcher"}, {"count", 1}, {"flavors", {{"cpu", "cpu-spot"}}}}}));
  const auto result = admitted_pod_scheduling(workload, spec_with({{"template", {{"spec", {{"nodeSelector", {{"pool", "a"}}}}}}}}),
                                              flavors);
  ASSERT_FALSE(std::holds_alternative<std::string>(result)) << std::get<std::string>(result);
  const auto& by_pod_set = std::get<std::map<std::string, PodScheduling>>(result);
  const PodScheduling& workers = by_pod_set.at("workers");
  EXPECT_EQ(workers.node_selector, (json{{"gpu", "h200"}, {"pool", "a"}}));
  EXPECT_EQ(workers.tolerations, json::array({gpu_toleration}));  // one flavor for two resources: added once
  EXPECT_EQ(workers.labels[kKueuePodSetLabel], "workers");
  const PodScheduling& launcher = by_pod_set.at("launcher");
  EXPECT_EQ(launcher.node_selector, (json{{"spot", "true"}}));
  EXPECT_TRUE(launcher.tolerations.empty());

  // Applied to the pods over the template.
  const json pod = build_worker_pod(queued_job(), spec_with(), 0, 0, workers);
  EXPECT_EQ(pod["spec"]["nodeSelector"]["gpu"], "h200");
  EXPECT_EQ(pod["metadata"]["labels"][kKueuePodSetLabel], "workers");
}

TEST(KueueAdmission, AMissingFlavorOrAConflictingNodeLabelIsNamed) {
  const json workload = admitted(json::array({{{"name", "workers"}, {"flavors", {{"cpu", "h200"}}}}}));
  auto result = admitted_pod_scheduling(workload, spec_with(), {});
  ASSERT_TRUE(std::holds_alternative<std::string>(result));
  EXPECT_EQ(std::get<std::string>(result), "ResourceFlavor h200 of podSet workers was not found");

  result = admitted_pod_scheduling(workload, spec_with({{"template", {{"spec", {{"nodeSelector", {{"pool", "b"}}}}}}}}),
                                   {{"h200", flavor("h200", {{"pool", "a"}})}});
  ASSERT_TRUE(std::holds_alternative<std::string>(result));
  EXPECT_EQ(std::get<std::string>(result),
            "ResourceFlavor h200 needs node label pool=a, but the pods of podSet workers select pool=b");
}

}  // namespace
}  // namespace kubetrain

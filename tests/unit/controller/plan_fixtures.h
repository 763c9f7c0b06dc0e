#pragma once

// A TrainingJob "j" of 2 workers x 2 slots in namespace "ns", pods as a kubelet reports them, and
// the cache contents plan_reconcile sees: the fixtures of the reconcile plan's tests.

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "operator/controller/child_objects.h"
#include "operator/controller/reconcile_plan.h"

namespace kubetrain::testing {

using nlohmann::json;
using std::chrono::seconds;

inline const TimePoint kT0 = Clock::from_time_t(1795377983);

inline ObjectMeta job_meta() {
  return parse_object_meta({{"metadata", {{"name", "j"}, {"namespace", "ns"}, {"uid", "u"}, {"generation", 4}}}});
}

inline json job_spec() {
  return json::parse(R"({"workers": 2, "slotsPerWorker": 2, "image": "w:1", "training": {"globalBatchSize": 8},
                         "runPolicy": {"backoffLimit": 2, "startupDeadlineSeconds": 30,
                                       "progressDeadlineSeconds": 60}})");
}

// A pod as the kubelet would report it.
struct Pod {
  json object;
  Pod(const std::string& role, int64_t index, int64_t attempt) {
    const std::string name = role == "launcher" ? "j-launcher" : "j-worker-" + std::to_string(index);
    object = {{"metadata",
               {{"name", name},
                {"labels",
                 {{kJobNameLabel, "j"}, {kRoleLabel, role}, {kAttemptLabel, std::to_string(attempt)}}}}},
              {"spec", {{"nodeName", "node-" + std::to_string(index)}}},
              {"status", {{"phase", "Pending"}}}};
    if (role == "worker") object["metadata"]["labels"][kReplicaIndexLabel] = std::to_string(index);
  }
  Pod& running(bool ready = true) {
    object["status"]["phase"] = "Running";
    object["status"]["podIP"] = "10.0.0.1";
    object["status"]["conditions"] = json::array({{{"type", "Ready"}, {"status", ready ? "True" : "False"}}});
    return *this;
  }
  Pod& terminated(int exit_code, const std::string& reason, const std::string& finished_at) {
    object["status"]["phase"] = exit_code == 0 ? "Succeeded" : "Failed";
    object["status"]["containerStatuses"] = json::array(
        {{{"state", {{"terminated", {{"exitCode", exit_code}, {"reason", reason}, {"finishedAt", finished_at}}}}}}});
    return *this;
  }
  Pod& waiting(const std::string& reason) {
    object["status"]["containerStatuses"] =
        json::array({{{"state", {{"waiting", {{"reason", reason}, {"message", "cannot pull w:1"}}}}}}});
    return *this;
  }
  Pod& unbound() {  // not yet placed by the scheduler
    object["spec"].erase("nodeName");
    return *this;
  }
  Pod& evicted() {
    object["status"]["phase"] = "Failed";
    object["status"]["reason"] = "Evicted";
    return *this;
  }
  PodView view() const { return parse_pod_view(object); }
};

inline ObservedState observed(std::vector<Pod> pods, TimePoint now, bool children = true) {
  ObservedState state;
  for (const Pod& pod : pods) state.pods.push_back(pod.view());
  if (children) {
    for (const ChildRef& child : {ChildRef{&kinds::kServices, "j-worker"}, ChildRef{&kinds::kConfigMaps, "j-config"}}) {
      state.children[child] = std::make_shared<const json>(json::object());
    }
  }
  state.now = now;
  return state;
}

inline std::vector<std::string> created_names(const ReconcilePlan& plan) {
  std::vector<std::string> names;
  for (const json& pod : plan.create_pods) names.push_back(pod["metadata"]["name"]);
  return names;
}

// "Kind/name" of each child other than pods the plan creates, in order.
inline std::vector<std::string> created_children(const ReconcilePlan& plan) {
  std::vector<std::string> names;
  for (const ChildToCreate& child : plan.create_children) names.push_back(child.ref.kind->kind + "/" + child.ref.name);
  return names;
}

inline bool has_event(const ReconcilePlan& plan, const std::string& reason) {
  return std::any_of(plan.events.begin(), plan.events.end(),
                     [&](const PlannedEvent& event) { return event.reason == reason; });
}

// The plan of a job refused at once: Failed with reason InvalidSpec and a message that names
// `named`, and nothing created.
inline void expect_refused(const ReconcilePlan& plan, const std::string& named) {
  const Condition* failed = plan.status.condition("Failed");
  ASSERT_NE(failed, nullptr);
  EXPECT_EQ(failed->status, "True");
  EXPECT_EQ(failed->reason, "InvalidSpec");
  EXPECT_NE(failed->message.find(named), std::string::npos) << failed->message;
  EXPECT_TRUE(plan.create_children.empty());
  EXPECT_TRUE(plan.create_pods.empty());
}

// The status after one reconcile that created the children.
inline JobStatus started_status() {
  return plan_reconcile(job_meta(), job_spec(), {}, observed({}, kT0, false)).status;
}

inline std::vector<Pod> ready_workers(int64_t attempt = 0) {
  return {Pod("worker", 0, attempt).running(), Pod("worker", 1, attempt).running()};
}

inline JobStatus running_status() {
  std::vector<Pod> pods = ready_workers();
  pods.push_back(Pod("launcher", 0, 0).running());
  return plan_reconcile(job_meta(), job_spec(), started_status(), observed(pods, kT0 + seconds(5))).status;
}

}  // namespace kubetrain::testing

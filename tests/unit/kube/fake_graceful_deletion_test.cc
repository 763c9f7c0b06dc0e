// Graceful deletion of pods in the fake API server, as kube-apiserver does it: a bound pod that
// has not finished is only marked, and goes when the kubelet deletes it again with grace 0.
#include <gtest/gtest.h>

#include "operator/controller/rfc3339.h"
#include "tests/unit/kube/fake_cluster.h"
#include "tests/unit/kube/raw_api.h"

namespace kubetrain {
namespace {

using json = nlohmann::json;
using testing::FakeCluster;
using testing::make_object;
using testing::RawApi;

json bound_pod(const std::string& name, json spec = json::object()) {
  spec["nodeName"] = "node-1";
  spec["containers"] = json::array({{{"name", "main"}, {"image", "busybox"}}});
  return make_object(name, nullptr, spec);
}

DeleteOptions grace(int seconds) {
  DeleteOptions options;
  options.grace_period_seconds = seconds;
  return options;
}

bool exists(KubeClient& client, const std::string& name) {
  try {
    client.get(kinds::kPods, "ns", name);
    return true;
  } catch (const ApiError& error) {
    if (!error.is_not_found()) throw;
    return false;
  }
}

// Seconds from now until the pod's deletionTimestamp.
long long seconds_left(const json& pod) {
  auto when = parse_rfc3339(pod["metadata"]["deletionTimestamp"].get<std::string>());
  EXPECT_TRUE(when);
  return std::chrono::duration_cast<std::chrono::seconds>(*when - Clock::now()).count();
}

TEST(FakeGracefulDeletionTest, BoundPodIsMarkedForTheDefaultGracePeriod) {
  FakeCluster cluster;
  auto& client = *cluster.client;
  client.create(kinds::kPods, "ns", bound_pod("p"));
  auto before = client.list(kinds::kPods, "ns").resource_version;

  auto answer = client.remove(kinds::kPods, "ns", "p");
  EXPECT_EQ(answer["metadata"]["deletionGracePeriodSeconds"], 30);
  EXPECT_NEAR(seconds_left(answer), 30, 2);
  EXPECT_EQ(answer["metadata"]["generation"], 2) << "the first graceful deletion bumps it";
  auto pod = client.get(kinds::kPods, "ns", "p");
  EXPECT_EQ(pod["metadata"]["deletionTimestamp"], answer["metadata"]["deletionTimestamp"]);
  EXPECT_EQ(testing::event_types(client, kinds::kPods, "ns", before, 1),
            std::vector<std::string>{"MODIFIED"});
}

TEST(FakeGracefulDeletionTest, GracePeriodComesFromTheBodyTheQueryOrTheSpec) {
  FakeCluster cluster;
  auto& client = *cluster.client;
  RawApi raw(cluster.server.port());
  for (const char* name : {"body", "query", "spec", "negative"}) {
    client.create(kinds::kPods, "ns", bound_pod(name, {{"terminationGracePeriodSeconds", 12}}));
  }
  EXPECT_EQ(
      client.remove(kinds::kPods, "ns", "body", grace(5))["metadata"]["deletionGracePeriodSeconds"],
      5);
  auto query = raw.remove("/api/v1/namespaces/ns/pods/query?gracePeriodSeconds=7");
  EXPECT_EQ(query.status, 200);
  EXPECT_EQ(query.body["metadata"]["deletionGracePeriodSeconds"], 7);
  EXPECT_EQ(client.remove(kinds::kPods, "ns", "spec")["metadata"]["deletionGracePeriodSeconds"],
            12);
  EXPECT_EQ(client.remove(kinds::kPods, "ns", "negative",
                          grace(-5))["metadata"]["deletionGracePeriodSeconds"],
            1)
      << "negative periods count as 1 s";
  EXPECT_EQ(raw.remove("/api/v1/namespaces/ns/pods/body?gracePeriodSeconds=soon").status, 400);
}

TEST(FakeGracefulDeletionTest, ALaterDeleteMayOnlyShortenTheGracePeriod) {
  FakeCluster cluster;
  auto& client = *cluster.client;
  client.create(kinds::kPods, "ns", bound_pod("p"));
  auto first = client.remove(kinds::kPods, "ns", "p", grace(60));

  auto longer = client.remove(kinds::kPods, "ns", "p", grace(120));
  EXPECT_EQ(longer, first) << "a longer period changes nothing";
  EXPECT_EQ(client.remove(kinds::kPods, "ns", "p"), first) << "nor does none";

  auto shorter = client.remove(kinds::kPods, "ns", "p", grace(20));
  EXPECT_EQ(shorter["metadata"]["deletionGracePeriodSeconds"], 20);
  EXPECT_NEAR(seconds_left(shorter), 20, 2) << "the deletion moves earlier by the difference";
  EXPECT_EQ(shorter["metadata"]["generation"], 2) << "only the first deletion bumps it";
  EXPECT_NE(shorter["metadata"]["resourceVersion"], first["metadata"]["resourceVersion"]);
  EXPECT_TRUE(exists(client, "p"));
}

TEST(FakeGracefulDeletionTest, TheKubeletsDeleteWithGraceZeroRemovesThePod) {
  FakeCluster cluster;
  auto& client = *cluster.client;
  auto pod = client.create(kinds::kPods, "ns", bound_pod("p"));
  auto before = client.list(kinds::kPods, "ns").resource_version;
  client.remove(kinds::kPods, "ns", "p");
  ASSERT_TRUE(exists(client, "p"));

  // What the kubelet sends once the containers stopped.
  DeleteOptions confirm = grace(0);
  confirm.precondition_uid = pod["metadata"]["uid"];
  auto gone = client.remove(kinds::kPods, "ns", "p", confirm);
  EXPECT_EQ(gone["metadata"]["deletionGracePeriodSeconds"], 0);
  EXPECT_FALSE(exists(client, "p"));
  EXPECT_EQ(testing::event_types(client, kinds::kPods, "ns", before, 2),
            (std::vector<std::string>{"MODIFIED", "DELETED"}));
}

TEST(FakeGracefulDeletionTest, FinalizersOutlastTheGracePeriod) {
  FakeCluster cluster;
  auto& client = *cluster.client;
  const json no_finalizers = {{"metadata", {{"finalizers", nullptr}}}};
  auto held = bound_pod("held");
  held["metadata"]["finalizers"] = {"example.com/hold"};

  // Confirmed first, then released: it goes with its last finalizer.
  client.create(kinds::kPods, "ns", held);
  auto confirmed = client.remove(kinds::kPods, "ns", "held", grace(0));
  EXPECT_EQ(confirmed["metadata"]["deletionGracePeriodSeconds"], 0);
  EXPECT_TRUE(exists(client, "held"));
  client.merge_patch(kinds::kPods, "ns", "held", no_finalizers);
  EXPECT_FALSE(exists(client, "held"));

  // Released within its grace period: it waits for the kubelet still.
  client.create(kinds::kPods, "ns", held);
  client.remove(kinds::kPods, "ns", "held");
  client.merge_patch(kinds::kPods, "ns", "held", no_finalizers);
  EXPECT_TRUE(exists(client, "held"));
  client.remove(kinds::kPods, "ns", "held", grace(0));
  EXPECT_FALSE(exists(client, "held"));
}

TEST(FakeGracefulDeletionTest, UnboundAndFinishedPodsAndOtherKindsGoAtOnce) {
  FakeCluster cluster;
  auto& client = *cluster.client;
  client.create(kinds::kPods, "ns", make_object("unbound"));
  client.remove(kinds::kPods, "ns", "unbound", grace(30));
  EXPECT_FALSE(exists(client, "unbound")) << "a pod on no node has nothing to stop";

  for (const char* phase : {"Succeeded", "Failed"}) {
    client.create(kinds::kPods, "ns", bound_pod("finished"));
    client.patch_status(kinds::kPods, "ns", "finished", {{"status", {{"phase", phase}}}});
    client.remove(kinds::kPods, "ns", "finished");
    EXPECT_FALSE(exists(client, "finished")) << phase;
  }

  client.create(kinds::kConfigMaps, "ns", make_object("cm"));
  auto before = client.list(kinds::kConfigMaps, "ns").resource_version;
  client.remove(kinds::kConfigMaps, "ns", "cm", grace(30));
  EXPECT_EQ(testing::event_types(client, kinds::kConfigMaps, "ns", before, 1),
            std::vector<std::string>{"DELETED"});
}

TEST(FakeGracefulDeletionTest, GarbageCollectorDeletesBoundPodsGracefully) {
  FakeCluster cluster;
  auto& client = *cluster.client;
  auto owner = client.create(kinds::kConfigMaps, "ns", make_object("owner"));
  json reference = {{"apiVersion", "v1"},
                    {"kind", "ConfigMap"},
                    {"name", "owner"},
                    {"uid", owner["metadata"]["uid"]}};
  for (auto pod : {bound_pod("running"), make_object("pending")}) {
    pod["metadata"]["ownerReferences"] = json::array({reference});
    client.create(kinds::kPods, "ns", pod);
  }

  client.remove(kinds::kConfigMaps, "ns", "owner");
  EXPECT_FALSE(exists(client, "pending"));
  auto running = client.get(kinds::kPods, "ns", "running");
  EXPECT_EQ(running["metadata"]["deletionGracePeriodSeconds"], 30);
  client.remove(kinds::kPods, "ns", "running", grace(0));
  EXPECT_FALSE(exists(client, "running"));
}

TEST(FakeGracefulDeletionTest, PreconditionsThatDoNotMatchAreConflicts) {
  FakeCluster cluster;
  auto& client = *cluster.client;
  RawApi raw(cluster.server.port());
  auto pod = client.create(kinds::kPods, "ns", bound_pod("p"));
  const std::string path = "/api/v1/namespaces/ns/pods/p";

  auto wrong_uid = raw.remove(path, {{"preconditions", {{"uid", "not-the-uid"}}}});
  EXPECT_EQ(wrong_uid.status, 409);
  EXPECT_EQ(wrong_uid.body["reason"], "Conflict");
  EXPECT_EQ(wrong_uid.body["message"],
            "Operation cannot be fulfilled on Pod \"p\": the UID in the precondition "
            "(not-the-uid) does not match the UID in record (" +
                pod["metadata"]["uid"].get<std::string>() +
                "). The object might have been deleted and then recreated");
  auto stale = raw.remove(path, {{"preconditions", {{"resourceVersion", "1"}}}});
  EXPECT_EQ(stale.status, 409);
  EXPECT_EQ(stale.body["message"],
            "Operation cannot be fulfilled on Pod \"p\": the ResourceVersion in the precondition "
            "(1) does not match the ResourceVersion in record (" +
                pod["metadata"]["resourceVersion"].get<std::string>() +
                "). The object might have been modified");
  EXPECT_FALSE(client.get(kinds::kPods, "ns", "p")["metadata"].contains("deletionTimestamp"));

  auto matching = raw.remove(path, {{"preconditions",
                                     {{"uid", pod["metadata"]["uid"]},
                                      {"resourceVersion", pod["metadata"]["resourceVersion"]}}}});
  EXPECT_EQ(matching.status, 200);
  EXPECT_EQ(matching.body["metadata"]["deletionGracePeriodSeconds"], 30);
}

}  // namespace
}  // namespace kubetrain

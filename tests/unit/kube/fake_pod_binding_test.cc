// The fake API server's pods/binding subresource, checked against what kube-apiserver answers
// kube-scheduler.
#include <gtest/gtest.h>

#include "tests/unit/kube/fake_cluster.h"
#include "tests/unit/kube/raw_api.h"

namespace kubetrain {
namespace {

using json = nlohmann::json;
using testing::FakeCluster;
using testing::make_object;
using testing::RawApi;

const std::string kPods = "/api/v1/namespaces/ns/pods/";

json binding(const std::string& pod, const std::string& node) {
  return {{"apiVersion", "v1"},
          {"kind", "Binding"},
          {"metadata", {{"name", pod}}},
          {"target", {{"apiVersion", "v1"}, {"kind", "Node"}, {"name", node}}}};
}

TEST(FakePodBindingTest, AssignsThePodToTheNodeAndAnswersCreated) {
  FakeCluster cluster;
  auto& client = *cluster.client;
  auto created = client.create(kinds::kPods, "ns", make_object("p"));
  auto before = client.list(kinds::kPods, "ns").resource_version;
  RawApi raw(cluster.server.port());
  cluster.server.clear_requests();

  auto bound = raw.post(kPods + "p/binding", binding("p", "node-1"));
  auto log = cluster.server.requests();
  EXPECT_EQ(bound.status, 201);
  EXPECT_EQ(bound.body, json::parse(R"({"kind":"Status","apiVersion":"v1","status":"Success",
                                       "code":201,"metadata":{}})"));

  auto pod = client.get(kinds::kPods, "ns", "p");
  EXPECT_EQ(pod["spec"]["nodeName"], "node-1");
  EXPECT_NE(pod["metadata"]["resourceVersion"], created["metadata"]["resourceVersion"]);
  const auto& scheduled = pod["status"]["conditions"][0];
  EXPECT_EQ(scheduled["type"], "PodScheduled");
  EXPECT_EQ(scheduled["status"], "True");
  EXPECT_EQ(testing::event_types(client, kinds::kPods, "ns", before, 1),
            std::vector<std::string>{"MODIFIED"});

  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].verb, "create");
  EXPECT_EQ(log[0].resource, "pods/binding");
  EXPECT_EQ(log[0].namespace_name, "ns");
  EXPECT_EQ(log[0].code, 201);
}

TEST(FakePodBindingTest, MergesTheBindingsAnnotations) {
  FakeCluster cluster;
  cluster.client->create(kinds::kPods, "ns", make_object("p"));
  auto request = binding("p", "node-1");
  request["metadata"]["annotations"] = {{"scheduler.example/score", "7"}};
  EXPECT_EQ(RawApi(cluster.server.port()).post(kPods + "p/binding", request).status, 201);
  auto pod = cluster.client->get(kinds::kPods, "ns", "p");
  EXPECT_EQ(pod["metadata"]["annotations"]["scheduler.example/score"], "7");
}

TEST(FakePodBindingTest, AnswersAsKubeApiserverDoesWhenItCannotBind) {
  FakeCluster cluster;
  auto& client = *cluster.client;
  RawApi raw(cluster.server.port());
  client.create(kinds::kPods, "ns", make_object("p"));

  auto missing = raw.post(kPods + "missing/binding", binding("missing", "node-1"));
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body["reason"], "NotFound");
  EXPECT_EQ(missing.body["message"], "pods \"missing\" not found");

  ASSERT_EQ(raw.post(kPods + "p/binding", binding("p", "node-1")).status, 201);
  auto again = raw.post(kPods + "p/binding", binding("p", "node-2"));
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(again.body["reason"], "Conflict");
  EXPECT_EQ(again.body["message"],
            "Operation cannot be fulfilled on pods/binding \"p\": pod p is "
            "already assigned to node \"node-1\"");
  EXPECT_EQ(client.get(kinds::kPods, "ns", "p")["spec"]["nodeName"], "node-1");

  auto other_name = raw.post(kPods + "p/binding", binding("q", "node-1"));
  EXPECT_EQ(other_name.status, 400);
  EXPECT_EQ(other_name.body["message"], "name in URL does not match name in Binding object");

  // kube-apiserver answers ValidatePodBinding's field errors with 500 and no reason.
  client.create(kinds::kPods, "ns", make_object("unbound"));
  auto no_node = raw.post(kPods + "unbound/binding", binding("unbound", ""));
  EXPECT_EQ(no_node.status, 500);
  EXPECT_EQ(no_node.body["message"], "target.name: Required value");
  EXPECT_FALSE(no_node.body.contains("reason"));
  auto to_pod = binding("unbound", "node-1");
  to_pod["target"]["kind"] = "Pod";
  auto wrong_kind = raw.post(kPods + "unbound/binding", to_pod);
  EXPECT_EQ(wrong_kind.status, 500);
  EXPECT_EQ(wrong_kind.body["message"],
            "target.kind: Unsupported value: \"Pod\": supported values: \"Node\", \"<empty>\"");
  auto no_kind = binding("unbound", "node-1");
  no_kind["target"].erase("kind");
  EXPECT_EQ(raw.post(kPods + "unbound/binding", no_kind).status, 201) << "an empty kind is a Node";

  EXPECT_EQ(raw.post("/api/v1/namespaces/ns/services/s/binding", binding("s", "node-1")).status,
            404)
      << "only pods have the subresource";
}

TEST(FakePodBindingTest, RefusesPodsBeingDeletedAndFailedPreconditions) {
  FakeCluster cluster;
  auto& client = *cluster.client;
  RawApi raw(cluster.server.port());
  auto held = make_object("held");
  held["metadata"]["finalizers"] = {"example.com/hold"};
  client.create(kinds::kPods, "ns", held);
  client.remove(kinds::kPods, "ns", "held");
  auto deleting = raw.post(kPods + "held/binding", binding("held", "node-1"));
  EXPECT_EQ(deleting.status, 409);
  EXPECT_EQ(deleting.body["message"],
            "Operation cannot be fulfilled on pods/binding \"held\": pod "
            "held is being deleted, cannot be assigned to a host");

  auto pod = client.create(kinds::kPods, "ns", make_object("p"));
  auto stale = binding("p", "node-1");
  stale["metadata"]["uid"] = "not-the-uid";
  auto conflict = raw.post(kPods + "p/binding", stale);
  EXPECT_EQ(conflict.status, 409);
  EXPECT_NE(conflict.body["message"].get<std::string>().find(
                "Precondition failed: UID in precondition: not-the-uid"),
            std::string::npos);
  stale["metadata"]["uid"] = pod["metadata"]["uid"];
  stale["metadata"]["resourceVersion"] = pod["metadata"]["resourceVersion"];
  EXPECT_EQ(raw.post(kPods + "p/binding", stale).status, 201) << "matching preconditions bind";
}

}  // namespace
}  // namespace kubetrain

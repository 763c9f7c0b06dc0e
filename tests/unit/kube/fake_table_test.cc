// Server-side printing in the fake API server: meta.k8s.io/v1 Tables, as `kubectl get` asks for.
#include <gtest/gtest.h>

#include <cctype>

#include "tests/unit/kube/fake_cluster.h"
#include "tests/unit/kube/raw_api.h"

namespace kubetrain {
namespace {

using json = nlohmann::json;
using testing::FakeCluster;
using testing::make_object;
using testing::RawApi;

// What kubectl get sends.
const std::string kTableAccept =
    "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;"
    "g=meta.k8s.io,application/json";

std::vector<std::string> column_names(const json& table) {
  std::vector<std::string> names;
  for (const auto& column : table["columnDefinitions"]) names.push_back(column["name"]);
  return names;
}

// `cells` with its age at `index` replaced by "<age>", after checking that it is a few seconds.
json aged(json cells, std::size_t index) {
  std::string age = cells[index];
  EXPECT_TRUE(age.size() == 2 && std::isdigit(static_cast<unsigned char>(age[0])) && age[1] == 's')
      << age;
  cells[index] = "<age>";
  return cells;
}

json gadget_crd() {
  json columns = json::array(
      {{{"name", "State"}, {"type", "string"}, {"jsonPath", ".status.state"}},
       {{"name", "Percent"}, {"type", "integer"}, {"jsonPath", ".status.progress.percent"}},
       {{"name", "Ready"},
        {"type", "string"},
        {"jsonPath", ".status.conditions[?(@.type==\"Ready\")].status"}},
       {{"name", "Node"}, {"type", "string"}, {"jsonPath", ".spec.node"}, {"priority", 1}},
       {{"name", "Age"}, {"type", "date"}, {"jsonPath", ".metadata.creationTimestamp"}}});
  json version = {
      {"name", "v1"}, {"served", true}, {"storage", true}, {"additionalPrinterColumns", columns}};
  return {{"metadata", {{"name", "gadgets.example.com"}}},
          {"spec",
           {{"group", "example.com"},
            {"scope", "Namespaced"},
            {"names", {{"plural", "gadgets"}, {"kind", "Gadget"}}},
            {"versions", json::array({version})}}}};
}

TEST(FakeTableTest, CustomResourcesPrintTheirCrdsColumns) {
  FakeCluster cluster;
  RawApi raw(cluster.server.port());
  ASSERT_EQ(
      raw.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", gadget_crd()).status,
      201);
  const std::string gadgets = "/apis/example.com/v1/namespaces/ns/gadgets";
  json gadget = {{"metadata", {{"name", "g"}}},
                 {"spec", {{"node", "n1"}}},
                 {"status",
                  {{"state", "Running"},
                   {"progress", {{"percent", 42.0}}},
                   {"conditions", json::array({{{"type", "Ready"}, {"status", "True"}}})}}}};
  ASSERT_EQ(raw.post(gadgets, gadget).status, 201);
  ASSERT_EQ(raw.post(gadgets, {{"metadata", {{"name", "empty"}}}}).status, 201);

  auto table = raw.get(gadgets, kTableAccept).body;
  EXPECT_EQ(table["kind"], "Table");
  EXPECT_EQ(table["apiVersion"], "meta.k8s.io/v1");
  EXPECT_EQ(column_names(table),
            (std::vector<std::string>{"Name", "State", "Percent", "Ready", "Node", "Age"}));
  EXPECT_EQ(table["columnDefinitions"][4]["priority"], 1) << "shown by -o wide only";
  EXPECT_EQ(table["columnDefinitions"][5]["type"], "date");
  ASSERT_EQ(table["rows"].size(), 2u);
  const auto& empty = table["rows"][0]["cells"];
  EXPECT_EQ(aged(empty, 5), json::array({"empty", nullptr, nullptr, nullptr, nullptr, "<age>"}));
  const auto& cells = table["rows"][1]["cells"];
  EXPECT_EQ(aged(cells, 5), json::array({"g", "Running", 42, "True", "n1", "<age>"}));
  const auto& object = table["rows"][1]["object"];
  EXPECT_EQ(object["kind"], "PartialObjectMetadata");
  EXPECT_EQ(object["metadata"]["name"], "g");
  EXPECT_FALSE(object.contains("spec"));

  auto full = raw.get(gadgets + "/g?includeObject=Object", kTableAccept).body;
  ASSERT_EQ(full["rows"].size(), 1u);
  EXPECT_EQ(full["rows"][0]["object"]["spec"]["node"], "n1");
  auto bare = raw.get(gadgets + "?includeObject=None", kTableAccept).body;
  EXPECT_FALSE(bare["rows"][0].contains("object"));
  EXPECT_EQ(raw.get(gadgets + "?includeObject=All", kTableAccept).status, 400);

  EXPECT_EQ(raw.get(gadgets).body["kind"], "List") << "plain JSON unless a Table is asked for";
}

TEST(FakeTableTest, PodsPrintReadyStatusRestartsAndAge) {
  FakeCluster cluster;
  auto& client = *cluster.client;
  json spec = {{"containers", json::array({{{"name", "a"}}, {{"name", "b"}}})},
               {"nodeName", "node-1"}};
  client.create(kinds::kPods, "ns", make_object("p", nullptr, spec));
  json running = {{"ready", true}, {"restartCount", 2}, {"state", {{"running", json::object()}}}};
  json waiting = {{"ready", false},
                  {"restartCount", 1},
                  {"state", {{"waiting", {{"reason", "CrashLoopBackOff"}}}}}};
  client.patch_status(kinds::kPods, "ns", "p",
                      {{"status",
                        {{"phase", "Running"},
                         {"podIP", "10.0.0.7"},
                         {"containerStatuses", json::array({running, waiting})}}}});

  auto table = RawApi(cluster.server.port()).get("/api/v1/namespaces/ns/pods", kTableAccept).body;
  EXPECT_EQ(column_names(table),
            (std::vector<std::string>{"Name", "Ready", "Status", "Restarts", "Age", "IP", "Node",
                                      "Nominated Node", "Readiness Gates"}));
  EXPECT_EQ(aged(table["rows"][0]["cells"], 4),
            json::array({"p", "1/2", "CrashLoopBackOff", "3", "<age>", "10.0.0.7", "node-1",
                         "<none>", "<none>"}));

  client.remove(kinds::kPods, "ns", "p");
  table = RawApi(cluster.server.port()).get("/api/v1/namespaces/ns/pods", kTableAccept).body;
  EXPECT_EQ(table["rows"][0]["cells"][2], "Terminating");
}

TEST(FakeTableTest, OtherKindsPrintNameAndAge) {
  FakeCluster cluster;
  cluster.client->create(kinds::kConfigMaps, "ns", make_object("cm"));
  auto table =
      RawApi(cluster.server.port()).get("/api/v1/namespaces/ns/configmaps/cm", kTableAccept).body;
  EXPECT_EQ(column_names(table), (std::vector<std::string>{"Name", "Age"}));
  EXPECT_EQ(aged(table["rows"][0]["cells"], 1), json::array({"cm", "<age>"}));
}

}  // namespace
}  // namespace kubetrain

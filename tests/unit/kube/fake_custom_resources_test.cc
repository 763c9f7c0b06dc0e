// CustomResourceDefinitions in the fake API server: accepted as kube-apiserver accepts them, and
// the source of what discovery and OpenAPI say about their resources.
#include <gtest/gtest.h>

#include "tests/unit/kube/fake_cluster.h"
#include "tests/unit/kube/raw_api.h"

namespace kubetrain {
namespace {

using json = nlohmann::json;
using testing::FakeCluster;
using testing::RawApi;

const std::string kCrds = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";

json widget_crd(const std::string& scope = "Namespaced") {
  json version = {{"name", "v1beta1"},
                  {"served", true},
                  {"storage", true},
                  {"subresources", {{"status", json::object()}}},
                  {"schema", {{"openAPIV3Schema", {{"type", "object"}}}}}};
  return {{"apiVersion", "apiextensions.k8s.io/v1"},
          {"kind", "CustomResourceDefinition"},
          {"metadata", {{"name", "widgets.example.com"}}},
          {"spec",
           {{"group", "example.com"},
            {"scope", scope},
            {"names", {{"plural", "widgets"}, {"kind", "Widget"}, {"shortNames", {"wd"}}}},
            {"versions", json::array({version})}}}};
}

json condition(const json& crd, const std::string& type) {
  for (const auto& condition : crd["status"]["conditions"]) {
    if (condition["type"] == type) return condition;
  }
  return nullptr;
}

TEST(FakeCustomResourcesTest, ACreatedCrdIsAcceptedAndEstablished) {
  FakeCluster cluster;
  RawApi raw(cluster.server.port());
  auto created = raw.post(kCrds, widget_crd());
  ASSERT_EQ(created.status, 201);
  const json& crd = created.body;
  EXPECT_EQ(condition(crd, "NamesAccepted")["status"], "True");
  EXPECT_EQ(condition(crd, "NamesAccepted")["reason"], "NoConflicts");
  EXPECT_EQ(condition(crd, "Established")["status"], "True");
  EXPECT_EQ(condition(crd, "Established")["reason"], "InitialNamesAccepted");
  EXPECT_EQ(crd["status"]["acceptedNames"]["singular"], "widget") << "defaulted from the kind";
  EXPECT_EQ(crd["status"]["acceptedNames"]["listKind"], "WidgetList");
  EXPECT_EQ(crd["status"]["storedVersions"], json::array({"v1beta1"}));

  auto misnamed = widget_crd();
  misnamed["metadata"]["name"] = "gadgets.example.com";
  misnamed["spec"]["scope"] = "Everywhere";
  auto refused = raw.post(kCrds, misnamed);
  EXPECT_EQ(refused.status, 422);
  EXPECT_EQ(refused.body["message"],
            "CustomResourceDefinition.apiextensions.k8s.io \"gadgets.example.com\" is invalid: "
            "[metadata.name: Invalid value: \"gadgets.example.com\": must be "
            "spec.names.plural+\".\"+spec.group, spec.scope: Unsupported value: \"Everywhere\": "
            "supported values: \"Cluster\", \"Namespaced\"]");
}

TEST(FakeCustomResourcesTest, DiscoveryListsBuiltInAndDefinedResources) {
  FakeCluster cluster;
  RawApi raw(cluster.server.port());
  EXPECT_EQ(raw.get("/api").body["versions"], json::array({"v1"}));
  auto core = raw.get("/api/v1").body;
  bool pods = false, binding = false;
  for (const auto& resource : core["resources"]) {
    pods |= resource["name"] == "pods" && resource["shortNames"] == json::array({"po"});
    binding |= resource["name"] == "pods/binding" && resource["kind"] == "Binding";
  }
  EXPECT_TRUE(pods && binding);
  EXPECT_EQ(raw.get("/apis/example.com/v1beta1").status, 404) << "no such group yet";

  ASSERT_EQ(raw.post(kCrds, widget_crd("Cluster")).status, 201);
  auto groups = raw.get("/apis").body["groups"];
  auto group = std::find_if(groups.begin(), groups.end(),
                            [](const json& g) { return g["name"] == "example.com"; });
  ASSERT_NE(group, groups.end());
  EXPECT_EQ((*group)["preferredVersion"]["groupVersion"], "example.com/v1beta1");
  auto resources = raw.get("/apis/example.com/v1beta1").body["resources"];
  ASSERT_EQ(resources.size(), 2u);
  EXPECT_EQ(resources[0]["name"], "widgets");
  EXPECT_EQ(resources[0]["kind"], "Widget");
  EXPECT_EQ(resources[0]["namespaced"], false);
  EXPECT_EQ(resources[0]["shortNames"], json::array({"wd"}));
  EXPECT_EQ(resources[1]["name"], "widgets/status");

  // The CRD's scope decides where its objects live.
  auto widget = raw.post("/apis/example.com/v1beta1/widgets",
                         {{"metadata", {{"name", "w"}}}, {"status", {{"ok", true}}}});
  ASSERT_EQ(widget.status, 201);
  EXPECT_FALSE(widget.body["metadata"].contains("namespace"));
  EXPECT_FALSE(widget.body.contains("status")) << "status is a subresource";
}

TEST(FakeCustomResourcesTest, OpenApiTellsKubectlTheServerValidatesFields) {
  FakeCluster cluster;
  RawApi raw(cluster.server.port());
  ASSERT_EQ(raw.post(kCrds, widget_crd()).status, 201);
  auto index = raw.get("/openapi/v3").body["paths"];
  ASSERT_TRUE(index.contains("api/v1"));
  ASSERT_TRUE(index.contains("apis/example.com/v1beta1"));
  auto document = raw.get(index["apis/example.com/v1beta1"]["serverRelativeURL"]).body;
  auto patch =
      document["paths"]["/apis/example.com/v1beta1/namespaces/{namespace}/widgets/{name}"]["patch"];
  EXPECT_EQ(patch["x-kubernetes-group-version-kind"],
            json({{"group", "example.com"}, {"version", "v1beta1"}, {"kind", "Widget"}}));
  bool field_validation = false;
  for (const auto& parameter : patch["parameters"]) {
    field_validation |= parameter["name"] == "fieldValidation" && parameter["in"] == "query";
  }
  EXPECT_TRUE(field_validation);
  EXPECT_FALSE(patch["requestBody"]["content"].contains("application/strategic-merge-patch+json"))
      << "kubectl apply must send merge patches";
  EXPECT_EQ(document["components"]["schemas"]["com.example.v1beta1.Widget"]["type"], "object");
  EXPECT_EQ(raw.get("/openapi/v3/apis/example.com/v9").status, 404);
}

TEST(FakeCustomResourcesTest, DeletingTheCrdDeletesItsResources) {
  FakeCluster cluster;
  RawApi raw(cluster.server.port());
  ASSERT_EQ(raw.post(kCrds, widget_crd()).status, 201);
  const std::string widgets = "/apis/example.com/v1beta1/namespaces/ns/widgets";
  ASSERT_EQ(raw.post(widgets, {{"metadata", {{"name", "w"}}}}).status, 201);
  EXPECT_EQ(raw.remove(kCrds + "/widgets.example.com").status, 200);
  EXPECT_EQ(raw.get(widgets + "/w").status, 404);
  EXPECT_EQ(raw.get("/apis/example.com/v1beta1").status, 404);
}

}  // namespace
}  // namespace kubetrain

#include <gtest/gtest.h>

#include <httplib.h>

#include "operator/kube/kube_client.h"
#include "tests/fakeapi/fake_api_server.h"
#include "tests/unit/kube/fake_cluster.h"

namespace kubetrain {
namespace {

using json = nlohmann::json;

TEST(FakeApiServerTest, ExecutablePrintsItsPortAndServesControlEndpoints) {
  fakeapi::FakeApiServerProcess process(KUBETRAIN_FAKE_APISERVER, {"--error-codes", "429"});
  ASSERT_GT(process.port(), 0);
  KubeConfig config;
  config.server = process.url();
  KubeClient client(config, testing::FakeCluster::fast_client_options());
  client.create(kinds::kSecrets, "ns", testing::make_object("s"));

  httplib::Client control("127.0.0.1", process.port());
  auto faults = control.Post("/fake/faults", R"({"errorRate":1,"codes":[503],"verbs":["get"]})",
                             "application/json");
  ASSERT_TRUE(faults);
  EXPECT_EQ(faults->status, 200);
  auto bad = control.Post("/fake/faults", R"({"errorRatio":1})", "application/json");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400) << "unknown fault keys are refused";

  ClientOptions no_retries = testing::FakeCluster::fast_client_options();
  no_retries.max_retries = 0;
  KubeClient impatient(config, no_retries);
  try {
    impatient.get(kinds::kSecrets, "ns", "s");
    FAIL() << "expected the injected 503";
  } catch (const ApiError& error) {
    EXPECT_EQ(error.code(), 503);
  }
  EXPECT_EQ(impatient.list(kinds::kSecrets, "ns").items.size(), 1u) << "lists are not faulted";

  auto log = control.Get("/fake/requests");
  ASSERT_TRUE(log);
  auto entries = json::parse(log->body);
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0]["verb"], "create");
  EXPECT_EQ(entries[0]["resource"], "secrets");
  EXPECT_EQ(entries[0]["namespace"], "ns");
  EXPECT_EQ(entries[1]["code"], 503);
  EXPECT_EQ(entries[2]["verb"], "list");
}

TEST(FakeApiServerTest, FollowsApiConventionsForUnsupportedRequests) {
  testing::FakeCluster cluster;
  cluster.client->create(kinds::kPods, "ns", testing::make_object("p"));
  httplib::Client raw("127.0.0.1", cluster.server.port());

  auto strategic = raw.Patch("/api/v1/namespaces/ns/pods/p", R"({"spec":{}})",
                             "application/strategic-merge-patch+json");
  ASSERT_TRUE(strategic);
  EXPECT_EQ(strategic->status, 415);
  auto status = json::parse(strategic->body);
  EXPECT_EQ(status["kind"], "Status");
  EXPECT_EQ(status["reason"], "UnsupportedMediaType");

  auto json_patch = raw.Patch("/api/v1/namespaces/ns/pods/p",
                              R"([{"op":"add","path":"/metadata/labels","value":{"a":"b"}}])",
                              "application/json-patch+json");
  ASSERT_TRUE(json_patch);
  EXPECT_EQ(json_patch->status, 200);
  EXPECT_EQ(json::parse(json_patch->body)["metadata"]["labels"]["a"], "b");

  auto unknown = raw.Get("/not/an/api/path");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
  auto no_status = raw.Put("/api/v1/namespaces/ns/configmaps/c/status", "{}", "application/json");
  ASSERT_TRUE(no_status);
  EXPECT_EQ(no_status->status, 404) << "configmaps have no status subresource";

  // A watch from an expired resourceVersion answers with an ERROR event carrying a 410 Status.
  cluster.server.compact();
  auto gone = raw.Get("/api/v1/namespaces/ns/pods?watch=true&resourceVersion=1");
  ASSERT_TRUE(gone);
  auto event = json::parse(gone->body.substr(0, gone->body.find('\n')));
  EXPECT_EQ(event["type"], "ERROR");
  EXPECT_EQ(event["object"]["code"], 410);
  EXPECT_EQ(event["object"]["reason"], "Expired");
}

TEST(FakeApiServerTest, WatchWithoutResourceVersionStartsWithTheCurrentState) {
  testing::FakeCluster cluster;
  auto& client = *cluster.client;
  client.create(kinds::kPods, "ns", testing::make_object("a", {{"app", "x"}}));
  client.create(kinds::kPods, "ns", testing::make_object("b", {{"app", "y"}}));
  ListOptions options;
  options.label_selector = "app=x";
  std::vector<std::string> seen;
  client.watch(kinds::kPods, "ns", options, [&](const WatchEvent& event) {
    seen.push_back(event.type + " " + event.object["metadata"]["name"].get<std::string>());
    return false;
  });
  EXPECT_EQ(seen, std::vector<std::string>{"ADDED a"});
}

TEST(FakeApiServerTest, BookmarksCarryTheLatestResourceVersion) {
  fakeapi::FakeApiServerOptions options;
  options.bookmark_interval_ms = 50;
  testing::FakeCluster cluster(options);
  auto& client = *cluster.client;
  auto start = client.list(kinds::kPods, "ns").resource_version;
  client.create(kinds::kConfigMaps, "ns", testing::make_object("unrelated"));
  auto latest = client.list(kinds::kConfigMaps, "ns").resource_version;
  ListOptions watch;
  watch.resource_version = start;
  std::string bookmarked;
  client.watch(kinds::kPods, "ns", watch, [&](const WatchEvent& event) {
    if (event.type != "BOOKMARK") return true;
    bookmarked = event.object["metadata"]["resourceVersion"];
    return false;
  });
  EXPECT_EQ(bookmarked, latest) << "a bookmark lets a pods watch skip unrelated changes";
}

}  // namespace
}  // namespace kubetrain

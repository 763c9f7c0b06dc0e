#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "operator/kube/api_call_counter.h"
#include "operator/kube/kube_client.h"
#include "tests/unit/kube/fake_cluster.h"

namespace kubetrain {
namespace {

using json = nlohmann::json;
using testing::FakeCluster;
using testing::make_object;

template <typename Call>
ApiError expect_api_error(Call call) {
  try {
    call();
  } catch (const ApiError& error) {
    return error;
  }
  ADD_FAILURE() << "expected an ApiError";
  return ApiError(-1, "", "");
}

TEST(KubeClientTest, CreateGetUpdateDeleteRoundTrip) {
  FakeCluster cluster;
  auto& client = *cluster.client;
  auto created = client.create(kinds::kConfigMaps, "ns", {{"metadata", {{"name", "cm"}}},
                                                          {"data", {{"k", "v"}}}});
  EXPECT_EQ(created["apiVersion"], "v1");
  EXPECT_EQ(created["kind"], "ConfigMap");
  EXPECT_EQ(created["metadata"]["namespace"], "ns");
  EXPECT_FALSE(created["metadata"].value("uid", "").empty());
  EXPECT_FALSE(created["metadata"].value("creationTimestamp", "").empty());

  auto fetched = client.get(kinds::kConfigMaps, "ns", "cm");
  EXPECT_EQ(fetched["data"]["k"], "v");
  fetched["data"]["k"] = "w";
  auto updated = client.update(kinds::kConfigMaps, "ns", fetched);
  EXPECT_EQ(updated["data"]["k"], "w");
  EXPECT_GT(std::stoull(updated["metadata"]["resourceVersion"].get<std::string>()),
            std::stoull(created["metadata"]["resourceVersion"].get<std::string>()));

  client.remove(kinds::kConfigMaps, "ns", "cm");
  EXPECT_TRUE(expect_api_error([&] { client.get(kinds::kConfigMaps, "ns", "cm"); }).is_not_found());
}

TEST(KubeClientTest, ErrorsAreTyped) {
  FakeCluster cluster;
  auto& client = *cluster.client;
  client.create(kinds::kPods, "ns", make_object("p"));

  auto missing = expect_api_error([&] { client.get(kinds::kPods, "ns", "nope"); });
  EXPECT_TRUE(missing.is_not_found());
  EXPECT_EQ(missing.reason(), "NotFound");

  auto exists = expect_api_error([&] { client.create(kinds::kPods, "ns", make_object("p")); });
  EXPECT_TRUE(exists.is_already_exists());
  EXPECT_FALSE(exists.is_conflict());

  auto stale = client.get(kinds::kPods, "ns", "p");
  client.merge_patch(kinds::kPods, "ns", "p", {{"metadata", {{"labels", {{"x", "1"}}}}}});
  auto conflict = expect_api_error([&] { client.update(kinds::kPods, "ns", stale); });
  EXPECT_TRUE(conflict.is_conflict());
  EXPECT_EQ(conflict.code(), 409);

  auto invalid = expect_api_error(
      [&] { client.create(kinds::kPods, "ns", {{"metadata", {{"labels", {{"a", "b"}}}}}}); });
  EXPECT_TRUE(invalid.is_invalid());
  auto bad_name = expect_api_error([&] { client.create(kinds::kPods, "ns", make_object("Bad_Name")); });
  EXPECT_TRUE(bad_name.is_invalid());

  KubeConfig nowhere;
  nowhere.server = "http://127.0.0.1:1";
  ClientOptions no_retries = FakeCluster::fast_client_options();
  no_retries.max_retries = 0;
  KubeClient unreachable(nowhere, no_retries);
  auto refused = expect_api_error([&] { unreachable.get(kinds::kPods, "ns", "p"); });
  EXPECT_TRUE(refused.is_connection_error());
  EXPECT_TRUE(refused.is_transient());
}

TEST(KubeClientTest, StatusSubresourceAndGeneration) {
  FakeCluster cluster;
  auto& client = *cluster.client;
  auto job = make_object("job", nullptr, {{"workers", 2}});
  job["status"] = {{"state", "ignored on create"}};
  auto created = client.create(kinds::kTrainingJobs, "ns", job);
  EXPECT_EQ(created["apiVersion"], "kubetrain.dev/v1alpha1");
  EXPECT_FALSE(created.contains("status"));
  EXPECT_EQ(created["metadata"]["generation"], 1);

  auto with_status = client.patch_status(kinds::kTrainingJobs, "ns", "job",
                                         {{"status", {{"state", "Running"}}},
                                          {"spec", {{"workers", 99}}}});
  EXPECT_EQ(with_status["status"]["state"], "Running");
  EXPECT_EQ(with_status["spec"]["workers"], 2) << "/status must not change spec";
  EXPECT_EQ(with_status["metadata"]["generation"], 1) << "status changes keep the generation";

  auto spec_change = client.merge_patch(kinds::kTrainingJobs, "ns", "job",
                                        {{"spec", {{"workers", 4}}},
                                         {"status", {{"state", "Hacked"}}}});
  EXPECT_EQ(spec_change["spec"]["workers"], 4);
  EXPECT_EQ(spec_change["status"]["state"], "Running") << "the main resource ignores status";
  EXPECT_EQ(spec_change["metadata"]["generation"], 2);

  // update_status with a stale resourceVersion conflicts.
  auto stale = created;
  stale["status"] = {{"state", "Old"}};
  EXPECT_TRUE(expect_api_error([&] { client.update_status(kinds::kTrainingJobs, "ns", stale); })
                  .is_conflict());
  auto fresh = client.get(kinds::kTrainingJobs, "ns", "job");
  fresh["status"]["state"] = "Succeeded";
  EXPECT_EQ(client.update_status(kinds::kTrainingJobs, "ns", fresh)["status"]["state"],
            "Succeeded");
}

TEST(KubeClientTest, ListFiltersAndPaginates) {
  FakeCluster cluster;
  auto& client = *cluster.client;
  for (int i = 0; i < 7; ++i) {
    client.create(kinds::kPods, "ns",
                  make_object("p" + std::to_string(i), {{"job", i % 2 ? "odd" : "even"},
                                                        {"tier", "w"}}));
  }
  client.create(kinds::kPods, "other", make_object("elsewhere", {{"job", "even"}}));

  EXPECT_EQ(client.list(kinds::kPods, "ns").items.size(), 7u);
  EXPECT_EQ(client.list(kinds::kPods, "").items.size(), 8u) << "all namespaces";
  auto selected = [&](const std::string& selector, const std::string& ns = "ns") {
    ListOptions options;
    options.label_selector = selector;
    return client.list(kinds::kPods, ns, options).items.size();
  };
  EXPECT_EQ(selected("job=even"), 4u);
  EXPECT_EQ(selected("job==odd"), 3u);
  EXPECT_EQ(selected("job!=odd"), 4u);
  EXPECT_EQ(selected("job in (odd,none)"), 3u);
  EXPECT_EQ(selected("job notin (odd)", ""), 5u);
  EXPECT_EQ(selected("tier"), 7u);
  EXPECT_EQ(selected("!tier", ""), 1u);
  EXPECT_EQ(selected("job=even,tier=w", ""), 4u);

  ListOptions by_name;
  by_name.field_selector = "metadata.name=p3";
  auto named = client.list(kinds::kPods, "ns", by_name);
  ASSERT_EQ(named.items.size(), 1u);
  EXPECT_EQ(named.items[0]["metadata"]["name"], "p3");
  EXPECT_EQ(named.items[0]["kind"], "Pod");

  ListOptions page;
  page.limit = 3;
  auto first = client.list(kinds::kPods, "ns", page);
  EXPECT_EQ(first.items.size(), 3u);
  EXPECT_FALSE(first.continue_token.empty());
  auto all = client.list_all(kinds::kPods, "ns", page);
  EXPECT_EQ(all.items.size(), 7u);
  std::set<std::string> names;
  for (const auto& item : all.items) names.insert(item["metadata"]["name"]);
  EXPECT_EQ(names.size(), 7u) << "pages must not repeat objects";
}

TEST(KubeClientTest, DeletePreconditionsAndGarbageCollection) {
  FakeCluster cluster;
  auto& client = *cluster.client;
  auto owner = client.create(kinds::kTrainingJobs, "ns", make_object("owner"));
  json reference = {{"apiVersion", "kubetrain.dev/v1alpha1"}, {"kind", "TrainingJob"},
                    {"name", "owner"}, {"uid", owner["metadata"]["uid"]}, {"controller", true}};
  for (const auto* name : {"w0", "w1"}) {
    auto pod = make_object(name);
    pod["metadata"]["ownerReferences"] = json::array({reference});
    client.create(kinds::kPods, "ns", pod);
  }
  auto kept = make_object("kept");
  kept["metadata"]["ownerReferences"] = json::array({reference});
  kept["metadata"]["finalizers"] = json::array({"kubetrain.dev/keep"});
  client.create(kinds::kConfigMaps, "ns", kept);

  DeleteOptions wrong_uid;
  wrong_uid.precondition_uid = "not-the-uid";
  EXPECT_TRUE(expect_api_error([&] {
                client.remove(kinds::kTrainingJobs, "ns", "owner", wrong_uid);
              }).is_conflict());

  DeleteOptions background;
  background.propagation_policy = "Background";
  background.precondition_uid = owner["metadata"]["uid"];
  client.remove(kinds::kTrainingJobs, "ns", "owner", background);
  EXPECT_TRUE(client.list(kinds::kPods, "ns").items.empty()) << "dependents are collected";
  // A dependent with a finalizer is only marked for deletion until the finalizer goes.
  auto marked = client.get(kinds::kConfigMaps, "ns", "kept");
  EXPECT_TRUE(marked["metadata"].contains("deletionTimestamp"));
  client.merge_patch(kinds::kConfigMaps, "ns", "kept", {{"metadata", {{"finalizers", nullptr}}}});
  EXPECT_TRUE(expect_api_error([&] { client.get(kinds::kConfigMaps, "ns", "kept"); }).is_not_found());
}

TEST(KubeClientTest, WatchStreamsEventsAndResumesFromResourceVersion) {
  FakeCluster cluster;
  auto& client = *cluster.client;
  auto listed = client.list(kinds::kPods, "ns");
  client.create(kinds::kPods, "ns", make_object("a"));
  client.merge_patch(kinds::kPods, "ns", "a", {{"metadata", {{"labels", {{"l", "1"}}}}}});
  client.remove(kinds::kPods, "ns", "a");

  std::vector<std::string> types;
  std::string last_version;
  ListOptions options;
  options.resource_version = listed.resource_version;
  options.timeout_seconds = 1;
  client.watch(kinds::kPods, "ns", options, [&](const WatchEvent& event) {
    if (event.type == "BOOKMARK") return true;
    types.push_back(event.type);
    last_version = event.object["metadata"]["resourceVersion"];
    return types.size() < 3;
  });
  EXPECT_EQ(types, (std::vector<std::string>{"ADDED", "MODIFIED", "DELETED"}));

  // Resuming from the last version seen delivers only what came after it.
  client.create(kinds::kPods, "ns", make_object("b"));
  options.resource_version = last_version;
  std::vector<std::string> names;
  client.watch(kinds::kPods, "ns", options, [&](const WatchEvent& event) {
    if (event.type != "BOOKMARK") names.push_back(event.object["metadata"]["name"]);
    return false;
  });
  EXPECT_EQ(names, std::vector<std::string>{"b"});

  // A label-filtered watch sees an object leaving its selection as DELETED.
  ListOptions filtered;
  filtered.label_selector = "app=x";
  filtered.resource_version = client.list(kinds::kPods, "ns").resource_version;
  client.merge_patch(kinds::kPods, "ns", "b", {{"metadata", {{"labels", {{"app", "x"}}}}}});
  client.merge_patch(kinds::kPods, "ns", "b", {{"metadata", {{"labels", {{"app", "y"}}}}}});
  std::vector<std::string> filtered_types;
  client.watch(kinds::kPods, "ns", filtered, [&](const WatchEvent& event) {
    if (event.type != "BOOKMARK") filtered_types.push_back(event.type);
    return filtered_types.size() < 2;
  });
  EXPECT_EQ(filtered_types, (std::vector<std::string>{"ADDED", "DELETED"}));
}

TEST(KubeClientTest, WatchFromCompactedVersionIsGone) {
  FakeCluster cluster;
  auto& client = *cluster.client;
  auto version = client.list(kinds::kPods, "ns").resource_version;
  client.create(kinds::kPods, "ns", make_object("a"));
  cluster.server.compact();
  ListOptions options;
  options.resource_version = version;
  auto gone = expect_api_error([&] {
    client.watch(kinds::kPods, "ns", options, [](const WatchEvent&) { return true; });
  });
  EXPECT_TRUE(gone.is_gone());
}

TEST(KubeClientTest, WatchStopsWhenRequested) {
  FakeCluster cluster;
  std::stop_source stop;
  auto started = std::chrono::steady_clock::now();
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    stop.request_stop();
  });
  ListOptions options;
  options.timeout_seconds = 30;
  cluster.client->watch(kinds::kPods, "ns", options, [](const WatchEvent&) { return true; },
                        stop.get_token());
  stopper.join();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(3));
}

TEST(KubeClientTest, RetriesTransientErrorsAndCountsEveryAttempt) {
  FakeCluster cluster;
  ApiCallCounter counter;
  KubeConfig config;
  config.server = cluster.server.url();
  auto options = FakeCluster::fast_client_options();
  options.observer = counter.observer();
  options.max_retries = 50;
  KubeClient client(config, options);
  client.create(kinds::kPods, "ns", make_object("p"));

  fakeapi::FaultConfig faults;
  faults.error_rate = 0.5;
  faults.codes = {429, 500, 503};
  faults.retry_after_seconds = 0;
  cluster.server.set_faults(faults);
  for (int i = 0; i < 40; ++i) {
    EXPECT_EQ(client.get(kinds::kPods, "ns", "p")["metadata"]["name"], "p");
  }
  cluster.server.set_faults({});
  std::uint64_t failed = 0, succeeded = 0;
  for (const auto& [key, count] : counter.snapshot()) {
    const auto& [verb, resource, code] = key;
    if (verb != "get") continue;
    EXPECT_EQ(resource, "pods");
    (code == 200 ? succeeded : failed) += count;
  }
  EXPECT_EQ(succeeded, 40u);
  EXPECT_GT(failed, 5u) << "injected failures were retried and counted";

  // Creates (not idempotent) are retried on 429 only.
  faults.error_rate = 1.0;
  faults.codes = {500};
  cluster.server.set_faults(faults);
  auto error = expect_api_error([&] { client.create(kinds::kPods, "ns", make_object("q")); });
  EXPECT_TRUE(error.is_server_error());
  cluster.server.set_faults({});
  std::uint64_t create_500 = counter.snapshot()[{"create", "pods", 500}];
  EXPECT_EQ(create_500, 1u);
}

TEST(KubeClientTest, RetryAfterIsHonoured) {
  FakeCluster cluster;
  auto& client = *cluster.client;
  client.create(kinds::kPods, "ns", make_object("p"));
  fakeapi::FaultConfig faults;
  faults.error_rate = 1.0;
  faults.codes = {429};
  faults.retry_after_seconds = 1;
  cluster.server.set_faults(faults);
  std::thread heal([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    cluster.server.set_faults({});
  });
  auto started = std::chrono::steady_clock::now();
  ClientOptions options = FakeCluster::fast_client_options();
  options.retry_max_delay = std::chrono::seconds(2);
  KubeConfig config;
  config.server = cluster.server.url();
  KubeClient patient(config, options);
  patient.get(kinds::kPods, "ns", "p");
  heal.join();
  // The client waited the server's second rather than its own 5 ms backoff.
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(900));
}

TEST(KubeClientTest, RequestLogNamesVerbsAndResources) {
  FakeCluster cluster;
  auto& client = *cluster.client;
  client.create(kinds::kTrainingJobs, "ns", make_object("j"));
  client.patch_status(kinds::kTrainingJobs, "ns", "j", {{"status", {{"state", "Running"}}}});
  client.list(kinds::kTrainingJobs, "");
  auto log = cluster.server.requests();
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log[0].verb, "create");
  EXPECT_EQ(log[0].resource, "trainingjobs.kubetrain.dev");
  EXPECT_EQ(log[0].code, 201);
  EXPECT_EQ(log[1].verb, "patch");
  EXPECT_EQ(log[1].resource, "trainingjobs.kubetrain.dev/status");
  EXPECT_EQ(log[2].verb, "list");
}

}  // namespace
}  // namespace kubetrain

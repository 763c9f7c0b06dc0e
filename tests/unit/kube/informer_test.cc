#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <random>

#include "operator/kube/informer.h"
#include "tests/unit/kube/fake_cluster.h"

namespace kubetrain {
namespace {

using json = nlohmann::json;
using testing::eventually;
using testing::FakeCluster;
using testing::make_object;

InformerOptions fast_informer_options() {
  InformerOptions options;
  options.namespace_name = "ns";
  options.backoff_initial = std::chrono::milliseconds(5);
  options.backoff_max = std::chrono::milliseconds(50);
  options.watch_timeout = std::chrono::seconds(5);
  options.list_page_size = 7;  // several pages per relist
  return options;
}

// Records what the handlers saw: name -> last known state, plus the event order.
struct Recorder {
  std::mutex mutex;
  std::map<std::string, json> live;
  std::vector<std::string> log;

  ResourceEventHandlers handlers() {
    return {[this](const ObjectPtr& object) {
              std::lock_guard lock(mutex);
              live[(*object)["metadata"]["name"]] = *object;
              log.push_back("add " + (*object)["metadata"]["name"].get<std::string>());
            },
            [this](const ObjectPtr&, const ObjectPtr& object) {
              std::lock_guard lock(mutex);
              live[(*object)["metadata"]["name"]] = *object;
              log.push_back("update " + (*object)["metadata"]["name"].get<std::string>());
            },
            [this](const ObjectPtr& object) {
              std::lock_guard lock(mutex);
              live.erase((*object)["metadata"]["name"]);
              log.push_back("delete " + (*object)["metadata"]["name"].get<std::string>());
            }};
  }
  bool has(const std::string& entry) {
    std::lock_guard lock(mutex);
    return std::find(log.begin(), log.end(), entry) != log.end();
  }
};

// An informer started and synced, with a Recorder on its handlers.
struct SyncedInformer {
  SyncedInformer(KubeClient& client, const ResourceKind& kind,
                 InformerOptions options = fast_informer_options())
      : informer(client, kind, options) {
    informer.add_handlers(recorder.handlers());
    informer.start();
    synced = informer.wait_for_sync(std::chrono::seconds(5));
  }
  Recorder recorder;  // outlives the informer's thread
  Informer informer;
  bool synced = false;
};

TEST(InformerTest, SyncsAndFollowsChanges) {
  FakeCluster cluster;
  auto& client = *cluster.client;
  for (int i = 0; i < 20; ++i) {
    client.create(kinds::kPods, "ns", make_object("p" + std::to_string(i),
                                                  {{"job", "a"}, {"shard", std::to_string(i % 4)}}));
  }
  client.create(kinds::kPods, "ns", make_object("other", {{"job", "b"}}));
  client.create(kinds::kPods, "elsewhere", make_object("p0", {{"job", "a"}}));

  auto options = fast_informer_options();
  options.label_selector = "job=a";
  options.index_labels = {"shard"};
  Informer informer(client, kinds::kPods, options);
  Recorder recorder;
  informer.add_handlers(recorder.handlers());
  EXPECT_FALSE(informer.has_synced());
  informer.start();
  ASSERT_TRUE(informer.wait_for_sync(std::chrono::seconds(5)));
  EXPECT_EQ(informer.size(), 20u) << "only ns and job=a";
  EXPECT_NE(informer.get("ns", "p3"), nullptr);
  EXPECT_EQ(informer.get("ns", "other"), nullptr);
  EXPECT_EQ(informer.list("ns", LabelSelector::parse("job=a")).size(), 20u);
  EXPECT_EQ(informer.list_by_label("ns", "shard", "1").size(), 5u) << "indexed";
  EXPECT_EQ(informer.list_by_label("", "job", "a").size(), 20u) << "scanned";
  EXPECT_TRUE(informer.list_by_label("elsewhere", "shard", "1").empty());

  client.merge_patch(kinds::kPods, "ns", "p3", {{"spec", {{"replicas", 7}}}});
  client.remove(kinds::kPods, "ns", "p4");
  client.create(kinds::kPods, "ns", make_object("late", {{"job", "a"}}));
  ASSERT_TRUE(eventually([&] {
    auto p3 = informer.get("ns", "p3");
    return p3 && (*p3)["spec"]["replicas"] == 7 && !informer.get("ns", "p4") &&
           informer.get("ns", "late");
  }));
  // The handlers run just after the cache changes: wait for them too.
  EXPECT_TRUE(eventually([&] {
    return recorder.has("update p3") && recorder.has("delete p4") && recorder.has("add late");
  }));
  client.merge_patch(kinds::kPods, "ns", "p5", {{"metadata", {{"labels", {{"shard", "9"}}}}}});
  ASSERT_TRUE(eventually([&] { return informer.list_by_label("ns", "shard", "9").size() == 1; }));
  // p1, p9, p13, p17 remain in shard 1 (p5 moved); deleted p4 was in shard 0.
  EXPECT_EQ(informer.list_by_label("ns", "shard", "1").size(), 4u);
  EXPECT_EQ(informer.list_by_label("ns", "shard", "0").size(), 4u);
  informer.stop();
  EXPECT_EQ(informer.stats().gone, 0u);
}

TEST(InformerTest, ResumesAfterDroppedWatchesWithoutRelisting) {
  FakeCluster cluster;
  auto& client = *cluster.client;
  fakeapi::FaultConfig faults;
  faults.drop_watch_every = 3;
  cluster.server.set_faults(faults);
  SyncedInformer synced(client, kinds::kConfigMaps);
  ASSERT_TRUE(synced.synced);
  auto& informer = synced.informer;
  for (int i = 0; i < 30; ++i) {
    client.create(kinds::kConfigMaps, "ns", make_object("c" + std::to_string(i)));
  }
  ASSERT_TRUE(eventually([&] { return informer.size() == 30; }));
  auto stats = informer.stats();
  EXPECT_EQ(stats.lists, 1u) << "dropped watches resume from the last resourceVersion";
  EXPECT_GE(stats.watches, 10u);
  EXPECT_EQ(stats.events, 30u) << "no event delivered twice or lost";
}

TEST(InformerTest, RelistsOnGoneAndEmitsTheMissedDeltas) {
  FakeCluster cluster;
  auto& client = *cluster.client;
  for (const auto* name : {"keep", "change", "remove"}) {
    client.create(kinds::kPods, "ns", make_object(name));
  }
  SyncedInformer synced(client, kinds::kPods);
  ASSERT_TRUE(synced.synced);
  auto& informer = synced.informer;
  auto& recorder = synced.recorder;

  // Cut the informer off (its watches and lists fail), change things behind its back, and
  // forget the history: when it gets through again its resourceVersion is Gone.
  fakeapi::FaultConfig outage;
  outage.error_rate = 1.0;
  outage.codes = {500};
  outage.verbs = {"watch", "list"};
  outage.drop_watch_every = 1;
  auto errors_before = informer.stats().errors;
  cluster.server.set_faults(outage);
  client.create(kinds::kPods, "ns", make_object("trigger"));  // ends the open watch
  client.remove(kinds::kPods, "ns", "trigger");
  ASSERT_TRUE(eventually([&] { return informer.stats().errors > errors_before; }))
      << "the informer is cut off";
  client.merge_patch(kinds::kPods, "ns", "change", {{"spec", {{"replicas", 5}}}});
  client.remove(kinds::kPods, "ns", "remove");
  client.create(kinds::kPods, "ns", make_object("new"));
  cluster.server.compact();
  auto gone_before = informer.stats().gone;
  cluster.server.set_faults({});
  ASSERT_TRUE(eventually([&] {
    auto changed = informer.get("ns", "change");
    return informer.size() == 3 && changed && (*changed)["spec"]["replicas"] == 5 &&
           informer.get("ns", "new") && !informer.get("ns", "remove");
  }));
  // The cache is replaced before the handlers hear of the deltas, as in client-go, so the
  // handlers may still be running when the cache already shows the relist.
  EXPECT_TRUE(eventually([&] {
    return recorder.has("delete remove") && recorder.has("update change") &&
           recorder.has("add new");
  })) << "handlers hear of every delta the relist found";
  EXPECT_GT(informer.stats().gone, gone_before) << "the deltas came from a relist after 410";
  std::lock_guard lock(recorder.mutex);
  EXPECT_EQ(recorder.live.size(), 3u);
  EXPECT_EQ(recorder.live.count("keep"), 1u);
}

TEST(InformerTest, ConvergesUnderInjectedFaults) {
  fakeapi::FakeApiServerOptions server_options;
  server_options.event_window = 50;  // churn outruns it: some reconnects hit 410
  FakeCluster cluster(server_options);
  auto& client = *cluster.client;
  SyncedInformer synced(client, kinds::kPods);
  ASSERT_TRUE(synced.synced);
  auto& informer = synced.informer;
  auto& recorder = synced.recorder;

  fakeapi::FaultConfig faults;
  faults.error_rate = 0.1;
  faults.codes = {409, 429, 500};
  faults.retry_after_seconds = 0;
  faults.drop_watch_every = 7;
  cluster.server.set_faults(faults);
  std::mt19937 random(7);
  std::map<std::string, int> expected;  // name -> replicas
  for (int step = 0; step < 300; ++step) {
    std::string name = "p" + std::to_string(random() % 40);
    try {
      if (!expected.contains(name)) {
        client.create(kinds::kPods, "ns", make_object(name));
        expected[name] = 1;
      } else if (random() % 3 == 0) {
        client.remove(kinds::kPods, "ns", name);
        expected.erase(name);
      } else {
        int replicas = static_cast<int>(random() % 100);
        client.merge_patch(kinds::kPods, "ns", name, {{"spec", {{"replicas", replicas}}}});
        expected[name] = replicas;
      }
    } catch (const ApiError&) {
      // An injected failure of a non-retried call: the truth is whatever the server holds.
      cluster.server.set_faults({});
      try {
        expected[name] = client.get(kinds::kPods, "ns", name)["spec"]["replicas"];
      } catch (const ApiError& error) {
        ASSERT_TRUE(error.is_not_found());
        expected.erase(name);
      }
      cluster.server.set_faults(faults);
    }
  }
  cluster.server.set_faults({});
  auto matches = [&] {
    if (informer.size() != expected.size()) return false;
    for (const auto& [name, replicas] : expected) {
      auto object = informer.get("ns", name);
      if (!object || (*object)["spec"]["replicas"] != replicas) return false;
    }
    std::lock_guard lock(recorder.mutex);
    if (recorder.live.size() != expected.size()) return false;
    for (const auto& [name, replicas] : expected) {
      auto it = recorder.live.find(name);
      if (it == recorder.live.end() || it->second["spec"]["replicas"] != replicas) return false;
    }
    return true;
  };
  EXPECT_TRUE(eventually(matches, std::chrono::seconds(20)));
  EXPECT_GT(informer.stats().watches, 10u) << "dropped watches were resumed";
  int failed = 0;
  for (const auto& request : cluster.server.requests()) failed += request.code >= 409;
  EXPECT_GT(failed, 10) << "faults were actually injected";
}

TEST(InformerTest, StopsPromptly) {
  FakeCluster cluster;
  SyncedInformer synced(*cluster.client, kinds::kPods);
  ASSERT_TRUE(synced.synced);
  auto& informer = synced.informer;
  auto started = std::chrono::steady_clock::now();
  informer.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
}

}  // namespace
}  // namespace kubetrain

// The fake API server's watch window: a watcher that keeps asking for the events after the
// resourceVersion its last answer was complete up to must see every event, also when its wait
// times out in the moment an event is recorded. (A store that advanced that version past what it
// had scanned lost such events, and an informer then never saw the object change.)
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/fakeapi/object_store.h"

namespace kubetrain::fakeapi {
namespace {

using json = nlohmann::json;

ResourcePath config_maps() {
  ResourcePath path;
  path.version = "v1";
  path.plural = "configmaps";
  path.namespace_name = "ns";
  return path;
}

json config_map(int index) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", "cm-" + std::to_string(index)}, {"namespace", "ns"}}}};
}

TEST(FakeWatchEvents, WatchersWithShortWaitsMissNoEvent) {
  constexpr int kObjects = 3000;
  constexpr int kWatchers = 6;
  ObjectStore store(kObjects * 2);
  const std::uint64_t start = store.resource_version();
  std::atomic<bool> writer_done{false};

  // Each watcher waits at most a millisecond per call, so waits time out all the time while the
  // writer records events.
  std::vector<std::set<std::string>> seen(kWatchers);
  std::vector<std::thread> watchers;
  for (int w = 0; w < kWatchers; ++w) {
    watchers.emplace_back([&, w] {
      std::uint64_t after = start;
      while (true) {
        const bool last_round = writer_done.load();
        std::uint64_t latest = 0;
        auto events = store.wait_events("configmaps", after, std::chrono::milliseconds(1), latest);
        for (const auto& event : events) {
          seen[w].insert((*event.object)["metadata"]["name"].get<std::string>());
          after = std::max(after, event.resource_version);
        }
        after = std::max(after, latest);
        if (last_round && events.empty()) return;
      }
    });
  }
  for (int i = 0; i < kObjects; ++i) {
    store.create(config_maps(), config_map(i));
    // Now and then let a wait time out in the middle of the stream.
    if (i % 97 == 0) std::this_thread::sleep_for(std::chrono::microseconds(900));
  }
  writer_done = true;
  for (auto& watcher : watchers) watcher.join();

  for (int w = 0; w < kWatchers; ++w) {
    EXPECT_EQ(seen[w].size(), static_cast<std::size_t>(kObjects)) << "watcher " << w;
  }
}

TEST(FakeWatchEvents, AnswerIsCompleteUpToTheVersionItNames) {
  ObjectStore store(100);
  std::uint64_t latest = 0;
  const std::uint64_t before = store.resource_version();
  store.create(config_maps(), config_map(1));
  auto events = store.wait_events("configmaps", before, std::chrono::milliseconds(0), latest);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(latest, store.resource_version());
  // Nothing new: the wait times out, and the version named is still the newest scanned.
  events = store.wait_events("configmaps", latest, std::chrono::milliseconds(5), latest);
  EXPECT_TRUE(events.empty());
  EXPECT_EQ(latest, store.resource_version());
}

}  // namespace
}  // namespace kubetrain::fakeapi

#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

#include "operator/kube/kube_client.h"
#include "operator/kube/label_selector.h"
#include "operator/kube/resource_kind.h"

namespace kubetrain {

// Cached objects are shared and immutable: handlers and readers may keep them.
using ObjectPtr = std::shared_ptr<const nlohmann::json>;

struct InformerOptions {
  std::string namespace_name;  // empty: all namespaces
  std::string label_selector;  // server-side filter (API syntax)
  std::string field_selector;
  int list_page_size = 500;    // relists are paginated with limit/continue
  // Each watch asks the server to end after a random time in [watch_timeout, 2*watch_timeout),
  // as client-go does, so connections are refreshed; the informer then resumes.
  std::chrono::seconds watch_timeout{300};
  // Reconnect backoff after errors: exponential from initial to max, with full jitter.
  std::chrono::milliseconds backoff_initial{100};
  std::chrono::milliseconds backoff_max{30000};
  // Label keys to index (e.g. "kubetrain.dev/job-name"): list_by_label() on them costs the
  // size of the answer instead of a scan of the whole cache.
  std::vector<std::string> index_labels;
};

// Handlers run on the informer's own thread, one event at a time, after the cache was updated.
// Each may be empty.
struct ResourceEventHandlers {
  std::function<void(const ObjectPtr&)> on_add;
  std::function<void(const ObjectPtr& old_object, const ObjectPtr& new_object)> on_update;
  // The last known state of the deleted object.
  std::function<void(const ObjectPtr&)> on_delete;
};

// Counters for tests and metrics.
struct InformerStats {
  std::uint64_t lists = 0;           // completed (re)lists
  std::uint64_t watches = 0;         // watch connections opened
  std::uint64_t gone = 0;            // 410 Gone answers that forced a relist
  std::uint64_t errors = 0;          // other failures followed by a backoff
  std::uint64_t events = 0;          // watch events applied (bookmarks excluded)
};

// List+watch of one kind into a thread-safe local cache keyed by "namespace/name" (or "name" for
// cluster-scoped kinds), as client-go's shared informer does:
// - lists (paginated), then watches from the list's resourceVersion with bookmarks;
// - when a watch ends it resumes from the last resourceVersion seen (events or bookmarks);
// - on 410 Gone it relists and emits the differences: adds, updates (when resourceVersion changed)
//   and deletes for cached objects missing from the relist;
// - on other errors it waits with exponential backoff and jitter, then resumes (or relists).
class Informer {
 public:
  Informer(KubeClient& client, ResourceKind kind, InformerOptions options = {});
  ~Informer();  // stops
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  // Registers handlers; call before start().
  void add_handlers(ResourceEventHandlers handlers);
  // Starts the informer thread (once).
  void start();
  // Stops the thread and any watch in flight; idempotent. Handlers are not called afterwards.
  void stop();

  // True once the first list has been applied to the cache and its handlers were called.
  bool has_synced() const;
  // Waits until has_synced() or the timeout; returns has_synced().
  bool wait_for_sync(std::chrono::milliseconds timeout) const;

  // The cached object, or nullptr.
  ObjectPtr get(std::string_view ns, std::string_view name) const;
  ObjectPtr get_by_key(const std::string& key) const;
  // Cached objects in `ns` (all when empty) that match `selector`.
  std::vector<ObjectPtr> list(std::string_view ns = {}, const LabelSelector& selector = {}) const;
  // Cached objects in `ns` (all when empty) whose label `key` equals `value`. Uses the index
  // when `key` is one of options.index_labels, a scan otherwise.
  std::vector<ObjectPtr> list_by_label(std::string_view ns, const std::string& key,
                                       const std::string& value) const;
  std::size_t size() const;
  // The resourceVersion the next watch would resume from.
  std::string last_resource_version() const;
  InformerStats stats() const;
  const ResourceKind& kind() const { return kind_; }

  // "namespace/name", or "name" when the object has no namespace.
  static std::string key_of(const nlohmann::json& object);

 private:
  void run(std::stop_token stop);
  void relist(std::stop_token stop);
  void watch_once(std::stop_token stop);
  void apply(const std::string& type, nlohmann::json object);
  void sleep_for(std::chrono::milliseconds delay, std::stop_token stop);
  // Keeps label_index_ in step with cache_ (called with mutex_ held).
  void index_object(const std::string& key, const ObjectPtr& object, bool add);

  KubeClient& client_;
  const ResourceKind kind_;
  const InformerOptions options_;
  std::vector<ResourceEventHandlers> handlers_;

  mutable std::mutex mutex_;
  mutable std::condition_variable synced_cv_;
  std::unordered_map<std::string, ObjectPtr> cache_;
  // "<label key>=<value>" -> cache keys, for the options' index_labels.
  std::unordered_map<std::string, std::unordered_set<std::string>> label_index_;
  std::string resource_version_;
  bool synced_ = false;
  InformerStats stats_;

  std::mutex stop_mutex_;
  std::condition_variable_any stop_cv_;
  std::jthread thread_;
};

}  // namespace kubetrain

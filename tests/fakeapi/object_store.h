#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "operator/kube/label_selector.h"
#include "tests/fakeapi/field_selector.h"
#include "tests/fakeapi/resource_catalog.h"
#include "tests/fakeapi/resource_path.h"
#include "tests/fakeapi/status_error.h"

namespace kubetrain::fakeapi {

using SharedObject = std::shared_ptr<const nlohmann::json>;

// One change, as retained for watches.
struct StoredEvent {
  std::uint64_t resource_version = 0;
  std::string resource;
  std::string type;     // ADDED, MODIFIED, DELETED
  SharedObject object;  // the state after the change (for DELETED: the last state)
  SharedObject previous;  // MODIFIED: the state before (label-filtered watches need it)
};

// The fake API server's storage and semantics, independent of HTTP: objects per resource keyed
// by "namespace/name", one global resourceVersion, a bounded window of retained events, owner
// references with garbage collection, finalizers, graceful deletion of pods, pod bindings,
// status subresources, merge and JSON patches, and CustomResourceDefinitions that define the
// scope and subresources of their resources in catalog(). Thread-safe.
class ObjectStore {
 public:
  explicit ObjectStore(std::size_t event_window);

  nlohmann::json get(const ResourcePath& path) const;
  nlohmann::json list(const ResourcePath& path, const LabelSelector& labels,
                      const FieldSelector& fields, int limit,
                      const std::string& continue_token) const;
  nlohmann::json create(const ResourcePath& path, nlohmann::json object);
  nlohmann::json update(const ResourcePath& path, nlohmann::json object);
  nlohmann::json patch(const ResourcePath& path, std::string_view content_type,
                       const nlohmann::json& patch);
  // `options` is the DeleteOptions (null or an object): preconditions, propagationPolicy,
  // orphanDependents, gracePeriodSeconds.
  nlohmann::json remove(const ResourcePath& path, const nlohmann::json& options);
  // POST .../pods/NAME/binding (`path` names the pod): assigns the pod to the Binding's node and
  // returns the Status that a successful binding answers.
  nlohmann::json bind(const ResourcePath& path, const nlohmann::json& binding);

  // The resources known: built-in kinds and those of the stored CRDs.
  const ResourceCatalog& catalog() const { return catalog_; }

  // Events of `resource` after `after`, waiting up to `wait` while there are none. `latest` gets
  // the global resourceVersion the answer is complete up to. Throws StatusError 410 when events
  // after `after` are no longer retained.
  std::vector<StoredEvent> wait_events(const std::string& resource, std::uint64_t after,
                                       std::chrono::milliseconds wait, std::uint64_t& latest);
  // The current objects of `resource` and the resourceVersion they are at.
  std::vector<SharedObject> current_objects(const std::string& resource,
                                            std::uint64_t& latest) const;
  std::uint64_t resource_version() const;
  // Drops every retained event: watches from any older resourceVersion get 410.
  void compact();
  // Wakes every wait_events() (server shutdown).
  void wake_all();

 private:
  using Collection = std::map<std::string, SharedObject>;  // "ns/name" -> object

  Collection& collection(const std::string& resource) { return collections_[resource]; }
  std::string key_of(const ResourcePath& path) const;
  SharedObject find_locked(const std::string& resource, const std::string& key) const;
  nlohmann::json update_locked(const ResourcePath& path, nlohmann::json object);
  // Deletes as `options` ask (gracefully for pods), collecting dependents with `policy`.
  nlohmann::json delete_locked(const std::string& resource, const std::string& key,
                               const nlohmann::json& options, const std::string& policy);
  // Stores `object` under a new resourceVersion and records the event.
  SharedObject commit(const std::string& resource, const std::string& key, nlohmann::json object,
                      const std::string& type, SharedObject previous);
  void erase(const std::string& resource, const std::string& key, SharedObject last);
  // A CRD went: so do its custom resources, as kube-apiserver's CRD finalizer deletes them.
  void remove_custom_resources(const std::string& crd_name);
  void collect_garbage(const std::string& owner_uid, const std::string& policy);
  void index_owners(const std::string& resource, const std::string& key,
                    const nlohmann::json* before, const nlohmann::json* after);
  void record(StoredEvent event);

  const std::size_t event_window_;
  ResourceCatalog catalog_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::unordered_map<std::string, Collection> collections_;
  std::unordered_map<std::string, std::pair<std::string, std::string>> by_uid_;  // uid -> where
  // owner uid -> dependents (resource, key)
  std::unordered_map<std::string, std::set<std::pair<std::string, std::string>>> dependents_;
  std::deque<StoredEvent> events_;
  std::uint64_t resource_version_ = 1;
  std::uint64_t oldest_watchable_ = 0;  // watches from a resourceVersion >= this are served
  std::uint64_t next_uid_ = 1;
};

}  // namespace kubetrain::fakeapi

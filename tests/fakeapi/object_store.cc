#include "tests/fakeapi/object_store.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <random>

#include "operator/kube/api_time.h"
#include "tests/fakeapi/custom_resource_definition.h"
#include "tests/fakeapi/graceful_deletion.h"
#include "tests/fakeapi/json_fields.h"
#include "tests/fakeapi/pod_binding.h"

namespace kubetrain::fakeapi {
namespace {

using json = nlohmann::json;

std::string object_key(const std::string& ns, const std::string& name) {
  return ns.empty() ? name : ns + "/" + name;
}

std::string describe(const ResourcePath& path) {
  return path.resource() + " \"" + path.name + "\"";
}

StatusError not_found(const ResourcePath& path) {
  return StatusError(404, "NotFound", describe(path) + " not found");
}

// metadata.name must be a DNS subdomain (RFC 1123), like most kinds require.
void validate_name(const std::string& name, const ResourcePath& path) {
  auto fail = [&](const std::string& why) {
    return StatusError(422, "Invalid",
                       path.resource() + " \"" + name + "\" is invalid: metadata.name: " + why);
  };
  if (name.empty()) {
    throw StatusError(422, "Invalid",
                      path.resource() + " is invalid: metadata.name: Required value: name or "
                                        "generateName is required");
  }
  if (name.size() > 253) throw fail("must be no more than 253 characters");
  auto valid = [](char c) {
    return std::islower(static_cast<unsigned char>(c)) ||
           std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '.';
  };
  if (!std::all_of(name.begin(), name.end(), valid) || !std::isalnum(name.front()) ||
      !std::isalnum(name.back())) {
    throw fail("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
               "characters, '-' or '.', and must start and end with an alphanumeric character");
  }
}

void validate_labels(const json& metadata, const ResourcePath& path) {
  for (const char* field : {"labels", "annotations"}) {
    if (!metadata.contains(field)) continue;
    const auto& map = metadata[field];
    if (!map.is_object()) {
      throw StatusError(422, "Invalid", describe(path) + " is invalid: metadata." + field +
                                            ": must be a map of strings");
    }
    for (const auto& [key, value] : map.items()) {
      if (!value.is_string()) {
        throw StatusError(422, "Invalid", describe(path) + " is invalid: metadata." + field +
                                              "." + key + ": must be a string");
      }
    }
  }
}

std::string new_uid(std::uint64_t sequence) {
  thread_local std::mt19937_64 random(std::random_device{}());
  std::uint64_t high = random();
  char text[40];
  std::snprintf(text, sizeof text, "%08llx-%04llx-4%03llx-8%03llx-%012llx",
                static_cast<unsigned long long>(high >> 32),
                static_cast<unsigned long long>((high >> 16) & 0xffff),
                static_cast<unsigned long long>(high & 0xfff),
                static_cast<unsigned long long>((sequence >> 48) & 0xfff),
                static_cast<unsigned long long>(sequence & 0xffffffffffffULL));
  return text;
}

// Everything but metadata and status: what a change of bumps metadata.generation.
json spec_part(const json& object) {
  json rest = object;
  rest.erase("metadata");
  rest.erase("status");
  return rest;
}

std::uint64_t parse_version(const std::string& text, const char* what) {
  try {
    std::size_t used = 0;
    auto value = std::stoull(text, &used);
    if (used == text.size()) return value;
  } catch (const std::exception&) {
  }
  throw StatusError(400, "BadRequest", std::string("invalid ") + what + " \"" + text + "\"");
}

// rest.BeforeDelete's precondition checks; `qualified_kind` ("Pod", "TrainingJob.kubetrain.dev")
// names the object in the Conflict, as kube-apiserver names it there.
void check_delete_preconditions(const std::string& qualified_kind, const json& object,
                                const json& options) {
  const json preconditions = member(options, "preconditions");
  const json& metadata = object["metadata"];
  std::string name = metadata.value("name", "");
  std::string uid = string_at(preconditions, "uid");
  if (!uid.empty() && uid != metadata.value("uid", "")) {
    throw conflict(qualified_kind, name,
                   "the UID in the precondition (" + uid + ") does not match the UID in record (" +
                       metadata.value("uid", "") +
                       "). The object might have been deleted and then recreated");
  }
  std::string version = string_at(preconditions, "resourceVersion");
  if (!version.empty() && version != metadata.value("resourceVersion", "")) {
    throw conflict(qualified_kind, name,
                   "the ResourceVersion in the precondition (" + version +
                       ") does not match the ResourceVersion in record (" +
                       metadata.value("resourceVersion", "") +
                       "). The object might have been modified");
  }
}

}  // namespace

ObjectStore::ObjectStore(std::size_t event_window) : event_window_(std::max<std::size_t>(event_window, 1)) {}

std::string ObjectStore::key_of(const ResourcePath& path) const {
  return object_key(catalog_.is_cluster_scoped(path.resource()) ? "" : path.namespace_name,
                    path.name);
}

SharedObject ObjectStore::find_locked(const std::string& resource, const std::string& key) const {
  auto collection_it = collections_.find(resource);
  if (collection_it == collections_.end()) return nullptr;
  auto it = collection_it->second.find(key);
  return it == collection_it->second.end() ? nullptr : it->second;
}

json ObjectStore::get(const ResourcePath& path) const {
  std::lock_guard lock(mutex_);
  auto object = find_locked(path.resource(), key_of(path));
  if (!object) throw not_found(path);
  return *object;
}

json ObjectStore::list(const ResourcePath& path, const LabelSelector& labels,
                       const FieldSelector& fields, int limit,
                       const std::string& continue_token) const {
  std::lock_guard lock(mutex_);
  std::uint64_t list_version = resource_version_;
  std::string after;
  if (!continue_token.empty()) {
    auto colon = continue_token.find(':');
    if (colon == std::string::npos) {
      throw StatusError(400, "BadRequest", "invalid continue token \"" + continue_token + "\"");
    }
    list_version = parse_version(continue_token.substr(0, colon), "continue token");
    if (list_version < oldest_watchable_) {
      throw StatusError(410, "Expired",
                        "The provided continue parameter is too old to display a consistent "
                        "list result. You can start a new list without the continue parameter.");
    }
    after = continue_token.substr(colon + 1);
  }
  bool all_namespaces =
      path.namespace_name.empty() || catalog_.is_cluster_scoped(path.resource());
  std::string prefix = all_namespaces ? "" : path.namespace_name + "/";
  json items = json::array();
  std::string next;
  std::string last_key;
  auto collection_it = collections_.find(path.resource());
  if (collection_it != collections_.end()) {
    const auto& objects = collection_it->second;
    auto it = after.empty() ? objects.lower_bound(prefix) : objects.upper_bound(after);
    for (; it != objects.end(); ++it) {
      if (!prefix.empty() && !it->first.starts_with(prefix)) break;
      const json& object = *it->second;
      if (!labels.matches_object(object) || !fields.matches(object)) continue;
      if (limit > 0 && static_cast<int>(items.size()) == limit) {
        next = std::to_string(list_version) + ":" + last_key;
        break;
      }
      last_key = it->first;
      items.push_back(object);
    }
  }
  json metadata = {{"resourceVersion", std::to_string(list_version)}};
  if (!next.empty()) metadata["continue"] = next;
  return {{"kind", "List"}, {"apiVersion", path.api_version()}, {"metadata", metadata},
          {"items", std::move(items)}};
}

void ObjectStore::record(StoredEvent event) {
  events_.push_back(std::move(event));
  while (events_.size() > event_window_) {
    oldest_watchable_ = events_.front().resource_version;
    events_.pop_front();
  }
  changed_.notify_all();
}

void ObjectStore::index_owners(const std::string& resource, const std::string& key,
                               const json* before, const json* after) {
  auto owners = [](const json* object) {
    std::vector<std::string> uids;
    if (object == nullptr) return uids;
    const auto& metadata = (*object)["metadata"];
    if (metadata.contains("ownerReferences") && metadata["ownerReferences"].is_array()) {
      for (const auto& reference : metadata["ownerReferences"]) {
        uids.push_back(reference.value("uid", ""));
      }
    }
    return uids;
  };
  for (const auto& uid : owners(before)) {
    auto it = dependents_.find(uid);
    if (it == dependents_.end()) continue;
    it->second.erase({resource, key});
    if (it->second.empty()) dependents_.erase(it);
  }
  for (const auto& uid : owners(after)) {
    if (!uid.empty()) dependents_[uid].insert({resource, key});
  }
}

SharedObject ObjectStore::commit(const std::string& resource, const std::string& key, json object,
                                 const std::string& type, SharedObject previous) {
  object["metadata"]["resourceVersion"] = std::to_string(++resource_version_);
  auto stored = std::make_shared<const json>(std::move(object));
  collection(resource)[key] = stored;
  index_owners(resource, key, previous.get(), stored.get());
  by_uid_[(*stored)["metadata"].value("uid", "")] = {resource, key};
  record({resource_version_, resource, type, stored, previous});
  if (resource == kCustomResourceDefinitions) catalog_.define(*stored);
  return stored;
}

void ObjectStore::erase(const std::string& resource, const std::string& key, SharedObject last) {
  json final_state = *last;
  final_state["metadata"]["resourceVersion"] = std::to_string(++resource_version_);
  collection(resource).erase(key);
  index_owners(resource, key, last.get(), nullptr);
  by_uid_.erase((*last)["metadata"].value("uid", ""));
  record({resource_version_, resource, "DELETED", std::make_shared<const json>(std::move(final_state)),
          nullptr});
  if (resource == kCustomResourceDefinitions) remove_custom_resources(key);
}

void ObjectStore::remove_custom_resources(const std::string& crd_name) {
  catalog_.forget(crd_name);
  std::vector<std::string> keys;
  for (const auto& [key, object] : collection(crd_name)) keys.push_back(key);
  for (const auto& key : keys) {
    if (find_locked(crd_name, key)) delete_locked(crd_name, key, json::object(), "Background");
  }
}

json ObjectStore::create(const ResourcePath& path, json object) {
  if (!object.is_object()) throw StatusError(400, "BadRequest", "the body is not a JSON object");
  json& metadata = object["metadata"];
  if (!metadata.is_object()) metadata = json::object();
  bool cluster_scoped = catalog_.is_cluster_scoped(path.resource());
  std::string ns = cluster_scoped ? "" : path.namespace_name;
  if (!cluster_scoped) {
    std::string body_ns = metadata.value("namespace", "");
    if (ns.empty()) ns = body_ns;
    if (ns.empty()) throw StatusError(400, "BadRequest", "the namespace is required");
    if (!body_ns.empty() && body_ns != ns) {
      throw StatusError(400, "BadRequest",
                        "the namespace of the provided object does not match the namespace sent "
                        "on the request");
    }
    metadata["namespace"] = ns;
  }
  validate_labels(metadata, path);
  std::lock_guard lock(mutex_);
  std::string name = metadata.value("name", "");
  if (name.empty() && !metadata.value("generateName", "").empty()) {
    name = metadata["generateName"].get<std::string>() + std::to_string(next_uid_);
  }
  ResourcePath named = path;
  named.name = name;
  validate_name(name, named);
  metadata["name"] = name;
  std::string key = object_key(ns, name);
  if (find_locked(path.resource(), key)) {
    throw StatusError(409, "AlreadyExists", describe(named) + " already exists");
  }
  if (metadata.contains("resourceVersion") && !metadata["resourceVersion"].get<std::string>().empty()) {
    throw StatusError(400, "BadRequest", "resourceVersion should not be set on objects to be created");
  }
  metadata["uid"] = new_uid(next_uid_++);
  metadata["creationTimestamp"] = format_api_time(std::chrono::system_clock::now());
  metadata["generation"] = 1;
  metadata.erase("deletionTimestamp");
  if (!object.contains("apiVersion")) object["apiVersion"] = path.api_version();
  // Status is not settable on create for kinds with the subresource.
  if (catalog_.has_status_subresource(path.resource())) object.erase("status");
  if (path.resource() == kCustomResourceDefinitions) {
    object = accept_custom_resource_definition(std::move(object), nullptr,
                                               std::chrono::system_clock::now());
  }
  return *commit(path.resource(), key, std::move(object), "ADDED", nullptr);
}

json ObjectStore::update_locked(const ResourcePath& path, json object) {
  std::string key = key_of(path);
  auto current = find_locked(path.resource(), key);
  if (!current) throw not_found(path);
  if (!object.is_object()) throw StatusError(400, "BadRequest", "the body is not a JSON object");
  json& metadata = object["metadata"];
  if (!metadata.is_object()) metadata = json::object();
  const json& old_metadata = (*current)["metadata"];
  std::string body_name = metadata.value("name", "");
  if (!body_name.empty() && body_name != path.name) {
    throw StatusError(400, "BadRequest",
                      "the name of the object (" + body_name +
                          ") does not match the name on the URL (" + path.name + ")");
  }
  std::string version = metadata.value("resourceVersion", "");
  if (!version.empty() && version != old_metadata.value("resourceVersion", "")) {
    throw StatusError(409, "Conflict",
                      "Operation cannot be fulfilled on " + describe(path) +
                          ": the object has been modified; please apply your changes to the "
                          "latest version and try again");
  }
  json updated;
  if (path.subresource == "status") {
    // Only status changes through /status.
    updated = *current;
    if (object.contains("status")) {
      updated["status"] = object["status"];
    } else {
      updated.erase("status");
    }
  } else {
    validate_labels(metadata, path);
    updated = std::move(object);
    for (const char* field : {"uid", "creationTimestamp", "namespace", "name", "generation",
                              "deletionTimestamp", "deletionGracePeriodSeconds"}) {
      if (old_metadata.contains(field)) {
        updated["metadata"][field] = old_metadata[field];
      } else {
        updated["metadata"].erase(field);
      }
    }
    if (!updated.contains("apiVersion")) updated["apiVersion"] = (*current).value("apiVersion", "");
    if (!updated.contains("kind") && current->contains("kind")) updated["kind"] = (*current)["kind"];
    // The main resource ignores status for kinds with the subresource.
    if (catalog_.has_status_subresource(path.resource())) {
      if (current->contains("status")) {
        updated["status"] = (*current)["status"];
      } else {
        updated.erase("status");
      }
    }
    if (path.resource() == kCustomResourceDefinitions) {
      updated = accept_custom_resource_definition(std::move(updated), *current,
                                                  std::chrono::system_clock::now());
    }
    if (spec_part(updated) != spec_part(*current)) {
      updated["metadata"]["generation"] = old_metadata.value("generation", 1) + 1;
    }
  }
  updated["metadata"]["resourceVersion"] = old_metadata.value("resourceVersion", "");
  if (updated == *current) return updated;  // a no-op write keeps the resourceVersion
  const json& new_metadata = updated["metadata"];
  bool deleting = new_metadata.contains("deletionTimestamp");
  bool has_finalizers = new_metadata.contains("finalizers") && !new_metadata["finalizers"].empty();
  bool grace_left = new_metadata.value("deletionGracePeriodSeconds", 0) != 0;
  if (deleting && !has_finalizers && !grace_left) {
    // The last finalizer was removed from an object being deleted: it goes now, unless it is a
    // pod in its grace period, which goes when the kubelet confirms its deletion.
    auto stored = std::make_shared<const json>(updated);
    erase(path.resource(), key, stored);
    collect_garbage(updated["metadata"].value("uid", ""), "Background");
    return updated;
  }
  return *commit(path.resource(), key, std::move(updated), "MODIFIED", current);
}

json ObjectStore::update(const ResourcePath& path, json object) {
  std::lock_guard lock(mutex_);
  return update_locked(path, std::move(object));
}

json ObjectStore::patch(const ResourcePath& path, std::string_view content_type,
                        const json& patch) {
  std::lock_guard lock(mutex_);
  auto current = find_locked(path.resource(), key_of(path));
  if (!current) throw not_found(path);
  json patched = *current;
  if (content_type.starts_with("application/merge-patch+json")) {
    if (!patch.is_object()) {
      throw StatusError(400, "BadRequest", "a merge patch must be a JSON object");
    }
    patched.merge_patch(patch);
    // The patch's own resourceVersion (if any) is the precondition; otherwise the current one.
  } else if (content_type.starts_with("application/json-patch+json")) {
    try {
      patched = patched.patch(patch);
    } catch (const json::exception& error) {
      throw StatusError(422, "Invalid", std::string("the JSON patch failed: ") + error.what());
    }
  } else {
    throw StatusError(415, "UnsupportedMediaType",
                      "the body of the request was in an unknown format - accepted media types "
                      "include: application/json-patch+json, application/merge-patch+json");
  }
  if (!patch.is_object() || !patch.contains("metadata") ||
      !patch["metadata"].contains("resourceVersion")) {
    patched["metadata"]["resourceVersion"] = (*current)["metadata"].value("resourceVersion", "");
  }
  return update_locked(path, std::move(patched));
}

json ObjectStore::delete_locked(const std::string& resource, const std::string& key,
                                const json& options, const std::string& policy) {
  auto current = find_locked(resource, key);
  auto step = plan_deletion(resource, *current, options, std::chrono::system_clock::now());
  if (step.kind == DeletionStep::kKeep) return *current;
  if (step.kind == DeletionStep::kMark) {
    return *commit(resource, key, std::move(step.object), "MODIFIED", current);
  }
  auto last = std::make_shared<const json>(std::move(step.object));
  std::string uid = (*last)["metadata"].value("uid", "");
  if (policy == "Foreground") collect_garbage(uid, policy);
  erase(resource, key, last);
  if (policy != "Foreground") collect_garbage(uid, policy);
  return *last;
}

void ObjectStore::collect_garbage(const std::string& owner_uid, const std::string& policy) {
  auto it = dependents_.find(owner_uid);
  if (it == dependents_.end()) return;
  auto dependents = it->second;  // copied: deleting dependents edits the index
  for (const auto& [resource, key] : dependents) {
    auto dependent = find_locked(resource, key);
    if (!dependent) continue;
    json remaining = json::array();
    bool other_owner_alive = false;
    for (const auto& reference : (*dependent)["metadata"]["ownerReferences"]) {
      std::string uid = reference.value("uid", "");
      if (uid == owner_uid) continue;
      remaining.push_back(reference);
      if (by_uid_.contains(uid)) other_owner_alive = true;
    }
    if (policy == "Orphan" || other_owner_alive) {
      json updated = *dependent;
      if (remaining.empty()) {
        updated["metadata"].erase("ownerReferences");
      } else {
        updated["metadata"]["ownerReferences"] = remaining;
      }
      commit(resource, key, std::move(updated), "MODIFIED", dependent);
    } else {
      // The garbage collector's DELETE asks for no grace period: bound pods get their own.
      delete_locked(resource, key, json::object(),
                    policy == "Foreground" ? "Foreground" : "Background");
    }
  }
}

json ObjectStore::remove(const ResourcePath& path, const json& options) {
  std::string policy = "Background";
  if (options.is_object()) {
    policy = options.value("propagationPolicy", policy);
    if (options.value("orphanDependents", false)) policy = "Orphan";
  }
  if (policy != "Background" && policy != "Foreground" && policy != "Orphan") {
    throw StatusError(422, "Invalid",
                      "propagationPolicy \"" + policy +
                          "\" is not supported: Background, Foreground or Orphan");
  }
  std::lock_guard lock(mutex_);
  std::string key = key_of(path);
  auto current = find_locked(path.resource(), key);
  if (!current) throw not_found(path);
  std::string kind = current->value("kind", catalog_.find(path.resource()).kind);
  if (kind.empty()) kind = path.plural;
  check_delete_preconditions(path.group.empty() ? kind : kind + "." + path.group, *current,
                             options);
  return delete_locked(path.resource(), key, options, policy);
}

json ObjectStore::bind(const ResourcePath& path, const json& binding) {
  validate_binding(binding, path.namespace_name, path.name);
  std::lock_guard lock(mutex_);
  ResourcePath pod_path = path;
  pod_path.subresource.clear();
  std::string key = key_of(pod_path);
  auto current = find_locked("pods", key);
  if (!current) throw not_found(pod_path);
  commit("pods", key, bound_pod(*current, binding, std::chrono::system_clock::now()), "MODIFIED",
         current);
  return binding_created_status();
}

std::vector<StoredEvent> ObjectStore::wait_events(const std::string& resource, std::uint64_t after,
                                                  std::chrono::milliseconds wait,
                                                  std::uint64_t& latest) {
  std::unique_lock lock(mutex_);
  auto deadline = std::chrono::steady_clock::now() + wait;
  bool timed_out = false;
  while (true) {
    if (after < oldest_watchable_) {
      throw StatusError(410, "Expired",
                        "too old resource version: " + std::to_string(after) + " (" +
                            std::to_string(oldest_watchable_) + ")");
    }
    std::vector<StoredEvent> found;
    auto first = std::upper_bound(
        events_.begin(), events_.end(), after,
        [](std::uint64_t version, const StoredEvent& event) {
          return version < event.resource_version;
        });
    for (auto it = first; it != events_.end(); ++it) {
      if (it->resource == resource) found.push_back(*it);
    }
    // `latest` may only name what was scanned, under the same lock: an event recorded while the
    // wait below timed out must be found by the scan, not skipped by a later bookmark.
    latest = std::max(after, resource_version_);
    if (!found.empty() || timed_out) return found;
    timed_out = changed_.wait_until(lock, deadline) == std::cv_status::timeout;
    after = std::max(after, latest);
  }
}

std::vector<SharedObject> ObjectStore::current_objects(const std::string& resource,
                                                       std::uint64_t& latest) const {
  std::lock_guard lock(mutex_);
  latest = resource_version_;
  std::vector<SharedObject> objects;
  auto it = collections_.find(resource);
  if (it == collections_.end()) return objects;
  objects.reserve(it->second.size());
  for (const auto& [key, object] : it->second) objects.push_back(object);
  return objects;
}

std::uint64_t ObjectStore::resource_version() const {
  std::lock_guard lock(mutex_);
  return resource_version_;
}

void ObjectStore::compact() {
  std::lock_guard lock(mutex_);
  events_.clear();
  oldest_watchable_ = resource_version_;
  changed_.notify_all();
}

void ObjectStore::wake_all() { changed_.notify_all(); }

}  // namespace kubetrain::fakeapi

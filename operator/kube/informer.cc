#include "operator/kube/informer.h"

#include <algorithm>
#include <random>

#include <spdlog/spdlog.h>

namespace kubetrain {
namespace {

using json = nlohmann::json;

std::string resource_version_of(const json& object) {
  if (!object.contains("metadata")) return "";
  return object["metadata"].value("resourceVersion", "");
}

}  // namespace

Informer::Informer(KubeClient& client, ResourceKind kind, InformerOptions options)
    : client_(client), kind_(std::move(kind)), options_(std::move(options)) {}

Informer::~Informer() { stop(); }

void Informer::add_handlers(ResourceEventHandlers handlers) {
  handlers_.push_back(std::move(handlers));
}

void Informer::start() {
  if (thread_.joinable()) return;
  thread_ = std::jthread([this](std::stop_token stop) { run(stop); });
}

void Informer::stop() {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  stop_cv_.notify_all();
  thread_.join();
}

bool Informer::has_synced() const {
  std::lock_guard lock(mutex_);
  return synced_;
}

bool Informer::wait_for_sync(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return synced_cv_.wait_for(lock, timeout, [this] { return synced_; });
}

std::string Informer::key_of(const json& object) {
  const auto& metadata = object.at("metadata");
  std::string ns = metadata.value("namespace", "");
  std::string name = metadata.value("name", "");
  return ns.empty() ? name : ns + "/" + name;
}

ObjectPtr Informer::get(std::string_view ns, std::string_view name) const {
  std::string key = ns.empty() ? std::string(name) : std::string(ns) + "/" + std::string(name);
  return get_by_key(key);
}

ObjectPtr Informer::get_by_key(const std::string& key) const {
  std::lock_guard lock(mutex_);
  auto it = cache_.find(key);
  return it == cache_.end() ? nullptr : it->second;
}

std::vector<ObjectPtr> Informer::list(std::string_view ns, const LabelSelector& selector) const {
  std::vector<ObjectPtr> result;
  std::lock_guard lock(mutex_);
  for (const auto& [key, object] : cache_) {
    if (!ns.empty() && (*object)["metadata"].value("namespace", "") != ns) continue;
    if (!selector.empty() && !selector.matches_object(*object)) continue;
    result.push_back(object);
  }
  return result;
}

void Informer::index_object(const std::string& key, const ObjectPtr& object, bool add) {
  if (options_.index_labels.empty() || !object) return;
  const auto& metadata = (*object)["metadata"];
  if (!metadata.contains("labels") || !metadata["labels"].is_object()) return;
  const auto& labels = metadata["labels"];
  for (const auto& label : options_.index_labels) {
    auto it = labels.find(label);
    if (it == labels.end() || !it->is_string()) continue;
    auto index_key = label + "=" + it->get<std::string>();
    if (add) {
      label_index_[index_key].insert(key);
    } else if (auto entry = label_index_.find(index_key); entry != label_index_.end()) {
      entry->second.erase(key);
      if (entry->second.empty()) label_index_.erase(entry);
    }
  }
}

std::vector<ObjectPtr> Informer::list_by_label(std::string_view ns, const std::string& key,
                                               const std::string& value) const {
  bool indexed = std::find(options_.index_labels.begin(), options_.index_labels.end(), key) !=
                 options_.index_labels.end();
  if (!indexed) return list(ns, LabelSelector::from_map({{key, value}}));
  std::vector<ObjectPtr> result;
  std::lock_guard lock(mutex_);
  auto entry = label_index_.find(key + "=" + value);
  if (entry == label_index_.end()) return result;
  for (const auto& cache_key : entry->second) {
    const auto& object = cache_.at(cache_key);
    if (!ns.empty() && (*object)["metadata"].value("namespace", "") != ns) continue;
    result.push_back(object);
  }
  return result;
}

std::size_t Informer::size() const {
  std::lock_guard lock(mutex_);
  return cache_.size();
}

std::string Informer::last_resource_version() const {
  std::lock_guard lock(mutex_);
  return resource_version_;
}

InformerStats Informer::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void Informer::sleep_for(std::chrono::milliseconds delay, std::stop_token stop) {
  std::unique_lock lock(stop_mutex_);
  stop_cv_.wait_for(lock, stop, delay, [] { return false; });
}

void Informer::run(std::stop_token stop) {
  thread_local std::mt19937 random(std::random_device{}());
  bool need_list = true;
  int failures = 0;
  while (!stop.stop_requested()) {
    try {
      if (need_list) {
        relist(stop);
        need_list = false;
      }
      watch_once(stop);
      failures = 0;
      continue;  // the server ended the watch normally: resume at once
    } catch (const ApiError& error) {
      if (stop.stop_requested()) break;
      std::lock_guard lock(mutex_);
      if (error.is_gone()) {
        // Our resourceVersion is older than the server keeps: start over from a fresh list.
        ++stats_.gone;
        need_list = true;
        spdlog::debug("informer {}: resourceVersion expired, relisting", kind_.resource_name());
        continue;
      }
      ++stats_.errors;
      spdlog::warn("informer {}: {}", kind_.resource_name(), error.what());
    } catch (const std::exception& error) {
      std::lock_guard lock(mutex_);
      ++stats_.errors;
      spdlog::warn("informer {}: {}", kind_.resource_name(), error.what());
    }
    if (stop.stop_requested()) break;
    // Exponential backoff with full jitter before reconnecting.
    auto cap = std::min<long long>(options_.backoff_max.count(),
                                   options_.backoff_initial.count() << std::min(failures, 20));
    ++failures;
    std::uniform_int_distribution<long long> jitter(0, std::max<long long>(cap, 1));
    sleep_for(std::chrono::milliseconds(jitter(random)), stop);
  }
}

void Informer::relist(std::stop_token stop) {
  ListOptions options;
  options.label_selector = options_.label_selector;
  options.field_selector = options_.field_selector;
  options.limit = options_.list_page_size;
  auto listed = client_.list_all(kind_, options_.namespace_name, options);
  if (stop.stop_requested()) return;

  std::unordered_map<std::string, ObjectPtr> fresh;
  fresh.reserve(listed.items.size());
  for (auto& item : listed.items) {
    auto key = key_of(item);
    fresh.emplace(std::move(key), std::make_shared<const json>(std::move(item)));
  }
  std::vector<ObjectPtr> added;
  std::vector<std::pair<ObjectPtr, ObjectPtr>> updated;
  std::vector<ObjectPtr> deleted;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [key, object] : fresh) {
      auto it = cache_.find(key);
      if (it == cache_.end()) {
        added.push_back(object);
      } else if (resource_version_of(*it->second) != resource_version_of(*object)) {
        updated.emplace_back(it->second, object);
      }
    }
    for (const auto& [key, object] : cache_) {
      if (!fresh.contains(key)) deleted.push_back(object);
    }
    cache_ = std::move(fresh);
    label_index_.clear();
    for (const auto& [key, object] : cache_) index_object(key, object, true);
    resource_version_ = listed.resource_version;
    ++stats_.lists;
  }
  for (const auto& handlers : handlers_) {
    for (const auto& object : deleted) {
      if (handlers.on_delete) handlers.on_delete(object);
    }
    for (const auto& [old_object, new_object] : updated) {
      if (handlers.on_update) handlers.on_update(old_object, new_object);
    }
    for (const auto& object : added) {
      if (handlers.on_add) handlers.on_add(object);
    }
  }
  {
    std::lock_guard lock(mutex_);
    synced_ = true;
  }
  synced_cv_.notify_all();
}

void Informer::watch_once(std::stop_token stop) {
  thread_local std::mt19937 random(std::random_device{}());
  auto base = options_.watch_timeout.count();
  std::uniform_int_distribution<long long> spread(base, 2 * base);
  ListOptions options;
  options.label_selector = options_.label_selector;
  options.field_selector = options_.field_selector;
  options.resource_version = last_resource_version();
  options.timeout_seconds = static_cast<int>(spread(random));
  options.allow_watch_bookmarks = true;
  {
    std::lock_guard lock(mutex_);
    ++stats_.watches;
  }
  client_.watch(
      kind_, options_.namespace_name, options,
      [this](const WatchEvent& event) {
        apply(event.type, event.object);
        return true;
      },
      stop);
}

void Informer::apply(const std::string& type, json object) {
  std::string version = resource_version_of(object);
  if (type == "BOOKMARK") {
    std::lock_guard lock(mutex_);
    if (!version.empty()) resource_version_ = version;
    return;
  }
  auto key = key_of(object);
  auto fresh = std::make_shared<const json>(std::move(object));
  ObjectPtr previous;
  {
    std::lock_guard lock(mutex_);
    if (!version.empty()) resource_version_ = version;
    ++stats_.events;
    auto it = cache_.find(key);
    if (it != cache_.end()) {
      previous = it->second;
      index_object(key, previous, false);
    }
    if (type == "DELETED") {
      cache_.erase(key);
    } else {
      cache_[key] = fresh;
      index_object(key, fresh, true);
    }
  }
  for (const auto& handlers : handlers_) {
    if (type == "DELETED") {
      if (handlers.on_delete) handlers.on_delete(fresh);
    } else if (previous) {
      if (handlers.on_update) handlers.on_update(previous, fresh);
    } else if (handlers.on_add) {
      handlers.on_add(fresh);
    }
  }
}

}  // namespace kubetrain

#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "operator/kube/api_call_counter.h"
#include "operator/kube/api_error.h"
#include "operator/kube/kube_config.h"
#include "operator/kube/resource_kind.h"

namespace kubetrain {

struct ClientOptions {
  // Client-side rate limit over every request of this client (token bucket); qps <= 0 disables it.
  double qps = 50;
  int burst = 100;
  std::chrono::milliseconds connect_timeout{5000};
  // Whole-request timeout for non-watch calls (watches use timeoutSeconds instead).
  std::chrono::milliseconds request_timeout{30000};
  // Retries of transient failures (429 for every verb; 5xx and connection errors for get, list,
  // update and delete): at most this many, with exponential backoff from `retry_base_delay`
  // (doubling, capped at `retry_max_delay`, with jitter) or the server's Retry-After when given.
  int max_retries = 5;
  std::chrono::milliseconds retry_base_delay{100};
  std::chrono::milliseconds retry_max_delay{5000};
  std::string user_agent = "kubetrain-operator";
  // Called after every attempt (also failed and retried ones), from the calling thread.
  RequestObserver observer;
};

// Options of list and watch calls (the API's query parameters; empty/zero means "not sent").
struct ListOptions {
  std::string label_selector;
  std::string field_selector;   // e.g. "metadata.name=foo"
  std::string resource_version;  // list: "0" = any cached version; watch: start after this one
  int limit = 0;                 // list page size
  std::string continue_token;    // list: the previous page's metadata.continue
  int timeout_seconds = 0;       // watch: the server ends the watch after this long
  bool allow_watch_bookmarks = true;  // watch: ask for BOOKMARK events
};

struct ListResult {
  std::vector<nlohmann::json> items;
  std::string resource_version;  // the list's metadata.resourceVersion: where a watch resumes
  std::string continue_token;    // non-empty when more pages remain
};

// One watch event. `type` is ADDED, MODIFIED, DELETED or BOOKMARK (ERROR events are turned into
// an ApiError thrown from watch()). BOOKMARK objects only carry metadata.resourceVersion.
struct WatchEvent {
  std::string type;
  nlohmann::json object;
};

struct DeleteOptions {
  std::string propagation_policy;  // "Background", "Foreground", "Orphan" or empty (server default)
  std::string precondition_uid;    // delete only if the object still has this uid
  std::string precondition_resource_version;
  std::optional<int> grace_period_seconds;
};

// A Kubernetes REST client for any ResourceKind, on libcurl with JSON in and out.
// Thread-safe: calls borrow curl handles from a pool (keep-alive connections reused across calls
// and threads, closed with the client), and all threads
// share the rate limiter. Every failure is an ApiError (code 0 when no response arrived).
class KubeClient {
 public:
  explicit KubeClient(KubeConfig config, ClientOptions options = {});
  ~KubeClient();
  KubeClient(const KubeClient&) = delete;
  KubeClient& operator=(const KubeClient&) = delete;

  const KubeConfig& config() const;
  // The config's namespace: the default for callers that were given none.
  const std::string& default_namespace() const;

  // GET one object. For cluster-scoped kinds `ns` is ignored.
  nlohmann::json get(const ResourceKind& kind, std::string_view ns, std::string_view name);
  // One page (or all of it when options.limit is 0). `ns` empty: across all namespaces.
  ListResult list(const ResourceKind& kind, std::string_view ns, const ListOptions& options = {});
  // Every page, following continue tokens; resource_version is the first page's.
  ListResult list_all(const ResourceKind& kind, std::string_view ns, ListOptions options = {});

  // POST: apiVersion and kind are filled in when missing; the namespace comes from `ns`
  // (or metadata.namespace when `ns` is empty). Returns the created object.
  nlohmann::json create(const ResourceKind& kind, std::string_view ns, nlohmann::json object);
  // PUT the whole object (metadata.name and, for optimistic concurrency,
  // metadata.resourceVersion: a stale one fails with is_conflict()).
  nlohmann::json update(const ResourceKind& kind, std::string_view ns, const nlohmann::json& object);
  // PATCH with application/merge-patch+json (RFC 7386).
  nlohmann::json merge_patch(const ResourceKind& kind, std::string_view ns, std::string_view name,
                             const nlohmann::json& patch);
  // PUT to the /status subresource (only status changes; resourceVersion checked as in update).
  nlohmann::json update_status(const ResourceKind& kind, std::string_view ns,
                               const nlohmann::json& object);
  // Merge patch of the /status subresource, e.g. {"status": {...}}.
  nlohmann::json patch_status(const ResourceKind& kind, std::string_view ns, std::string_view name,
                              const nlohmann::json& patch);
  // DELETE; returns the response body (the object being deleted, or a Status).
  nlohmann::json remove(const ResourceKind& kind, std::string_view ns, std::string_view name,
                        const DeleteOptions& options = {});

  // Streams watch events to `on_event` until the server closes the watch (normal return),
  // `on_event` returns false, or `stop` is requested (noticed within about a second).
  // Throws ApiError for HTTP errors and for ERROR events (410 Gone when resource_version is too
  // old), code 0 for a broken connection. Watches are not retried here: the Informer resumes them.
  void watch(const ResourceKind& kind, std::string_view ns, const ListOptions& options,
             const std::function<bool(const WatchEvent&)>& on_event, std::stop_token stop = {});

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kubetrain

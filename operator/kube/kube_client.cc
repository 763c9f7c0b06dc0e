#include "operator/kube/kube_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <random>
#include <thread>
#include <mutex>

#include "operator/kube/bearer_token.h"
#include "operator/kube/token_bucket.h"

namespace kubetrain {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

struct CurlGlobal {
  CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

struct Transfer {
  std::string body;
  std::optional<std::chrono::milliseconds> retry_after;
  // Watches: called with each complete line while the response is 200.
  std::function<bool(std::string_view)> on_line;
  std::string pending;
  CURL* handle = nullptr;
  std::stop_token stop;
  bool cancelled = false;
};

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  std::string_view line(data, size * count);
  constexpr std::string_view kRetryAfter = "retry-after:";
  if (line.size() > kRetryAfter.size()) {
    std::string lower(line.substr(0, kRetryAfter.size()));
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    if (lower == kRetryAfter) {
      try {
        transfer->retry_after =
            std::chrono::seconds(std::stol(std::string(line.substr(kRetryAfter.size()))));
      } catch (const std::exception&) {
        // An HTTP date instead of seconds: fall back to the client's own backoff.
      }
    }
  }
  return size * count;
}

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  std::string_view chunk(data, size * count);
  long code = 0;
  curl_easy_getinfo(transfer->handle, CURLINFO_RESPONSE_CODE, &code);
  if (!transfer->on_line || code != 200) {
    transfer->body.append(chunk);
    return chunk.size();
  }
  transfer->pending.append(chunk);
  std::size_t start = 0;
  while (true) {
    auto newline = transfer->pending.find('\n', start);
    if (newline == std::string::npos) break;
    std::string_view line(transfer->pending.data() + start, newline - start);
    start = newline + 1;
    if (line.empty()) continue;
    if (!transfer->on_line(line)) {
      transfer->cancelled = true;
      return 0;  // aborts the transfer
    }
  }
  transfer->pending.erase(0, start);
  return chunk.size();
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* transfer = static_cast<Transfer*>(user);
  if (transfer->stop.stop_requested()) {
    transfer->cancelled = true;
    return 1;
  }
  return 0;
}

std::string escape(const std::string& value) {
  char* escaped = curl_easy_escape(nullptr, value.c_str(), static_cast<int>(value.size()));
  std::string result = escaped ? escaped : "";
  curl_free(escaped);
  return result;
}

std::string query_string(const ListOptions& options, bool watch) {
  std::vector<std::pair<std::string, std::string>> params;
  if (watch) params.emplace_back("watch", "true");
  if (!options.label_selector.empty()) params.emplace_back("labelSelector", options.label_selector);
  if (!options.field_selector.empty()) params.emplace_back("fieldSelector", options.field_selector);
  if (!options.resource_version.empty()) {
    params.emplace_back("resourceVersion", options.resource_version);
  }
  if (!watch && options.limit > 0) params.emplace_back("limit", std::to_string(options.limit));
  if (!watch && !options.continue_token.empty()) {
    params.emplace_back("continue", options.continue_token);
  }
  if (watch && options.timeout_seconds > 0) {
    params.emplace_back("timeoutSeconds", std::to_string(options.timeout_seconds));
  }
  if (watch && options.allow_watch_bookmarks) params.emplace_back("allowWatchBookmarks", "true");
  std::string query;
  for (const auto& [key, value] : params) {
    query += query.empty() ? '?' : '&';
    query += key + "=" + escape(value);
  }
  return query;
}

struct Request {
  std::string verb;      // audit verb, for errors and metrics
  std::string resource;  // for metrics
  std::string method;
  std::string path;      // path and query
  std::string body;
  std::string content_type = "application/json";
  bool retry_server_errors = false;  // idempotent: 5xx and connection errors may be retried
};

}  // namespace

struct KubeClient::Impl {
  Impl(KubeConfig config_in, ClientOptions options_in)
      : config(std::move(config_in)),
        options(std::move(options_in)),
        limiter(options.qps, options.burst),
        token(config.token, config.token_file) {
    static CurlGlobal global;
    while (config.server.ends_with('/')) config.server.pop_back();
    if (config.server.empty()) throw std::invalid_argument("KubeConfig.server is empty");
  }

  // Sets up the handle for one attempt; returns the header list to free afterwards.
  curl_slist* prepare(CURL* handle, const Request& request, Transfer& transfer, bool watch) {
    std::string bearer = token.current();  // may throw: before anything is allocated
    std::string url = config.server + request.path;
    curl_easy_setopt(handle, CURLOPT_URL, url.c_str());
    curl_easy_setopt(handle, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    if (!request.body.empty() || request.method == "POST" || request.method == "PUT" ||
        request.method == "PATCH") {
      curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(request.body.size()));
      curl_easy_setopt(handle, CURLOPT_COPYPOSTFIELDS, request.body.c_str());
      curl_easy_setopt(handle, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    }
    curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(handle, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(handle, CURLOPT_USERAGENT, options.user_agent.c_str());
    curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(options.connect_timeout.count()));
    if (!watch) {
      curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS,
                       static_cast<long>(options.request_timeout.count()));
    }
    apply_tls(handle);

    curl_slist* headers = nullptr;
    headers = curl_slist_append(headers, "Accept: application/json");
    if (!request.body.empty()) {
      headers = curl_slist_append(headers, ("Content-Type: " + request.content_type).c_str());
    }
    if (!bearer.empty()) {
      headers = curl_slist_append(headers, ("Authorization: Bearer " + bearer).c_str());
    }
    headers = curl_slist_append(headers, "Expect:");
    curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers);

    transfer.handle = handle;
    curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(handle, CURLOPT_HEADERDATA, &transfer);
    curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(handle, CURLOPT_WRITEDATA, &transfer);
    curl_easy_setopt(handle, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(handle, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(handle, CURLOPT_XFERINFODATA, &transfer);
    return headers;
  }

  // TLS is verified against the configured CA (or the system store) unless explicitly disabled.
  void apply_tls(CURL* handle) {
    if (!config.server.starts_with("https://")) return;
    long verify = config.insecure_skip_tls_verify ? 0L : 1L;
    curl_easy_setopt(handle, CURLOPT_SSL_VERIFYPEER, verify);
    curl_easy_setopt(handle, CURLOPT_SSL_VERIFYHOST, verify ? 2L : 0L);
    if (!config.ca_data.empty()) {
      curl_blob blob{config.ca_data.data(), config.ca_data.size(), CURL_BLOB_NOCOPY};
      curl_easy_setopt(handle, CURLOPT_CAINFO_BLOB, &blob);
    } else if (!config.ca_file.empty()) {
      curl_easy_setopt(handle, CURLOPT_CAINFO, config.ca_file.c_str());
    }
    if (!config.client_cert_data.empty()) {
      curl_blob cert{config.client_cert_data.data(), config.client_cert_data.size(),
                     CURL_BLOB_NOCOPY};
      curl_blob key{config.client_key_data.data(), config.client_key_data.size(),
                    CURL_BLOB_NOCOPY};
      curl_easy_setopt(handle, CURLOPT_SSLCERT_BLOB, &cert);
      curl_easy_setopt(handle, CURLOPT_SSLCERTTYPE, "PEM");
      curl_easy_setopt(handle, CURLOPT_SSLKEY_BLOB, &key);
      curl_easy_setopt(handle, CURLOPT_SSLKEYTYPE, "PEM");
    } else if (!config.client_cert_file.empty()) {
      curl_easy_setopt(handle, CURLOPT_SSLCERT, config.client_cert_file.c_str());
      curl_easy_setopt(handle, CURLOPT_SSLKEY, config.client_key_file.c_str());
    }
  }

  void report(const Request& request, long code, Clock::time_point started) {
    if (!options.observer) return;
    options.observer({request.verb, request.resource, static_cast<int>(code),
                      Clock::now() - started});
  }

  // One attempt: returns the HTTP code (0: no response) and fills `transfer`.
  long attempt(const Request& request, Transfer& transfer, bool watch, std::string& curl_error) {
    limiter.acquire();
    CURL* handle = borrow_handle();
    auto started = Clock::now();
    long code = 0;
    CURLcode result = CURLE_OK;
    try {
      curl_slist* headers = prepare(handle, request, transfer, watch);
      result = curl_easy_perform(handle);
      curl_slist_free_all(headers);
    } catch (...) {
      return_handle(handle);
      throw;
    }
    if (result == CURLE_OK || transfer.cancelled) {
      curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &code);
    } else {
      curl_error = curl_easy_strerror(result);
    }
    return_handle(handle);
    report(request, code, started);
    return code;
  }

  std::chrono::milliseconds backoff(int retry) {
    thread_local std::mt19937 random(std::random_device{}());
    auto cap = std::min<long long>(options.retry_max_delay.count(),
                                   options.retry_base_delay.count() << std::min(retry, 20));
    std::uniform_int_distribution<long long> jitter(cap / 2, std::max<long long>(cap, 1));
    return std::chrono::milliseconds(jitter(random));
  }

  json call(const Request& request) {
    for (int retry = 0;; ++retry) {
      Transfer transfer;
      std::string curl_error;
      long code = attempt(request, transfer, false, curl_error);
      if (code >= 200 && code < 300) {
        if (transfer.body.empty()) return json::object();
        auto parsed = json::parse(transfer.body, nullptr, false);
        if (parsed.is_discarded()) {
          throw ApiError(static_cast<int>(code), "", "response is not JSON", request.verb,
                         request.path);
        }
        return parsed;
      }
      ApiError error = code == 0 ? ApiError(0, "", curl_error, request.verb, request.path)
                                 : ApiError::from_response(static_cast<int>(code), transfer.body,
                                                           request.verb, request.path,
                                                           transfer.retry_after);
      bool retryable = error.is_too_many_requests() ||
                       (request.retry_server_errors &&
                        (error.is_server_error() || error.is_connection_error()));
      if (!retryable || retry >= options.max_retries) throw error;
      auto delay = error.retry_after().value_or(backoff(retry));
      std::this_thread::sleep_for(std::min(delay, options.retry_max_delay));
    }
  }

  // Idle curl handles: each call borrows one, so connections are kept alive and reused across
  // calls and threads; the handles (and their connections) close with the client.
  CURL* borrow_handle() {
    {
      std::lock_guard lock(pool_mutex);
      if (!idle.empty()) {
        CURL* handle = idle.back();
        idle.pop_back();
        curl_easy_reset(handle);  // keeps the handle's connection cache
        return handle;
      }
    }
    CURL* handle = curl_easy_init();
    if (handle == nullptr) throw ApiError(0, "", "curl_easy_init failed");
    return handle;
  }

  void return_handle(CURL* handle) {
    std::lock_guard lock(pool_mutex);
    idle.push_back(handle);
  }

  ~Impl() {
    for (CURL* handle : idle) curl_easy_cleanup(handle);
  }

  KubeConfig config;
  ClientOptions options;
  TokenBucket limiter;
  BearerToken token;
  std::mutex pool_mutex;
  std::vector<CURL*> idle;
};

KubeClient::KubeClient(KubeConfig config, ClientOptions options)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(options))) {}

KubeClient::~KubeClient() = default;

const KubeConfig& KubeClient::config() const { return impl_->config; }

const std::string& KubeClient::default_namespace() const { return impl_->config.namespace_name; }

json KubeClient::get(const ResourceKind& kind, std::string_view ns, std::string_view name) {
  return impl_->call({"get", kind.resource_name(), "GET", kind.object_path(ns, name), "",
                      "application/json", true});
}

ListResult KubeClient::list(const ResourceKind& kind, std::string_view ns,
                            const ListOptions& options) {
  auto body = impl_->call({"list", kind.resource_name(), "GET",
                           kind.collection_path(ns) + query_string(options, false), "",
                           "application/json", true});
  ListResult result;
  if (body.contains("items") && body["items"].is_array()) {
    result.items.reserve(body["items"].size());
    for (auto& item : body["items"]) {
      // Items of a list carry no apiVersion/kind; fill them in so objects look as from get().
      if (!item.contains("apiVersion")) item["apiVersion"] = kind.api_version();
      if (!item.contains("kind")) item["kind"] = kind.kind;
      result.items.push_back(std::move(item));
    }
  }
  if (body.contains("metadata")) {
    result.resource_version = body["metadata"].value("resourceVersion", "");
    result.continue_token = body["metadata"].value("continue", "");
  }
  return result;
}

ListResult KubeClient::list_all(const ResourceKind& kind, std::string_view ns,
                                ListOptions options) {
  ListResult all;
  bool first = true;
  do {
    auto page = list(kind, ns, options);
    if (first) all.resource_version = page.resource_version;
    first = false;
    for (auto& item : page.items) all.items.push_back(std::move(item));
    options.continue_token = page.continue_token;
    // A continued list must not repeat the resourceVersion (the token carries it).
    options.resource_version.clear();
  } while (!options.continue_token.empty());
  return all;
}

namespace {

std::string namespace_of(std::string_view ns, const json& object) {
  if (!ns.empty()) return std::string(ns);
  if (object.contains("metadata")) return object["metadata"].value("namespace", "");
  return "";
}

std::string name_of(const json& object, const char* verb) {
  std::string name;
  if (object.contains("metadata")) name = object["metadata"].value("name", "");
  if (name.empty()) {
    throw std::invalid_argument(std::string(verb) + ": the object has no metadata.name");
  }
  return name;
}

}  // namespace

json KubeClient::create(const ResourceKind& kind, std::string_view ns, json object) {
  if (!object.contains("apiVersion")) object["apiVersion"] = kind.api_version();
  if (!object.contains("kind")) object["kind"] = kind.kind;
  auto target_ns = namespace_of(ns, object);
  return impl_->call({"create", kind.resource_name(), "POST", kind.collection_path(target_ns),
                      object.dump(), "application/json", false});
}

json KubeClient::update(const ResourceKind& kind, std::string_view ns, const json& object) {
  auto path = kind.object_path(namespace_of(ns, object), name_of(object, "update"));
  return impl_->call(
      {"update", kind.resource_name(), "PUT", path, object.dump(), "application/json", true});
}

json KubeClient::merge_patch(const ResourceKind& kind, std::string_view ns, std::string_view name,
                             const json& patch) {
  return impl_->call({"patch", kind.resource_name(), "PATCH", kind.object_path(ns, name),
                      patch.dump(), "application/merge-patch+json", false});
}

json KubeClient::update_status(const ResourceKind& kind, std::string_view ns, const json& object) {
  auto path = kind.object_path(namespace_of(ns, object), name_of(object, "update_status"));
  return impl_->call({"update", kind.resource_name() + "/status", "PUT", path + "/status",
                      object.dump(), "application/json", true});
}

json KubeClient::patch_status(const ResourceKind& kind, std::string_view ns, std::string_view name,
                              const json& patch) {
  return impl_->call({"patch", kind.resource_name() + "/status", "PATCH",
                      kind.object_path(ns, name) + "/status", patch.dump(),
                      "application/merge-patch+json", false});
}

json KubeClient::remove(const ResourceKind& kind, std::string_view ns, std::string_view name,
                        const DeleteOptions& options) {
  json body = json::object();
  if (!options.propagation_policy.empty()) body["propagationPolicy"] = options.propagation_policy;
  if (!options.precondition_uid.empty()) body["preconditions"]["uid"] = options.precondition_uid;
  if (!options.precondition_resource_version.empty()) {
    body["preconditions"]["resourceVersion"] = options.precondition_resource_version;
  }
  if (options.grace_period_seconds) body["gracePeriodSeconds"] = *options.grace_period_seconds;
  if (!body.empty()) {
    body["kind"] = "DeleteOptions";
    body["apiVersion"] = "v1";
  }
  return impl_->call({"delete", kind.resource_name(), "DELETE", kind.object_path(ns, name),
                      body.empty() ? std::string() : body.dump(), "application/json", true});
}

void KubeClient::watch(const ResourceKind& kind, std::string_view ns, const ListOptions& options,
                       const std::function<bool(const WatchEvent&)>& on_event,
                       std::stop_token stop) {
  Request request{"watch", kind.resource_name(), "GET",
                  kind.collection_path(ns) + query_string(options, true), "", "application/json",
                  false};
  Transfer transfer;
  transfer.stop = stop;
  std::optional<ApiError> event_error;
  transfer.on_line = [&](std::string_view line) {
    auto event = json::parse(line, nullptr, false);
    if (event.is_discarded() || !event.is_object()) {
      event_error = ApiError(500, "", "malformed watch event", request.verb, request.path);
      return false;
    }
    std::string type = event.value("type", "");
    if (type == "ERROR") {
      event_error = ApiError::from_status(event["object"], request.verb, request.path);
      return false;
    }
    WatchEvent watch_event{std::move(type), std::move(event["object"])};
    if (watch_event.type != "BOOKMARK") {
      if (!watch_event.object.contains("apiVersion")) {
        watch_event.object["apiVersion"] = kind.api_version();
      }
      if (!watch_event.object.contains("kind")) watch_event.object["kind"] = kind.kind;
    }
    return on_event(watch_event);
  };
  std::string curl_error;
  long code = impl_->attempt(request, transfer, true, curl_error);
  if (event_error) throw *event_error;
  if (transfer.cancelled) return;  // the handler or `stop` ended it
  if (code == 0) throw ApiError(0, "", curl_error, request.verb, request.path);
  if (code != 200) {
    throw ApiError::from_response(static_cast<int>(code), transfer.body, request.verb,
                                  request.path, transfer.retry_after);
  }
}

}  // namespace kubetrain

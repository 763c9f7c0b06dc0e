#include "tests/fakeapi/fake_api_server.h"

#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <random>
#include <stdexcept>
#include <thread>

#include "operator/kube/label_selector.h"
#include "tests/fakeapi/discovery_routes.h"
#include "tests/fakeapi/field_selector.h"
#include "tests/fakeapi/object_store.h"
#include "tests/fakeapi/resource_path.h"
#include "tests/fakeapi/table.h"

namespace kubetrain::fakeapi {
namespace {

// A boolean query parameter as kube-apiserver reads it (Go's strconv.ParseBool): clients send
// "true", "1" or, like the Python client, "True".
bool query_bool(const std::string& value) {
  return value == "1" || value == "t" || value == "T" || value == "true" || value == "True" || value == "TRUE";
}

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr char kJson[] = "application/json";
constexpr char kWatchJson[] = "application/json;stream=watch";

void send_status(httplib::Response& res, const StatusError& error) {
  res.status = error.code();
  res.set_content(error.to_status().dump(), kJson);
}

// The DeleteOptions of a DELETE: its body, or where it has none its query parameters, as
// kube-apiserver reads them.
json delete_options(const httplib::Request& req, const json& body) {
  if (!body.is_null()) return body;
  json options = json::object();
  if (req.has_param("gracePeriodSeconds")) {
    auto text = req.get_param_value("gracePeriodSeconds");
    try {
      std::size_t used = 0;
      options["gracePeriodSeconds"] = std::stoll(text, &used);
      if (used != text.size()) throw std::invalid_argument(text);
    } catch (const std::exception&) {
      throw StatusError(400, "BadRequest", "invalid gracePeriodSeconds \"" + text + "\"");
    }
  }
  if (req.has_param("propagationPolicy")) {
    options["propagationPolicy"] = req.get_param_value("propagationPolicy");
  }
  if (req.has_param("orphanDependents")) {
    options["orphanDependents"] = query_bool(req.get_param_value("orphanDependents"));
  }
  return options.empty() ? json() : options;
}

std::string watch_line(const std::string& type, const json& object) {
  std::string line = R"({"type":")" + type + R"(","object":)";
  line += object.dump();
  line += "}\n";
  return line;
}

// What a watch request asked for, and how far it got.
struct WatchState {
  ResourcePath path;
  bool cluster_scoped = false;
  ResourceInfo resource;
  std::optional<TableRequest> table;  // events carry one-row Tables instead of objects
  LabelSelector labels;
  FieldSelector fields;
  std::uint64_t after = 0;
  bool send_initial = false;
  bool bookmarks = false;
  Clock::time_point deadline;
  Clock::time_point last_bookmark;
  int sent = 0;
  int drop_every = 0;

  bool matches(const json& object) const {
    if (!path.namespace_name.empty() && !cluster_scoped &&
        object["metadata"].value("namespace", "") != path.namespace_name) {
      return false;
    }
    return labels.matches_object(object) && fields.matches(object);
  }

  // What an event carries for `object`: itself, or the one-row Table that was asked for.
  std::string line(const std::string& type, const json& object) const {
    if (!table) return watch_line(type, object);
    json metadata = {{"resourceVersion", object["metadata"].value("resourceVersion", "")}};
    return watch_line(type, table->render(resource, path.version, {object}, std::move(metadata)));
  }
};

}  // namespace

FaultConfig FaultConfig::from_json(const json& config) {
  if (!config.is_object()) throw std::invalid_argument("faults: expected a JSON object");
  FaultConfig faults;
  for (const auto& [key, value] : config.items()) {
    if (key == "errorRate") {
      faults.error_rate = value.get<double>();
      if (faults.error_rate < 0 || faults.error_rate > 1) {
        throw std::invalid_argument("faults.errorRate must be within [0, 1]");
      }
    } else if (key == "codes") {
      faults.codes = value.get<std::vector<int>>();
      if (faults.codes.empty()) throw std::invalid_argument("faults.codes must not be empty");
    } else if (key == "dropWatchEvery") {
      faults.drop_watch_every = value.get<int>();
    } else if (key == "latencyMs") {
      faults.latency_ms = value.get<int>();
    } else if (key == "retryAfterSeconds") {
      faults.retry_after_seconds = value.get<int>();
    } else if (key == "verbs") {
      faults.verbs = value.get<std::vector<std::string>>();
    } else {
      throw std::invalid_argument("faults: unknown key '" + key +
                                  "' (errorRate, codes, dropWatchEvery, latencyMs, "
                                  "retryAfterSeconds, verbs)");
    }
  }
  return faults;
}

json FaultConfig::to_json() const {
  return {{"errorRate", error_rate},
          {"codes", codes},
          {"dropWatchEvery", drop_watch_every},
          {"latencyMs", latency_ms},
          {"retryAfterSeconds", retry_after_seconds},
          {"verbs", verbs}};
}

struct FakeApiServer::Impl {
  explicit Impl(FakeApiServerOptions options_in)
      : options(std::move(options_in)), store(options.event_window), faults(options.faults) {
    server.new_task_queue = [threads = options.threads] {
      return new httplib::ThreadPool(static_cast<std::size_t>(threads));
    };
    server.set_tcp_nodelay(true);
    server.set_keep_alive_max_count(1000000);
    server.set_keep_alive_timeout(10);
    server.set_payload_max_length(64 << 20);
    routes();
  }

  void routes() {
    server.Post("/fake/faults", [this](const httplib::Request& req, httplib::Response& res) {
      try {
        set_faults(FaultConfig::from_json(json::parse(req.body)));
        res.set_content(current_faults().to_json().dump(), kJson);
      } catch (const std::exception& error) {
        send_status(res, StatusError(400, "BadRequest", error.what()));
      }
    });
    server.Get("/fake/faults", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(current_faults().to_json().dump(), kJson);
    });
    server.Get("/fake/requests", [this](const httplib::Request& req, httplib::Response& res) {
      json log = json::array();
      for (const auto& record : requests()) {
        log.push_back({{"verb", record.verb},
                       {"path", record.path},
                       {"resource", record.resource},
                       {"namespace", record.namespace_name},
                       {"code", record.code}});
      }
      if (req.get_param_value("clear") == "1") clear_requests();
      res.set_content(log.dump(), kJson);
    });
    server.Delete("/fake/requests", [this](const httplib::Request&, httplib::Response& res) {
      clear_requests();
      res.set_content("{}", kJson);
    });
    server.Post("/fake/compact", [this](const httplib::Request&, httplib::Response& res) {
      store.compact();
      res.set_content("{}", kJson);
    });
    server.Get("/fake/healthz", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("ok", "text/plain");
    });
    server.Get("/version", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(R"({"major":"1","minor":"30","gitVersion":"v1.30.0-kubetrain-fake"})",
                      kJson);
    });
    // Before the resource routes, which would match these paths too.
    serve_discovery(server, store.catalog(), [this] { return port; });
    auto api = [this](const char* method) {
      return [this, method](const httplib::Request& req, httplib::Response& res) {
        handle(method, req, res);
      };
    };
    for (const char* pattern : {R"(/api/.*)", R"(/apis/.*)"}) {
      server.Get(pattern, api("GET"));
      server.Post(pattern, api("POST"));
      server.Put(pattern, api("PUT"));
      server.Patch(pattern, api("PATCH"));
      server.Delete(pattern, api("DELETE"));
    }
  }

  FaultConfig current_faults() {
    std::lock_guard lock(faults_mutex);
    return faults;
  }

  void set_faults(const FaultConfig& config) {
    std::lock_guard lock(faults_mutex);
    faults = config;
  }

  std::vector<RequestRecord> requests() {
    std::lock_guard lock(log_mutex);
    return log;
  }

  void clear_requests() {
    std::lock_guard lock(log_mutex);
    log.clear();
  }

  void log_request(std::string verb, const std::string& path, const ResourcePath* resource,
                   int code) {
    if (!options.log_requests) return;
    RequestRecord record{std::move(verb), path, "", "", code};
    if (resource != nullptr) {
      record.resource = resource->resource();
      if (!resource->subresource.empty()) record.resource += "/" + resource->subresource;
      record.namespace_name = resource->namespace_name;
    }
    std::lock_guard lock(log_mutex);
    log.push_back(std::move(record));
  }

  // Applies latency and maybe answers with an injected error; returns whether it did.
  bool inject_fault(const std::string& verb, httplib::Response& res) {
    FaultConfig config = current_faults();
    if (config.latency_ms > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(config.latency_ms));
    }
    if (config.error_rate <= 0) return false;
    if (!config.verbs.empty() &&
        std::find(config.verbs.begin(), config.verbs.end(), verb) == config.verbs.end()) {
      return false;
    }
    thread_local std::mt19937 random(std::random_device{}());
    if (std::uniform_real_distribution<double>(0, 1)(random) >= config.error_rate) return false;
    int code = config.codes[std::uniform_int_distribution<std::size_t>(
        0, config.codes.size() - 1)(random)];
    std::string reason = code == 409   ? "Conflict"
                         : code == 429 ? "TooManyRequests"
                         : code == 503 ? "ServiceUnavailable"
                         : code >= 500 ? "InternalError"
                                       : "BadRequest";
    if (code == 429) res.set_header("Retry-After", std::to_string(config.retry_after_seconds));
    send_status(res, StatusError(code, reason, "injected fault"));
    return true;
  }

  static std::string verb_of(const std::string& method, const ResourcePath& path,
                             const httplib::Request& req) {
    if (method == "GET") {
      if (!path.name.empty()) return "get";
      auto watch = req.get_param_value("watch");
      return query_bool(watch) ? "watch" : "list";
    }
    if (method == "POST") return "create";
    if (method == "PUT") return "update";
    if (method == "PATCH") return "patch";
    return path.name.empty() ? "deletecollection" : "delete";
  }

  void handle(const char* method, const httplib::Request& req, httplib::Response& res) {
    auto path = parse_resource_path(req.path);
    if (!path) {
      send_status(res, StatusError(404, "NotFound", kNoSuchResource));
      log_request(method, req.path, nullptr, res.status);
      return;
    }
    std::string verb = verb_of(method, *path, req);
    if (inject_fault(verb, res)) {
      log_request(verb, req.path, &*path, res.status);
      return;
    }
    try {
      const std::string& subresource = path->subresource;
      bool binding = subresource == "binding" && path->resource() == "pods" && verb == "create";
      if (!subresource.empty() && subresource != "status" && !binding) {
        throw StatusError(404, "NotFound", "subresource " + subresource + " not served");
      }
      if (subresource == "status" && !store.catalog().has_status_subresource(path->resource())) {
        throw StatusError(404, "NotFound", path->resource() + " has no status subresource");
      }
      json body;
      if (!req.body.empty()) {
        body = json::parse(req.body, nullptr, false);
        if (body.is_discarded()) throw StatusError(400, "BadRequest", "the body is not JSON");
      }
      auto table = verb == "get" || verb == "list" || verb == "watch"
                       ? TableRequest::from(req.get_header_value("Accept"),
                                            req.get_param_value("includeObject"))
                       : std::nullopt;
      json result;
      if (verb == "get") {
        result = store.get(*path);
        if (table) {
          json metadata = {{"resourceVersion", result["metadata"].value("resourceVersion", "")}};
          result = table->render(store.catalog().find(path->resource()), path->version,
                                 {result}, std::move(metadata));
        }
      } else if (verb == "list") {
        result = store.list(*path, selector(req), field_selector(req), limit(req),
                            req.get_param_value("continue"));
        if (table) {
          result = table->render(store.catalog().find(path->resource()), path->version,
                                 result["items"].get<std::vector<json>>(), result["metadata"]);
        }
      } else if (verb == "watch") {
        start_watch(*path, std::move(table), req, res);
        log_request(verb, req.path, &*path, 200);
        return;
      } else if (binding) {
        result = store.bind(*path, body);
        res.status = 201;
      } else if (verb == "create") {
        if (!path->name.empty()) throw StatusError(405, "MethodNotAllowed", "POST to an object");
        result = store.create(*path, std::move(body));
        res.status = 201;
      } else if (verb == "update") {
        result = store.update(*path, std::move(body));
      } else if (verb == "patch") {
        result = store.patch(*path, req.get_header_value("Content-Type"), body);
      } else if (verb == "delete") {
        result = store.remove(*path, delete_options(req, body));
      } else {
        throw StatusError(405, "MethodNotAllowed", "deletecollection is not served");
      }
      if (res.status == -1) res.status = 200;
      res.set_content(result.dump(), kJson);
    } catch (const StatusError& error) {
      send_status(res, error);
    } catch (const std::exception& error) {
      send_status(res, StatusError(400, "BadRequest", error.what()));
    }
    log_request(verb, req.path, &*path, res.status);
  }

  static LabelSelector selector(const httplib::Request& req) {
    try {
      return LabelSelector::parse(req.get_param_value("labelSelector"));
    } catch (const std::invalid_argument& error) {
      throw StatusError(400, "BadRequest", error.what());
    }
  }

  static FieldSelector field_selector(const httplib::Request& req) {
    try {
      return FieldSelector::parse(req.get_param_value("fieldSelector"));
    } catch (const std::invalid_argument& error) {
      throw StatusError(400, "BadRequest", error.what());
    }
  }

  static int limit(const httplib::Request& req) {
    auto text = req.get_param_value("limit");
    if (text.empty()) return 0;
    try {
      return std::stoi(text);
    } catch (const std::exception&) {
      throw StatusError(400, "BadRequest", "invalid limit \"" + text + "\"");
    }
  }

  void start_watch(const ResourcePath& path, std::optional<TableRequest> table,
                   const httplib::Request& req, httplib::Response& res) {
    auto state = std::make_shared<WatchState>();
    state->path = path;
    state->resource = store.catalog().find(path.resource());
    state->cluster_scoped = !state->resource.namespaced;
    state->table = std::move(table);
    state->labels = selector(req);
    state->fields = field_selector(req);
    auto version = req.get_param_value("resourceVersion");
    if (version.empty() || version == "0") {
      // No starting point: synthetic ADDED events for the current state, then changes.
      state->send_initial = true;
    } else {
      try {
        state->after = std::stoull(version);
      } catch (const std::exception&) {
        throw StatusError(400, "BadRequest", "invalid resourceVersion \"" + version + "\"");
      }
    }
    auto param = req.get_param_value("allowWatchBookmarks");
    state->bookmarks = query_bool(param);
    int timeout = 1800;
    if (auto text = req.get_param_value("timeoutSeconds"); !text.empty()) {
      timeout = std::max(1, std::atoi(text.c_str()));
    }
    auto now = Clock::now();
    state->deadline = now + std::chrono::seconds(timeout);
    state->last_bookmark = now;
    // The media type kube-apiserver's OpenAPI gives watches; unlike plain application/json,
    // httplib does not gzip it, which would hold events back in the compressor.
    res.set_chunked_content_provider(
        kWatchJson,
        [this, state](std::size_t, httplib::DataSink& sink) { return stream_watch(*state, sink); });
  }

  // Writes the next batch of a watch; false closes the connection.
  bool stream_watch(WatchState& state, httplib::DataSink& sink) {
    if (stopping) return false;
    state.drop_every = current_faults().drop_watch_every;  // faults may change mid-watch
    std::string out;
    auto finish = [&] {
      if (!out.empty() && !sink.write(out.data(), out.size())) return false;
      sink.done();
      return true;
    };
    std::string resource = state.path.resource();
    if (state.send_initial) {
      state.send_initial = false;
      for (const auto& object : store.current_objects(resource, state.after)) {
        if (state.matches(*object)) out += state.line("ADDED", *object);
      }
    } else {
      auto now = Clock::now();
      if (now >= state.deadline) return finish();
      auto wait = std::min<Clock::duration>(std::chrono::milliseconds(250), state.deadline - now);
      std::vector<StoredEvent> events;
      try {
        events = store.wait_events(resource, state.after,
                                   std::chrono::duration_cast<std::chrono::milliseconds>(wait),
                                   state.after);
      } catch (const StatusError& error) {
        out += watch_line("ERROR", error.to_status());
        return finish();
      }
      for (const auto& event : events) {
        bool now_matches = state.matches(*event.object);
        bool matched_before = event.previous && state.matches(*event.previous);
        std::string type = event.type;
        if (type == "MODIFIED" && now_matches != matched_before) {
          // Moving in or out of a filtered watch's view is an add or a delete to it.
          type = now_matches ? "ADDED" : "DELETED";
        } else if (!now_matches) {
          continue;
        }
        out += state.line(type, *event.object);
        if (state.drop_every > 0 && ++state.sent >= state.drop_every) return finish();
      }
      if (state.bookmarks && Clock::now() - state.last_bookmark >=
                                 std::chrono::milliseconds(options.bookmark_interval_ms)) {
        state.last_bookmark = Clock::now();
        json bookmark = {{"kind", "Bookmark"},
                         {"apiVersion", state.path.api_version()},
                         {"metadata", {{"resourceVersion", std::to_string(state.after)}}}};
        out += watch_line("BOOKMARK", bookmark);
      }
    }
    if (!out.empty() && !sink.write(out.data(), out.size())) return false;
    return sink.is_writable();
  }

  FakeApiServerOptions options;
  ObjectStore store;
  httplib::Server server;
  std::mutex faults_mutex;
  FaultConfig faults;
  std::mutex log_mutex;
  std::vector<RequestRecord> log;
  std::atomic<bool> stopping{false};
  std::thread thread;
  int port = 0;
};

FakeApiServer::FakeApiServer(FakeApiServerOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

FakeApiServer::~FakeApiServer() { stop(); }

int FakeApiServer::start() {
  int port = impl_->options.port;
  if (port == 0) {
    port = impl_->server.bind_to_any_port("127.0.0.1");
  } else if (!impl_->server.bind_to_port("127.0.0.1", port)) {
    port = -1;
  }
  if (port <= 0) {
    throw std::runtime_error("fake API server: cannot bind 127.0.0.1:" +
                             std::to_string(impl_->options.port));
  }
  impl_->port = port;
  impl_->thread = std::thread([this] { impl_->server.listen_after_bind(); });
  return port;
}

void FakeApiServer::listen(const std::function<void(int)>& on_ready) {
  int port = start();
  on_ready(port);
  impl_->thread.join();
}

void FakeApiServer::stop() {
  impl_->stopping = true;
  impl_->store.wake_all();
  impl_->server.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

int FakeApiServer::port() const { return impl_->port; }

std::string FakeApiServer::url() const { return "http://127.0.0.1:" + std::to_string(port()); }

void FakeApiServer::set_faults(const FaultConfig& faults) { impl_->set_faults(faults); }

std::vector<RequestRecord> FakeApiServer::requests() const { return impl_->requests(); }

void FakeApiServer::clear_requests() { impl_->clear_requests(); }

void FakeApiServer::compact() { impl_->store.compact(); }

}  // namespace kubetrain::fakeapi

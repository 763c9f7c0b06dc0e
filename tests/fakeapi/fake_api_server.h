#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace kubetrain::fakeapi {

// Faults injected into API requests (never into /fake/... control requests).
struct FaultConfig {
  double error_rate = 0;          // fraction of requests answered with one of `codes`
  std::vector<int> codes = {500};  // picked at random; 429 answers carry Retry-After: 1
  int drop_watch_every = 0;        // end each watch after this many events (0: never)
  int latency_ms = 0;              // added before answering every request
  int retry_after_seconds = 1;     // the Retry-After of injected 429 answers
  std::vector<std::string> verbs;  // inject errors only into these verbs (empty: all)

  static FaultConfig from_json(const nlohmann::json& config);  // the /fake/faults body
  nlohmann::json to_json() const;
};

struct FakeApiServerOptions {
  int port = 0;                  // 0: any free port
  std::size_t event_window = 10000;  // watch events retained; older resourceVersions get 410
  int bookmark_interval_ms = 1000;    // BOOKMARK cadence on idle watches that asked for them
  // Concurrent connections served: each open watch and each idle keep-alive connection (for up
  // to 10 s) holds one.
  int threads = 128;
  FaultConfig faults;
  bool log_requests = true;      // keep the request log served at /fake/requests
};

// One served request, as listed by GET /fake/requests.
struct RequestRecord {
  std::string verb;       // get, list, watch, create, update, patch, delete
  std::string path;
  std::string resource;   // "pods", "trainingjobs.kubetrain.dev", "pods/status"
  std::string namespace_name;
  int code = 0;
};

// An in-memory Kubernetes API server over plain HTTP on 127.0.0.1, following the API conventions:
// any /api/v1/... or /apis/<group>/<version>/... resource path (namespaced or cluster-wide),
// a global resourceVersion, uid/creationTimestamp/generation, finalizers and deletionTimestamp,
// ownerReference garbage collection, 404/409/410/415/422 Status errors, label and field
// (metadata.name, metadata.namespace) selectors, list pagination (limit/continue), watches with
// ADDED/MODIFIED/DELETED/BOOKMARK events and 410 Gone outside the retained window, status
// subresources, JSON merge patch and JSON patch (no strategic merge patch, no server-side apply).
// For the kubelet's and kube-scheduler's parts that tests play: the pods/binding subresource, and
// graceful deletion of pods (a bound, unfinished pod is marked with deletionTimestamp and
// deletionGracePeriodSeconds and goes when deleted with gracePeriodSeconds 0, also when the
// garbage collector deleted it); DeleteOptions from the body or the query.
// For kubectl: CustomResourceDefinitions (accepted and Established; their scope, status
// subresource, printer columns and schemas define their resources), unaggregated discovery
// (/api, /api/v1, /apis, /apis/GROUP[/VERSION]) of the built-in kinds and the CRDs' resources,
// OpenAPI v3 (/openapi/v3 and per group version, which tells kubectl the server validates fields,
// so apply sends fieldValidation and merge patches), and meta.k8s.io Tables for get, list and
// watch when the Accept header asks for them (CRD printer columns, kube-apiserver's pod columns,
// else Name and Age). Query parameters it does not act on (fieldManager, fieldValidation, ...)
// are accepted and have no effect; dryRun is not honoured. Discovery and OpenAPI requests are
// neither faulted nor logged.
// Control endpoints: POST /fake/faults (FaultConfig JSON), GET /fake/requests (the request log as
// a JSON array, ?clear=1 empties it), POST /fake/compact (drops the retained watch events so every
// older resourceVersion is Gone), GET /fake/healthz.
class FakeApiServer {
 public:
  explicit FakeApiServer(FakeApiServerOptions options = {});
  ~FakeApiServer();  // stops
  FakeApiServer(const FakeApiServer&) = delete;
  FakeApiServer& operator=(const FakeApiServer&) = delete;

  // Binds and starts serving on a background thread; returns the port. Throws on bind failure.
  int start();
  // Blocks serving on the calling thread (after start() was not called); `on_ready` gets the port.
  void listen(const std::function<void(int)>& on_ready);
  void stop();

  int port() const;
  std::string url() const;  // "http://127.0.0.1:<port>"

  void set_faults(const FaultConfig& faults);
  std::vector<RequestRecord> requests() const;
  void clear_requests();
  // Forgets retained watch events: watches from any earlier resourceVersion get 410 Gone.
  void compact();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Runs the kubetrain-fake-apiserver executable as a child process (for tests that want it out of
// process, e.g. beside the real operator binary): starts it with `args`, reads the port it prints,
// and kills it (SIGTERM, then SIGKILL) on stop() or destruction.
class FakeApiServerProcess {
 public:
  FakeApiServerProcess(std::string executable, std::vector<std::string> args = {});
  ~FakeApiServerProcess();
  FakeApiServerProcess(const FakeApiServerProcess&) = delete;
  FakeApiServerProcess& operator=(const FakeApiServerProcess&) = delete;

  int port() const { return port_; }
  std::string url() const;
  void stop();

 private:
  int pid_ = -1;
  int port_ = 0;
};

}  // namespace kubetrain::fakeapi

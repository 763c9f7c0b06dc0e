#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

namespace kubetrain {

// One finished API request, as reported to a RequestObserver. `verb` is the Kubernetes audit verb
// (get, list, watch, create, update, patch, delete), `resource` the ResourceKind::resource_name()
// with "/status" appended for the subresource, `code` the HTTP status (0: no response).
// Retried attempts are reported one by one.
struct ApiRequestInfo {
  std::string verb;
  std::string resource;
  int code = 0;
  std::chrono::duration<double> duration{};
};

using RequestObserver = std::function<void(const ApiRequestInfo&)>;

// Counts requests by (verb, resource, code); a ready-made RequestObserver target for metrics.
// Thread-safe.
class ApiCallCounter {
 public:
  using Key = std::tuple<std::string, std::string, int>;  // verb, resource, code

  void observe(const ApiRequestInfo& info);
  std::map<Key, std::uint64_t> snapshot() const;
  std::uint64_t total() const;
  // A RequestObserver that forwards to observe(); the counter must outlive the client using it.
  RequestObserver observer();

 private:
  mutable std::mutex mutex_;
  std::map<Key, std::uint64_t> counts_;
  std::uint64_t total_ = 0;
};

}  // namespace kubetrain

#pragma once

#include <string>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "operator/kube/kube_client.h"

namespace kubetrain::testing {

// One answer of the fake API server: the HTTP status and the JSON body (null when not JSON).
struct RawResponse {
  int status = 0;
  nlohmann::json body;
};

// Plain HTTP requests to a fake API server, for tests of exactly what it answers.
class RawApi {
 public:
  explicit RawApi(int port) : http_("127.0.0.1", port) {}

  RawResponse get(const std::string& path, const std::string& accept = "application/json") {
    return answer(http_.Get(path.c_str(), {{"Accept", accept}}));
  }
  RawResponse post(const std::string& path, const nlohmann::json& body) {
    return answer(http_.Post(path.c_str(), body.dump(), "application/json"));
  }
  RawResponse remove(const std::string& path, const nlohmann::json& body = nullptr) {
    return body.is_null() ? answer(http_.Delete(path.c_str()))
                          : answer(http_.Delete(path.c_str(), body.dump(), "application/json"));
  }

 private:
  static RawResponse answer(const httplib::Result& result) {
    if (!result) return {};
    return {result->status, nlohmann::json::parse(result->body, nullptr, false)};
  }

  httplib::Client http_;
};

// The types of the first `count` watch events of `kind` in `ns` after `resource_version`
// ("ADDED", "MODIFIED", "DELETED"), bookmarks left out; fewer if the watch ends first (2 s).
inline std::vector<std::string> event_types(KubeClient& client, const ResourceKind& kind,
                                            const std::string& ns,
                                            const std::string& resource_version,
                                            std::size_t count) {
  ListOptions options;
  options.resource_version = resource_version;
  options.timeout_seconds = 2;
  std::vector<std::string> types;
  client.watch(kind, ns, options, [&](const WatchEvent& event) {
    if (event.type != "BOOKMARK") types.push_back(event.type);
    return types.size() < count;
  });
  return types;
}

}  // namespace kubetrain::testing

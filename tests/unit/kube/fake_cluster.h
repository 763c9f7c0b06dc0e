#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <thread>

#include <nlohmann/json.hpp>

#include "operator/kube/kube_client.h"
#include "tests/fakeapi/fake_api_server.h"

namespace kubetrain::testing {

// An in-process fake API server on loopback and a client for it.
struct FakeCluster {
  explicit FakeCluster(fakeapi::FakeApiServerOptions server_options = {},
                       ClientOptions client_options = fast_client_options())
      : server(server_options) {
    server.start();
    KubeConfig config;
    config.server = server.url();
    config.namespace_name = "ns";
    client = std::make_unique<KubeClient>(config, client_options);
  }

  static ClientOptions fast_client_options() {
    ClientOptions options;
    options.qps = 0;  // unlimited unless a test is about the limiter
    options.retry_base_delay = std::chrono::milliseconds(5);
    options.retry_max_delay = std::chrono::milliseconds(50);
    options.max_retries = 10;
    return options;
  }

  fakeapi::FakeApiServer server;
  std::unique_ptr<KubeClient> client;
};

inline nlohmann::json make_object(const std::string& name, nlohmann::json labels = nullptr,
                                  nlohmann::json spec = {{"replicas", 1}}) {
  nlohmann::json object = {{"metadata", {{"name", name}}}, {"spec", spec}};
  if (!labels.is_null()) object["metadata"]["labels"] = labels;
  return object;
}

// Polls `condition` until it holds or `timeout` passes; returns whether it held.
inline bool eventually(const std::function<bool()>& condition,
                       std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return condition();
}

}  // namespace kubetrain::testing

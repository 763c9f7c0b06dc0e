#pragma once

// Serves /metrics (Prometheus text), /healthz and /readyz on --metrics-addr.

#include <functional>
#include <string>
#include <utility>

#include "common/status_server.h"

namespace kubetrain {

class HealthServer {
 public:
  // `address` is HOST:PORT (":8080" binds every interface; port 0 picks a free one).
  HealthServer(std::string address, std::function<std::string()> metrics, std::function<bool()> ready);

  // Binds and serves on a background thread; returns the bound port. Throws std::runtime_error
  // naming the address when it cannot bind.
  int start();
  void stop();

 private:
  std::string host_;
  int port_ = 0;
  StatusServer server_;  // stops when destroyed
};

// Splits "HOST:PORT" (host may be empty or a bracketed IPv6 address); throws
// std::invalid_argument naming the flag value otherwise.
std::pair<std::string, int> parse_listen_address(const std::string& address);

}  // namespace kubetrain

#include "operator/controller/health_server.h"

#include <stdexcept>

namespace kubetrain {

std::pair<std::string, int> parse_listen_address(const std::string& address) {
  const std::size_t colon = address.rfind(':');
  if (colon == std::string::npos) {
    throw std::invalid_argument("--metrics-addr '" + address + "' is not HOST:PORT (e.g. :8080 or 127.0.0.1:8080)");
  }
  std::string host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty()) host = "0.0.0.0";
  int port = -1;
  try {
    std::size_t used = 0;
    port = std::stoi(address.substr(colon + 1), &used);
    if (used != address.size() - colon - 1) port = -1;
  } catch (const std::exception&) {
    port = -1;
  }
  if (port < 0 || port > 65535) {
    throw std::invalid_argument("--metrics-addr '" + address + "' has no valid port (0..65535)");
  }
  return {host, port};
}

HealthServer::HealthServer(std::string address, std::function<std::string()> metrics, std::function<bool()> ready) {
  std::tie(host_, port_) = parse_listen_address(address);
  server_.handle("/metrics", [metrics = std::move(metrics)] {
    return StatusServer::Response{"text/plain; version=0.0.4", metrics()};
  });
  server_.handle("/healthz", [] { return StatusServer::Response{"text/plain", "ok\n"}; });
  server_.handle("/readyz", [ready = std::move(ready)] {
    const bool is_ready = ready();
    return StatusServer::Response{"text/plain", is_ready ? "ok\n" : "informer caches not synced\n",
                                  is_ready ? 200 : 503};
  });
}

int HealthServer::start() {
  server_.start(host_, port_);
  port_ = server_.port();
  return port_;
}

void HealthServer::stop() { server_.stop(); }

}  // namespace kubetrain

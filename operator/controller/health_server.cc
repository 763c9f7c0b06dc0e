#include "operator/controller/health_server.h"

#include <httplib.h>

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

HealthServer::HealthServer(std::string address, std::function<std::string()> metrics, std::function<bool()> ready)
    : server_(std::make_unique<httplib::Server>()) {
  std::tie(host_, port_) = parse_listen_address(address);
  server_->Get("/metrics", [metrics](const httplib::Request&, httplib::Response& response) {
    response.set_content(metrics(), "text/plain; version=0.0.4");
  });
  server_->Get("/healthz", [](const httplib::Request&, httplib::Response& response) {
    response.set_content("ok\n", "text/plain");
  });
  server_->Get("/readyz", [ready](const httplib::Request&, httplib::Response& response) {
    const bool is_ready = ready();
    response.status = is_ready ? 200 : 503;
    response.set_content(is_ready ? "ok\n" : "informer caches not synced\n", "text/plain");
  });
}

HealthServer::~HealthServer() { stop(); }

int HealthServer::start() {
  if (port_ == 0) {
    port_ = server_->bind_to_any_port(host_);
  } else if (!server_->bind_to_port(host_, port_)) {
    port_ = -1;
  }
  if (port_ < 0) throw std::runtime_error("cannot listen on " + host_ + " for /metrics, /healthz and /readyz");
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  return port_;
}

void HealthServer::stop() {
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace kubetrain

#include "common/status_server.h"

#include <httplib.h>

#include <stdexcept>
#include <thread>

namespace kubetrain {

struct StatusServer::Impl {
  httplib::Server server;
  std::thread thread;
};

StatusServer::StatusServer() : impl_(std::make_unique<Impl>()) {}

StatusServer::~StatusServer() { stop(); }

void StatusServer::handle(const std::string& path, Handler handler) {
  impl_->server.Get(path, [handler = std::move(handler)](const httplib::Request&,
                                                         httplib::Response& response) {
    auto rendered = handler();
    response.status = rendered.status;
    response.set_content(std::move(rendered.body), rendered.content_type);
  });
}

void StatusServer::start(const std::string& host, int port) {
  const int bound = port == 0 ? impl_->server.bind_to_any_port(host)
                              : (impl_->server.bind_to_port(host, port) ? port : -1);
  if (bound < 0) {
    throw std::runtime_error("cannot listen on " + host + ":" + std::to_string(port) +
                             " (port in use?)");
  }
  port_ = bound;
  impl_->thread = std::thread([this] { impl_->server.listen_after_bind(); });
}

void StatusServer::stop() {
  if (!impl_->thread.joinable()) return;
  impl_->server.stop();
  impl_->thread.join();
}

}  // namespace kubetrain

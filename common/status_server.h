#pragma once

#include <functional>
#include <memory>
#include <string>

namespace kubetrain {

// A small HTTP server on a thread of its own for read-only endpoints (/metrics, /progress,
// /healthz): each path maps to a function that renders the body on request.
class StatusServer {
 public:
  struct Response {
    std::string content_type;
    std::string body;
    int status = 200;
  };
  using Handler = std::function<Response()>;

  StatusServer();
  ~StatusServer();
  StatusServer(const StatusServer&) = delete;
  StatusServer& operator=(const StatusServer&) = delete;

  // Register before start().
  void handle(const std::string& path, Handler handler);
  // Binds host:port (port 0 picks a free one) and serves in the background. Throws
  // std::runtime_error naming the address when it cannot bind.
  void start(const std::string& host, int port);
  int port() const { return port_; }
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

}  // namespace kubetrain

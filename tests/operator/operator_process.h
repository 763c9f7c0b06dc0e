#pragma once

#include <string>
#include <vector>

namespace kubetrain::e2e {

// The kubetrain-operator binary as a child process, its log in a file, its /metrics on a free port.
class OperatorProcess {
 public:
  OperatorProcess(const std::string& kubeconfig, std::vector<std::string> extra_args = {});
  ~OperatorProcess();  // SIGKILL if still running
  OperatorProcess(const OperatorProcess&) = delete;
  OperatorProcess& operator=(const OperatorProcess&) = delete;

  // SIGTERM (graceful: releases the lease) or SIGKILL (a crash); waits for the exit.
  void terminate();
  void kill();
  bool running() const { return pid_ > 0; }
  int metrics_port() const { return metrics_port_; }
  int pid() const { return pid_; }
  std::string log() const;
  // GET on the operator's metrics server ("" when unreachable).
  std::string http_get(const std::string& path) const;

 private:
  void signal_and_wait(int signal);

  int pid_ = -1;
  int metrics_port_ = 0;
  std::string log_path_;
};

// A TCP port nobody listens on right now.
int free_port();

}  // namespace kubetrain::e2e

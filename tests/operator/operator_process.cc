#include "tests/operator/operator_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace kubetrain::e2e {

int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

OperatorProcess::OperatorProcess(const std::string& kubeconfig, std::vector<std::string> extra_args) {
  metrics_port_ = free_port();
  static int counter = 0;
  log_path_ = "/tmp/kubetrain-operator-" + std::to_string(getpid()) + "-" + std::to_string(++counter) + ".log";
  std::vector<std::string> args = {KUBETRAIN_OPERATOR_BINARY, "--kubeconfig", kubeconfig, "--metrics-addr",
                                   "127.0.0.1:" + std::to_string(metrics_port_), "--log-level", "debug"};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    const int log = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(log, STDOUT_FILENO);
    dup2(log, STDERR_FILENO);
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  // Ready to serve once /healthz answers.
  for (int attempt = 0; attempt < 100 && http_get("/healthz").empty(); ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

OperatorProcess::~OperatorProcess() {
  if (pid_ > 0) kill();
  std::remove(log_path_.c_str());
}

void OperatorProcess::terminate() { signal_and_wait(SIGTERM); }
void OperatorProcess::kill() { signal_and_wait(SIGKILL); }

void OperatorProcess::signal_and_wait(int signal) {
  if (pid_ <= 0) return;
  ::kill(pid_, signal);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::string OperatorProcess::log() const {
  std::ifstream in(log_path_);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string OperatorProcess::http_get(const std::string& path) const {
  httplib::Client client("127.0.0.1", metrics_port_);
  client.set_connection_timeout(1, 0);
  const auto response = client.Get(path);
  return response && response->status == 200 ? response->body : std::string();
}

}  // namespace kubetrain::e2e

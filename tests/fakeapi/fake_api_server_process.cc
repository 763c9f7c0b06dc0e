#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>

#include "tests/fakeapi/fake_api_server.h"

namespace kubetrain::fakeapi {
namespace {

// Reads the first line the child prints, waiting at most `timeout`.
std::string read_first_line(int fd, std::chrono::milliseconds timeout) {
  std::string line;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) throw std::runtime_error("fake API server did not print its port");
    pollfd descriptor{fd, POLLIN, 0};
    if (poll(&descriptor, 1, static_cast<int>(left.count())) <= 0) continue;
    char c;
    ssize_t n = read(fd, &c, 1);
    if (n <= 0) throw std::runtime_error("fake API server exited before printing its port");
    if (c == '\n') return line;
    line += c;
  }
}

}  // namespace

FakeApiServerProcess::FakeApiServerProcess(std::string executable, std::vector<std::string> args) {
  int out[2];
  if (pipe(out) != 0) throw std::runtime_error("pipe failed");
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    dup2(out[1], STDOUT_FILENO);
    close(out[0]);
    close(out[1]);
    std::vector<char*> argv;
    argv.push_back(executable.data());
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    execv(executable.c_str(), argv.data());
    _exit(127);
  }
  close(out[1]);
  try {
    auto line = read_first_line(out[0], std::chrono::seconds(10));
    port_ = std::stoi(line);
  } catch (const std::exception& error) {
    close(out[0]);
    stop();
    throw std::runtime_error(executable + ": " + error.what());
  }
  close(out[0]);
}

FakeApiServerProcess::~FakeApiServerProcess() { stop(); }

std::string FakeApiServerProcess::url() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}

void FakeApiServerProcess::stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  for (int i = 0; i < 50; ++i) {
    if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

}  // namespace kubetrain::fakeapi

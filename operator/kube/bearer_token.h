#pragma once

#include <chrono>
#include <filesystem>
#include <mutex>
#include <string>

#include <sys/stat.h>

namespace kubetrain {

// The bearer token of a client: a fixed string, or a file re-read whenever it is replaced or
// changes (inode, size or modification time; bound service-account tokens are rotated by the
// kubelet, which swaps the file) and at least once a minute, as client-go does. Thread-safe.
class BearerToken {
 public:
  BearerToken(std::string token, std::string token_file);

  // The current token; empty when there is none. Throws std::runtime_error when the token file
  // cannot be read and no token was read before.
  std::string current();

 private:
  const std::string fixed_;
  const std::filesystem::path file_;
  std::mutex mutex_;
  std::string cached_;
  struct stat cached_stat_ {};
  std::chrono::steady_clock::time_point read_at_{};
};

}  // namespace kubetrain

#pragma once

#include <filesystem>
#include <mutex>
#include <string>

namespace kubetrain {

// The bearer token of a client: a fixed string, or a file re-read whenever its modification time
// or size changes (bound service-account tokens are rotated by the kubelet, which swaps the
// file). Thread-safe.
class BearerToken {
 public:
  BearerToken(std::string token, std::string token_file);

  // The current token; empty when there is none. Throws std::runtime_error when the token file
  // cannot be read.
  std::string current();

 private:
  const std::string fixed_;
  const std::filesystem::path file_;
  std::mutex mutex_;
  std::string cached_;
  std::filesystem::file_time_type cached_mtime_{};
  std::uintmax_t cached_size_ = static_cast<std::uintmax_t>(-1);
};

}  // namespace kubetrain

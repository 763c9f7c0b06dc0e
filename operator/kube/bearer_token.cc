#include "operator/kube/bearer_token.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace kubetrain {

BearerToken::BearerToken(std::string token, std::string token_file)
    : fixed_(std::move(token)), file_(std::move(token_file)) {}

std::string BearerToken::current() {
  if (!fixed_.empty() || file_.empty()) return fixed_;
  std::lock_guard lock(mutex_);
  std::error_code error;
  auto mtime = std::filesystem::last_write_time(file_, error);
  auto size = error ? 0 : std::filesystem::file_size(file_, error);
  if (error) {
    if (!cached_.empty()) return cached_;  // a rotation in progress: keep the last good token
    throw std::runtime_error("token file " + file_.string() + " cannot be read: " +
                             error.message());
  }
  if (mtime == cached_mtime_ && size == cached_size_) return cached_;
  std::ifstream in(file_, std::ios::binary);
  if (!in) throw std::runtime_error("token file " + file_.string() + " cannot be read");
  std::ostringstream content;
  content << in.rdbuf();
  std::string token = content.str();
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' ')) {
    token.pop_back();
  }
  cached_ = token;
  cached_mtime_ = mtime;
  cached_size_ = size;
  return cached_;
}

}  // namespace kubetrain

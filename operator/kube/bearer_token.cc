#include "operator/kube/bearer_token.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace kubetrain {
namespace {

constexpr auto kMaxTokenAge = std::chrono::minutes(1);

bool same_file_state(const struct stat& a, const struct stat& b) {
  return a.st_ino == b.st_ino && a.st_dev == b.st_dev && a.st_size == b.st_size &&
         a.st_mtim.tv_sec == b.st_mtim.tv_sec && a.st_mtim.tv_nsec == b.st_mtim.tv_nsec;
}

}  // namespace

BearerToken::BearerToken(std::string token, std::string token_file)
    : fixed_(std::move(token)), file_(std::move(token_file)) {}

std::string BearerToken::current() {
  if (!fixed_.empty() || file_.empty()) return fixed_;
  std::lock_guard lock(mutex_);
  struct stat now_stat {};
  auto now = std::chrono::steady_clock::now();
  if (::stat(file_.c_str(), &now_stat) != 0) {
    if (!cached_.empty()) return cached_;  // a rotation in progress: keep the last good token
    throw std::runtime_error("token file " + file_.string() +
                             " cannot be read: " + std::strerror(errno));
  }
  if (!cached_.empty() && same_file_state(now_stat, cached_stat_) &&
      now - read_at_ < kMaxTokenAge) {
    return cached_;
  }
  std::ifstream in(file_, std::ios::binary);
  if (!in) {
    if (!cached_.empty()) return cached_;
    throw std::runtime_error("token file " + file_.string() + " cannot be read");
  }
  std::ostringstream content;
  content << in.rdbuf();
  std::string token = content.str();
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' ')) {
    token.pop_back();
  }
  cached_ = token;
  cached_stat_ = now_stat;
  read_at_ = now;
  return cached_;
}

}  // namespace kubetrain

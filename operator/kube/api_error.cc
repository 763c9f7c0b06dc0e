#include "operator/kube/api_error.h"

#include <utility>

namespace kubetrain {
namespace {

std::string describe(int code, const std::string& reason, const std::string& message,
                     const std::string& verb, const std::string& path) {
  std::string text = verb.empty() ? std::string("request") : verb;
  if (!path.empty()) text += " " + path;
  text += code == 0 ? std::string(": no response") : ": HTTP " + std::to_string(code);
  if (!reason.empty()) text += " " + reason;
  if (!message.empty()) text += ": " + message;
  return text;
}

}  // namespace

ApiError::ApiError(int code, std::string reason, std::string message, std::string verb,
                   std::string path, std::optional<std::chrono::milliseconds> retry_after)
    : std::runtime_error(describe(code, reason, message, verb, path)),
      code_(code),
      reason_(std::move(reason)),
      message_(std::move(message)),
      verb_(std::move(verb)),
      path_(std::move(path)),
      retry_after_(retry_after) {}

ApiError ApiError::from_response(int code, const std::string& body, const std::string& verb,
                                 const std::string& path,
                                 std::optional<std::chrono::milliseconds> retry_after) {
  auto status = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (status.is_object() && status.value("kind", "") == "Status") {
    return ApiError(code, status.value("reason", ""), status.value("message", ""), verb, path,
                    retry_after);
  }
  constexpr std::size_t kMaxBody = 512;
  std::string text = body.size() > kMaxBody ? body.substr(0, kMaxBody) + "..." : body;
  return ApiError(code, "", text, verb, path, retry_after);
}

ApiError ApiError::from_status(const nlohmann::json& status, const std::string& verb,
                               const std::string& path) {
  if (!status.is_object()) return ApiError(500, "", status.dump(), verb, path);
  return ApiError(status.value("code", 500), status.value("reason", ""),
                  status.value("message", ""), verb, path);
}

}  // namespace kubetrain

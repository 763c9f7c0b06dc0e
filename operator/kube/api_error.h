#pragma once

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

namespace kubetrain {

// A failed API call. `code` is the HTTP status, or 0 when no response arrived (connection refused,
// timeout, TLS failure); `reason` and `message` come from the Kubernetes Status object in the
// response body ("NotFound", "AlreadyExists", "Conflict", "Expired", ...) when there is one.
class ApiError : public std::runtime_error {
 public:
  ApiError(int code, std::string reason, std::string message, std::string verb = {},
           std::string path = {},
           std::optional<std::chrono::milliseconds> retry_after = std::nullopt);

  // Builds the error from an HTTP response: parses a Status body when present, otherwise keeps
  // the (truncated) body text as the message.
  static ApiError from_response(int code, const std::string& body, const std::string& verb,
                                const std::string& path,
                                std::optional<std::chrono::milliseconds> retry_after);
  // Builds the error from a Status object (as carried by a watch ERROR event).
  static ApiError from_status(const nlohmann::json& status, const std::string& verb,
                              const std::string& path);

  int code() const { return code_; }
  const std::string& reason() const { return reason_; }
  const std::string& message() const { return message_; }
  const std::string& verb() const { return verb_; }
  const std::string& path() const { return path_; }
  // The server's Retry-After (429, some 5xx), when it sent one.
  std::optional<std::chrono::milliseconds> retry_after() const { return retry_after_; }

  bool is_not_found() const { return code_ == 404; }
  // 409: either a stale resourceVersion (reason Conflict) or an existing name (AlreadyExists).
  bool is_conflict() const { return code_ == 409 && reason_ != "AlreadyExists"; }
  bool is_already_exists() const { return code_ == 409 && reason_ == "AlreadyExists"; }
  bool is_gone() const { return code_ == 410; }  // watch/list resourceVersion too old
  bool is_invalid() const { return code_ == 422; }
  bool is_too_many_requests() const { return code_ == 429; }
  bool is_server_error() const { return code_ >= 500 && code_ <= 599; }
  bool is_connection_error() const { return code_ == 0; }
  bool is_unauthorized() const { return code_ == 401; }
  bool is_forbidden() const { return code_ == 403; }
  // Worth retrying later: 429, 5xx or no response.
  bool is_transient() const {
    return is_too_many_requests() || is_server_error() || is_connection_error();
  }

 private:
  int code_;
  std::string reason_;
  std::string message_;
  std::string verb_;
  std::string path_;
  std::optional<std::chrono::milliseconds> retry_after_;
};

}  // namespace kubetrain

#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace kubetrain::fakeapi {

// An API failure answered with a Kubernetes Status body.
class StatusError : public std::runtime_error {
 public:
  // An empty `reason` is metav1.StatusReasonUnknown, which the Status body leaves out.
  StatusError(int code, std::string reason, const std::string& message)
      : std::runtime_error(message), code_(code), reason_(std::move(reason)) {}
  int code() const { return code_; }
  const std::string& reason() const { return reason_; }
  nlohmann::json to_status() const;

 private:
  int code_;
  std::string reason_;
};

// Field errors joined as apimachinery's errors.NewAggregate prints them: one error alone, more in
// brackets ("[a, b]").
std::string aggregate(const std::vector<std::string>& errors);

// 422 Invalid, worded as errors.NewInvalid words it: `Kind.group "name" is invalid: <errors>`.
StatusError invalid(const std::string& qualified_kind, const std::string& name,
                    const std::vector<std::string>& errors);

// 409 Conflict, worded as errors.NewConflict words it:
// `Operation cannot be fulfilled on <resource> "name": <why>`.
StatusError conflict(const std::string& qualified_resource, const std::string& name,
                     const std::string& why);

}  // namespace kubetrain::fakeapi

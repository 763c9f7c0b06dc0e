#include "tests/fakeapi/status_error.h"

namespace kubetrain::fakeapi {

nlohmann::json StatusError::to_status() const {
  nlohmann::json status = {
      {"kind", "Status"},    {"apiVersion", "v1"}, {"metadata", nlohmann::json::object()},
      {"status", "Failure"}, {"message", what()},  {"code", code_}};
  if (!reason_.empty()) status["reason"] = reason_;
  return status;
}

std::string aggregate(const std::vector<std::string>& errors) {
  if (errors.size() == 1) return errors.front();
  std::string joined = "[";
  for (std::size_t i = 0; i < errors.size(); ++i) {
    if (i > 0) joined += ", ";
    joined += errors[i];
  }
  joined += ']';
  return joined;
}

StatusError invalid(const std::string& qualified_kind, const std::string& name,
                    const std::vector<std::string>& errors) {
  return StatusError(422, "Invalid",
                     qualified_kind + " \"" + name + "\" is invalid: " + aggregate(errors));
}

StatusError conflict(const std::string& qualified_resource, const std::string& name,
                     const std::string& why) {
  return StatusError(
      409, "Conflict",
      "Operation cannot be fulfilled on " + qualified_resource + " \"" + name + "\": " + why);
}

}  // namespace kubetrain::fakeapi

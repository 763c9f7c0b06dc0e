#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace kubetrain {

// A parsed label selector in the API's string syntax: comma-separated requirements
// `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k` (exists), `!k` (does not exist).
// An empty selector matches everything.
class LabelSelector {
 public:
  enum class Op { kEquals, kNotEquals, kIn, kNotIn, kExists, kDoesNotExist };
  struct Requirement {
    std::string key;
    Op op;
    std::vector<std::string> values;
  };

  LabelSelector() = default;
  // Throws std::invalid_argument naming the offending part of `text`.
  static LabelSelector parse(std::string_view text);
  // Equality requirements for every entry of `labels` (like metav1.SelectorFromSet).
  static LabelSelector from_map(const std::map<std::string, std::string>& labels);

  bool matches(const std::map<std::string, std::string>& labels) const;
  // Matches against an object's metadata.labels (absent labels: an empty set).
  bool matches_object(const nlohmann::json& object) const;
  bool empty() const { return requirements_.empty(); }
  const std::vector<Requirement>& requirements() const { return requirements_; }
  // Renders the selector back to the API syntax (for the labelSelector query parameter).
  std::string to_string() const;

 private:
  std::vector<Requirement> requirements_;
};

}  // namespace kubetrain

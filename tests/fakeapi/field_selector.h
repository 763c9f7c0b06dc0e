#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace kubetrain::fakeapi {

// The field selectors every kind supports: metadata.name and metadata.namespace, with =, == and
// !=, comma-separated. Throws std::invalid_argument for other fields or syntax.
class FieldSelector {
 public:
  FieldSelector() = default;
  static FieldSelector parse(std::string_view text);
  bool matches(const nlohmann::json& object) const;

 private:
  struct Requirement {
    std::string field;  // "name" or "namespace"
    std::string value;
    bool equals;
  };
  std::vector<Requirement> requirements_;
};

}  // namespace kubetrain::fakeapi

#include "tests/fakeapi/field_selector.h"

#include <stdexcept>

namespace kubetrain::fakeapi {

FieldSelector FieldSelector::parse(std::string_view text) {
  FieldSelector selector;
  std::size_t start = 0;
  while (start < text.size()) {
    auto comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    auto part = text.substr(start, comma - start);
    start = comma + 1;
    if (part.empty()) continue;
    bool equals = true;
    std::size_t op = part.find("!=");
    std::size_t value_at;
    if (op != std::string_view::npos) {
      equals = false;
      value_at = op + 2;
    } else if ((op = part.find("==")) != std::string_view::npos) {
      value_at = op + 2;
    } else if ((op = part.find('=')) != std::string_view::npos) {
      value_at = op + 1;
    } else {
      throw std::invalid_argument("invalid field selector '" + std::string(part) +
                                  "': expected field=value or field!=value");
    }
    auto field = part.substr(0, op);
    if (field != "metadata.name" && field != "metadata.namespace") {
      throw std::invalid_argument("field label not supported: " + std::string(field) +
                                  " (metadata.name, metadata.namespace)");
    }
    selector.requirements_.push_back({std::string(field.substr(9)),
                                      std::string(part.substr(value_at)), equals});
  }
  return selector;
}

bool FieldSelector::matches(const nlohmann::json& object) const {
  for (const auto& requirement : requirements_) {
    std::string actual = object["metadata"].value(requirement.field, "");
    if ((actual == requirement.value) != requirement.equals) return false;
  }
  return true;
}

}  // namespace kubetrain::fakeapi

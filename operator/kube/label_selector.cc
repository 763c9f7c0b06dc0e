#include "operator/kube/label_selector.h"

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace kubetrain {
namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  return text;
}

// Splits on commas that are not inside parentheses.
std::vector<std::string_view> split_requirements(std::string_view text) {
  std::vector<std::string_view> parts;
  int depth = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '(') ++depth;
    if (text[i] == ')') --depth;
    if (text[i] == ',' && depth == 0) {
      parts.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  parts.push_back(text.substr(start));
  return parts;
}

void check_token(std::string_view token, std::string_view part, const char* what) {
  auto valid = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
           c == '/';
  };
  if ((token.empty() && std::string_view(what) == "key") ||
      !std::all_of(token.begin(), token.end(), valid)) {
    throw std::invalid_argument("label selector: invalid " + std::string(what) + " '" +
                                std::string(token) + "' in '" + std::string(part) +
                                "' (letters, digits, '-', '_', '.', '/')");
  }
}

std::vector<std::string> parse_set(std::string_view set, std::string_view part) {
  set = trim(set);
  if (set.size() < 2 || set.front() != '(' || set.back() != ')') {
    throw std::invalid_argument("label selector: expected a parenthesised value list in '" +
                                std::string(part) + "'");
  }
  std::vector<std::string> values;
  set = set.substr(1, set.size() - 2);
  std::size_t start = 0;
  while (true) {
    auto comma = set.find(',', start);
    auto value = trim(set.substr(start, comma == std::string_view::npos ? comma : comma - start));
    check_token(value, part, "value");
    values.emplace_back(value);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return values;
}

LabelSelector::Requirement parse_requirement(std::string_view part) {
  using Op = LabelSelector::Op;
  auto text = trim(part);
  if (text.starts_with('!')) {
    auto key = trim(text.substr(1));
    check_token(key, part, "key");
    return {std::string(key), Op::kDoesNotExist, {}};
  }
  for (auto [token, op] : {std::pair{"!=", Op::kNotEquals}, std::pair{"==", Op::kEquals},
                           std::pair{"=", Op::kEquals}}) {
    auto at = text.find(token);
    if (at == std::string_view::npos) continue;
    auto key = trim(text.substr(0, at));
    auto value = trim(text.substr(at + std::string_view(token).size()));
    check_token(key, part, "key");
    check_token(value, part, "value");
    return {std::string(key), op, {std::string(value)}};
  }
  for (auto [word, op] : {std::pair{" notin ", Op::kNotIn}, std::pair{" in ", Op::kIn}}) {
    auto at = text.find(word);
    if (at == std::string_view::npos) continue;
    auto key = trim(text.substr(0, at));
    check_token(key, part, "key");
    return {std::string(key), op, parse_set(text.substr(at + std::string_view(word).size()), part)};
  }
  check_token(text, part, "key");
  return {std::string(text), Op::kExists, {}};
}

}  // namespace

LabelSelector LabelSelector::parse(std::string_view text) {
  LabelSelector selector;
  if (trim(text).empty()) return selector;
  for (auto part : split_requirements(text)) {
    selector.requirements_.push_back(parse_requirement(part));
  }
  return selector;
}

LabelSelector LabelSelector::from_map(const std::map<std::string, std::string>& labels) {
  LabelSelector selector;
  for (const auto& [key, value] : labels) {
    selector.requirements_.push_back({key, Op::kEquals, {value}});
  }
  return selector;
}

bool LabelSelector::matches(const std::map<std::string, std::string>& labels) const {
  for (const auto& requirement : requirements_) {
    auto it = labels.find(requirement.key);
    bool present = it != labels.end();
    auto in_values = [&] {
      return present && std::find(requirement.values.begin(), requirement.values.end(),
                                  it->second) != requirement.values.end();
    };
    bool ok = false;
    switch (requirement.op) {
      case Op::kEquals:
      case Op::kIn:
        ok = in_values();
        break;
      case Op::kNotEquals:
      case Op::kNotIn:
        ok = !in_values();
        break;
      case Op::kExists:
        ok = present;
        break;
      case Op::kDoesNotExist:
        ok = !present;
        break;
    }
    if (!ok) return false;
  }
  return true;
}

bool LabelSelector::matches_object(const nlohmann::json& object) const {
  std::map<std::string, std::string> labels;
  if (object.contains("metadata")) {
    const auto& metadata = object["metadata"];
    if (metadata.contains("labels") && metadata["labels"].is_object()) {
      for (const auto& [key, value] : metadata["labels"].items()) {
        if (value.is_string()) labels[key] = value.get<std::string>();
      }
    }
  }
  return matches(labels);
}

std::string LabelSelector::to_string() const {
  std::string text;
  for (const auto& requirement : requirements_) {
    if (!text.empty()) text += ',';
    auto join = [&] {
      std::string set = "(";
      for (std::size_t i = 0; i < requirement.values.size(); ++i) {
        if (i) set += ',';
        set += requirement.values[i];
      }
      return set + ")";
    };
    switch (requirement.op) {
      case Op::kEquals: text += requirement.key + "=" + requirement.values.at(0); break;
      case Op::kNotEquals: text += requirement.key + "!=" + requirement.values.at(0); break;
      case Op::kIn: text += requirement.key + " in " + join(); break;
      case Op::kNotIn: text += requirement.key + " notin " + join(); break;
      case Op::kExists: text += requirement.key; break;
      case Op::kDoesNotExist: text += "!" + requirement.key; break;
    }
  }
  return text;
}

}  // namespace kubetrain

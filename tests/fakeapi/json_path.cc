#include "tests/fakeapi/json_path.h"

#include <stdexcept>
#include <string>

namespace kubetrain::fakeapi {
namespace {

using json = nlohmann::json;

[[noreturn]] void unsupported(std::string_view path) {
  throw std::invalid_argument("unsupported JSONPath \"" + std::string(path) + "\"");
}

// A field name: up to the next '.' or '['.
std::string_view take_field(std::string_view& rest) {
  auto end = rest.find_first_of(".[");
  auto field = rest.substr(0, end);
  rest.remove_prefix(end == std::string_view::npos ? rest.size() : end);
  return field;
}

// The literal of a filter: 'text', "text" or a number.
json literal(std::string_view text, std::string_view path) {
  if (text.size() >= 2 && (text.front() == '\'' || text.front() == '"') &&
      text.back() == text.front()) {
    return std::string(text.substr(1, text.size() - 2));
  }
  json number = json::parse(text, nullptr, false);
  if (!number.is_number()) unsupported(path);
  return number;
}

// Follows `path` from `at` (a path that starts with '.' or '['), filters picking their first match.
std::optional<json> follow(const json& at, std::string_view rest, std::string_view path) {
  if (rest.empty()) return at;
  if (rest.front() == '.') {
    rest.remove_prefix(1);
    auto field = take_field(rest);
    if (field.empty()) unsupported(path);
    if (!at.is_object() || !at.contains(field)) return std::nullopt;
    return follow(at[std::string(field)], rest, path);
  }
  if (rest.front() != '[') unsupported(path);
  auto close = rest.find(']');
  if (close == std::string_view::npos) unsupported(path);
  auto inside = rest.substr(1, close - 1);
  rest.remove_prefix(close + 1);
  if (!inside.empty() && (inside.front() == '\'' || inside.front() == '"')) {
    json key = literal(inside, path);
    if (!key.is_string() || !at.is_object() || !at.contains(key.get<std::string>())) {
      return std::nullopt;
    }
    return follow(at[key.get<std::string>()], rest, path);
  }
  if (inside.starts_with("?(@.") && inside.ends_with(")")) {
    auto condition = inside.substr(4, inside.size() - 5);
    auto equals = condition.find("==");
    if (equals == std::string_view::npos) unsupported(path);
    std::string field(condition.substr(0, equals));
    json wanted = literal(condition.substr(equals + 2), path);
    if (!at.is_array()) return std::nullopt;
    for (const auto& item : at) {
      auto value = follow(item, "." + field, path);
      if (value && *value == wanted) {
        if (auto found = follow(item, rest, path)) return found;
      }
    }
    return std::nullopt;
  }
  json index = json::parse(inside, nullptr, false);
  if (!index.is_number_integer()) unsupported(path);
  if (!at.is_array()) return std::nullopt;
  auto position = index.get<long long>();
  if (position < 0) position += static_cast<long long>(at.size());
  if (position < 0 || position >= static_cast<long long>(at.size())) return std::nullopt;
  return follow(at[static_cast<std::size_t>(position)], rest, path);
}

}  // namespace

std::optional<json> first_json_path_result(const json& object, std::string_view path) {
  // kube-apiserver accepts the path with or without the template braces.
  std::string_view rest = path;
  if (rest.starts_with("{") && rest.ends_with("}")) rest = rest.substr(1, rest.size() - 2);
  if (rest.empty() || (rest.front() != '.' && rest.front() != '[')) unsupported(path);
  if (rest == ".") return object;
  return follow(object, rest, path);
}

}  // namespace kubetrain::fakeapi

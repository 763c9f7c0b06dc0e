#include "tests/fakeapi/resource_path.h"

#include <vector>

namespace kubetrain::fakeapi {
namespace {

std::vector<std::string> split(std::string_view path) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= path.size()) {
    auto slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    if (slash > start) parts.emplace_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return parts;
}

}  // namespace

std::optional<ResourcePath> parse_resource_path(std::string_view path) {
  auto parts = split(path);
  ResourcePath result;
  std::size_t at = 0;
  if (parts.size() >= 3 && parts[0] == "api") {
    result.version = parts[1];
    at = 2;
  } else if (parts.size() >= 4 && parts[0] == "apis") {
    result.group = parts[1];
    result.version = parts[2];
    at = 3;
  } else {
    return std::nullopt;
  }
  std::size_t rest = parts.size() - at;
  // "namespaces/NS/PLURAL..." addresses namespaced objects; "namespaces[/NAME]" the namespaces.
  if (parts[at] == "namespaces" && rest >= 3) {
    result.namespace_name = parts[at + 1];
    at += 2;
    rest -= 2;
  }
  if (rest > 3) return std::nullopt;
  result.plural = parts[at];
  if (rest >= 2) result.name = parts[at + 1];
  if (rest == 3) result.subresource = parts[at + 2];
  return result;
}

}  // namespace kubetrain::fakeapi

#include "tests/fakeapi/resource_path.h"

#include <set>
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

bool is_cluster_scoped(const std::string& resource) {
  static const std::set<std::string> kClusterScoped = {
      "namespaces", "nodes", "persistentvolumes",
      "customresourcedefinitions.apiextensions.k8s.io", "clusterroles.rbac.authorization.k8s.io",
      "clusterrolebindings.rbac.authorization.k8s.io", "priorityclasses.scheduling.k8s.io"};
  return kClusterScoped.contains(resource);
}

bool has_status_subresource(const std::string& resource) {
  static const std::set<std::string> kWithStatus = {
      "pods", "services", "namespaces", "nodes", "persistentvolumeclaims", "jobs.batch",
      "deployments.apps", "statefulsets.apps", "trainingjobs.kubetrain.dev"};
  return kWithStatus.contains(resource);
}

}  // namespace kubetrain::fakeapi

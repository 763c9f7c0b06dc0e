#include "operator/kube/resource_kind.h"

namespace kubetrain {

std::string ResourceKind::api_version() const {
  return group.empty() ? version : group + "/" + version;
}

std::string ResourceKind::collection_path(std::string_view ns) const {
  std::string path = group.empty() ? "/api/" + version : "/apis/" + group + "/" + version;
  if (namespaced && !ns.empty()) {
    path += "/namespaces/";
    path += ns;
  }
  return path + "/" + plural;
}

std::string ResourceKind::object_path(std::string_view ns, std::string_view name) const {
  std::string path = collection_path(ns);
  path += '/';
  path += name;
  return path;
}

std::string ResourceKind::resource_name() const {
  return group.empty() ? plural : plural + "." + group;
}

}  // namespace kubetrain

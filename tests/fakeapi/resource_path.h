#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace kubetrain::fakeapi {

// A request path split the way the API server routes it:
// /api/v1[/namespaces/NS]/PLURAL[/NAME[/SUBRESOURCE]] or
// /apis/GROUP/VERSION[/namespaces/NS]/PLURAL[/NAME[/SUBRESOURCE]].
struct ResourcePath {
  std::string group;
  std::string version;
  std::string plural;
  std::string namespace_name;  // empty: cluster-scoped, or all namespaces
  std::string name;            // empty: the collection
  std::string subresource;     // "status", "binding", or empty

  // "pods" or "trainingjobs.kubetrain.dev": how RBAC and the request log name the resource.
  std::string resource() const { return group.empty() ? plural : plural + "." + group; }
  std::string api_version() const { return group.empty() ? version : group + "/" + version; }
};

// Parses `path`; nullopt when it is not a resource path.
std::optional<ResourcePath> parse_resource_path(std::string_view path);

}  // namespace kubetrain::fakeapi

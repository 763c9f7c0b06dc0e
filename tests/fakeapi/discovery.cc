#include "tests/fakeapi/discovery.h"

#include <algorithm>

#include "tests/fakeapi/custom_resource_definition.h"

namespace kubetrain::fakeapi {
namespace {

using json = nlohmann::json;

// The verbs the server serves on every resource (it has no deletecollection).
const json kVerbs = {"create", "delete", "get", "list", "patch", "update", "watch"};

bool serves(const ResourceInfo& resource, const std::string& version) {
  return std::find(resource.versions.begin(), resource.versions.end(), version) !=
         resource.versions.end();
}

// Group -> its versions by priority, built-in groups first as kube-apiserver lists them.
std::vector<std::pair<std::string, std::vector<std::string>>> groups(
    const ResourceCatalog& catalog) {
  std::vector<std::pair<std::string, std::vector<std::string>>> result;
  for (const auto& resource : catalog.all()) {
    if (resource.group.empty() || resource.versions.empty()) continue;  // none served
    auto it = std::find_if(result.begin(), result.end(),
                           [&](const auto& group) { return group.first == resource.group; });
    if (it == result.end()) it = result.insert(result.end(), {resource.group, {}});
    for (const auto& version : resource.versions) {
      if (std::find(it->second.begin(), it->second.end(), version) == it->second.end()) {
        it->second.push_back(version);
      }
    }
  }
  for (auto& [group, versions] : result) {
    std::sort(versions.begin(), versions.end(), higher_version_priority);
  }
  return result;
}

json group_document(const std::string& group, const std::vector<std::string>& versions) {
  json listed = json::array();
  for (const auto& version : versions) {
    listed.push_back({{"groupVersion", group + "/" + version}, {"version", version}});
  }
  return {{"name", group}, {"versions", listed}, {"preferredVersion", listed.front()}};
}

}  // namespace

json core_api_versions(const std::string& server_address) {
  return {{"kind", "APIVersions"},
          {"versions", {"v1"}},
          {"serverAddressByClientCIDRs",
           json::array({{{"clientCIDR", "0.0.0.0/0"}, {"serverAddress", server_address}}})}};
}

json api_group_list(const ResourceCatalog& catalog) {
  json list = json::array();
  for (const auto& [group, versions] : groups(catalog))
    list.push_back(group_document(group, versions));
  return {{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", std::move(list)}};
}

std::optional<json> api_group(const ResourceCatalog& catalog, const std::string& group) {
  for (const auto& [name, versions] : groups(catalog)) {
    if (name != group) continue;
    json document = group_document(name, versions);
    document["kind"] = "APIGroup";
    document["apiVersion"] = "v1";
    return document;
  }
  return std::nullopt;
}

std::optional<json> api_resource_list(const ResourceCatalog& catalog, const std::string& group,
                                      const std::string& version) {
  json resources = json::array();
  for (const auto& resource : catalog.all()) {
    if (resource.group != group || !serves(resource, version)) continue;
    json entry = {{"name", resource.plural},
                  {"singularName", resource.singular},
                  {"namespaced", resource.namespaced},
                  {"kind", resource.kind},
                  {"verbs", kVerbs}};
    if (!resource.short_names.empty()) entry["shortNames"] = resource.short_names;
    if (!resource.categories.empty()) entry["categories"] = resource.categories;
    resources.push_back(std::move(entry));
    auto subresource = [&](const std::string& name, const std::string& kind, json verbs) {
      resources.push_back({{"name", resource.plural + "/" + name},
                           {"singularName", ""},
                           {"namespaced", resource.namespaced},
                           {"kind", kind},
                           {"verbs", std::move(verbs)}});
    };
    if (resource.resource() == "pods") subresource("binding", "Binding", {"create"});
    if (resource.has_status) subresource("status", resource.kind, {"get", "patch", "update"});
  }
  if (resources.empty()) return std::nullopt;
  std::string group_version = group.empty() ? version : group + "/" + version;
  return json{{"kind", "APIResourceList"},
              {"apiVersion", "v1"},
              {"groupVersion", group_version},
              {"resources", std::move(resources)}};
}

std::vector<std::string> served_group_versions(const ResourceCatalog& catalog) {
  std::vector<std::string> served = {"v1"};
  for (const auto& [group, versions] : groups(catalog)) {
    for (const auto& version : versions) served.push_back(group + "/" + version);
  }
  return served;
}

}  // namespace kubetrain::fakeapi

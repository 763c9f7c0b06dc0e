#include "tests/fakeapi/openapi_v3.h"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <sstream>
#include <vector>

#include "tests/fakeapi/discovery.h"

namespace kubetrain::fakeapi {
namespace {

using json = nlohmann::json;

// "kubetrain.dev" -> "dev.kubetrain".
std::string reversed_domain(const std::string& group) {
  std::vector<std::string> labels;
  std::istringstream parts(group);
  for (std::string label; std::getline(parts, label, '.');) labels.push_back(label);
  std::string reversed;
  for (auto it = labels.rbegin(); it != labels.rend(); ++it) {
    if (!reversed.empty()) reversed += '.';
    reversed += *it;
  }
  return reversed;
}

// Where kube-apiserver's OpenAPI names a kind: "io.k8s.api.core.v1.Pod",
// "io.k8s.api.rbac.v1.Role", and for custom resources by the reversed group,
// "dev.kubetrain.v1alpha1.TrainingJob".
std::string schema_name(const ResourceInfo& resource, const std::string& version) {
  std::string prefix;
  if (resource.custom) {
    prefix = reversed_domain(resource.group);
  } else if (resource.group == "apiextensions.k8s.io") {
    prefix = "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions";
  } else if (resource.group.empty()) {
    prefix = "io.k8s.api.core";
  } else {
    prefix = "io.k8s.api." + resource.group.substr(0, resource.group.find('.'));
  }
  prefix += '.';
  prefix += version;
  prefix += '.';
  prefix += resource.kind;
  return prefix;
}

json query(const char* name, const char* type) {
  return {{"name", name}, {"in", "query"}, {"schema", {{"type", type}}}};
}

json path_parameter(const char* name) {
  return {{"name", name}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}};
}

// One operation on a kind; `action` is its x-kubernetes-action.
json operation(const std::string& action, const std::string& id, const json& gvk,
               const std::string& schema_ref) {
  json parameters = json::array();
  const json reference = {{"$ref", schema_ref}};
  json response_schema = action == "list" ? json{{"type", "object"}} : reference;
  json ok = {{"description", "OK"},
             {"content", {{"application/json", {{"schema", std::move(response_schema)}}}}}};
  json op = {{"operationId", id},
             {"x-kubernetes-action", action},
             {"x-kubernetes-group-version-kind", gvk},
             {"responses", {{"200", std::move(ok)}}}};
  if (action == "post" || action == "put" || action == "patch") {
    // The server validates fields itself: kubectl then sends fieldValidation instead of
    // validating on its side.
    parameters = {query("dryRun", "string"), query("fieldManager", "string"),
                  query("fieldValidation", "string")};
    json content = action == "patch"
                       ? json{{"application/json-patch+json", {{"schema", {{"type", "object"}}}}},
                              {"application/merge-patch+json", {{"schema", {{"type", "object"}}}}}}
                       : json{{"application/json", {{"schema", reference}}}};
    op["requestBody"] = {{"content", std::move(content)}, {"required", true}};
  } else if (action == "list") {
    for (const char* name : {"labelSelector", "fieldSelector", "continue", "resourceVersion"}) {
      parameters.push_back(query(name, "string"));
    }
    for (const char* name : {"limit", "timeoutSeconds"})
      parameters.push_back(query(name, "integer"));
    for (const char* name : {"watch", "allowWatchBookmarks"})
      parameters.push_back(query(name, "boolean"));
  } else if (action == "delete") {
    parameters = {query("gracePeriodSeconds", "integer"), query("propagationPolicy", "string"),
                  query("orphanDependents", "boolean"), query("dryRun", "string")};
  }
  op["parameters"] = std::move(parameters);
  return op;
}

void add_resource(json& document, const ResourceInfo& resource, const std::string& version) {
  std::string name = schema_name(resource, version);
  json gvk = {{"group", resource.group}, {"version", version}, {"kind", resource.kind}};
  json schema = resource.custom && resource.schemas.contains(version)
                    ? resource.schemas.at(version)
                    : json{{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}};
  schema["x-kubernetes-group-version-kind"] = json::array({gvk});
  document["components"]["schemas"][name] = std::move(schema);

  std::string ref = "#/components/schemas/" + name;
  std::string base =
      resource.group.empty() ? "/api/" + version : "/apis/" + resource.group + "/" + version;
  std::string scope = resource.namespaced ? "Namespaced" : "";
  json path_parameters = json::array();
  if (resource.namespaced) {
    base += "/namespaces/{namespace}";
    path_parameters.push_back(path_parameter("namespace"));
  }
  std::string collection = base + "/" + resource.plural;
  json& paths = document["paths"];
  paths[collection] = {{"get", operation("list", "list" + scope + resource.kind, gvk, ref)},
                       {"post", operation("post", "create" + scope + resource.kind, gvk, ref)},
                       {"parameters", path_parameters}};
  auto object_paths = [&](const std::string& path, const std::string& suffix) {
    json parameters = path_parameters;
    parameters.push_back(path_parameter("name"));
    paths[path] = {
        {"get", operation("get", "read" + scope + resource.kind + suffix, gvk, ref)},
        {"put", operation("put", "replace" + scope + resource.kind + suffix, gvk, ref)},
        {"patch", operation("patch", "patch" + scope + resource.kind + suffix, gvk, ref)},
        {"parameters", std::move(parameters)}};
  };
  object_paths(collection + "/{name}", "");
  paths[collection + "/{name}"]["delete"] =
      operation("delete", "delete" + scope + resource.kind, gvk, ref);
  if (resource.has_status) object_paths(collection + "/{name}/status", "Status");
}

std::string hash_of(const json& document) {
  char text[17];
  std::snprintf(text, sizeof text, "%016zX", std::hash<std::string>{}(document.dump()));
  return text;
}

}  // namespace

std::optional<json> openapi_v3_document(const ResourceCatalog& catalog, const std::string& group,
                                        const std::string& version) {
  json document = {{"openapi", "3.0.0"},
                   {"info", {{"title", "Kubernetes"}, {"version", "unversioned"}}},
                   {"paths", json::object()},
                   {"components", {{"schemas", json::object()}}}};
  bool found = false;
  for (const auto& resource : catalog.all()) {
    if (resource.group != group || std::find(resource.versions.begin(), resource.versions.end(),
                                             version) == resource.versions.end()) {
      continue;
    }
    add_resource(document, resource, version);
    found = true;
  }
  if (!found) return std::nullopt;
  return document;
}

json openapi_v3_index(const ResourceCatalog& catalog) {
  json paths = json::object();
  for (const auto& group_version : served_group_versions(catalog)) {
    auto slash = group_version.find('/');
    std::string group = slash == std::string::npos ? "" : group_version.substr(0, slash);
    std::string version = group_version.substr(slash == std::string::npos ? 0 : slash + 1);
    std::string path = group.empty() ? "api/" + version : "apis/" + group_version;
    auto document = openapi_v3_document(catalog, group, version);
    if (!document) continue;  // its CRD went meanwhile
    paths[path] = {{"serverRelativeURL", "/openapi/v3/" + path + "?hash=" + hash_of(*document)}};
  }
  return {{"paths", std::move(paths)}};
}

}  // namespace kubetrain::fakeapi

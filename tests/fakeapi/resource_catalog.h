#pragma once

#include <map>
#include <shared_mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace kubetrain::fakeapi {

// What the server knows about one resource: how discovery lists it, whether it is namespaced and
// has a status subresource, and for custom resources the printer columns and schema per version.
struct ResourceInfo {
  std::string group;                  // "" for the core group
  std::vector<std::string> versions;  // served versions, the preferred one first
  std::string plural;
  std::string singular;
  std::string kind;
  bool namespaced = true;
  bool has_status = false;
  std::vector<std::string> short_names;
  std::vector<std::string> categories;
  bool custom = false;  // defined by a CustomResourceDefinition
  // Custom resources only: spec.versions[].additionalPrinterColumns and .schema.openAPIV3Schema.
  std::map<std::string, nlohmann::json> printer_columns;
  std::map<std::string, nlohmann::json> schemas;

  // "pods" or "trainingjobs.kubetrain.dev", as ResourcePath::resource() names it.
  std::string resource() const { return group.empty() ? plural : plural + "." + group; }
};

// The resources the server describes in discovery: the built-in kinds plus those of the stored
// CustomResourceDefinitions. Requests for resources it does not know are still served, as
// namespaced kinds without a status subresource (the TrainingJob kind excepted, which keeps its
// status subresource without its CRD, as the operator's tests use it that way).
// Thread-safe.
class ResourceCatalog {
 public:
  ResourceCatalog();

  // Adds or replaces the resource a stored CustomResourceDefinition defines.
  void define(const nlohmann::json& crd);
  // Removes the resource of the CustomResourceDefinition named `crd_name` ("plural.group").
  void forget(const std::string& crd_name);

  // The resource ("pods", "trainingjobs.kubetrain.dev"), known or assumed.
  ResourceInfo find(const std::string& resource) const;
  bool is_cluster_scoped(const std::string& resource) const;
  bool has_status_subresource(const std::string& resource) const;
  // Every known resource, built-in ones first, each sorted by resource name.
  std::vector<ResourceInfo> all() const;

 private:
  mutable std::shared_mutex mutex_;
  std::map<std::string, ResourceInfo> built_in_;
  std::map<std::string, ResourceInfo> custom_;  // by CRD name, which is resource()
};

}  // namespace kubetrain::fakeapi

#include "tests/fakeapi/resource_catalog.h"

#include <mutex>

#include "tests/fakeapi/custom_resource_definition.h"

namespace kubetrain::fakeapi {
namespace {

struct BuiltIn {
  const char* group;
  const char* version;
  const char* plural;
  const char* kind;
  bool namespaced;
  bool has_status;
  std::vector<std::string> short_names;
  std::vector<std::string> categories;
};

// The kinds of a kube-apiserver that this project's code and charts use, with the names, scope
// and status subresources kube-apiserver gives them.
const std::vector<BuiltIn>& built_in_kinds() {
  static const std::vector<BuiltIn> kinds = {
      {"", "v1", "configmaps", "ConfigMap", true, false, {"cm"}, {}},
      {"", "v1", "endpoints", "Endpoints", true, false, {"ep"}, {}},
      {"", "v1", "events", "Event", true, false, {"ev"}, {}},
      {"", "v1", "namespaces", "Namespace", false, true, {"ns"}, {}},
      {"", "v1", "nodes", "Node", false, true, {"no"}, {}},
      {"", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", true, true, {"pvc"}, {}},
      {"", "v1", "persistentvolumes", "PersistentVolume", false, true, {"pv"}, {}},
      {"", "v1", "pods", "Pod", true, true, {"po"}, {"all"}},
      {"", "v1", "secrets", "Secret", true, false, {}, {}},
      {"", "v1", "serviceaccounts", "ServiceAccount", true, false, {"sa"}, {}},
      {"", "v1", "services", "Service", true, true, {"svc"}, {"all"}},
      {"apiextensions.k8s.io",
       "v1",
       "customresourcedefinitions",
       "CustomResourceDefinition",
       false,
       true,
       {"crd", "crds"},
       {"api-extensions"}},
      {"apps", "v1", "daemonsets", "DaemonSet", true, true, {"ds"}, {"all"}},
      {"apps", "v1", "deployments", "Deployment", true, true, {"deploy"}, {"all"}},
      {"apps", "v1", "replicasets", "ReplicaSet", true, true, {"rs"}, {"all"}},
      {"apps", "v1", "statefulsets", "StatefulSet", true, true, {"sts"}, {"all"}},
      {"batch", "v1", "cronjobs", "CronJob", true, true, {"cj"}, {"all"}},
      {"batch", "v1", "jobs", "Job", true, true, {}, {"all"}},
      {"coordination.k8s.io", "v1", "leases", "Lease", true, false, {}, {}},
      {"events.k8s.io", "v1", "events", "Event", true, false, {"ev"}, {}},
      {"policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", true, true, {"pdb"}, {}},
      {"rbac.authorization.k8s.io",
       "v1",
       "clusterrolebindings",
       "ClusterRoleBinding",
       false,
       false,
       {},
       {}},
      {"rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", false, false, {}, {}},
      {"rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", true, false, {}, {}},
      {"rbac.authorization.k8s.io", "v1", "roles", "Role", true, false, {}, {}},
      {"scheduling.k8s.io", "v1", "priorityclasses", "PriorityClass", false, false, {"pc"}, {}},
  };
  return kinds;
}

}  // namespace

ResourceCatalog::ResourceCatalog() {
  for (const auto& kind : built_in_kinds()) {
    ResourceInfo info;
    info.group = kind.group;
    info.versions = {kind.version};
    info.plural = kind.plural;
    info.singular = default_singular(kind.kind);
    info.kind = kind.kind;
    info.namespaced = kind.namespaced;
    info.has_status = kind.has_status;
    info.short_names = kind.short_names;
    info.categories = kind.categories;
    built_in_[info.resource()] = std::move(info);
  }
}

void ResourceCatalog::define(const nlohmann::json& crd) {
  ResourceInfo info = describe_custom_resource(crd);
  std::unique_lock lock(mutex_);
  custom_[info.resource()] = std::move(info);
}

void ResourceCatalog::forget(const std::string& crd_name) {
  std::unique_lock lock(mutex_);
  custom_.erase(crd_name);
}

ResourceInfo ResourceCatalog::find(const std::string& resource) const {
  std::shared_lock lock(mutex_);
  if (auto it = custom_.find(resource); it != custom_.end()) return it->second;
  if (auto it = built_in_.find(resource); it != built_in_.end()) return it->second;
  ResourceInfo assumed;
  auto dot = resource.find('.');
  assumed.plural = resource.substr(0, dot);
  if (dot != std::string::npos) assumed.group = resource.substr(dot + 1);
  assumed.has_status = resource == "trainingjobs.kubetrain.dev";
  return assumed;
}

bool ResourceCatalog::is_cluster_scoped(const std::string& resource) const {
  return !find(resource).namespaced;
}

bool ResourceCatalog::has_status_subresource(const std::string& resource) const {
  return find(resource).has_status;
}

std::vector<ResourceInfo> ResourceCatalog::all() const {
  std::shared_lock lock(mutex_);
  std::vector<ResourceInfo> resources;
  for (const auto& [name, info] : built_in_) resources.push_back(info);
  for (const auto& [name, info] : custom_) resources.push_back(info);
  return resources;
}

}  // namespace kubetrain::fakeapi

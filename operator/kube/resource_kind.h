#pragma once

#include <string>
#include <string_view>

namespace kubetrain {

// Identifies one Kubernetes resource type the way the REST API addresses it:
// /api/v1/... for the core group ("" group), /apis/<group>/<version>/... otherwise.
struct ResourceKind {
  std::string group;    // "" for the core group
  std::string version;  // "v1", "v1alpha1", ...
  std::string plural;   // "pods", "trainingjobs": the path segment
  std::string kind;     // "Pod", "TrainingJob": the object's `kind` field
  bool namespaced = true;
  // True when the kind has a /status subresource (status is then ignored by writes to the main
  // resource and spec is ignored by writes to /status).
  bool has_status = false;

  // "v1" for the core group, "<group>/<version>" otherwise: the objects' `apiVersion`.
  std::string api_version() const;
  // The collection path, for example /api/v1/namespaces/ns/pods, or /api/v1/pods for all
  // namespaces when `ns` is empty (and always for cluster-scoped kinds).
  std::string collection_path(std::string_view ns) const;
  // The path of one object: collection_path(ns) + "/" + name.
  std::string object_path(std::string_view ns, std::string_view name) const;
  // "pods" or "trainingjobs.kubetrain.dev": the resource name used in RBAC rules and metrics.
  std::string resource_name() const;
};

// The kinds the operator works with.
namespace kinds {
inline const ResourceKind kPods{"", "v1", "pods", "Pod", true, true};
inline const ResourceKind kServices{"", "v1", "services", "Service", true, true};
inline const ResourceKind kConfigMaps{"", "v1", "configmaps", "ConfigMap", true, false};
inline const ResourceKind kSecrets{"", "v1", "secrets", "Secret", true, false};
inline const ResourceKind kEvents{"", "v1", "events", "Event", true, false};
inline const ResourceKind kEventsV1{"events.k8s.io", "v1", "events", "Event", true, false};
inline const ResourceKind kNamespaces{"", "v1", "namespaces", "Namespace", false, true};
inline const ResourceKind kLeases{"coordination.k8s.io", "v1", "leases", "Lease", true, false};
inline const ResourceKind kJobs{"batch", "v1", "jobs", "Job", true, true};
inline const ResourceKind kTrainingJobs{"kubetrain.dev", "v1alpha1", "trainingjobs", "TrainingJob",
                                        true, true};
// Gang scheduling: Volcano's PodGroup (no status subresource) and scheduler-plugins' (coscheduling).
inline const ResourceKind kVolcanoPodGroups{"scheduling.volcano.sh", "v1beta1", "podgroups", "PodGroup",
                                            true, false};
inline const ResourceKind kCoschedulingPodGroups{"scheduling.x-k8s.io", "v1alpha1", "podgroups", "PodGroup",
                                                 true, true};
// Queueing through Kueue: the Workload of a job, the flavors an admission assigns, and the
// PriorityClasses whose values a Workload carries.
inline const ResourceKind kWorkloads{"kueue.x-k8s.io", "v1beta2", "workloads", "Workload", true, true};
inline const ResourceKind kResourceFlavors{"kueue.x-k8s.io", "v1beta2", "resourceflavors", "ResourceFlavor",
                                           false, false};
inline const ResourceKind kPriorityClasses{"scheduling.k8s.io", "v1", "priorityclasses", "PriorityClass",
                                           false, false};
}  // namespace kinds

}  // namespace kubetrain

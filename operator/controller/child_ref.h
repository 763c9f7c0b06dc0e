#pragma once

// A child object other than a pod, and what a reconcile does to one: create it, or write it back
// changed.

#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "operator/kube/resource_kind.h"

namespace kubetrain {

// A child object other than a pod: its kind (never null) and name.
struct ChildRef {
  const ResourceKind* kind = nullptr;
  std::string name;

  bool operator<(const ChildRef& other) const;  // by resource, then name
  bool operator==(const ChildRef& other) const { return !(*this < other) && !(other < *this); }
};

// A child the job needs and the cache lacks. `build` makes its body when it is created: the
// Secret's key pair is new each time.
struct ChildToCreate {
  ChildRef ref;
  std::function<nlohmann::json()> build;
};

// A child written back whole: the cached object, changed, with the cached resourceVersion, so
// that a write over someone else's newer change fails with a conflict and the reconcile retries.
struct ChildUpdate {
  ChildRef ref;
  nlohmann::json object;
  bool status = false;  // a PUT to the /status subresource, else to the object
  std::string what;     // what changes, for the log: "clear the admission"
};

}  // namespace kubetrain

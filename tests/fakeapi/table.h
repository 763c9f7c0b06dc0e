#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/fakeapi/resource_catalog.h"

namespace kubetrain::fakeapi {

// A request for server-side printing, as `kubectl get` makes it: an Accept header asking for
// application/json;as=Table;g=meta.k8s.io;v=v1 (or v1beta1), and the includeObject parameter.
class TableRequest {
 public:
  // nullopt when the Accept header asks for no Table. Throws StatusError 400 for an
  // includeObject other than None, Metadata (the default) or Object.
  static std::optional<TableRequest> from(std::string_view accept, std::string_view include_object);

  // `objects` of `resource` as a Table of the columns table_columns() gives, with `metadata`
  // (resourceVersion, continue) as the Table's list metadata. Each row carries its object as
  // includeObject asks: none, its PartialObjectMetadata, or all of it.
  nlohmann::json render(const ResourceInfo& resource, const std::string& version,
                        const std::vector<nlohmann::json>& objects, nlohmann::json metadata) const;

 private:
  std::string api_version_;     // "meta.k8s.io/v1" or "meta.k8s.io/v1beta1"
  std::string include_object_;  // "None", "Metadata" or "Object"
};

}  // namespace kubetrain::fakeapi

#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/fakeapi/resource_catalog.h"

namespace kubetrain::fakeapi {

// OpenAPI v3 as kube-apiserver publishes it, to the extent clients rely on it: kubectl reads the
// operations of a kind to learn that the server validates fields itself (the fieldValidation
// query parameter of its PATCH) and which patch types it accepts (no strategic merge patch here,
// so kubectl apply sends JSON merge patches), and kubectl explain reads the schemas.

// GET /openapi/v3: each group version's document path ("api/v1", "apis/GROUP/VERSION") with the
// serverRelativeURL to fetch it from, whose hash query changes with the document.
nlohmann::json openapi_v3_index(const ResourceCatalog& catalog);

// GET /openapi/v3/api/v1 (group "") or /openapi/v3/apis/GROUP/VERSION: the paths of the group
// version's resources, and as schemas the CRDs' openAPIV3Schemas (built-in kinds get an open
// schema); nullopt for an unknown group version.
std::optional<nlohmann::json> openapi_v3_document(const ResourceCatalog& catalog,
                                                  const std::string& group,
                                                  const std::string& version);

}  // namespace kubetrain::fakeapi

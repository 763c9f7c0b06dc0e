#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/fakeapi/resource_catalog.h"

namespace kubetrain::fakeapi {

// Unaggregated discovery documents (what clients fall back to when the server answers their
// request for aggregated discovery with plain application/json), built from the catalog.

// GET /api: APIVersions. `server_address` ("127.0.0.1:PORT") is where clients reach the server.
nlohmann::json core_api_versions(const std::string& server_address);
// GET /apis: APIGroupList of every group but the core one.
nlohmann::json api_group_list(const ResourceCatalog& catalog);
// GET /apis/GROUP: APIGroup; nullopt for an unknown group.
std::optional<nlohmann::json> api_group(const ResourceCatalog& catalog, const std::string& group);
// GET /api/v1 (group "") and /apis/GROUP/VERSION: APIResourceList of the resources and their
// subresources; nullopt for an unknown group version.
std::optional<nlohmann::json> api_resource_list(const ResourceCatalog& catalog,
                                                const std::string& group,
                                                const std::string& version);

// The group versions the catalog serves, core "v1" first, then "GROUP/VERSION".
std::vector<std::string> served_group_versions(const ResourceCatalog& catalog);

}  // namespace kubetrain::fakeapi

#pragma once

#include <functional>

#include <httplib.h>

#include "tests/fakeapi/resource_catalog.h"

namespace kubetrain::fakeapi {

// What kube-apiserver answers for paths it does not serve.
inline constexpr char kNoSuchResource[] = "the server could not find the requested resource";

// Serves discovery (GET /api, /api/VERSION, /apis, /apis/GROUP, /apis/GROUP/VERSION) and OpenAPI
// v3 (GET /openapi/v3, /openapi/v3/api/VERSION, /openapi/v3/apis/GROUP/VERSION) from `catalog`;
// `port` tells where clients reach the server. Unknown groups and versions get 404.
void serve_discovery(httplib::Server& server, const ResourceCatalog& catalog,
                     std::function<int()> port);

}  // namespace kubetrain::fakeapi

#include "tests/fakeapi/discovery_routes.h"

#include <optional>
#include <string>

#include "tests/fakeapi/discovery.h"
#include "tests/fakeapi/openapi_v3.h"
#include "tests/fakeapi/status_error.h"

namespace kubetrain::fakeapi {
namespace {

using json = nlohmann::json;

constexpr char kJson[] = "application/json";

// Answers `document`, or 404 when there is none.
void send_document(httplib::Response& res, const std::optional<json>& document) {
  if (document) {
    res.set_content(document->dump(), kJson);
    return;
  }
  StatusError missing(404, "NotFound", kNoSuchResource);
  res.status = missing.code();
  res.set_content(missing.to_status().dump(), kJson);
}

}  // namespace

void serve_discovery(httplib::Server& server, const ResourceCatalog& catalog,
                     std::function<int()> port) {
  using Request = httplib::Request;
  using Response = httplib::Response;
  server.Get("/api", [port](const Request&, Response& res) {
    send_document(res, core_api_versions("127.0.0.1:" + std::to_string(port())));
  });
  server.Get(R"(/api/([^/]+))", [&catalog](const Request& req, Response& res) {
    send_document(res, api_resource_list(catalog, "", req.matches[1]));
  });
  server.Get("/apis", [&catalog](const Request&, Response& res) {
    send_document(res, api_group_list(catalog));
  });
  server.Get(R"(/apis/([^/]+))", [&catalog](const Request& req, Response& res) {
    send_document(res, api_group(catalog, req.matches[1]));
  });
  server.Get(R"(/apis/([^/]+)/([^/]+))", [&catalog](const Request& req, Response& res) {
    send_document(res, api_resource_list(catalog, req.matches[1], req.matches[2]));
  });
  server.Get("/openapi/v3", [&catalog](const Request&, Response& res) {
    send_document(res, openapi_v3_index(catalog));
  });
  server.Get(R"(/openapi/v3/api/([^/]+))", [&catalog](const Request& req, Response& res) {
    send_document(res, openapi_v3_document(catalog, "", req.matches[1]));
  });
  server.Get(R"(/openapi/v3/apis/([^/]+)/([^/]+))", [&catalog](const Request& req, Response& res) {
    send_document(res, openapi_v3_document(catalog, req.matches[1], req.matches[2]));
  });
}

}  // namespace kubetrain::fakeapi

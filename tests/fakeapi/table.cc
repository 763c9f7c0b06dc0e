#include "tests/fakeapi/table.h"

#include <chrono>

#include "tests/fakeapi/status_error.h"
#include "tests/fakeapi/table_columns.h"

namespace kubetrain::fakeapi {
namespace {

using json = nlohmann::json;

std::string_view trim(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  return text;
}

// The Table version one media range of an Accept header asks for: "v1" for
// "application/json;as=Table;v=v1;g=meta.k8s.io", or "".
std::string table_version(std::string_view range) {
  std::string as, group, version;
  std::size_t start = range.find(';');
  if (trim(range.substr(0, start)) != "application/json") return "";
  while (start != std::string_view::npos) {
    std::size_t next = range.find(';', start + 1);
    auto parameter =
        trim(range.substr(start + 1, next == std::string_view::npos ? next : next - start - 1));
    auto equals = parameter.find('=');
    if (equals != std::string_view::npos) {
      auto key = parameter.substr(0, equals);
      std::string value(parameter.substr(equals + 1));
      if (key == "as") as = value;
      if (key == "g") group = value;
      if (key == "v") version = value;
    }
    start = next;
  }
  bool known = version == "v1" || version == "v1beta1";
  return as == "Table" && group == "meta.k8s.io" && known ? version : "";
}

json row_object(const json& object, const std::string& include, const std::string& api_version) {
  if (include == "Object") return object;
  return {{"kind", "PartialObjectMetadata"},
          {"apiVersion", api_version},
          {"metadata", object.value("metadata", json::object())}};
}

}  // namespace

std::optional<TableRequest> TableRequest::from(std::string_view accept,
                                               std::string_view include_object) {
  // The first range the server can serve wins; kubectl lists Table first, plain JSON last.
  std::string version;
  for (std::size_t start = 0; start <= accept.size();) {
    std::size_t comma = accept.find(',', start);
    if (comma == std::string_view::npos) comma = accept.size();
    auto range = trim(accept.substr(start, comma - start));
    version = table_version(range);
    if (!version.empty() || range.starts_with("application/json")) break;
    start = comma + 1;
  }
  if (version.empty()) return std::nullopt;
  TableRequest request;
  request.api_version_ = "meta.k8s.io/" + version;
  request.include_object_ = include_object.empty() ? "Metadata" : std::string(include_object);
  if (request.include_object_ != "None" && request.include_object_ != "Metadata" &&
      request.include_object_ != "Object") {
    throw StatusError(400, "BadRequest",
                      "includeObject: Unsupported value: \"" + request.include_object_ +
                          "\": supported values: \"Metadata\", \"None\", \"Object\"");
  }
  return request;
}

json TableRequest::render(const ResourceInfo& resource, const std::string& version,
                          const std::vector<json>& objects, json metadata) const {
  auto columns = table_columns(resource, version, std::chrono::system_clock::now());
  json definitions = json::array();
  for (const auto& column : columns) definitions.push_back(column.definition);
  json rows = json::array();
  for (const auto& object : objects) {
    json cells = json::array();
    for (const auto& column : columns) cells.push_back(column.cell(object));
    json row = {{"cells", std::move(cells)}};
    if (include_object_ != "None")
      row["object"] = row_object(object, include_object_, api_version_);
    rows.push_back(std::move(row));
  }
  return {{"kind", "Table"},
          {"apiVersion", api_version_},
          {"metadata", std::move(metadata)},
          {"columnDefinitions", std::move(definitions)},
          {"rows", std::move(rows)}};
}

}  // namespace kubetrain::fakeapi

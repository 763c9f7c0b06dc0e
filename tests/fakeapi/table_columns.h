#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/fakeapi/resource_catalog.h"

namespace kubetrain::fakeapi {

// One column of a meta.k8s.io Table: its TableColumnDefinition and how an object fills it.
struct TableColumn {
  nlohmann::json definition;  // name, type, format, description, priority
  std::function<nlohmann::json(const nlohmann::json& object)> cell;
};

// The columns kube-apiserver prints `resource` at `version` with: a CRD's additionalPrinterColumns
// after Name; for pods Name, Ready, Status, Restarts, Age, then (priority 1, shown by -o wide)
// IP, Node, Nominated Node, Readiness Gates; for other kinds Name and Age. Ages count to `now`.
std::vector<TableColumn> table_columns(const ResourceInfo& resource, const std::string& version,
                                       std::chrono::system_clock::time_point now);

// How long ago `timestamp` (RFC 3339) was, as kubectl shows ages: "45s", "5m30s", "3h", "2d4h";
// "<unknown>" for a missing or malformed timestamp.
std::string age_since(const std::string& timestamp, std::chrono::system_clock::time_point now);

}  // namespace kubetrain::fakeapi

#pragma once

#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

namespace kubetrain::fakeapi {

// The JSONPath subset that CRD printer columns use, evaluated as kube-apiserver does for a
// column (the first result, missing keys allowed): fields (.status.state), quoted keys
// (.metadata.labels['app.kubernetes.io/name']), indices ([0], [-1]) and equality filters
// (.status.conditions[?(@.type=="Ready")].status). nullopt where the path finds nothing.
// Throws std::invalid_argument for other syntax.
std::optional<nlohmann::json> first_json_path_result(const nlohmann::json& object,
                                                     std::string_view path);

}  // namespace kubetrain::fakeapi

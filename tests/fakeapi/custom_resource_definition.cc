#include "tests/fakeapi/custom_resource_definition.h"

#include <algorithm>
#include <cctype>
#include <regex>
#include <tuple>

#include "operator/kube/api_time.h"
#include "tests/fakeapi/json_fields.h"
#include "tests/fakeapi/status_error.h"

namespace kubetrain::fakeapi {
namespace {

using json = nlohmann::json;

// The checks of apiextensions' ValidateCustomResourceDefinition that a typo in a CRD would hit.
std::vector<std::string> validation_errors(const json& crd) {
  std::vector<std::string> errors;
  const json spec = member(crd, "spec");
  const json names = member(spec, "names");
  std::string group = string_at(spec, "group");
  std::string plural = string_at(names, "plural");
  if (group.empty()) errors.push_back("spec.group: Required value");
  if (plural.empty()) errors.push_back("spec.names.plural: Required value");
  if (string_at(names, "kind").empty()) errors.push_back("spec.names.kind: Required value");
  std::string name = string_at(member(crd, "metadata"), "name");
  if (!group.empty() && !plural.empty() && name != plural + "." + group) {
    errors.push_back("metadata.name: Invalid value: \"" + name +
                     "\": must be spec.names.plural+\".\"+spec.group");
  }
  std::string scope = string_at(spec, "scope");
  if (scope != "Namespaced" && scope != "Cluster") {
    errors.push_back("spec.scope: Unsupported value: \"" + scope +
                     "\": supported values: \"Cluster\", \"Namespaced\"");
  }
  const json versions = spec.value("versions", json::array());
  auto storage = !versions.is_array()
                     ? 0
                     : std::count_if(versions.begin(), versions.end(), [](const json& version) {
                         return version.is_object() && version.value("storage", false);
                       });
  if (storage != 1) {
    errors.push_back("spec.versions: Invalid value: " + versions.dump() +
                     ": must have exactly one version marked as storage version");
  }
  return errors;
}

json condition(const char* type, const char* reason, const char* message, const json& previous,
               const std::string& now) {
  std::string since = now;
  for (const auto& old : member(member(previous, "status"), "conditions")) {
    if (old.value("type", "") == type && old.value("status", "") == "True") {
      since = old.value("lastTransitionTime", now);
    }
  }
  return {{"type", type},
          {"status", "True"},
          {"lastTransitionTime", since},
          {"reason", reason},
          {"message", message}};
}

std::string storage_version(const json& crd) {
  for (const auto& version : crd["spec"]["versions"]) {
    if (version.value("storage", false)) return version.value("name", "");
  }
  return "";
}

// "v1" -> (3, 1, 0), "v1beta2" -> (2, 1, 2), "v2alpha1" -> (1, 2, 1); anything else (0, 0, 0).
std::tuple<int, int, int> version_rank(const std::string& version) {
  static const std::regex kKubeVersion("v([1-9][0-9]*)(?:(alpha|beta)([1-9][0-9]*))?");
  std::smatch match;
  if (!std::regex_match(version, match, kKubeVersion)) return {0, 0, 0};
  int stability = !match[2].matched ? 3 : match[2] == "beta" ? 2 : 1;
  return {stability, std::stoi(match[1]), match[3].matched ? std::stoi(match[3]) : 0};
}

}  // namespace

std::string default_singular(const std::string& kind) {
  std::string singular = kind;
  for (char& c : singular) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return singular;
}

bool higher_version_priority(const std::string& a, const std::string& b) {
  auto rank_a = version_rank(a);
  auto rank_b = version_rank(b);
  if (rank_a != rank_b) return rank_a > rank_b;
  return a < b;
}

json accept_custom_resource_definition(json crd, const json& previous,
                                       std::chrono::system_clock::time_point now) {
  if (!crd.contains("spec") || !crd["spec"].is_object()) crd["spec"] = json::object();
  if (auto errors = validation_errors(crd); !errors.empty()) {
    throw invalid("CustomResourceDefinition.apiextensions.k8s.io",
                  string_at(member(crd, "metadata"), "name"), errors);
  }
  json& names = crd["spec"]["names"];
  std::string kind = names["kind"];
  if (string_at(names, "singular").empty()) names["singular"] = default_singular(kind);
  if (string_at(names, "listKind").empty()) names["listKind"] = kind + "List";

  std::string time = format_api_time(now);
  json stored_versions = member(previous, "status").value("storedVersions", json::array());
  std::string storage = storage_version(crd);
  if (std::find(stored_versions.begin(), stored_versions.end(), storage) == stored_versions.end()) {
    stored_versions.push_back(storage);
  }
  crd["status"] = {
      {"acceptedNames", names},
      {"conditions",
       json::array({condition("NamesAccepted", "NoConflicts", "no conflicts found", previous, time),
                    condition("Established", "InitialNamesAccepted",
                              "the initial names have been accepted", previous, time)})},
      {"storedVersions", stored_versions}};
  return crd;
}

ResourceInfo describe_custom_resource(const json& crd) {
  const json& spec = crd["spec"];
  const json& names = spec["names"];
  ResourceInfo info;
  info.custom = true;
  info.group = spec.value("group", "");
  info.plural = names.value("plural", "");
  info.singular = names.value("singular", "");
  info.kind = names.value("kind", "");
  info.namespaced = spec.value("scope", "Namespaced") != "Cluster";
  info.short_names = names.value("shortNames", std::vector<std::string>{});
  info.categories = names.value("categories", std::vector<std::string>{});
  // A CRD without printer columns gets the one column kube-apiserver defaults to.
  const json age_only = json::array(
      {{{"name", "Age"}, {"type", "date"}, {"jsonPath", ".metadata.creationTimestamp"}}});
  for (const auto& version : spec.value("versions", json::array())) {
    if (!version.value("served", false)) continue;
    std::string name = version.value("name", "");
    info.versions.push_back(name);
    if (version.contains("subresources") && version["subresources"].contains("status")) {
      info.has_status = true;
    }
    info.printer_columns[name] = version.value("additionalPrinterColumns", age_only);
    info.schemas[name] =
        version.value("schema", json::object()).value("openAPIV3Schema", json{{"type", "object"}});
  }
  std::sort(info.versions.begin(), info.versions.end(), higher_version_priority);
  return info;
}

}  // namespace kubetrain::fakeapi

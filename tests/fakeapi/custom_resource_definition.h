#pragma once

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/fakeapi/resource_catalog.h"

namespace kubetrain::fakeapi {

// "customresourcedefinitions.apiextensions.k8s.io", the resource CRDs are stored under.
inline constexpr char kCustomResourceDefinitions[] =
    "customresourcedefinitions.apiextensions.k8s.io";

// A CustomResourceDefinition (apiextensions.k8s.io/v1) as it is about to be stored: validated
// (422 Invalid), defaulted (names.singular, names.listKind) and given the status kube-apiserver's
// naming and establishing controllers give an accepted CRD (acceptedNames, NamesAccepted and
// Established conditions, storedVersions). `previous` is the stored CRD an update replaces (null
// on create): conditions that keep their status keep their lastTransitionTime.
nlohmann::json accept_custom_resource_definition(nlohmann::json crd, const nlohmann::json& previous,
                                                 std::chrono::system_clock::time_point now);

// The resource an accepted CRD defines.
ResourceInfo describe_custom_resource(const nlohmann::json& crd);

// The singular name kube-apiserver gives a resource that names none: the lowercased kind.
std::string default_singular(const std::string& kind);

// Whether version `a` sorts before `b` in kube-apiserver's version priority: GA before beta
// before alpha, higher numbers first, then versions that do not look like Kubernetes versions in
// alphabetical order ("v2", "v1", "v1beta2", "v1beta1", "v1alpha1", "foo").
bool higher_version_priority(const std::string& a, const std::string& b);

}  // namespace kubetrain::fakeapi

#pragma once

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

namespace kubetrain::fakeapi {

// The pods/binding subresource as kube-apiserver's BindingREST serves it to kube-scheduler.

// Checks a Binding posted to .../pods/`pod_name`/binding in namespace `ns` before the pod is
// looked up: 400 BadRequest when its metadata names another pod or namespace, and, as
// kube-apiserver answers an invalid target (kind neither empty nor "Node", no name), 500 with the
// field errors as the message.
void validate_binding(const nlohmann::json& binding, const std::string& ns,
                      const std::string& pod_name);

// `pod` assigned to the Binding's target node: spec.nodeName set, the Binding's annotations
// merged into the pod's, a PodScheduled=True condition. 409 Conflict when the pod is being
// deleted, is already assigned to a node, has scheduling gates, or fails the Binding's uid or
// resourceVersion preconditions.
nlohmann::json bound_pod(const nlohmann::json& pod, const nlohmann::json& binding,
                         std::chrono::system_clock::time_point now);

// What a successful binding answers: the Status kube-apiserver returns with 201 Created.
nlohmann::json binding_created_status();

}  // namespace kubetrain::fakeapi

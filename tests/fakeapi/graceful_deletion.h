#pragma once

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

namespace kubetrain::fakeapi {

// What a DELETE does to one stored object.
struct DeletionStep {
  enum Kind {
    kRemove,  // gone now: a DELETED event carries `object`
    kMark,    // stored as `object` (deletionTimestamp set): a MODIFIED event
    kKeep,    // unchanged: already being deleted, and no shorter grace period asked for
  };
  Kind kind;
  nlohmann::json object;
};

// Decides a DELETE of `object` (of `resource`, "pods" or another) with the DeleteOptions
// `options` (null or an object) as kube-apiserver does:
// - Pods are deleted gracefully (rest.BeforeDelete with the pod strategy's CheckGracefulDelete):
//   the grace period is options.gracePeriodSeconds, else spec.terminationGracePeriodSeconds,
//   else 30 (what kube-apiserver defaults that field to), and 0 for a pod not bound to a node
//   (no spec.nodeName) or already Succeeded or Failed; negative periods count as 1. A positive
//   period only marks the pod: deletionTimestamp = now + period, deletionGracePeriodSeconds =
//   period, generation + 1; the kubelet removes it once its containers stopped, by deleting it
//   again with gracePeriodSeconds 0. A pod being deleted may only have its period shortened.
// - Other kinds are not deleted gracefully.
// - Either way an object with finalizers is only marked (at the latest with deletionTimestamp
//   now and deletionGracePeriodSeconds 0) until its finalizers are removed.
DeletionStep plan_deletion(const std::string& resource, const nlohmann::json& object,
                           const nlohmann::json& options,
                           std::chrono::system_clock::time_point now);

}  // namespace kubetrain::fakeapi

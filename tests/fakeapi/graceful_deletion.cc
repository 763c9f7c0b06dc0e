#include "tests/fakeapi/graceful_deletion.h"

#include <cstdint>
#include <optional>

#include "operator/controller/rfc3339.h"
#include "operator/kube/api_time.h"
#include "tests/fakeapi/json_fields.h"

namespace kubetrain::fakeapi {
namespace {

using json = nlohmann::json;
using TimePoint = std::chrono::system_clock::time_point;

// What kube-apiserver's defaulting puts in a pod's spec.terminationGracePeriodSeconds.
constexpr std::int64_t kDefaultTerminationGracePeriod = 30;

bool has_finalizers(const json& metadata) {
  return metadata.contains("finalizers") && metadata["finalizers"].is_array() &&
         !metadata["finalizers"].empty();
}

bool being_deleted(const json& metadata) {
  return metadata.contains("deletionTimestamp") && !metadata["deletionTimestamp"].is_null();
}

TimePoint deletion_time(const json& metadata, TimePoint fallback) {
  auto parsed = parse_rfc3339(metadata.value("deletionTimestamp", ""));
  return parsed ? *parsed : fallback;
}

json marked(const json& object, TimePoint when, std::int64_t grace, bool bump_generation) {
  json result = object;
  json& metadata = result["metadata"];
  metadata["deletionTimestamp"] = format_api_time(when);
  metadata["deletionGracePeriodSeconds"] = grace;
  if (bump_generation && metadata.value("generation", 0) > 0) {
    metadata["generation"] = metadata["generation"].get<std::int64_t>() + 1;
  }
  return result;
}

// The generic registry's path for a delete that is not graceful: gone now, or with finalizers
// marked as kube-apiserver's markAsDeleting does.
DeletionStep delete_now(const json& object, TimePoint now) {
  const json& metadata = object["metadata"];
  if (!has_finalizers(metadata)) return {DeletionStep::kRemove, object};
  bool first = !being_deleted(metadata);
  if (!first && deletion_time(metadata, now) <= now) {
    json result = object;
    result["metadata"]["deletionGracePeriodSeconds"] = 0;
    if (result == object) return {DeletionStep::kKeep, object};
    return {DeletionStep::kMark, std::move(result)};
  }
  return {DeletionStep::kMark, marked(object, now, 0, first)};
}

// A graceful deletion's mark, written; with no grace left and no finalizers kube-apiserver
// deletes the object right after, and the DELETED event carries the marked object.
DeletionStep graceful_step(json marked_object, std::int64_t period) {
  if (period == 0 && !has_finalizers(marked_object["metadata"])) {
    return {DeletionStep::kRemove, std::move(marked_object)};
  }
  return {DeletionStep::kMark, std::move(marked_object)};
}

// The pod strategy's CheckGracefulDelete: the grace period a first DELETE of `pod` gets.
std::int64_t pod_grace_period(const json& pod, std::optional<std::int64_t> requested) {
  const json spec = pod.value("spec", json::object());
  std::int64_t period = requested ? *requested
                                  : integer_at(spec, "terminationGracePeriodSeconds")
                                        .value_or(kDefaultTerminationGracePeriod);
  if (spec.value("nodeName", "").empty()) period = 0;
  std::string phase = pod.value("status", json::object()).value("phase", "");
  if (phase == "Succeeded" || phase == "Failed") period = 0;
  return period < 0 ? 1 : period;
}

}  // namespace

DeletionStep plan_deletion(const std::string& resource, const json& object, const json& options,
                           TimePoint now) {
  std::optional<std::int64_t> requested = integer_at(options, "gracePeriodSeconds");
  if (requested && *requested < 0) requested = 1;  // negative periods count as 1 s
  if (resource != "pods") return delete_now(object, now);

  const json& metadata = object["metadata"];
  if (!being_deleted(metadata)) {
    std::int64_t period = pod_grace_period(object, requested);
    return graceful_step(marked(object, now + std::chrono::seconds(period), period, true), period);
  }
  auto current = integer_at(metadata, "deletionGracePeriodSeconds");
  // Marked without a grace period left (by finalizers, or a shortening to 0): no more grace.
  if (!current || *current == 0) return delete_now(object, now);
  if (!requested || *requested >= *current) return {DeletionStep::kKeep, object};
  // Shortened: the deletion moves earlier by the difference, but not into the past; a graceful
  // request whose time is up keeps 1 s so that the kubelet still confirms it.
  std::int64_t period = *requested;
  TimePoint when = deletion_time(metadata, now) - std::chrono::seconds(*current - period);
  if (when < now) {
    when = now;
    if (period != 0) period = 1;
  }
  return graceful_step(marked(object, when, period, false), period);
}

}  // namespace kubetrain::fakeapi

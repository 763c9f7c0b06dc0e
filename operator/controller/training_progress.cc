#include "operator/controller/training_progress.h"

#include <algorithm>
#include <cmath>

namespace kubetrain {

using nlohmann::json;

std::optional<std::string> progress_url(const TrainingJobSpec& spec, const std::vector<PodView>& pods,
                                        int64_t attempt) {
  const PodView* worker0 = nullptr;
  bool launcher_running = false;
  for (const PodView& pod : pods) {
    if (pod.attempt != attempt || pod.deleting) continue;
    if (pod.role == PodRole::kWorker && pod.index == 0) worker0 = &pod;
    if (pod.role == PodRole::kLauncher && pod.phase == "Running") launcher_running = true;
  }
  if (!launcher_running || worker0 == nullptr || worker0->pod_ip.empty() || spec.status_port() == 0) {
    return std::nullopt;
  }
  return "http://" + worker0->pod_ip + ":" + std::to_string(spec.status_port()) + "/progress";
}

json merge_progress(const std::optional<json>& previous, const json& report, TimePoint now) {
  json progress = json::object();
  for (const char* key : {"epoch", "step", "totalSteps", "loss", "top1", "imagesPerSecond", "lossScale", "state"}) {
    if (report.contains(key) && !report[key].is_null()) progress[key] = report[key];
  }
  // The throughput is a printer column of `kubectl get`: a tenth of an image per second says
  // enough, where the worker's double would print seventeen digits.
  if (progress.contains("imagesPerSecond") && progress["imagesPerSecond"].is_number()) {
    progress["imagesPerSecond"] = std::round(progress["imagesPerSecond"].get<double>() * 10.0) / 10.0;
  }
  if (progress.contains("step") && progress["step"].is_number() && progress.contains("totalSteps") &&
      progress["totalSteps"].is_number() && progress["totalSteps"].get<double>() > 0) {
    const double ratio = progress["step"].get<double>() / progress["totalSteps"].get<double>();
    progress["percent"] = std::clamp(static_cast<int64_t>(100.0 * ratio), int64_t{0}, int64_t{100});
  }
  const bool same_step = previous && previous->contains("step") && progress.contains("step") &&
                         (*previous)["step"] == progress["step"] && previous->contains("lastStepTime");
  progress["lastStepTime"] = same_step ? (*previous)["lastStepTime"] : json(format_rfc3339(now));
  return progress;
}

json training_result(const std::optional<json>& progress, const std::string& start_time, TimePoint completion) {
  json result = json::object();
  if (progress) {
    if (progress->contains("top1")) result["top1"] = (*progress)["top1"];
    if (progress->contains("imagesPerSecond")) result["imagesPerSecond"] = (*progress)["imagesPerSecond"];
  }
  if (const auto start = parse_rfc3339(start_time)) {
    result["wallSeconds"] = std::chrono::duration_cast<std::chrono::seconds>(completion - *start).count();
  }
  return result;
}

}  // namespace kubetrain

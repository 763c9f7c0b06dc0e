#pragma once

// Rank 0's /progress report (worker-0, spec.training.statusPort) and how it folds into status.

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "operator/controller/pod_view.h"
#include "operator/controller/training_job.h"

namespace kubetrain {

// "http://IP:PORT/progress" while the current attempt's launcher runs and worker-0 has an IP.
std::optional<std::string> progress_url(const TrainingJobSpec& spec, const std::vector<PodView>& pods,
                                        int64_t attempt);

// The known fields of a report (epoch, step, totalSteps, loss, top1, imagesPerSecond, lossScale,
// state; imagesPerSecond rounded to a tenth), plus lastStepTime: `now` when the step moved since
// `previous`, else the previous time.
nlohmann::json merge_progress(const std::optional<nlohmann::json>& previous, const nlohmann::json& report,
                              TimePoint now);

// result {top1, imagesPerSecond, wallSeconds} from the last progress and the run's times.
nlohmann::json training_result(const std::optional<nlohmann::json>& progress, const std::string& start_time,
                               TimePoint completion);

}  // namespace kubetrain

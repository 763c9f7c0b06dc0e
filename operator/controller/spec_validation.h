#pragma once

#include <string>

#include "operator/controller/training_job.h"

namespace kubetrain {

// The rule the CRD's CEL expression enforces, checked again here because the CRD may be old or
// CEL off: "spec.training.globalBatchSize 1000 is not divisible by 12 ranks; use 996 or 1008".
// Returns an empty string when the batch divides evenly.
std::string batch_divisibility_error(int64_t global_batch_size, int64_t ranks);

// Everything the operator needs to build the job's objects; throws InvalidSpecError with a
// message naming the field and what would be valid.
void validate_training_job(const ObjectMeta& metadata, const TrainingJobSpec& spec);

}  // namespace kubetrain

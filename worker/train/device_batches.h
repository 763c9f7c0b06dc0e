#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "worker/backend/backend.h"
#include "worker/data/batch_loader.h"

namespace kubetrain {

// A batch in device memory, in the model's compute type and memory format.
struct DeviceBatch {
  const void* images;
  const int32_t* labels;
  int64_t valid;  // real examples; evaluation pads the last batch
};

// Where the model's batches come from.
class DeviceBatches {
 public:
  virtual ~DeviceBatches() = default;
  // Starts a pass over `steps` (one index list per batch; only their count matters for
  // synthetic data). `pass_key` (the epoch) varies the augmentation from pass to pass.
  virtual void start(std::vector<std::vector<int64_t>> steps, uint64_t pass_key) = 0;
  // The next batch of the pass, or nullopt at its end. Valid until the next call.
  virtual std::optional<DeviceBatch> next() = 0;
};

// Real data: BatchLoader threads decode and augment on the host, ahead of the consumer; each batch
// is uploaded (and cast to fp16/bf16 on the device) when the model asks for it.
std::unique_ptr<DeviceBatches> make_loaded_batches(Backend& backend, DataType compute_type,
                                                   std::unique_ptr<BatchLoader> loader,
                                                   BatchLayout layout);

// Synthetic data generated once on the device (normal pixels, uniform labels) and fed every step,
// so the input pipeline and host-to-device copies cost nothing: a benchmark of the model alone.
std::unique_ptr<DeviceBatches> make_synthetic_batches(Backend& backend, DataType compute_type,
                                                      BatchLayout layout, int classes,
                                                      uint64_t seed);

}  // namespace kubetrain

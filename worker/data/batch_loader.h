#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "worker/backend/tensor.h"
#include "worker/data/dataset.h"
#include "worker/data/prefetch_slack.h"

namespace kubetrain {

// What the model consumes: `shape` (N = per-rank batch, C = model input channels, H = W = image
// size) as normalized fp32 in `format`, plus int32 labels.
struct BatchLayout {
  Shape4 shape;
  MemoryFormat format = MemoryFormat::kChannelsLast;
};

struct HostBatch {
  std::vector<float> images;    // layout.shape.elements()
  std::vector<int32_t> labels;  // layout.shape.n
  int64_t valid = 0;            // examples that are real; the rest (evaluation's padding) are not
};

// Per-channel mean and standard deviation of a data set's pixels in [0, 1].
struct Normalization {
  std::vector<float> mean;
  std::vector<float> stddev;
};
Normalization normalization_for(const std::string& dataset, int channels);

// Turns a list of per-step index lists into batches on `threads` worker threads, keeping up to
// `prefetch` batches ready ahead of the consumer. Each example is resized (or center-padded) to the
// layout's H x W, grey is widened to the layout's channels, then (when augment is on) padded by 4
// and randomly cropped (or, for data sets that crop themselves, random-resized-cropped) and
// horizontally flipped with a per-(seed, pass, step, slot) random stream, so the batches do not
// depend on thread timing. Each batch is split across all threads. Index lists shorter than N are
// padded (zero images, label 0) and `valid` says how many are real. At most `prefetch` batches
// are held or being filled at once.
class BatchLoader {
 public:
  BatchLoader(const Dataset& dataset, BatchLayout layout, Normalization normalization, bool augment,
              int threads, int prefetch, uint64_t seed);
  ~BatchLoader();
  BatchLoader(const BatchLoader&) = delete;
  BatchLoader& operator=(const BatchLoader&) = delete;

  // Queues a pass over `steps` (one index list per batch); batches come out in this order. A pass
  // still running is abandoned. `pass_key` joins (seed, step, slot) in the random stream: the
  // trainer passes the epoch, so epochs augment differently and a resumed run repeats itself.
  void start(std::vector<std::vector<int64_t>> steps, uint64_t pass_key = 0);
  // The next batch of the current pass, or nullopt when it is exhausted. Rethrows a DataError
  // raised on a loader thread.
  std::optional<HostBatch> next();
  // Optionally hands a batch from next() back once consumed: later batches reuse its buffers
  // instead of fresh memory (at ImageNet sizes a batch is tens of MB, and faulting fresh pages in
  // costs about as much as decoding).
  void recycle(HostBatch batch);

  // tf.data's slack (prefetch_slack.h), off unless turned on: while batches wait ready for the
  // consumer, each new batch is started later by a fifth of that wait.
  void use_slack(bool on);
  // How long the next batch will be held back (zero without slack).
  PrefetchSlack::Duration slack_delay() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kubetrain

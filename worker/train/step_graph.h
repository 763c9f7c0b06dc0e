#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "worker/backend/backend.h"

namespace kubetrain {

// The gradient computation of a training step (forward, backward and the gradients' allreduce)
// replayed from a recording, a CUDA graph, instead of being issued operation by operation: a
// ResNet step is hundreds of launches that the host no longer pays for one by one, and that a
// slow host can no longer starve the GPU of. The rest of a step stays outside the recording on
// purpose: the dynamic loss scale's overflow check reads a flag back to the host, and the
// optimizer's learning rate changes every step.
class StepGraph {
 public:
  // What a recording bakes in besides memory that stays where it is: when any of it changes, the
  // step is recorded again (the loss scale changes rarely: on an overflow, or after a run of good
  // steps).
  struct Key {
    const void* images = nullptr;
    const int32_t* labels = nullptr;
    float loss_scale = 1;
    bool operator==(const Key&) const = default;
  };
  using Record = std::function<std::unique_ptr<RecordedWork>(const std::function<void()>&)>;

  // `record` records work (Backend::record). `abandon` undoes the host-side bookkeeping of work
  // whose recording failed part-way (the gradient reducer's ready counts). The first
  // `eager_steps` runs are not recorded, so that what operators make on first use (algorithm
  // choices, library state) exists before recording and nothing is allocated or searched then.
  StepGraph(Record record, std::function<void()> abandon, int eager_steps = 2);

  // Runs `work` for `key`: eagerly during the first steps and for good once a recording has
  // failed (logged as a warning), otherwise by replaying a recording of it made for `key`.
  void run(const Key& key, const std::function<void()>& work);

  bool gave_up() const { return gave_up_; }
  int64_t recordings() const { return recordings_; }
  int64_t replays() const { return replays_; }

 private:
  void record(const Key& key, const std::function<void()>& work);

  Record record_;
  std::function<void()> abandon_;
  int eager_steps_left_;
  std::unique_ptr<RecordedWork> recording_;
  Key key_;
  bool gave_up_ = false;
  int64_t recordings_ = 0;
  int64_t replays_ = 0;
};

}  // namespace kubetrain

#include "worker/train/step_graph.h"

#include <spdlog/spdlog.h>

#include <stdexcept>
#include <utility>

namespace kubetrain {

StepGraph::StepGraph(Record record, std::function<void()> abandon, int eager_steps)
    : record_(std::move(record)), abandon_(std::move(abandon)), eager_steps_left_(eager_steps) {}

void StepGraph::run(const Key& key, const std::function<void()>& work) {
  if (gave_up_ || eager_steps_left_ > 0) {
    if (eager_steps_left_ > 0) --eager_steps_left_;
    work();
    return;
  }
  if (!(recording_ && key == key_ && recording_->replay())) {
    record(key, work);
    if (gave_up_) {
      work();
      return;
    }
    if (!recording_->replay()) {
      throw std::logic_error("a CUDA graph was out of date as soon as it was recorded");
    }
  }
  ++replays_;
}

void StepGraph::record(const Key& key, const std::function<void()>& work) {
  recording_.reset();  // its memory first: a replay of it may still be running
  try {
    recording_ = record_(work);
  } catch (const std::runtime_error& error) {
    abandon_();
    gave_up_ = true;
    spdlog::warn("{}; training steps run without a CUDA graph from now on", error.what());
    return;
  }
  key_ = key;
  if (++recordings_ == 1) {
    spdlog::info("training step recorded as a CUDA graph of {} operations",
                 recording_->operations());
  } else {
    spdlog::debug("training step recorded again (loss scale {}, or new batch buffers)",
                  key.loss_scale);
  }
}

}  // namespace kubetrain

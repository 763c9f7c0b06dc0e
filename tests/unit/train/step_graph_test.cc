// StepGraph's policy, with recordings simulated on the host: when a step runs eagerly, when it is
// recorded, when a recording is replayed or made again, and what happens when recording fails.
// Real CUDA graphs are checked against eager steps in tests/gpu/gpu_step_graph_test.cc.

#include "worker/train/step_graph.h"

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>

namespace kubetrain {
namespace {

// Counts what a StepGraph does with the work and the recordings it is given.
struct Recorder {
  int eager_runs = 0;       // work run for real
  int recorded_runs = 0;    // work run while being recorded
  int replays = 0;
  int abandons = 0;
  bool recording = false;
  bool fail_next_recording = false;
  bool next_replay_out_of_date = false;

  class FakeRecording final : public RecordedWork {
   public:
    explicit FakeRecording(Recorder& recorder) : recorder_(recorder) {}
    bool replay() override {
      if (recorder_.next_replay_out_of_date) {
        recorder_.next_replay_out_of_date = false;
        return false;
      }
      ++recorder_.replays;
      return true;
    }
    size_t operations() const override { return 7; }

   private:
    Recorder& recorder_;
  };

  StepGraph make(int eager_steps) {
    return StepGraph(
        [this](const std::function<void()>& work) -> std::unique_ptr<RecordedWork> {
          recording = true;
          work();
          recording = false;
          if (fail_next_recording) {
            fail_next_recording = false;
            throw std::runtime_error("recording a CUDA graph failed: operation not permitted");
          }
          return std::make_unique<FakeRecording>(*this);
        },
        [this] { ++abandons; }, eager_steps);
  }

  void work() { ++(recording ? recorded_runs : eager_runs); }
};

const int32_t kLabels[2] = {};
const float kImages[2] = {};
const StepGraph::Key kKey{kImages, kLabels, 128.0f};

TEST(StepGraph, RunsEagerlyFirstThenRecordsOnceAndReplays) {
  Recorder recorder;
  StepGraph graph = recorder.make(2);
  for (int step = 0; step < 5; ++step) graph.run(kKey, [&] { recorder.work(); });
  EXPECT_EQ(recorder.eager_runs, 2);
  EXPECT_EQ(recorder.recorded_runs, 1);
  EXPECT_EQ(recorder.replays, 3) << "the recorded step must also be replayed: recording runs nothing";
  EXPECT_EQ(graph.recordings(), 1);
  EXPECT_EQ(graph.replays(), 3);
  EXPECT_FALSE(graph.gave_up());
}

TEST(StepGraph, RecordsAgainWhenTheLossScaleOrTheBatchBuffersChange) {
  Recorder recorder;
  StepGraph graph = recorder.make(0);
  graph.run(kKey, [&] { recorder.work(); });
  graph.run(kKey, [&] { recorder.work(); });
  StepGraph::Key halved = kKey;
  halved.loss_scale = 64.0f;
  graph.run(halved, [&] { recorder.work(); });
  graph.run(halved, [&] { recorder.work(); });
  const float other_images[2] = {};
  StepGraph::Key moved = halved;
  moved.images = other_images;
  graph.run(moved, [&] { recorder.work(); });
  EXPECT_EQ(graph.recordings(), 3);
  EXPECT_EQ(recorder.recorded_runs, 3);
  EXPECT_EQ(recorder.replays, 5);
  EXPECT_EQ(recorder.eager_runs, 0);
}

TEST(StepGraph, RecordsAgainWhenTheRecordingIsOutOfDate) {
  Recorder recorder;
  StepGraph graph = recorder.make(0);
  graph.run(kKey, [&] { recorder.work(); });
  recorder.next_replay_out_of_date = true;  // e.g. the shared workspace was replaced
  graph.run(kKey, [&] { recorder.work(); });
  EXPECT_EQ(graph.recordings(), 2);
  EXPECT_EQ(recorder.replays, 2);
}

TEST(StepGraph, AFailedRecordingIsUndoneAndEveryStepRunsEagerlyAfterwards) {
  Recorder recorder;
  StepGraph graph = recorder.make(1);
  recorder.fail_next_recording = true;
  graph.run(kKey, [&] { recorder.work(); });  // eager
  graph.run(kKey, [&] { recorder.work(); });  // recording fails: undone, then run eagerly
  EXPECT_TRUE(graph.gave_up());
  EXPECT_EQ(recorder.abandons, 1);
  EXPECT_EQ(recorder.eager_runs, 2) << "the step whose recording failed must still run";
  graph.run(kKey, [&] { recorder.work(); });
  EXPECT_EQ(recorder.eager_runs, 3);
  EXPECT_EQ(recorder.recorded_runs, 1) << "no second attempt at recording";
  EXPECT_EQ(recorder.replays, 0);
  EXPECT_EQ(graph.recordings(), 0);
}

}  // namespace
}  // namespace kubetrain

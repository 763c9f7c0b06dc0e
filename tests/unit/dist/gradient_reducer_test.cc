#include "worker/dist/gradient_reducer.h"

#include <gtest/gtest.h>

#include <utility>
#include <vector>

namespace kubetrain {
namespace {

// Records which ranges are launched, and when.
class RecordingReducer final : public GradientReducer {
 public:
  RecordingReducer(float* data, int64_t count, int64_t bucket)
      : GradientReducer(data, count, bucket), base_(data) {}
  std::vector<std::pair<int64_t, int64_t>> launched;
  int waits = 0;

 protected:
  void launch(float* data, int64_t count) override { launched.emplace_back(data - base_, count); }
  void wait_all() override { ++waits; }

 private:
  float* base_;
};

TEST(GradientReducer, LaunchesEachBucketAsSoonAsItsGradientsAreReady) {
  std::vector<float> gradients(10);
  RecordingReducer reducer(gradients.data(), 10, 4);  // buckets [6,10) [2,6) [0,2)
  EXPECT_EQ(reducer.bucket_count(), 3);
  reducer.mark_ready(8, 2);
  EXPECT_TRUE(reducer.launched.empty());
  reducer.mark_ready(5, 3);  // completes [6,10), half of [2,6)
  ASSERT_EQ(reducer.launched.size(), 1u);
  EXPECT_EQ(reducer.launched[0], std::make_pair(int64_t{6}, int64_t{4}));
  reducer.mark_ready(0, 5);  // completes the rest
  ASSERT_EQ(reducer.launched.size(), 3u);
  EXPECT_EQ(reducer.launched[1], std::make_pair(int64_t{2}, int64_t{4}));
  EXPECT_EQ(reducer.launched[2], std::make_pair(int64_t{0}, int64_t{2}));
  reducer.finish();
  EXPECT_EQ(reducer.waits, 1);
  EXPECT_EQ(reducer.launched.size(), 3u);
}

TEST(GradientReducer, LaunchesInBucketOrderEvenWhenLaterBucketsFinishFirst) {
  std::vector<float> gradients(8);
  RecordingReducer reducer(gradients.data(), 8, 4);  // [4,8) then [0,4)
  reducer.mark_ready(0, 4);
  EXPECT_TRUE(reducer.launched.empty()) << "bucket order must be the same on every rank";
  reducer.mark_ready(4, 4);
  ASSERT_EQ(reducer.launched.size(), 2u);
  EXPECT_EQ(reducer.launched[0].first, 4);
  EXPECT_EQ(reducer.launched[1].first, 0);
}

TEST(GradientReducer, FinishLaunchesUnreportedBucketsAndResetsForTheNextStep) {
  std::vector<float> gradients(8);
  RecordingReducer reducer(gradients.data(), 8, 4);
  reducer.mark_ready(4, 4);
  reducer.finish();
  ASSERT_EQ(reducer.launched.size(), 2u);
  reducer.launched.clear();
  reducer.mark_ready(4, 4);
  EXPECT_EQ(reducer.launched.size(), 1u) << "a new step starts with every bucket pending";
}

TEST(GradientReducer, AbandonedStepLaunchesNothingMoreAndStartsAfresh) {
  std::vector<float> gradients(8);
  RecordingReducer reducer(gradients.data(), 8, 4);  // [4,8) then [0,4)
  reducer.mark_ready(4, 4);
  reducer.mark_ready(0, 2);
  reducer.abandon_step();
  EXPECT_EQ(reducer.launched.size(), 1u);
  EXPECT_EQ(reducer.waits, 0) << "an abandoned step neither launches nor waits";
  reducer.launched.clear();
  reducer.mark_ready(0, 4);
  EXPECT_TRUE(reducer.launched.empty()) << "[0,4) must wait for [4,8) again";
  reducer.mark_ready(4, 4);  // would throw "reported twice" had the old counts survived
  EXPECT_EQ(reducer.launched.size(), 2u);
}

TEST(GradientReducer, RefusesGradientsReportedTwice) {
  std::vector<float> gradients(8);
  RecordingReducer reducer(gradients.data(), 8, 8);
  reducer.mark_ready(0, 6);
  EXPECT_THROW(reducer.mark_ready(4, 4), std::logic_error);
}

}  // namespace
}  // namespace kubetrain

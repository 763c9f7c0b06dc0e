#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "tests/unit/model/model_test_support.h"
#include "worker/backends/cpu/cpu_backend.h"
#include "worker/model/model.h"

namespace kubetrain {
namespace {

struct ReadyRun {
  int64_t offset;
  int64_t count;
  std::vector<float> values;  // the gradients at the time they were reported
};

// gradients_ready must tile the whole buffer exactly once, from its end towards its start, and
// each run must already hold its final values when it is reported.
void check_gradient_order(const ModelSpec& spec) {
  auto backend = make_cpu_backend();
  auto model = make_model(*backend, spec);
  model->initialize(3);
  ParameterStore& store = model->parameters();
  const auto batch = test::upload_batch(*backend, test::make_batch(spec.input, spec.classes, 5),
                                        spec.format);
  std::vector<ReadyRun> runs;
  test::train_step(*backend, *model, batch, [&](int64_t offset, int64_t count) {
    runs.push_back({offset, count,
                    test::download_floats(*backend, store.gradients() + offset, count)});
  });
  const auto final_gradients =
      test::download_floats(*backend, store.gradients(), store.parameter_count());

  ASSERT_FALSE(runs.empty());
  int64_t expected_end = store.parameter_count();
  for (const auto& run : runs) {
    ASSERT_GT(run.count, 0);
    ASSERT_EQ(run.offset + run.count, expected_end) << "runs must be contiguous and descending";
    ASSERT_TRUE(std::equal(run.values.begin(), run.values.end(),
                           final_gradients.begin() + run.offset))
        << "gradients [" << run.offset << ", " << expected_end
        << ") changed after they were reported ready";
    expected_end = run.offset;
  }
  EXPECT_EQ(expected_end, 0);
  // One run per conv weight, one per BatchNorm (gamma, beta) and one for fc.
  const auto& params = store.parameters();
  const int64_t batch_norms = std::count_if(params.begin(), params.end(), [](const auto& p) {
    return p.name.ends_with(".bias") && p.name != "fc.bias";
  });
  const int64_t convs = std::count_if(params.begin(), params.end(),
                                      [](const auto& p) { return p.conv_weight; });
  EXPECT_EQ(static_cast<int64_t>(runs.size()), convs + batch_norms + 1);
}

TEST(GradientOrder, BasicBlocksWithProjectionsReportEveryGradientOnceFromTheEnd) {
  check_gradient_order(test::tiny_spec("resnet20", {2, 3, 8, 8}, 4, MemoryFormat::kChannelsFirst));
}

TEST(GradientOrder, BottleneckBlocksReportEveryGradientOnceFromTheEnd) {
  check_gradient_order(test::tiny_spec("resnet50", {2, 3, 32, 32}, 4, MemoryFormat::kChannelsLast));
}

}  // namespace
}  // namespace kubetrain

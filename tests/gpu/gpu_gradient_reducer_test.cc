// The NCCL gradient reducer on one rank: buckets are ordered after the compute stream's work and
// finish() orders later compute work after the reduction, with no host wait in between.

#include <gtest/gtest.h>

#include <vector>

#include "tests/gpu/gpu_test_support.h"
#include "worker/dist/communicator.h"
#include "worker/dist/gradient_reducer.h"

namespace kubetrain::testing {
namespace {

using GpuGradientReducerTest = GpuTest;

TEST_F(GpuGradientReducerTest, SingleRankAverageKeepsTheGradientsOfEveryStep) {
  auto communicator = make_single_communicator();
  // Large enough for several 16 MB buckets.
  const int64_t count = 10'000'000;
  auto gradients = zeros(count, DataType::kFloat32);
  auto reducer = backend_->make_gradient_reducer(*communicator, gradients->as<float>(), count);
  ASSERT_GE(reducer->bucket_count(), 2);
  auto expected = zeros(count, DataType::kFloat32);
  for (uint64_t step = 0; step < 2; ++step) {
    // Written on the compute stream right before the ranges are reported ready, as backward does.
    backend_->fill_normal(DataType::kFloat32, gradients->data(), count, 0.0f, 1.0f, step);
    backend_->copy(gradients->data(), expected->data(), count * sizeof(float));
    reducer->mark_ready(count / 2, count - count / 2);
    reducer->mark_ready(0, count / 2);
    reducer->finish();
    // Compute-stream work after finish() sees the reduced buffer.
    backend_->add_inplace(DataType::kFloat32, expected->data(), gradients->data(), count);
    const auto reduced = to_host(gradients->data(), DataType::kFloat32, count);
    const auto written = to_host(expected->data(), DataType::kFloat32, count);
    std::vector<double> twice(written.begin(), written.end());
    for (double& v : twice) v *= 2.0;
    EXPECT_LE(relative_error(reduced, twice), 1e-6) << "step " << step;
  }
}

}  // namespace
}  // namespace kubetrain::testing

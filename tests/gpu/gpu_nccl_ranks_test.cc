// Under mpirun with one GPU per rank: the NCCL gradient reducer averages rank-specific gradients
// across ranks. Skips (on every rank alike) without two ranks or a GPU for each local rank.

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "worker/backend/backend.h"
#include "worker/backends/cuda/cuda_backend.h"
#include "worker/dist/communicator.h"
#include "worker/dist/gradient_reducer.h"

namespace kubetrain {
namespace {

Communicator* world = nullptr;

TEST(GpuNcclRanksTest, AveragesGradientsAcrossRanks) {
  // The skip decision must be the same on every rank, or the others would wait in a collective.
  std::vector<int64_t> cannot_run = {world->size() < 2 ||
                                     cuda_device_count() < world->local_size()};
  world->allreduce_max(cannot_run);
  if (cannot_run[0] != 0) GTEST_SKIP() << "needs two ranks or more, each with its own GPU";

  auto backend = make_cuda_backend(world->local_rank());
  const int64_t count = 3'000'007;  // several buckets and a ragged end
  std::vector<float> mine(count);
  for (int64_t i = 0; i < count; ++i) mine[i] = static_cast<float>(world->rank() + i % 5);
  auto gradients = backend->allocate(count * sizeof(float));
  backend->upload(mine.data(), gradients->data(), count * sizeof(float));

  auto reducer = backend->make_gradient_reducer(*world, gradients->as<float>(), count);
  reducer->mark_ready(0, count);
  reducer->finish();
  std::vector<float> averaged(count);
  backend->download(gradients->data(), averaged.data(), count * sizeof(float));

  // mean over ranks r of (r + i % 5) = (size - 1) / 2 + i % 5
  const double mean_rank = (world->size() - 1) / 2.0;
  for (int64_t i = 0; i < count; ++i) {
    ASSERT_NEAR(averaged[i], mean_rank + i % 5, 1e-5) << "element " << i;
  }
}

}  // namespace
}  // namespace kubetrain

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  auto communicator = kubetrain::make_world_communicator(&argc, &argv);
  kubetrain::world = communicator.get();
  const int result = RUN_ALL_TESTS();
  kubetrain::world = nullptr;
  return result;
}

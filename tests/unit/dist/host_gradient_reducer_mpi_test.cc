// Run under mpirun: each rank fills its gradients with rank-dependent values; after the reducer
// finishes, every rank must hold the mean, computed here independently in double.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "worker/dist/communicator.h"
#include "worker/dist/host_gradient_reducer.h"

namespace kubetrain {
namespace {

Communicator* world = nullptr;

float value_on(int rank, int64_t i) { return static_cast<float>((rank + 1) * 0.5 + i * 0.001); }

TEST(HostGradientReducer, AveragesEveryBucketAcrossRanks) {
  const int64_t count = 100003;  // not a multiple of the bucket
  std::vector<float> gradients(count);
  HostWaits waits;
  auto reducer = make_host_gradient_reducer(*world, gradients.data(), count, 4096, waits);
  for (int step = 0; step < 3; ++step) {
    for (int64_t i = 0; i < count; ++i) gradients[i] = value_on(world->rank(), i) * (step + 1);
    // Report in backward order, in uneven pieces.
    for (int64_t end = count; end > 0; end -= 777) {
      const int64_t begin = std::max<int64_t>(0, end - 777);
      reducer->mark_ready(begin, end - begin);
    }
    reducer->finish();
    for (int64_t i = 0; i < count; i += 997) {
      double mean = 0;
      for (int rank = 0; rank < world->size(); ++rank) mean += value_on(rank, i) * (step + 1);
      mean /= world->size();
      ASSERT_NEAR(gradients[i], mean, 1e-5 * std::abs(mean)) << "element " << i;
    }
  }
}

}  // namespace
}  // namespace kubetrain

int main(int argc, char** argv) {
  auto communicator = kubetrain::make_world_communicator(&argc, &argv);
  kubetrain::world = communicator.get();
  testing::InitGoogleTest(&argc, argv);
  if (communicator->rank() != 0) {
    delete testing::UnitTest::GetInstance()->listeners().Release(
        testing::UnitTest::GetInstance()->listeners().default_result_printer());
  }
  int failed = RUN_ALL_TESTS();
  std::vector<int64_t> any_failed{failed};
  communicator->allreduce_max(any_failed);
  return any_failed[0] != 0 ? 1 : 0;
}

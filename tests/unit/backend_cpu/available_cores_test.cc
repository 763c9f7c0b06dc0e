#include "worker/backends/cpu/available_cores.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

namespace kubetrain {
namespace {

TEST(AvailableCoresTest, IsAtLeastOneAndAtMostTheMachinesCpus) {
  const int cores = available_cores();
  EXPECT_GE(cores, 1);
  EXPECT_LE(static_cast<unsigned>(cores), std::max(1u, std::thread::hardware_concurrency()));
}

}  // namespace
}  // namespace kubetrain

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "worker/backend/backend.h"

namespace kubetrain {
namespace {

TEST(BackendFactoryTest, MakesTheCpuBackend) {
  auto backend = make_backend(DeviceKind::kCpu, 0);
  ASSERT_NE(backend, nullptr);
  EXPECT_EQ(backend->kind(), DeviceKind::kCpu);
}

#ifndef KUBETRAIN_TEST_HAVE_CUDA
TEST(BackendFactoryTest, CudaWithoutCudaBuiltInExplainsWhy) {
  EXPECT_FALSE(cuda_available());
  try {
    make_backend(DeviceKind::kCuda, 0);
    FAIL() << "make_backend(kCuda) succeeded in a build without CUDA";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("built without CUDA"), std::string::npos) << e.what();
  }
}
#endif

}  // namespace
}  // namespace kubetrain

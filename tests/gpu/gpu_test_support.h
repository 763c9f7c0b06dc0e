#pragma once

// Shared pieces of the GPU tests: a fixture that skips without a CUDA device and helpers that move
// fp32 host vectors to and from device tensors of any DataType, plus the error measure the
// tolerances are stated in.

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <tuple>
#include <vector>

#include "worker/backend/backend.h"

namespace kubetrain {
// Readable parameter names in gtest's output.
inline void PrintTo(DataType type, std::ostream* out) { *out << to_string(type); }
inline void PrintTo(MemoryFormat format, std::ostream* out) { *out << to_string(format); }
}  // namespace kubetrain

namespace kubetrain::testing {

class GpuTest : public ::testing::Test {
 protected:
  void SetUp() override;

  // A device tensor of `type` holding `values` (rounded to `type`).
  std::unique_ptr<DeviceBuffer> to_device(const std::vector<float>& values, DataType type);
  std::unique_ptr<DeviceBuffer> zeros(int64_t count, DataType type);
  // The first `count` elements of a device tensor of `type`, as fp32.
  std::vector<float> to_host(const void* device, DataType type, int64_t count);
  // `values` rounded to `type` and back, which is what the device sees.
  std::vector<float> rounded(const std::vector<float>& values, DataType type);

  std::unique_ptr<Backend> backend_;
};

// A tensor of `type` on `backend` holding `values` (rounded to `type`).
std::unique_ptr<DeviceBuffer> to_device(Backend& backend, const std::vector<float>& values,
                                        DataType type);
// The first `count` elements of a tensor of `type` on `backend`, as fp32.
std::vector<float> to_host(Backend& backend, const void* tensor, DataType type, int64_t count);

// Uniform values in [low, high) from a fixed seed.
std::vector<float> random_values(int64_t count, uint32_t seed, float low = -1.0f,
                                 float high = 1.0f);

// max |actual - expected| / max(max |expected|, 1e-12): the relative error of the whole tensor.
double relative_error(const std::vector<float>& actual, const std::vector<double>& expected);

// Every data type, for parameterised tests, and their names.
inline auto all_types() {
  return ::testing::Values(DataType::kFloat32, DataType::kFloat16, DataType::kBFloat16);
}
std::string type_name(const ::testing::TestParamInfo<DataType>& info);

// Every memory format with every data type, and their names.
using FormatAndType = std::tuple<MemoryFormat, DataType>;
inline auto all_formats_and_types() {
  return ::testing::Combine(
      ::testing::Values(MemoryFormat::kChannelsLast, MemoryFormat::kChannelsFirst), all_types());
}
std::string format_and_type_name(const ::testing::TestParamInfo<FormatAndType>& info);

// 1e-4 for fp32 (TF32 off), 1e-2 for fp16 and bf16.
double tolerance(DataType type);

}  // namespace kubetrain::testing

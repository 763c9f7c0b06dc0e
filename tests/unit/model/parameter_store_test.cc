#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "worker/backends/cpu/cpu_backend.h"
#include "worker/model/parameter_store.h"

namespace kubetrain {
namespace {

std::vector<TensorInfo> tensors(const std::vector<std::pair<int64_t, bool>>& sizes) {
  std::vector<TensorInfo> result;
  int64_t offset = 0;
  const char* names[] = {"t0", "t1", "t2", "t3", "t4", "t5"};
  for (const auto& [size, decay] : sizes) {
    result.push_back({names[result.size()], {size, 1, 1, 1}, offset, decay, false});
    offset += size;
  }
  return result;
}

TEST(ParameterStore, MergesNeighboursThatAgreeOnWeightDecay) {
  auto backend = make_cpu_backend();
  ParameterStore store(*backend, tensors({{10, true}, {5, true}, {3, false}, {4, false}, {2, true}}),
                       tensors({{6, false}}), DataType::kFloat32);
  EXPECT_EQ(store.parameter_count(), 24);
  EXPECT_EQ(store.buffer_count(), 6);
  const auto& segments = store.segments();
  ASSERT_EQ(segments.size(), 3u);
  EXPECT_EQ(segments[0].offset, 0);
  EXPECT_EQ(segments[0].count, 15);
  EXPECT_TRUE(segments[0].weight_decay);
  EXPECT_EQ(segments[1].offset, 15);
  EXPECT_EQ(segments[1].count, 7);
  EXPECT_FALSE(segments[1].weight_decay);
  EXPECT_EQ(segments[2].offset, 22);
  EXPECT_EQ(segments[2].count, 2);
  EXPECT_TRUE(segments[2].weight_decay);
  EXPECT_EQ(store.compute_weights(), static_cast<void*>(store.weights()));
}

TEST(ParameterStore, RefusesGapsAndOverlaps) {
  auto backend = make_cpu_backend();
  auto gap = tensors({{10, true}, {5, false}});
  gap[1].offset = 11;
  try {
    ParameterStore store(*backend, gap, {}, DataType::kFloat32);
    FAIL() << "a gap was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("\"t1\""), std::string::npos) << e.what();
  }
  auto overlap = tensors({{10, true}, {5, false}});
  overlap[1].offset = 9;
  EXPECT_THROW(ParameterStore(*backend, overlap, {}, DataType::kFloat32), std::invalid_argument);
}

// The compute copy holds the master weights converted to the compute type (values chosen to be
// exact in both 16-bit types, so no rounding mode is assumed).
TEST(ParameterStore, RefreshesTheComputeCopy) {
  auto backend = make_cpu_backend();
  const std::vector<float> weights = {1.0f, 0.5f, -2.0f, 0.375f};
  struct Case {
    DataType type;
    std::vector<uint16_t> bits;
  };
  int checked = 0;
  for (const Case& c : {Case{DataType::kFloat16, {0x3C00, 0x3800, 0xC000, 0x3600}},
                        Case{DataType::kBFloat16, {0x3F80, 0x3F00, 0xC000, 0x3EC0}}}) {
    if (!backend->supports(c.type)) continue;
    ++checked;
    ParameterStore store(*backend, tensors({{4, true}}), tensors({{1, false}}), c.type);
    backend->upload(weights.data(), store.weights(), weights.size() * sizeof(float));
    store.sync_compute_weights();
    std::vector<uint16_t> bits(4);
    backend->download(store.compute_weights(), bits.data(), bits.size() * sizeof(uint16_t));
    EXPECT_EQ(bits, c.bits) << to_string(c.type);
  }
  if (checked == 0) GTEST_SKIP() << "the CPU backend computes in fp32 only";
}

}  // namespace
}  // namespace kubetrain

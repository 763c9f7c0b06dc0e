// Real data on the GPU: batches reach the device through two pinned buffers and asynchronous
// copies; every batch must arrive whole and in order, equal to what the loader produced, in every
// compute type, however far the host runs ahead.

#include <gtest/gtest.h>

#include <vector>

#include "tests/gpu/gpu_test_support.h"
#include "worker/train/device_batches.h"

namespace kubetrain::testing {
namespace {

// Example i: every pixel (i * 37 + position) mod 256; label i mod 10.
class CountingDataset final : public Dataset {
 public:
  int64_t size() const override { return 64; }
  int classes() const override { return 10; }
  ImageShape image_shape() const override { return {8, 8, 3}; }
  int32_t read(int64_t index, std::span<uint8_t> pixels) const override {
    for (size_t p = 0; p < pixels.size(); ++p) {
      pixels[p] = static_cast<uint8_t>((index * 37 + static_cast<int64_t>(p)) % 256);
    }
    return static_cast<int32_t>(index % 10);
  }
};

std::vector<std::vector<int64_t>> steps_of(int count, int batch, int first) {
  std::vector<std::vector<int64_t>> steps(static_cast<size_t>(count));
  for (int s = 0; s < count; ++s) {
    for (int i = 0; i < batch; ++i) steps[static_cast<size_t>(s)].push_back((first + s * batch + i) % 64);
  }
  return steps;
}

class GpuDeviceBatchesTest : public GpuTest, public ::testing::WithParamInterface<DataType> {};

TEST_P(GpuDeviceBatchesTest, EveryBatchArrivesWholeAndInOrder) {
  const DataType type = GetParam();
  const CountingDataset dataset;
  const BatchLayout layout{{4, 3, 8, 8}, MemoryFormat::kChannelsLast};
  const Normalization normalization{{0.5f, 0.5f, 0.5f}, {0.25f, 0.25f, 0.25f}};
  const auto loader = [&] {
    return std::make_unique<BatchLoader>(dataset, layout, normalization, /*augment=*/false,
                                         /*threads=*/2, /*prefetch=*/4, /*seed=*/1);
  };
  auto device = make_loaded_batches(*backend_, type, loader(), layout);
  auto reference = loader();
  for (int pass = 0; pass < 2; ++pass) {
    const auto steps = steps_of(7, 4, pass * 5);
    device->start(steps, static_cast<uint64_t>(pass));
    reference->start(steps, static_cast<uint64_t>(pass));
    // Only every third batch is read back (which waits for the stream), so in between uploads
    // queue up behind each other and a pinned buffer is refilled while copies may be pending.
    for (int step = 0; step < 7; ++step) {
      const auto batch = device->next();
      const auto expected = reference->next();
      ASSERT_TRUE(batch && expected) << "pass " << pass << " step " << step;
      if (step % 3 != 2) continue;
      const auto images = to_host(batch->images, type, layout.shape.elements());
      EXPECT_EQ(images, rounded(expected->images, type)) << "pass " << pass << " step " << step;
      std::vector<int32_t> labels(4);
      backend_->download(batch->labels, labels.data(), labels.size() * sizeof(int32_t));
      EXPECT_EQ(labels, expected->labels) << "pass " << pass << " step " << step;
    }
    EXPECT_FALSE(device->next());
  }
}

INSTANTIATE_TEST_SUITE_P(Types, GpuDeviceBatchesTest, all_types(), type_name);

}  // namespace
}  // namespace kubetrain::testing

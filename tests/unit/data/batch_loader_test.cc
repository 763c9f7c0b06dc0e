// BatchLoader: normalization, layouts, fitting to the model's size, padding of short steps,
// deterministic augmentation independent of threads, errors and shutdown. Expected values are
// computed here in double precision from the raw pixels.

#include "worker/data/batch_loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <set>
#include <thread>

#include "tests/data/data_fixtures.h"

namespace kubetrain {
namespace {

// Pixel (i, y, x, c) = (i * 7 + y * width + x + c * 50) mod 256, plus 1 so no pixel is 0; label i
// % 10.
class PatternDataset : public Dataset {
 public:
  PatternDataset(int64_t size, ImageShape shape, int64_t failing_index = -1)
      : size_(size), shape_(shape), failing_index_(failing_index) {}

  int64_t size() const override { return size_; }
  int classes() const override { return 10; }
  ImageShape image_shape() const override { return shape_; }
  int32_t read(int64_t index, std::span<uint8_t> pixels) const override {
    reads_.fetch_add(1);
    if (index == failing_index_)
      throw DataError("/data/bad.bin: example " + std::to_string(index) + " is broken");
    for (int y = 0; y < shape_.height; ++y) {
      for (int x = 0; x < shape_.width; ++x) {
        for (int c = 0; c < shape_.channels; ++c) {
          pixels[(y * shape_.width + x) * shape_.channels + c] = pixel(index, y, x, c);
        }
      }
    }
    return static_cast<int32_t>(index % 10);
  }
  uint8_t pixel(int64_t index, int y, int x, int c) const {
    return static_cast<uint8_t>(1 + (index * 7 + y * shape_.width + x + c * 50) % 255);
  }
  int64_t reads() const { return reads_.load(); }

 private:
  int64_t size_;
  ImageShape shape_;
  int64_t failing_index_;
  mutable std::atomic<int64_t> reads_{0};
};

double normalized(int value, const Normalization& norm, int c) {
  return (value / 255.0 - norm.mean[c]) / norm.stddev[c];
}

std::vector<HostBatch> run_pass(const Dataset& dataset, const BatchLayout& layout,
                                const Normalization& norm, bool augment, int threads,
                                const std::vector<std::vector<int64_t>>& steps, uint64_t seed = 9,
                                uint64_t pass_key = 0) {
  BatchLoader loader(dataset, layout, norm, augment, threads, 2, seed);
  loader.start(steps, pass_key);
  std::vector<HostBatch> batches;
  while (std::optional<HostBatch> batch = loader.next()) batches.push_back(std::move(*batch));
  return batches;
}

std::vector<std::vector<int64_t>> consecutive_steps(int64_t steps, int64_t batch) {
  std::vector<std::vector<int64_t>> lists;
  for (int64_t s = 0; s < steps; ++s) {
    lists.emplace_back();
    for (int64_t i = 0; i < batch; ++i) lists.back().push_back(s * batch + i);
  }
  return lists;
}

TEST(Normalization, PerDatasetValues) {
  const Normalization grey = normalization_for("fashion-mnist", 1);
  EXPECT_THAT(grey.mean, ::testing::ElementsAre(0.2860f));
  EXPECT_THAT(grey.stddev, ::testing::ElementsAre(0.3530f));
  const Normalization widened = normalization_for("fashion-mnist", 3);
  EXPECT_THAT(widened.mean, ::testing::ElementsAre(0.2860f, 0.2860f, 0.2860f));
  EXPECT_THAT(widened.stddev, ::testing::ElementsAre(0.3530f, 0.3530f, 0.3530f));
  const Normalization cifar = normalization_for("cifar10", 3);
  EXPECT_THAT(cifar.mean, ::testing::ElementsAre(0.4914f, 0.4822f, 0.4465f));
  EXPECT_THAT(cifar.stddev, ::testing::ElementsAre(0.2470f, 0.2435f, 0.2616f));
  const Normalization imagenet = normalization_for("imagefolder", 3);
  EXPECT_THAT(imagenet.mean, ::testing::ElementsAre(0.485f, 0.456f, 0.406f));
  EXPECT_THAT(imagenet.stddev, ::testing::ElementsAre(0.229f, 0.224f, 0.225f));
  EXPECT_THROW(normalization_for("cifar10", 1), DataError);
  EXPECT_THROW(normalization_for("mnist", 1), DataError);
}

TEST(BatchLoader, EvaluationBatchesAreNormalizedPixels) {
  const PatternDataset dataset(12, {5, 6, 3});
  const Normalization norm = normalization_for("cifar10", 3);
  const BatchLayout layout{{4, 3, 5, 6}, MemoryFormat::kChannelsLast};
  const std::vector<HostBatch> batches =
      run_pass(dataset, layout, norm, false, 2, consecutive_steps(3, 4));
  ASSERT_EQ(batches.size(), 3u);
  for (int64_t s = 0; s < 3; ++s) {
    EXPECT_EQ(batches[s].valid, 4);
    for (int64_t n = 0; n < 4; ++n) {
      const int64_t index = s * 4 + n;
      EXPECT_EQ(batches[s].labels[n], index % 10);
      for (int y = 0; y < 5; ++y) {
        for (int x = 0; x < 6; ++x) {
          for (int c = 0; c < 3; ++c) {
            ASSERT_NEAR(batches[s].images[offset_of(layout.shape, layout.format, n, c, y, x)],
                        normalized(dataset.pixel(index, y, x, c), norm, c), 1e-5);
          }
        }
      }
    }
  }
}

TEST(BatchLoader, ChannelsFirstHoldsTheSameValuesAsChannelsLast) {
  const PatternDataset dataset(8, {7, 7, 3});
  const Normalization norm = normalization_for("imagefolder", 3);
  BatchLayout last{{8, 3, 7, 7}, MemoryFormat::kChannelsLast};
  BatchLayout first{{8, 3, 7, 7}, MemoryFormat::kChannelsFirst};
  const auto steps = consecutive_steps(1, 8);
  const HostBatch a = run_pass(dataset, last, norm, true, 2, steps).at(0);
  const HostBatch b = run_pass(dataset, first, norm, true, 2, steps).at(0);
  EXPECT_EQ(a.labels, b.labels);
  for (int64_t n = 0; n < 8; ++n) {
    for (int c = 0; c < 3; ++c) {
      for (int y = 0; y < 7; ++y) {
        for (int x = 0; x < 7; ++x) {
          ASSERT_EQ(a.images[offset_of(last.shape, last.format, n, c, y, x)],
                    b.images[offset_of(first.shape, first.format, n, c, y, x)]);
        }
      }
    }
  }
  // NCHW really is planar: element (0, 1, 0, 0) sits one full plane after (0, 0, 0, 0).
  EXPECT_EQ(b.images[49], a.images[1]);
}

TEST(BatchLoader, GreyIsCentrePaddedAndWidened) {
  // 28 x 28 grey into a 32 x 32 x 3 model input: 2 pixels of padding each side, 3 equal channels.
  const PatternDataset dataset(3, {28, 28, 1});
  const Normalization norm = normalization_for("fashion-mnist", 3);
  const BatchLayout layout{{3, 3, 32, 32}, MemoryFormat::kChannelsFirst};
  const HostBatch batch = run_pass(dataset, layout, norm, false, 1, consecutive_steps(1, 3)).at(0);
  for (int64_t n = 0; n < 3; ++n) {
    for (int y = 0; y < 32; ++y) {
      for (int x = 0; x < 32; ++x) {
        const bool inside = y >= 2 && y < 30 && x >= 2 && x < 30;
        const int value = inside ? dataset.pixel(n, y - 2, x - 2, 0) : 0;
        for (int c = 0; c < 3; ++c) {
          ASSERT_NEAR(batch.images[offset_of(layout.shape, layout.format, n, c, y, x)],
                      normalized(value, norm, c), 1e-5)
              << n << " " << c << " " << y << " " << x;
        }
      }
    }
  }
}

TEST(BatchLoader, FarSmallerImagesAreResized) {
  // A uniform 8 x 8 image resized to 32 x 32 stays uniform, with no padding.
  class Uniform : public PatternDataset {
   public:
    Uniform() : PatternDataset(1, {8, 8, 1}) {}
    int32_t read(int64_t, std::span<uint8_t> pixels) const override {
      std::fill(pixels.begin(), pixels.end(), 77);
      return 3;
    }
  } dataset;
  const Normalization norm = normalization_for("fashion-mnist", 1);
  const HostBatch batch =
      run_pass(dataset, {{1, 1, 32, 32}, MemoryFormat::kChannelsLast}, norm, false, 1, {{0}}).at(0);
  for (float value : batch.images) ASSERT_NEAR(value, normalized(77, norm, 0), 1e-5);
}

TEST(BatchLoader, ShortStepsArePadded) {
  const PatternDataset dataset(10, {4, 4, 1});
  const Normalization norm = normalization_for("fashion-mnist", 1);
  const BatchLayout layout{{5, 1, 4, 4}, MemoryFormat::kChannelsLast};
  const std::vector<HostBatch> batches =
      run_pass(dataset, layout, norm, false, 3, {{9, 8, 7, 6, 5}, {1, 3}});
  ASSERT_EQ(batches.size(), 2u);
  EXPECT_EQ(batches[0].valid, 5);
  EXPECT_EQ(batches[1].valid, 2);
  EXPECT_THAT(batches[1].labels, ::testing::ElementsAre(1, 3, 0, 0, 0));
  EXPECT_EQ(batches[1].images.size(), 5u * 16);
  for (size_t i = 2 * 16; i < 5 * 16; ++i) ASSERT_EQ(batches[1].images[i], 0.0f);
  EXPECT_NEAR(batches[1].images[16], normalized(dataset.pixel(3, 0, 0, 0), norm, 0), 1e-5);
}

TEST(BatchLoader, RecycledBuffersStillPadWithZeros) {
  const PatternDataset dataset(10, {4, 4, 1});
  const Normalization norm = normalization_for("fashion-mnist", 1);
  BatchLoader loader(dataset, {{4, 1, 4, 4}, MemoryFormat::kChannelsLast}, norm, false, 2, 1, 1);
  loader.start({{0, 1, 2, 3}});
  std::optional<HostBatch> full = loader.next();
  ASSERT_TRUE(full.has_value());
  ASSERT_FALSE(loader.next().has_value());
  // Poison the buffers handed back: the next pass must overwrite or zero every value.
  std::fill(full->images.begin(), full->images.end(), std::nanf(""));
  std::fill(full->labels.begin(), full->labels.end(), 7);
  const float* recycled_storage = full->images.data();
  loader.recycle(std::move(*full));
  loader.start({{9}});
  const std::optional<HostBatch> short_batch = loader.next();
  ASSERT_TRUE(short_batch.has_value());
  EXPECT_EQ(short_batch->images.data(), recycled_storage);  // really reused
  EXPECT_EQ(short_batch->valid, 1);
  EXPECT_THAT(short_batch->labels, ::testing::ElementsAre(9, 0, 0, 0));
  for (size_t i = 0; i < 16; ++i) {
    ASSERT_NEAR(short_batch->images[i], normalized(dataset.pixel(9, i / 4, i % 4, 0), norm, 0),
                1e-5);
  }
  for (size_t i = 16; i < short_batch->images.size(); ++i) ASSERT_EQ(short_batch->images[i], 0.0f);
}

// Recovers the (dy, dx, flip) that produced one augmented example, or nullopt if none fits.
std::optional<std::tuple<int, int, bool>> find_jitter(const PatternDataset& dataset, int64_t index,
                                                      const HostBatch& batch, int64_t slot,
                                                      const Normalization& norm, int side) {
  for (int dy = 0; dy <= 8; ++dy) {
    for (int dx = 0; dx <= 8; ++dx) {
      for (bool flip : {false, true}) {
        bool match = true;
        for (int y = 0; y < side && match; ++y) {
          for (int x = 0; x < side && match; ++x) {
            const int sy = y + dy - 4;
            const int sx = (flip ? side - 1 - x : x) + dx - 4;
            const bool inside = sy >= 0 && sy < side && sx >= 0 && sx < side;
            const int value = inside ? dataset.pixel(index, sy, sx, 0) : 0;
            match = std::abs(batch.images[(slot * side + y) * side + x] -
                             normalized(value, norm, 0)) < 1e-5;
          }
        }
        if (match) return std::tuple{dy, dx, flip};
      }
    }
  }
  return std::nullopt;
}

TEST(BatchLoader, AugmentationIsAPadFourCropAndFlip) {
  constexpr int kSide = 12;
  const PatternDataset dataset(64, {kSide, kSide, 1});
  const Normalization norm = normalization_for("fashion-mnist", 1);
  const std::vector<HostBatch> batches =
      run_pass(dataset, {{16, 1, kSide, kSide}, MemoryFormat::kChannelsLast}, norm, true, 2,
               consecutive_steps(4, 16));
  std::set<std::tuple<int, int, bool>> seen;
  for (int64_t s = 0; s < 4; ++s) {
    for (int64_t n = 0; n < 16; ++n) {
      const auto jitter = find_jitter(dataset, s * 16 + n, batches[s], n, norm, kSide);
      ASSERT_TRUE(jitter.has_value()) << "step " << s << " slot " << n;
      seen.insert(*jitter);
    }
  }
  EXPECT_GT(seen.size(), 30u);  // offsets and flips vary over 64 examples
  std::set<bool> flips;
  for (const auto& jitter : seen) flips.insert(std::get<2>(jitter));
  EXPECT_EQ(flips.size(), 2u);
}

TEST(BatchLoader, AugmentationDependsOnSeedAndPassNotOnThreads) {
  const PatternDataset dataset(40, {10, 10, 3});
  const Normalization norm = normalization_for("cifar10", 3);
  const BatchLayout layout{{8, 3, 10, 10}, MemoryFormat::kChannelsLast};
  const auto steps = consecutive_steps(5, 8);
  const std::vector<HostBatch> one = run_pass(dataset, layout, norm, true, 1, steps);
  const std::vector<HostBatch> three = run_pass(dataset, layout, norm, true, 3, steps);
  const std::vector<HostBatch> other_seed = run_pass(dataset, layout, norm, true, 3, steps, 10);
  const std::vector<HostBatch> other_pass = run_pass(dataset, layout, norm, true, 3, steps, 9, 1);
  ASSERT_EQ(one.size(), 5u);
  ASSERT_EQ(three.size(), 5u);
  for (size_t s = 0; s < 5; ++s) {
    EXPECT_EQ(one[s].images, three[s].images) << "step " << s;
    EXPECT_EQ(one[s].labels, three[s].labels);
    EXPECT_NE(one[s].images, other_seed[s].images);
    EXPECT_NE(one[s].images, other_pass[s].images);
  }
}

TEST(BatchLoader, ImageFolderTrainingIsIndependentOfThreads) {
  fixtures::TempFolder folder;
  for (int i = 0; i < 6; ++i) {
    for (const char* split : {"train", "val"}) {
      fixtures::write_bytes(folder / (std::string(split) + "/c" + std::to_string(i % 2) + "/" +
                                      std::to_string(i) + ".jpg"),
                            fixtures::jpeg_bytes(fixtures::smooth_rgb(70, 50, i), 70, 50, 3));
    }
  }
  DataConfig config;
  config.dataset = "imagefolder";
  config.path = folder.path().string();
  config.image_size = 16;
  const DatasetPair pair = open_datasets(config);
  const Normalization norm = normalization_for("imagefolder", 3);
  const BatchLayout layout{{3, 3, 16, 16}, MemoryFormat::kChannelsFirst};
  const auto one = run_pass(*pair.train, layout, norm, true, 1, consecutive_steps(2, 3));
  const auto three = run_pass(*pair.train, layout, norm, true, 3, consecutive_steps(2, 3));
  const auto eval = run_pass(*pair.train, layout, norm, false, 3, consecutive_steps(2, 3));
  for (size_t s = 0; s < 2; ++s) {
    EXPECT_EQ(one[s].images, three[s].images);
    EXPECT_NE(one[s].images, eval[s].images);
  }
  EXPECT_THAT(one[0].labels, ::testing::ElementsAre(0, 0, 0));  // c0 holds 0.jpg, 2.jpg, 4.jpg
  EXPECT_THAT(one[1].labels, ::testing::ElementsAre(1, 1, 1));
}

TEST(BatchLoader, DataErrorOnALoaderThreadIsRethrownByNext) {
  const PatternDataset dataset(20, {4, 4, 1}, 13);
  BatchLoader loader(dataset, {{4, 1, 4, 4}, MemoryFormat::kChannelsLast},
                     normalization_for("fashion-mnist", 1), false, 2, 2, 1);
  loader.start(consecutive_steps(5, 4));
  auto drain = [&loader] {
    while (loader.next()) {
    }
  };
  EXPECT_THAT(drain, ::testing::ThrowsMessage<DataError>(
                         ::testing::HasSubstr("/data/bad.bin: example 13 is broken")));
  EXPECT_FALSE(loader.next().has_value());  // the failed pass is over
  loader.start({{0, 1}});                   // and the loader still works
  const std::optional<HostBatch> batch = loader.next();
  ASSERT_TRUE(batch.has_value());
  EXPECT_EQ(batch->valid, 2);
}

// Waits (up to 10 s) until `dataset` has served `reads` reads, then a little longer, and returns
// the count: a loader that ran past its prefetch bound would have read more by then.
int64_t reads_after_settling(const PatternDataset& dataset, int64_t reads) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (dataset.reads() < reads && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  return dataset.reads();
}

TEST(BatchLoader, KeepsAtMostPrefetchBatchesAhead) {
  const PatternDataset dataset(1000, {4, 4, 1});
  BatchLoader loader(dataset, {{10, 1, 4, 4}, MemoryFormat::kChannelsLast},
                     normalization_for("fashion-mnist", 1), false, 3, 2, 1);
  loader.start(consecutive_steps(100, 10));
  EXPECT_EQ(reads_after_settling(dataset, 20), 20);  // 2 batches of 10, then it waits
  ASSERT_TRUE(loader.next().has_value());
  EXPECT_EQ(reads_after_settling(dataset, 30), 30);  // one more for the one taken
}

// Records when each example was first read.
class TimedDataset final : public PatternDataset {
 public:
  explicit TimedDataset(int64_t size) : PatternDataset(size, {4, 4, 1}), first_read_(size) {}
  int32_t read(int64_t index, std::span<uint8_t> pixels) const override {
    int64_t unread = 0;
    first_read_[index].compare_exchange_strong(
        unread, std::chrono::steady_clock::now().time_since_epoch().count());
    return PatternDataset::read(index, pixels);
  }
  // The first read among [begin, end), waiting (up to 10 s) until all of them have been read.
  std::chrono::steady_clock::time_point first_read(int64_t begin, int64_t end) const {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    int64_t earliest = 0;
    for (int64_t i = begin; i < end; ++i) {
      while (first_read_[i].load() == 0 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      const int64_t read = first_read_[i].load();
      if (earliest == 0 || read < earliest) earliest = read;
    }
    return std::chrono::steady_clock::time_point(std::chrono::steady_clock::duration(earliest));
  }

 private:
  mutable std::vector<std::atomic<int64_t>> first_read_;
};

// A consumer slower than the loader: each batch waits ready, so slack holds the next ones back,
// and a batch claimed after a batch is taken is not read before the delay has passed.
TEST(BatchLoader, SlackHoldsBackBatchesWhileTheConsumerIsSlow) {
  const TimedDataset dataset(200);
  BatchLoader loader(dataset, {{10, 1, 4, 4}, MemoryFormat::kChannelsLast},
                     normalization_for("fashion-mnist", 1), false, 2, 2, 1);
  loader.use_slack(true);
  loader.start(consecutive_steps(20, 10));
  for (int step = 0; step < 5; ++step) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    ASSERT_TRUE(loader.next().has_value());
  }
  EXPECT_GE(loader.slack_delay(), std::chrono::milliseconds(2));  // a fifth of about 20 ms
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const auto taken = std::chrono::steady_clock::now();
  ASSERT_TRUE(loader.next().has_value());  // batch 5; batch 7 may start only now, held back
  const auto delay = loader.slack_delay();
  EXPECT_GE(dataset.first_read(70, 80) - taken, delay);

  loader.start(consecutive_steps(2, 10));  // a new pass starts without holding back
  EXPECT_EQ(loader.slack_delay(), std::chrono::microseconds(0));
}

TEST(BatchLoader, SlackChangesWhenBatchesAreMadeNotWhatTheyHold) {
  const PatternDataset dataset(60, {6, 6, 3});
  const Normalization norm = normalization_for("cifar10", 3);
  const BatchLayout layout{{6, 3, 6, 6}, MemoryFormat::kChannelsLast};
  const auto steps = consecutive_steps(10, 6);
  const std::vector<HostBatch> eager = run_pass(dataset, layout, norm, true, 2, steps);
  BatchLoader loader(dataset, layout, norm, true, 2, 2, 9);
  loader.use_slack(true);
  loader.start(steps);
  for (size_t s = 0; s < steps.size(); ++s) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    const std::optional<HostBatch> batch = loader.next();
    ASSERT_TRUE(batch.has_value());
    EXPECT_EQ(batch->images, eager[s].images) << "step " << s;
    EXPECT_EQ(batch->labels, eager[s].labels) << "step " << s;
  }
  EXPECT_FALSE(loader.next().has_value());
}

TEST(BatchLoader, WithoutSlackNothingIsHeldBack) {
  const PatternDataset dataset(100, {4, 4, 1});
  BatchLoader loader(dataset, {{10, 1, 4, 4}, MemoryFormat::kChannelsLast},
                     normalization_for("fashion-mnist", 1), false, 2, 2, 1);
  loader.start(consecutive_steps(5, 10));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(loader.next().has_value());
  EXPECT_EQ(loader.slack_delay(), std::chrono::microseconds(0));
}

TEST(BatchLoader, RestartAndDestructionMidPassAreClean) {
  const PatternDataset dataset(1000, {8, 8, 1});
  const Normalization norm = normalization_for("fashion-mnist", 1);
  auto loader = std::make_unique<BatchLoader>(
      dataset, BatchLayout{{10, 1, 8, 8}, MemoryFormat::kChannelsLast}, norm, true, 3, 3, 1);
  loader->start(consecutive_steps(100, 10));
  ASSERT_TRUE(loader->next().has_value());
  loader->start({{5, 6}});  // abandons the first pass
  const std::optional<HostBatch> batch = loader->next();
  ASSERT_TRUE(batch.has_value());
  EXPECT_THAT(batch->labels, ::testing::ElementsAre(5, 6, 0, 0, 0, 0, 0, 0, 0, 0));
  EXPECT_FALSE(loader->next().has_value());
  loader->start(consecutive_steps(100, 10));
  ASSERT_TRUE(loader->next().has_value());
  loader.reset();  // mid-pass: must join its threads without hanging
  SUCCEED();
}

TEST(BatchLoader, RefusesIndicesOutsideTheDataset) {
  const PatternDataset dataset(10, {4, 4, 1});
  BatchLoader loader(dataset, {{2, 1, 4, 4}, MemoryFormat::kChannelsLast},
                     normalization_for("fashion-mnist", 1), false, 1, 1, 1);
  EXPECT_THROW(loader.start({{0, 10}}), std::out_of_range);
  EXPECT_THROW(loader.start({{0, 1, 2}}), std::invalid_argument);
}

}  // namespace
}  // namespace kubetrain

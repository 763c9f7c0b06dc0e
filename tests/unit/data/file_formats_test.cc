// Decoding of Fashion-MNIST IDX files (plain and gzipped) and CIFAR-10 batches written by the
// fixtures, and of Debian's real Fashion-MNIST when it is installed.

#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <vector>

#include "tests/data/data_fixtures.h"
#include "worker/data/dataset.h"
#include "worker/data/file_contents.h"

namespace kubetrain {
namespace {

using fixtures::TempFolder;

std::vector<uint8_t> read_example(const Dataset& dataset, int64_t index, int32_t* label) {
  std::vector<uint8_t> pixels(static_cast<size_t>(dataset.image_shape().bytes()));
  *label = dataset.read(index, pixels);
  return pixels;
}

void expect_grey_set(const Dataset& dataset, const fixtures::GreySet& set) {
  ASSERT_EQ(dataset.size(), set.count);
  EXPECT_EQ(dataset.classes(), 10);
  EXPECT_EQ(dataset.image_shape().height, set.rows);
  EXPECT_EQ(dataset.image_shape().width, set.cols);
  EXPECT_EQ(dataset.image_shape().channels, 1);
  const size_t bytes = static_cast<size_t>(set.rows * set.cols);
  for (int i = 0; i < set.count; ++i) {
    int32_t label = -1;
    const std::vector<uint8_t> pixels = read_example(dataset, i, &label);
    EXPECT_EQ(label, set.labels[i]) << "example " << i;
    EXPECT_TRUE(std::equal(pixels.begin(), pixels.end(), set.pixels.begin() + i * bytes))
        << "example " << i;
  }
}

DataConfig config_for(const std::string& dataset, const std::string& path) {
  DataConfig config;
  config.dataset = dataset;
  config.path = path;
  return config;
}

TEST(FashionMnist, ReadsPlainIdxFiles) {
  TempFolder folder;
  const fixtures::GreyPair written = fixtures::write_fashion_mnist(folder.path(), 12, 5, false, 6, 7);
  const DatasetPair pair = open_datasets(config_for("fashion-mnist", folder.path()));
  expect_grey_set(*pair.train, written.train);
  expect_grey_set(*pair.validation, written.test);
}

TEST(FashionMnist, ReadsGzippedIdxFiles) {
  TempFolder folder;
  const fixtures::GreyPair written = fixtures::write_fashion_mnist(folder.path(), 9, 4, true);
  const DatasetPair pair = open_datasets(config_for("fashion-mnist", folder.path()));
  expect_grey_set(*pair.train, written.train);
  expect_grey_set(*pair.validation, written.test);
}

TEST(FashionMnist, PrefersThePlainFileWhenBothExist) {
  TempFolder folder;
  fixtures::write_fashion_mnist(folder.path(), 9, 4, true, 5, 5);
  // A different, plain training set beside the gzipped one.
  const fixtures::GreyPair plain = fixtures::write_fashion_mnist(folder.path(), 6, 4, false, 5, 5);
  const DatasetPair pair = open_datasets(config_for("fashion-mnist", folder.path()));
  expect_grey_set(*pair.train, plain.train);
}

TEST(FashionMnist, LimitsToTheFirstExamples) {
  TempFolder folder;
  const fixtures::GreyPair written = fixtures::write_fashion_mnist(folder.path(), 12, 5, false, 4, 4);
  DataConfig config = config_for("fashion-mnist", folder.path());
  config.train_examples = 7;
  config.validation_examples = 5;  // exactly the set's size is allowed
  const DatasetPair pair = open_datasets(config);
  EXPECT_EQ(pair.train->size(), 7);
  EXPECT_EQ(pair.validation->size(), 5);
  int32_t label = -1;
  const std::vector<uint8_t> pixels = read_example(*pair.train, 6, &label);
  EXPECT_EQ(label, written.train.labels[6]);
  EXPECT_EQ(pixels[0], written.train.pixels[6 * 16]);
}

TEST(Cifar10, ReadsBatchesAsInterleavedRgb) {
  TempFolder folder;
  fixtures::ColourSet test;
  const fixtures::ColourSet train = fixtures::write_cifar10(folder.path(), 3, 4, &test);
  const DatasetPair pair = open_datasets(config_for("cifar10", folder.path()));
  ASSERT_EQ(pair.train->size(), 15);
  ASSERT_EQ(pair.validation->size(), 4);
  EXPECT_EQ(pair.train->image_shape().channels, 3);
  EXPECT_EQ(pair.train->image_shape().height, 32);
  for (int64_t i = 0; i < 15; ++i) {
    int32_t label = -1;
    const std::vector<uint8_t> pixels = read_example(*pair.train, i, &label);
    EXPECT_EQ(label, train.labels[i]);
    EXPECT_TRUE(std::equal(pixels.begin(), pixels.end(), train.pixels.begin() + i * 3072));
  }
  int32_t label = -1;
  const std::vector<uint8_t> pixels = read_example(*pair.validation, 3, &label);
  EXPECT_EQ(label, test.labels[3]);
  EXPECT_TRUE(std::equal(pixels.begin(), pixels.end(), test.pixels.begin() + 3 * 3072));
}

TEST(Cifar10, FindsTheArchiveSubfolder) {
  TempFolder folder;
  fixtures::write_cifar10(folder / "cifar-10-batches-bin", 2, 2);
  const DatasetPair pair = open_datasets(config_for("cifar10", folder.path()));
  EXPECT_EQ(pair.train->size(), 10);
  EXPECT_EQ(pair.validation->size(), 2);
}

TEST(Cifar10, PlanesMapToChannels) {
  // Red plane all 10, green 20, blue 30: every HWC pixel must read (10, 20, 30).
  TempFolder folder;
  std::vector<uint8_t> record = {4};
  for (uint8_t value : {10, 20, 30}) record.insert(record.end(), 1024, value);
  for (int b = 1; b <= 5; ++b) fixtures::write_bytes(folder / ("data_batch_" + std::to_string(b) + ".bin"), record);
  fixtures::write_bytes(folder / "test_batch.bin", record);
  const DatasetPair pair = open_datasets(config_for("cifar10", folder.path()));
  int32_t label = -1;
  const std::vector<uint8_t> pixels = read_example(*pair.train, 2, &label);
  EXPECT_EQ(label, 4);
  for (size_t p = 0; p < 1024; ++p) {
    ASSERT_EQ(pixels[3 * p], 10);
    ASSERT_EQ(pixels[3 * p + 1], 20);
    ASSERT_EQ(pixels[3 * p + 2], 30);
  }
}

TEST(Gunzip, MatchesZlibsOwnReader) {
  TempFolder folder;
  std::vector<uint8_t> data(300000);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>((i * i) >> 3);
  fixtures::write_gzip(folder / "x.gz", data);
  EXPECT_EQ(gunzip(read_file_bytes(folder / "x.gz"), "x.gz"), data);
}

constexpr const char* kDebianFashionMnist = "/usr/share/datasets/fashion-mnist";

TEST(RealFashionMnist, HasTheKnownSizesAndFirstLabel) {
  if (!std::filesystem::exists(kDebianFashionMnist)) {
    GTEST_SKIP() << kDebianFashionMnist << " is absent (Debian package dataset-fashion-mnist)";
  }
  const DatasetPair pair = open_datasets(config_for("fashion-mnist", kDebianFashionMnist));
  EXPECT_EQ(pair.train->size(), 60000);
  EXPECT_EQ(pair.validation->size(), 10000);
  EXPECT_EQ(pair.train->classes(), 10);
  EXPECT_EQ(pair.train->image_shape().height, 28);
  EXPECT_EQ(pair.train->image_shape().width, 28);

  // The first label is byte 8 of the decompressed label file, read here with zlib's own gzread.
  gzFile labels = gzopen((std::string(kDebianFashionMnist) + "/train-labels-idx1-ubyte.gz").c_str(), "rb");
  ASSERT_NE(labels, nullptr);
  uint8_t header_and_first[9];
  ASSERT_EQ(gzread(labels, header_and_first, 9), 9);
  gzclose(labels);
  std::vector<uint8_t> pixels(784);
  EXPECT_EQ(pair.train->read(0, pixels), header_and_first[8]);
}

}  // namespace
}  // namespace kubetrain

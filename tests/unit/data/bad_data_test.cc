// Every missing, truncated or malformed data file is a DataError that names the file (or config
// field), what is wrong and what was expected.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/data/data_fixtures.h"
#include "worker/data/dataset.h"
#include "worker/data/file_contents.h"

namespace kubetrain {
namespace {

using fixtures::TempFolder;
using ::testing::AllOf;
using ::testing::HasSubstr;

DataConfig config_for(const std::string& dataset, const std::string& path) {
  DataConfig config;
  config.dataset = dataset;
  config.path = path;
  config.image_size = 32;
  return config;
}

// The message open_datasets throws, or "" when it succeeds.
std::string open_error(const DataConfig& config) {
  try {
    open_datasets(config);
  } catch (const DataError& error) {
    return error.what();
  }
  return "";
}

std::string read_error(const Dataset& dataset, int64_t index) {
  std::vector<uint8_t> pixels(static_cast<size_t>(dataset.image_shape().bytes()));
  try {
    dataset.read(index, pixels);
  } catch (const DataError& error) {
    return error.what();
  }
  return "";
}

// A fashion-mnist folder of plain files with 12 training and 5 test examples of 4 x 4.
class BadFashionMnist : public ::testing::Test {
 protected:
  void SetUp() override { fixtures::write_fashion_mnist(folder_.path(), 12, 5, false, 4, 4); }
  std::string file(const std::string& name) const { return folder_ / name; }
  std::string error() const { return open_error(config_for("fashion-mnist", folder_.path())); }

  TempFolder folder_;
};

TEST_F(BadFashionMnist, MissingFolderNamesItAndTheExpectedFiles) {
  const std::string missing = file("nowhere");
  EXPECT_THAT(open_error(config_for("fashion-mnist", missing)),
              AllOf(HasSubstr(missing + ": no such folder"), HasSubstr("train-images-idx3-ubyte"),
                    HasSubstr("t10k-labels-idx1-ubyte")));
}

TEST_F(BadFashionMnist, MissingFile) {
  std::filesystem::remove(file("t10k-labels-idx1-ubyte"));
  EXPECT_THAT(error(), AllOf(HasSubstr(file("t10k-labels-idx1-ubyte") + "(.gz): missing"),
                             HasSubstr("train-images-idx3-ubyte")));
}

TEST_F(BadFashionMnist, TruncatedImages) {
  std::filesystem::resize_file(file("train-images-idx3-ubyte"), 16 + 12 * 16 - 10);
  EXPECT_THAT(error(), HasSubstr(file("train-images-idx3-ubyte") +
                                 ": truncated: expected 208 bytes (16-byte header + 12 x 4 x 4), "
                                 "found 198"));
}

TEST_F(BadFashionMnist, TruncatedHeader) {
  std::filesystem::resize_file(file("train-labels-idx1-ubyte"), 6);
  EXPECT_THAT(error(), HasSubstr(file("train-labels-idx1-ubyte") +
                                 ": truncated: 6 bytes, shorter than its 8-byte IDX header"));
}

TEST_F(BadFashionMnist, WrongMagic) {
  fixtures::write_bytes(file("train-labels-idx1-ubyte"),
                        fixtures::idx_bytes(0x803, {12, 1, 1}, std::vector<uint8_t>(12, 1)));
  EXPECT_THAT(error(), HasSubstr(file("train-labels-idx1-ubyte") +
                                 ": expected magic 0x00000801 (IDX labels), found 0x00000803"));
}

TEST_F(BadFashionMnist, CountMismatch) {
  fixtures::write_bytes(file("train-labels-idx1-ubyte"),
                        fixtures::idx_bytes(0x801, {11}, std::vector<uint8_t>(11, 1)));
  EXPECT_THAT(error(), HasSubstr(file("train-labels-idx1-ubyte") + ": holds 11 labels, but " +
                                 file("train-images-idx3-ubyte") +
                                 " holds 12 images; expected equal counts"));
}

TEST_F(BadFashionMnist, LabelOutOfRange) {
  std::vector<uint8_t> labels(5, 2);
  labels[3] = 12;
  fixtures::write_bytes(file("t10k-labels-idx1-ubyte"), fixtures::idx_bytes(0x801, {5}, labels));
  EXPECT_THAT(error(), HasSubstr(file("t10k-labels-idx1-ubyte") +
                                 ": label 12 of example 3 is out of range; expected 0..9"));
}

TEST_F(BadFashionMnist, TestImagesOfAnotherSize) {
  fixtures::write_bytes(file("t10k-images-idx3-ubyte"),
                        fixtures::idx_bytes(0x803, {5, 3, 4}, std::vector<uint8_t>(60, 1)));
  EXPECT_THAT(error(), HasSubstr(file("t10k-images-idx3-ubyte") +
                                 ": images are 3 x 4, but the training images are 4 x 4"));
}

TEST_F(BadFashionMnist, CorruptGzip) {
  std::filesystem::remove(file("train-images-idx3-ubyte"));
  fixtures::write_gzip(file("train-images-idx3-ubyte.gz"),
                       fixtures::idx_bytes(0x803, {12, 4, 4}, std::vector<uint8_t>(192, 7)));
  std::vector<uint8_t> gz = read_file_bytes(file("train-images-idx3-ubyte.gz"));
  gz[gz.size() - 6] ^= 0xff;  // inside the CRC-32 of the trailer
  fixtures::write_bytes(file("train-images-idx3-ubyte.gz"), gz);
  EXPECT_THAT(error(), HasSubstr(file("train-images-idx3-ubyte.gz") +
                                 ": corrupt gzip data (incorrect data check)"));
}

TEST_F(BadFashionMnist, TruncatedGzip) {
  std::filesystem::remove(file("train-labels-idx1-ubyte"));
  fixtures::write_gzip(file("train-labels-idx1-ubyte.gz"),
                       fixtures::idx_bytes(0x801, {12}, std::vector<uint8_t>(12, 3)));
  std::filesystem::resize_file(file("train-labels-idx1-ubyte.gz"),
                               std::filesystem::file_size(file("train-labels-idx1-ubyte.gz")) - 5);
  EXPECT_THAT(error(), HasSubstr(file("train-labels-idx1-ubyte.gz") + ": truncated gzip stream"));
}

TEST_F(BadFashionMnist, GzipThatIsNotGzip) {
  std::filesystem::remove(file("t10k-images-idx3-ubyte"));
  fixtures::write_bytes(file("t10k-images-idx3-ubyte.gz"), std::vector<uint8_t>(40, 0));
  EXPECT_THAT(error(), HasSubstr(file("t10k-images-idx3-ubyte.gz") + ": not a gzip file"));
}

TEST_F(BadFashionMnist, TrainExamplesTooLarge) {
  DataConfig config = config_for("fashion-mnist", folder_.path());
  config.train_examples = 100;
  EXPECT_THAT(open_error(config),
              AllOf(HasSubstr("data.trainExamples: 100 is larger than the training set"),
                    HasSubstr("which has 12 examples")));
}

TEST_F(BadFashionMnist, ValidationExamplesNegative) {
  DataConfig config = config_for("fashion-mnist", folder_.path());
  config.validation_examples = -1;
  EXPECT_THAT(open_error(config), HasSubstr("data.validationExamples: -1 is negative; use 0 (all) or 1..5"));
}

TEST(BadDataConfig, SyntheticAndUnknownDatasetsAreRefused) {
  EXPECT_THAT(open_error(config_for("synthetic", "/tmp")),
              AllOf(HasSubstr("data.dataset: 'synthetic'"), HasSubstr("made by the trainer")));
  EXPECT_THAT(open_error(config_for("mnist", "/tmp")),
              HasSubstr("expected cifar10, fashion-mnist or imagefolder"));
  EXPECT_THAT(open_error(config_for("cifar10", "")), HasSubstr("data.path: empty"));
}

TEST(BadCifar10, SizeNotAMultipleOfTheRecord) {
  TempFolder folder;
  fixtures::write_cifar10(folder.path(), 2, 2);
  std::filesystem::resize_file(folder / "data_batch_3.bin", 2 * 3073 - 1);
  EXPECT_THAT(open_error(config_for("cifar10", folder.path())),
              HasSubstr(folder / "data_batch_3.bin" +
                        ": 6145 bytes is not a positive multiple of the 3073-byte record"));
}

TEST(BadCifar10, LabelOutOfRange) {
  TempFolder folder;
  fixtures::write_cifar10(folder.path(), 2, 2);
  std::vector<uint8_t> bytes = fixtures::cifar_batch_bytes(fixtures::make_colour_set(3, 0));
  bytes[2 * 3073] = 10;
  fixtures::write_bytes(folder / "test_batch.bin", bytes);
  EXPECT_THAT(open_error(config_for("cifar10", folder.path())),
              HasSubstr(folder / "test_batch.bin" +
                        ": label 10 of record 2 is out of range; expected 0..9"));
}

TEST(BadCifar10, MissingBatch) {
  TempFolder folder;
  fixtures::write_cifar10(folder.path(), 1, 1);
  std::filesystem::remove(folder / "data_batch_5.bin");
  EXPECT_THAT(open_error(config_for("cifar10", folder.path())),
              AllOf(HasSubstr(folder / "data_batch_5.bin" + ": missing"),
                    HasSubstr("data_batch_1.bin .. data_batch_5.bin and test_batch.bin")));
}

// An image folder with classes a and b, one small JPEG each in train and val.
class BadImageFolder : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* split : {"train", "val"}) {
      for (const char* name : {"a", "b"}) add_jpeg(std::string(split) + "/" + name + "/1.jpg");
    }
  }
  void add_jpeg(const std::string& relative) {
    fixtures::write_bytes(folder_ / relative,
                          fixtures::jpeg_bytes(fixtures::smooth_rgb(40, 30, 1), 40, 30, 3));
  }
  std::string error() const { return open_error(config_for("imagefolder", folder_.path())); }

  TempFolder folder_;
};

TEST_F(BadImageFolder, MissingValidationFolder) {
  std::filesystem::remove_all(folder_ / "val");
  EXPECT_THAT(error(), AllOf(HasSubstr(folder_ / "val" + ": no such folder"),
                             HasSubstr("one sub-folder of .jpg/.jpeg files per class")));
}

TEST_F(BadImageFolder, EmptyClassFolder) {
  std::filesystem::remove(folder_ / "train/b/1.jpg");
  fixtures::write_bytes(folder_ / "train/b/notes.txt", {'x'});
  EXPECT_THAT(error(), HasSubstr(folder_ / "train/b" +
                                 ": holds no .jpg or .jpeg files; every class folder needs at "
                                 "least one"));
}

TEST_F(BadImageFolder, ClassMismatchBetweenTrainAndVal) {
  add_jpeg("train/c/1.jpg");
  EXPECT_THAT(error(), AllOf(HasSubstr("train has 3 classes and val 2"),
                             HasSubstr("'c' is only in train"),
                             HasSubstr("expected the same class folders in both")));
}

TEST_F(BadImageFolder, NoClassFolders) {
  std::filesystem::remove_all(folder_ / "train");
  std::filesystem::create_directories(folder_ / "train");
  EXPECT_THAT(error(), HasSubstr(folder_ / "train" + ": holds no class folders"));
}

TEST_F(BadImageFolder, CorruptJpegNamesTheFile) {
  fixtures::write_bytes(folder_ / "val/b/1.jpg", std::vector<uint8_t>(100, 0x42));
  const DatasetPair pair = open_datasets(config_for("imagefolder", folder_.path()));
  EXPECT_THAT(read_error(*pair.validation, 1),
              AllOf(HasSubstr(folder_ / "val/b/1.jpg" + ": corrupt or unsupported JPEG"),
                    HasSubstr("Not a JPEG file")));
}

TEST_F(BadImageFolder, TruncatedJpegNamesTheFile) {
  const std::string path = folder_ / "train/a/1.jpg";
  std::filesystem::resize_file(path, std::filesystem::file_size(path) / 2);
  const DatasetPair pair = open_datasets(config_for("imagefolder", folder_.path()));
  EXPECT_THAT(read_error(*pair.train, 0),
              AllOf(HasSubstr(path + ": corrupt or unsupported JPEG"),
                    HasSubstr("Premature end of JPEG file")));
}

}  // namespace
}  // namespace kubetrain

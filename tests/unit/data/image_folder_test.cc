// JPEG decoding (RGB, grey, CMYK, reduced-scale) and the imagefolder data set.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "tests/data/data_fixtures.h"
#include "worker/data/dataset.h"
#include "worker/data/jpeg_decoder.h"

namespace kubetrain {
namespace {

using fixtures::TempFolder;

CropChooser whole_image() {
  return [](int width, int height) { return CropBox{0, 0, double(width), double(height)}; };
}

// Largest absolute difference and mean absolute difference of two equal-sized buffers.
std::pair<int, double> difference(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  int largest = 0;
  double total = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const int d = std::abs(int(a[i]) - int(b[i]));
    largest = std::max(largest, d);
    total += d;
  }
  return {largest, total / double(a.size())};
}

std::vector<uint8_t> decode(const std::vector<uint8_t>& jpeg, int out_w, int out_h,
                            const CropChooser& choose) {
  std::vector<uint8_t> out(static_cast<size_t>(out_w) * out_h * 3);
  decode_jpeg_crop(jpeg, "picture.jpg", choose, out_w, out_h, out);
  return out;
}

TEST(JpegDecoder, RgbRoundTripsWithinJpegLoss) {
  const std::vector<uint8_t> picture = fixtures::smooth_rgb(64, 48, 3);
  const std::vector<uint8_t> decoded = decode(fixtures::jpeg_bytes(picture, 64, 48, 3, 100), 64, 48,
                                              whole_image());
  const auto [largest, mean] = difference(decoded, picture);
  EXPECT_LE(largest, 8);
  EXPECT_LE(mean, 1.5);
}

TEST(JpegDecoder, GreyIsWidenedToRgb) {
  std::vector<uint8_t> grey;
  for (int y = 0; y < 40; ++y) {
    for (int x = 0; x < 40; ++x) grey.push_back(static_cast<uint8_t>(30 + 4 * x + y));
  }
  const std::vector<uint8_t> decoded = decode(fixtures::jpeg_bytes(grey, 40, 40, 1, 100), 40, 40,
                                              whole_image());
  for (size_t p = 0; p < grey.size(); ++p) {
    ASSERT_EQ(decoded[3 * p], decoded[3 * p + 1]);
    ASSERT_EQ(decoded[3 * p], decoded[3 * p + 2]);
    ASSERT_LE(std::abs(int(decoded[3 * p]) - int(grey[p])), 4) << "pixel " << p;
  }
}

TEST(JpegDecoder, AdobeCmykIsConvertedToRgb) {
  // Adobe stores inverted inks: C = R, M = G, Y = B and K = 255 (no black) is the RGB picture.
  const std::vector<uint8_t> rgb = fixtures::smooth_rgb(32, 32, 5);
  std::vector<uint8_t> cmyk;
  for (size_t p = 0; p < rgb.size() / 3; ++p) {
    cmyk.insert(cmyk.end(), {rgb[3 * p], rgb[3 * p + 1], rgb[3 * p + 2], 255});
  }
  const std::vector<uint8_t> decoded = decode(fixtures::jpeg_bytes(cmyk, 32, 32, 4, 100), 32, 32,
                                              whole_image());
  const auto [largest, mean] = difference(decoded, rgb);
  EXPECT_LE(largest, 8);
  EXPECT_LE(mean, 1.5);
}

TEST(JpegDecoder, ReducedScaleDecodeMatchesBlockAverages) {
  // 256 x 256 to 32 x 32 decodes at 1/8 scale: each output pixel is about its 8 x 8 block's mean.
  const std::vector<uint8_t> picture = fixtures::smooth_rgb(256, 256, 2);
  const std::vector<uint8_t> decoded = decode(fixtures::jpeg_bytes(picture, 256, 256, 3, 100), 32,
                                              32, whole_image());
  std::vector<uint8_t> expected;
  for (int by = 0; by < 32; ++by) {
    for (int bx = 0; bx < 32; ++bx) {
      for (int c = 0; c < 3; ++c) {
        double sum = 0;
        for (int y = 0; y < 8; ++y) {
          for (int x = 0; x < 8; ++x) sum += picture[((by * 8 + y) * 256 + bx * 8 + x) * 3 + c];
        }
        expected.push_back(static_cast<uint8_t>(std::lround(sum / 64)));
      }
    }
  }
  const auto [largest, mean] = difference(decoded, expected);
  EXPECT_LE(largest, 6);
  EXPECT_LE(mean, 1.5);
}

TEST(JpegDecoder, CropTakesTheChosenRegion) {
  // Left half dark, right half bright: cropping the right quarter gives only bright pixels.
  std::vector<uint8_t> picture;
  for (int y = 0; y < 64; ++y) {
    for (int x = 0; x < 128; ++x) picture.insert(picture.end(), 3, x < 64 ? 20 : 230);
  }
  const std::vector<uint8_t> decoded =
      decode(fixtures::jpeg_bytes(picture, 128, 64, 3, 100), 16, 16,
             [](int, int) { return CropBox{96, 16, 32, 32}; });
  for (uint8_t value : decoded) ASSERT_NEAR(value, 230, 6);
}

class ImageFolder : public ::testing::Test {
 protected:
  void SetUp() override {
    // Classes written out of order; files too. Each picture's red level identifies it.
    add("train/zebra/b.jpg", 200);
    add("train/zebra/a.JPEG", 180);
    add("train/ant/x.jpg", 40);
    add("train/ant/readme.txt", -1);
    add("val/ant/v.jpeg", 60);
    add("val/zebra/w.jpg", 220);
    config_.dataset = "imagefolder";
    config_.path = folder_.path().string();
    config_.image_size = 24;
  }
  void add(const std::string& relative, int red) {
    if (red < 0) {
      fixtures::write_bytes(folder_ / relative, {'x'});
      return;
    }
    std::vector<uint8_t> picture;
    for (int p = 0; p < 80 * 60; ++p) picture.insert(picture.end(), {uint8_t(red), 100, 50});
    fixtures::write_bytes(folder_ / relative, fixtures::jpeg_bytes(picture, 80, 60, 3, 100));
  }

  TempFolder folder_;
  DataConfig config_;
};

TEST_F(ImageFolder, ListsSortedClassesAndFiles) {
  const DatasetPair pair = open_datasets(config_);
  ASSERT_EQ(pair.train->size(), 3);
  ASSERT_EQ(pair.validation->size(), 2);
  EXPECT_EQ(pair.train->classes(), 2);
  EXPECT_EQ(pair.train->image_shape().height, 24);
  EXPECT_EQ(pair.train->image_shape().width, 24);
  EXPECT_EQ(pair.train->image_shape().channels, 3);
  EXPECT_TRUE(pair.train->crops_for_training());
  const int expected_labels[] = {0, 1, 1};
  const int expected_red[] = {40, 180, 200};  // ant/x, zebra/a.JPEG, zebra/b
  std::vector<uint8_t> pixels(24 * 24 * 3);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(pair.train->read(i, pixels), expected_labels[i]);
    for (size_t p = 0; p < 24 * 24; ++p) {
      ASSERT_NEAR(pixels[3 * p], expected_red[i], 3) << "example " << i;
      ASSERT_NEAR(pixels[3 * p + 1], 100, 3);
      ASSERT_NEAR(pixels[3 * p + 2], 50, 3);
    }
  }
  EXPECT_EQ(pair.validation->read(1, pixels), 1);
  EXPECT_NEAR(pixels[0], 220, 3);
}

TEST_F(ImageFolder, TrainingCropIsDeterministicForItsKey) {
  // A picture with a gradient, so different crops give different pixels.
  const std::vector<uint8_t> gradient = fixtures::smooth_rgb(120, 90, 1);
  fixtures::write_bytes(folder_ / "train/ant/x.jpg", fixtures::jpeg_bytes(gradient, 120, 90, 3));
  const DatasetPair pair = open_datasets(config_);
  std::vector<uint8_t> first(24 * 24 * 3), again(first.size()), other(first.size());
  ExampleRandom a(3, 0, 1, 2), b(3, 0, 1, 2), c(3, 0, 1, 3);
  EXPECT_EQ(pair.train->read_training_crop(0, first, a), 0);
  pair.train->read_training_crop(0, again, b);
  pair.train->read_training_crop(0, other, c);
  EXPECT_EQ(first, again);
  EXPECT_NE(first, other);
}

TEST_F(ImageFolder, LimitsToTheFirstExamples) {
  config_.train_examples = 2;
  const DatasetPair pair = open_datasets(config_);
  EXPECT_EQ(pair.train->size(), 2);
  EXPECT_TRUE(pair.train->crops_for_training());
}

}  // namespace
}  // namespace kubetrain

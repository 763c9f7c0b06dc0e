// Bilinear resizing against a naive double-precision reference, crop-box geometry, and the
// per-example random stream.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <vector>

#include "worker/data/bilinear_resize.h"
#include "worker/data/crop_box.h"
#include "worker/data/example_random.h"

namespace kubetrain {
namespace {

// Textbook bilinear sampling at pixel centres, in double precision.
std::vector<uint8_t> reference_resize(const std::vector<uint8_t>& src, int sw, int sh, int ch,
                                      CropBox box, int dw, int dh) {
  std::vector<uint8_t> dst(static_cast<size_t>(dw) * dh * ch);
  for (int y = 0; y < dh; ++y) {
    for (int x = 0; x < dw; ++x) {
      const double fy = std::clamp(box.y + (y + 0.5) * box.height / dh - 0.5, 0.0, sh - 1.0);
      const double fx = std::clamp(box.x + (x + 0.5) * box.width / dw - 0.5, 0.0, sw - 1.0);
      const int y0 = static_cast<int>(std::floor(fy));
      const int x0 = static_cast<int>(std::floor(fx));
      const int y1 = std::min(y0 + 1, sh - 1);
      const int x1 = std::min(x0 + 1, sw - 1);
      const double ay = fy - y0;
      const double ax = fx - x0;
      for (int c = 0; c < ch; ++c) {
        auto at = [&](int yy, int xx) { return double(src[(size_t(yy) * sw + xx) * ch + c]); };
        const double value = (1 - ay) * ((1 - ax) * at(y0, x0) + ax * at(y0, x1)) +
                             ay * ((1 - ax) * at(y1, x0) + ax * at(y1, x1));
        dst[(size_t(y) * dw + x) * ch + c] = static_cast<uint8_t>(std::lround(value));
      }
    }
  }
  return dst;
}

std::vector<uint8_t> noise(int count, uint64_t seed) {
  ExampleRandom random(seed, 0, 0, 0);
  std::vector<uint8_t> values(static_cast<size_t>(count));
  for (uint8_t& value : values) value = static_cast<uint8_t>(random.below(256));
  return values;
}

void expect_matches_reference(int sw, int sh, int ch, CropBox box, int dw, int dh) {
  const std::vector<uint8_t> src = noise(sw * sh * ch, static_cast<uint64_t>(sw * 1000 + dw));
  std::vector<uint8_t> dst(static_cast<size_t>(dw) * dh * ch);
  resize_bilinear({src.data(), sw, sh, ch}, box, dst.data(), dw, dh);
  const std::vector<uint8_t> expected = reference_resize(src, sw, sh, ch, box, dw, dh);
  for (size_t i = 0; i < dst.size(); ++i) {
    // float vs double arithmetic may round a .5 case differently.
    ASSERT_LE(std::abs(int(dst[i]) - int(expected[i])), 1) << "element " << i;
  }
}

TEST(ResizeBilinear, MatchesDoubleReference) {
  expect_matches_reference(17, 13, 3, {0, 0, 17, 13}, 32, 32);       // upscale
  expect_matches_reference(40, 30, 1, {0, 0, 40, 30}, 23, 11);       // downscale, grey
  expect_matches_reference(50, 60, 3, {7.5, 3.25, 20, 31.5}, 16, 24);  // sub-region
}

TEST(ResizeBilinear, SameSizeIsACopy) {
  const std::vector<uint8_t> src = noise(9 * 7 * 3, 5);
  std::vector<uint8_t> dst(src.size());
  resize_bilinear({src.data(), 9, 7, 3}, {0, 0, 9, 7}, dst.data(), 9, 7);
  EXPECT_EQ(dst, src);
}

TEST(CropBox, CentralSquareIsCentred) {
  const CropBox box = central_square(200, 100, 0.875);
  EXPECT_DOUBLE_EQ(box.width, 87.5);
  EXPECT_DOUBLE_EQ(box.height, 87.5);
  EXPECT_DOUBLE_EQ(box.x, 56.25);
  EXPECT_DOUBLE_EQ(box.y, 6.25);
}

TEST(CropBox, RandomResizedCropStaysInsideWithinAreaAndRatio) {
  std::set<std::pair<double, double>> positions;
  for (uint64_t slot = 0; slot < 500; ++slot) {
    for (auto [w, h] : {std::pair{500, 375}, std::pair{64, 300}}) {
      ExampleRandom random(7, 0, 0, slot);
      const CropBox box = random_resized_crop(w, h, random);
      ASSERT_GE(box.x, 0);
      ASSERT_GE(box.y, 0);
      ASSERT_LE(box.x + box.width, w);
      ASSERT_LE(box.y + box.height, h);
      const double area = box.width * box.height / (double(w) * h);
      ASSERT_GE(area, 0.08 * 0.9);  // rounding of the sides
      ASSERT_LE(area, 1.0);
      const double ratio = box.width / box.height;
      ASSERT_GE(ratio, 0.75 * 0.9);
      ASSERT_LE(ratio, 4.0 / 3.0 * 1.1);
      positions.insert({box.x, box.y});
    }
  }
  EXPECT_GT(positions.size(), 400u);  // the crops really move around
}

TEST(ExampleRandom, SameKeySameStreamOtherKeyOtherStream) {
  ExampleRandom a(1, 2, 3, 4);
  ExampleRandom b(1, 2, 3, 4);
  ExampleRandom c(1, 2, 3, 5);
  ExampleRandom d(1, 2, 4, 4);
  const uint64_t first = a.next_u64();
  EXPECT_EQ(first, b.next_u64());
  EXPECT_NE(first, c.next_u64());
  EXPECT_NE(first, d.next_u64());
  int heads = 0;
  for (int i = 0; i < 10000; ++i) {
    const double u = a.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    heads += a.coin();
  }
  EXPECT_NEAR(heads, 5000, 300);
}

}  // namespace
}  // namespace kubetrain

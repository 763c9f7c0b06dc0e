#include "operator/controller/histogram.h"

#include <gtest/gtest.h>

namespace kubetrain {

TEST(Histogram, RendersCumulativeBucketsSumAndCount) {
  Histogram histogram("x_seconds", "help text", {0.1, 1});
  histogram.observe(0.05);
  histogram.observe(0.5);
  histogram.observe(5);
  histogram.observe(0.1, "outcome=\"Failed\"");
  const std::string text = histogram.render();
  EXPECT_NE(text.find("# TYPE x_seconds histogram"), std::string::npos);
  EXPECT_NE(text.find("x_seconds_bucket{le=\"0.1\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("x_seconds_bucket{le=\"1\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("x_seconds_bucket{le=\"+Inf\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("x_seconds_sum 5.55\n"), std::string::npos) << text;
  EXPECT_NE(text.find("x_seconds_count 3\n"), std::string::npos) << text;
  // le is inclusive: 0.1 falls in the 0.1 bucket.
  EXPECT_NE(text.find("x_seconds_bucket{outcome=\"Failed\",le=\"0.1\"} 1\n"), std::string::npos) << text;
}

TEST(Histogram, QuantileInterpolatesWithinTheBucket) {
  Histogram histogram("y", "h", {1, 2, 4});
  for (int i = 0; i < 10; ++i) histogram.observe(1.5);  // all in (1, 2]
  // Rank 5 of 10 lies halfway through the (1, 2] bucket.
  EXPECT_DOUBLE_EQ(histogram.quantile(0.5), 1.5);
  EXPECT_DOUBLE_EQ(histogram.quantile(1.0), 2.0);
  EXPECT_EQ(exponential_buckets(1, 2, 4), (std::vector<double>{1, 2, 4, 8}));
}

}  // namespace kubetrain

#include "operator/controller/rfc3339.h"

#include <gtest/gtest.h>

namespace kubetrain {

TEST(Rfc3339, FormatsUtcSeconds) {
  // 2026-11-22T20:06:23Z is 1795377983 s after the epoch (date -d ... +%s).
  EXPECT_EQ(format_rfc3339(Clock::from_time_t(1795377983)), "2026-11-22T20:06:23Z");
}

TEST(Rfc3339, ParsesFractionsAndOffsets) {
  EXPECT_EQ(parse_rfc3339("2026-11-22T20:06:23Z"), Clock::from_time_t(1795377983));
  EXPECT_EQ(parse_rfc3339("2026-11-22T20:06:23.123456Z"), Clock::from_time_t(1795377983));
  EXPECT_EQ(parse_rfc3339("2026-11-22T21:06:23+01:00"), Clock::from_time_t(1795377983));
  EXPECT_FALSE(parse_rfc3339("yesterday").has_value());
  EXPECT_FALSE(parse_rfc3339("2026-11-22T20:06:23").has_value());
}

}  // namespace kubetrain

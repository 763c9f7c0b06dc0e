#include "operator/controller/expectations.h"

#include <gtest/gtest.h>

#include <thread>

namespace kubetrain {

TEST(Expectations, PendingUntilTheCacheShowsTheChange) {
  Expectations expectations;
  expectations.expect_creation("ns/j", "j-worker-0");
  EXPECT_TRUE(expectations.creation_pending("ns/j", "j-worker-0"));
  EXPECT_FALSE(expectations.creation_pending("ns/j", "j-worker-1"));
  EXPECT_FALSE(expectations.creation_pending("ns/other", "j-worker-0"));
  expectations.observe_creation("ns/j", "j-worker-0");
  EXPECT_FALSE(expectations.creation_pending("ns/j", "j-worker-0"));

  expectations.expect_deletion("ns/j", "j-launcher");
  EXPECT_TRUE(expectations.deletion_pending("ns/j", "j-launcher"));
  expectations.forget("ns/j");
  EXPECT_FALSE(expectations.deletion_pending("ns/j", "j-launcher"));
}

TEST(Expectations, ADeletionEndsAPendingCreationOfThatName) {
  Expectations expectations;
  expectations.expect_creation("ns/j", "j-worker-1");
  expectations.observe_deletion("ns/j", "j-worker-1");
  EXPECT_FALSE(expectations.creation_pending("ns/j", "j-worker-1"));
}

TEST(Expectations, LapseAfterTheTimeout) {
  Expectations expectations(std::chrono::milliseconds(20));
  expectations.expect_creation("ns/j", "j-worker-0");
  std::this_thread::sleep_for(std::chrono::milliseconds(40));
  EXPECT_FALSE(expectations.creation_pending("ns/j", "j-worker-0"));
}

}  // namespace kubetrain

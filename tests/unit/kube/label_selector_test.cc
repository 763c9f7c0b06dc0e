#include <gtest/gtest.h>

#include "operator/kube/label_selector.h"

namespace kubetrain {
namespace {

TEST(LabelSelectorTest, MatchesEveryOperator) {
  std::map<std::string, std::string> labels = {{"app", "web"}, {"tier", "front"}};
  auto matches = [&](const char* text) { return LabelSelector::parse(text).matches(labels); };
  EXPECT_TRUE(matches(""));
  EXPECT_TRUE(matches("app=web"));
  EXPECT_TRUE(matches("app==web"));
  EXPECT_FALSE(matches("app!=web"));
  EXPECT_TRUE(matches("app!=db"));
  EXPECT_TRUE(matches("missing!=x")) << "!= matches absent labels";
  EXPECT_TRUE(matches("tier in (front, back)"));
  EXPECT_FALSE(matches("tier notin (front)"));
  EXPECT_TRUE(matches("missing notin (front)"));
  EXPECT_TRUE(matches("app"));
  EXPECT_FALSE(matches("!app"));
  EXPECT_TRUE(matches("!missing"));
  EXPECT_TRUE(matches("app=web, tier in (front)"));
  EXPECT_FALSE(matches("app=web,tier=back"));
}

TEST(LabelSelectorTest, RoundTripsAndRejectsNonsense) {
  auto selector = LabelSelector::parse("a=b,c in (d,e),!f,g");
  EXPECT_EQ(LabelSelector::parse(selector.to_string()).to_string(), selector.to_string());
  EXPECT_EQ(LabelSelector::from_map({{"kubetrain.dev/job-name", "j"}}).to_string(),
            "kubetrain.dev/job-name=j");
  EXPECT_THROW(LabelSelector::parse("a in b"), std::invalid_argument);
  EXPECT_THROW(LabelSelector::parse("=x"), std::invalid_argument);
  EXPECT_THROW(LabelSelector::parse("a=(b)"), std::invalid_argument);
}

TEST(LabelSelectorTest, MatchesObjectsByTheirMetadataLabels) {
  nlohmann::json object = {{"metadata", {{"labels", {{"job", "x"}}}}}};
  EXPECT_TRUE(LabelSelector::parse("job=x").matches_object(object));
  EXPECT_FALSE(LabelSelector::parse("job=y").matches_object(object));
  EXPECT_TRUE(LabelSelector::parse("!job").matches_object({{"metadata", nlohmann::json::object()}}));
}

}  // namespace
}  // namespace kubetrain

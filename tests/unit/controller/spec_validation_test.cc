#include "operator/controller/spec_validation.h"

#include <gtest/gtest.h>

namespace kubetrain {

using nlohmann::json;

TEST(BatchDivisibility, NamesBothNumbersAndTheNearestValidSizes) {
  EXPECT_EQ(batch_divisibility_error(1000, 12),
            "spec.training.globalBatchSize 1000 is not divisible by 12 ranks; use 996 or 1008");
  EXPECT_EQ(batch_divisibility_error(5, 8), "spec.training.globalBatchSize 5 is not divisible by 8 ranks; use 8");
  EXPECT_EQ(batch_divisibility_error(1024, 16), "");
}

ObjectMeta meta(const std::string& name) {
  ObjectMeta m;
  m.name = name;
  m.namespace_ = "ns";
  return m;
}

std::string validation_error(const ObjectMeta& m, const json& spec) {
  try {
    validate_training_job(m, parse_spec(spec));
  } catch (const InvalidSpecError& error) {
    return error.what();
  }
  return {};
}

TEST(ValidateTrainingJob, AppliesTheCelRuleWithTheWorkerDefault) {
  const json base = {{"image", "w"}, {"workers", 3}, {"slotsPerWorker", 4}};
  json spec = base;
  spec["training"] = {{"globalBatchSize", 1000}};
  EXPECT_EQ(validation_error(meta("j"), spec),
            "spec.training.globalBatchSize 1000 is not divisible by 12 ranks; use 996 or 1008 "
            "(workers 3 x slotsPerWorker 4)");
  spec["training"] = {{"globalBatchSize", 996}};
  EXPECT_EQ(validation_error(meta("j"), spec), "");
  // Absent: the worker's default of 256, which 12 ranks do not divide either.
  EXPECT_NE(validation_error(meta("j"), base).find("globalBatchSize 256 is not divisible by 12"),
            std::string::npos);
  spec["training"] = {{"globalBatchSize", "big"}};
  EXPECT_NE(validation_error(meta("j"), spec).find("spec.training.globalBatchSize must be a positive integer"),
            std::string::npos);
}

TEST(ValidateTrainingJob, RejectsWhatCannotBeBuilt) {
  const json spec = {{"image", "w"}, {"workers", 2}};
  EXPECT_NE(validation_error(meta(std::string(60, 'a')), spec).find("metadata.name"), std::string::npos);
  EXPECT_EQ(validation_error(meta(std::string(54, 'a')), spec), "");  // 54 + "-worker-1" = 63
  json bad = spec;
  bad["training"] = {{"statusPort", 70000}};
  EXPECT_NE(validation_error(meta("j"), bad).find("spec.training.statusPort"), std::string::npos);
  bad = spec;
  bad["template"] = {{"spec", {{"volumes", {{"name", "x"}}}}}};
  EXPECT_NE(validation_error(meta("j"), bad).find("spec.template.spec.volumes must be a list"), std::string::npos);
  bad = spec;
  bad["template"] = {{"spec", {{"containers", json::array({json::object(), json::object()})}}}};
  EXPECT_NE(validation_error(meta("j"), bad).find("at most one container"), std::string::npos);
}

}  // namespace kubetrain

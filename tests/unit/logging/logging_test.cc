#include "common/logging.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

namespace kubetrain {
namespace {

// Runs `log` with stderr redirected to a file and returns what was written.
template <typename Log>
std::string capture_stderr(Log log) {
  std::fflush(stderr);
  char path[] = "/tmp/kubetrain-log-XXXXXX";
  const int file = mkstemp(path);
  const int saved = dup(STDERR_FILENO);
  dup2(file, STDERR_FILENO);
  log();
  spdlog::default_logger()->flush();
  std::fflush(stderr);
  dup2(saved, STDERR_FILENO);
  close(saved);
  close(file);
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  std::remove(path);
  return text.str();
}

}  // namespace

TEST(Logging, JsonLinesEscapeTheMessage) {
  setup_logging("operator \"a\"", LogFormat::kJson, "info");
  const std::string tricky = "quote \" backslash \\ newline \n tab \t bell \x07 done";
  const std::string output = capture_stderr([&] {
    spdlog::info("{}", tricky);
    spdlog::debug("hidden below the level");
  });
  std::istringstream lines(output);
  std::string line;
  ASSERT_TRUE(std::getline(lines, line)) << output;
  const nlohmann::json parsed = nlohmann::json::parse(line);
  EXPECT_EQ(parsed["msg"], tricky);
  EXPECT_EQ(parsed["level"], "info");
  EXPECT_EQ(parsed["source"], "operator \"a\"");
  EXPECT_EQ(parsed["time"].get<std::string>().back(), 'Z');
  EXPECT_FALSE(std::getline(lines, line)) << "the debug line should be filtered: " << line;
}

TEST(Logging, TextLinesCarryTheTag) {
  setup_logging("rank 1/4", LogFormat::kText, "debug");
  const std::string output = capture_stderr([] { spdlog::debug("hello"); });
  EXPECT_NE(output.find("[rank 1/4] hello"), std::string::npos) << output;
}

TEST(Logging, RejectsUnknownFormatsAndLevels) {
  EXPECT_EQ(parse_log_format("json"), LogFormat::kJson);
  EXPECT_THROW(parse_log_format("xml"), std::invalid_argument);
  EXPECT_EQ(parse_log_level("warn"), spdlog::level::warn);
  EXPECT_EQ(parse_log_level("error"), spdlog::level::err);
  EXPECT_THROW(parse_log_level("verbose"), std::invalid_argument);
}

}  // namespace kubetrain

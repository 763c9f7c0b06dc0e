#include "worker/train/checkpoint_directory.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <string>

#include "tests/unit/checkpoint/scratch_directory.h"
#include "tests/unit/checkpoint/tensor_file_builders.h"

namespace kubetrain {
namespace {

namespace fs = std::filesystem;
using testing::i64_tensor;
using testing::i64_values;

class CheckpointDirectoryTest : public ::testing::Test {
 protected:
  static TensorFile at_step(int64_t step) {
    TensorFile file;
    file.metadata["step"] = std::to_string(step);
    file.tensors.push_back(i64_tensor("step", {}, {step}));
    return file;
  }

  std::set<std::string> names() const {
    std::set<std::string> found;
    for (const auto& entry : fs::directory_iterator(dir_)) found.insert(entry.path().filename().string());
    return found;
  }

  // Loads the newest valid checkpoint and checks that it is the one saved at `step`.
  void expect_newest_valid(const CheckpointDirectory& checkpoints, int64_t step) const {
    auto loaded = checkpoints.load_newest_valid();
    ASSERT_TRUE(loaded.has_value());
    char name[64];
    std::snprintf(name, sizeof name, "/checkpoint-%010lld.safetensors", static_cast<long long>(step));
    EXPECT_EQ(loaded->path, dir_ + name);
    ASSERT_NE(loaded->file.find("step"), nullptr);
    EXPECT_EQ(i64_values(*loaded->file.find("step")), std::vector<int64_t>{step});
  }

  testing::ScratchDirectory scratch_;
  fs::path root_ = scratch_.path();
  std::string dir_ = (root_ / "nested" / "ckpt").string();
};

TEST_F(CheckpointDirectoryTest, CreatesDirectoryAndNamesFilesByStep) {
  CheckpointDirectory checkpoints(dir_, 3);
  EXPECT_TRUE(fs::is_directory(dir_));
  const std::string path = checkpoints.save(42, at_step(42));
  EXPECT_EQ(path, dir_ + "/checkpoint-0000000042.safetensors");
  EXPECT_EQ(names(), std::set<std::string>{"checkpoint-0000000042.safetensors"});
}

TEST_F(CheckpointDirectoryTest, KeepsOnlyTheNewest) {
  CheckpointDirectory checkpoints(dir_, 2);
  for (int64_t step : {100, 200, 300, 400}) checkpoints.save(step, at_step(step));
  EXPECT_EQ(names(), (std::set<std::string>{"checkpoint-0000000300.safetensors",
                                            "checkpoint-0000000400.safetensors"}));
  expect_newest_valid(checkpoints, 400);
}

TEST_F(CheckpointDirectoryTest, EmptyDirectoryHasNothingToLoad) {
  CheckpointDirectory checkpoints(dir_, 3);
  EXPECT_FALSE(checkpoints.load_newest_valid().has_value());
}

TEST_F(CheckpointDirectoryTest, CorruptNewestFallsBackToPreviousAndSaysWhy) {
  CheckpointDirectory checkpoints(dir_, 3);
  checkpoints.save(1, at_step(1));
  checkpoints.save(2, at_step(2));
  const std::string newest = checkpoints.save(3, at_step(3));
  {
    std::fstream file(newest, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(-1, std::ios::end);
    file.put('\x7f');
  }
  auto sink = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(8);
  auto previous_logger = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>("test", sink));
  expect_newest_valid(checkpoints, 2);
  spdlog::set_default_logger(previous_logger);

  const std::vector<std::string> lines = sink->last_formatted();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("[warning]"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find(newest + ": crc32 mismatch"), std::string::npos) << lines[0];
}

TEST_F(CheckpointDirectoryTest, AllCorruptLoadsNothing) {
  CheckpointDirectory checkpoints(dir_, 3);
  const std::string only = checkpoints.save(5, at_step(5));
  std::ofstream(only, std::ios::trunc) << "garbage";
  EXPECT_FALSE(checkpoints.load_newest_valid().has_value());
}

TEST_F(CheckpointDirectoryTest, IgnoresAndCleansStrayTemporaries) {
  CheckpointDirectory checkpoints(dir_, 3);
  checkpoints.save(1, at_step(1));
  const std::string stray = dir_ + "/checkpoint-0000000009.safetensors.tmp.12345";
  std::ofstream(stray) << "half written";
  std::ofstream(dir_ + "/notes.txt") << "not ours";

  expect_newest_valid(checkpoints, 1);

  checkpoints.save(2, at_step(2));
  EXPECT_FALSE(fs::exists(stray));
  EXPECT_EQ(names(), (std::set<std::string>{"checkpoint-0000000001.safetensors",
                                            "checkpoint-0000000002.safetensors", "notes.txt"}));
}

TEST_F(CheckpointDirectoryTest, UncreatableDirectoryIsNamed) {
  std::ofstream(root_ / "file") << "x";
  const std::string bad = (root_ / "file" / "ckpt").string();
  try {
    CheckpointDirectory checkpoints(bad, 3);
    ADD_FAILURE() << "created a directory under a regular file";
  } catch (const CheckpointError& error) {
    EXPECT_NE(std::string(error.what()).find("cannot create checkpoint directory " + bad),
              std::string::npos)
        << error.what();
  }
}

TEST_F(CheckpointDirectoryTest, KeepMustBePositive) {
  EXPECT_THROW(CheckpointDirectory(dir_, 0), CheckpointError);
}

}  // namespace
}  // namespace kubetrain

#pragma once

// The folder of a run's checkpoints: checkpoint-<step, 10 digits>.safetensors files, written
// atomically, pruned to the newest `keep`, and read back newest first, skipping any that fail to
// verify so that a damaged newest checkpoint falls back to the one before it.

#include <cstdint>
#include <optional>
#include <string>

#include "worker/train/safetensors.h"

namespace kubetrain {

class CheckpointDirectory {
 public:
  // Creates `dir` (and its parents) when missing; throws CheckpointError naming it when it cannot,
  // or when keep < 1.
  CheckpointDirectory(std::string dir, int keep);

  // Writes dir/checkpoint-<step>.safetensors atomically, then deletes the oldest checkpoints so
  // that only `keep` remain, and any temporary files a crashed writer left behind. Returns the path.
  std::string save(int64_t step, const TensorFile& file);

  struct Loaded {
    std::string path;
    TensorFile file;
  };
  // The newest checkpoint that reads and verifies. Every refused one is logged (warning) with its
  // reason and skipped; temporary files are never considered. nullopt when none is valid.
  std::optional<Loaded> load_newest_valid() const;

  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  int keep_;
};

}  // namespace kubetrain

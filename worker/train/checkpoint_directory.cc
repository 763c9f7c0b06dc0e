#include "worker/train/checkpoint_directory.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <regex>
#include <system_error>
#include <utility>
#include <vector>

namespace kubetrain {
namespace {

namespace fs = std::filesystem;

struct CheckpointFile {
  int64_t step;
  fs::path path;
};

// Checkpoints in `dir`, oldest first. Temporary files (".tmp.<pid>" suffix) never match.
std::vector<CheckpointFile> list_checkpoints(const std::string& dir) {
  static const std::regex kName(R"(checkpoint-(\d{10})\.safetensors)");
  std::vector<CheckpointFile> found;
  std::error_code error;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, error)) {
    std::smatch match;
    const std::string name = entry.path().filename().string();
    if (std::regex_match(name, match, kName)) found.push_back({std::stoll(match[1]), entry.path()});
  }
  if (error) throw CheckpointError("cannot list checkpoint directory " + dir + ": " + error.message());
  std::sort(found.begin(), found.end(),
            [](const CheckpointFile& a, const CheckpointFile& b) { return a.step < b.step; });
  return found;
}

// Temporary files that a writer killed between creating and renaming them left behind.
void remove_stray_temporaries(const std::string& dir) {
  static const std::regex kTemporary(R"(checkpoint-\d{10}\.safetensors\.tmp\.\d+)");
  std::error_code error;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, error)) {
    if (!std::regex_match(entry.path().filename().string(), kTemporary)) continue;
    std::error_code remove_error;
    if (fs::remove(entry.path(), remove_error))
      spdlog::info("removed temporary file {} left by an interrupted checkpoint", entry.path().string());
    else if (remove_error)
      spdlog::warn("cannot remove temporary file {}: {}", entry.path().string(), remove_error.message());
  }
}

}  // namespace

CheckpointDirectory::CheckpointDirectory(std::string dir, int keep)
    : dir_(std::move(dir)), keep_(keep) {
  if (keep_ < 1)
    throw CheckpointError("checkpoint directory " + dir_ + ": keep must be at least 1, got " +
                          std::to_string(keep_));
  std::error_code error;
  fs::create_directories(dir_, error);
  if (error || !fs::is_directory(dir_))
    throw CheckpointError("cannot create checkpoint directory " + dir_ + ": " +
                          (error ? error.message() : "a file of that name exists"));
}

std::string CheckpointDirectory::save(int64_t step, const TensorFile& file) {
  if (step < 0 || step > 9'999'999'999)
    throw CheckpointError("checkpoint step " + std::to_string(step) + " is outside 0..9999999999");
  char name[48];
  std::snprintf(name, sizeof name, "checkpoint-%010lld.safetensors", static_cast<long long>(step));
  const std::string path = (fs::path(dir_) / name).string();
  remove_stray_temporaries(dir_);
  write_tensor_file(path, file);

  std::vector<CheckpointFile> existing = list_checkpoints(dir_);
  const size_t surplus = existing.size() > static_cast<size_t>(keep_) ? existing.size() - keep_ : 0;
  for (size_t i = 0; i < surplus; ++i) {
    // A checkpoint that cannot be deleted costs disk space, not correctness: warn and go on.
    std::error_code error;
    if (!fs::remove(existing[i].path, error) && error)
      spdlog::warn("cannot delete old checkpoint {}: {}", existing[i].path.string(), error.message());
  }
  return path;
}

std::optional<CheckpointDirectory::Loaded> CheckpointDirectory::load_newest_valid() const {
  std::vector<CheckpointFile> existing = list_checkpoints(dir_);
  for (auto it = existing.rbegin(); it != existing.rend(); ++it) {
    try {
      return Loaded{it->path.string(), read_tensor_file(it->path.string())};
    } catch (const CheckpointError& error) {
      spdlog::warn("skipping checkpoint: {}", error.what());
    }
  }
  return std::nullopt;
}

}  // namespace kubetrain

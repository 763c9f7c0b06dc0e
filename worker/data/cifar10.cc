#include "worker/data/cifar10.h"

#include <fmt/format.h>

#include <filesystem>

#include "worker/data/data_folder.h"
#include "worker/data/file_contents.h"
#include "worker/data/in_memory_dataset.h"

namespace kubetrain {
namespace {

constexpr int kClasses = 10;
constexpr int kSide = 32;
constexpr int kPlane = kSide * kSide;
constexpr int kRecord = 1 + 3 * kPlane;
constexpr const char* kFileList =
    "the cifar10 binary batches data_batch_1.bin .. data_batch_5.bin and test_batch.bin "
    "(directly or in cifar-10-batches-bin/)";

// Appends the records of one batch file, converting planar RGB to interleaved HWC.
void append_batch(const std::string& path, std::vector<uint8_t>& pixels,
                  std::vector<uint8_t>& labels) {
  if (!std::filesystem::exists(path)) {
    throw DataError(path + ": missing; the folder should hold " + kFileList);
  }
  const std::vector<uint8_t> bytes = read_file_bytes(path);
  if (bytes.empty() || bytes.size() % kRecord != 0) {
    throw DataError(fmt::format("{}: {} bytes is not a positive multiple of the {}-byte record "
                                "(1 label + 3072 pixels); truncated or not a CIFAR-10 batch",
                                path, bytes.size(), kRecord));
  }
  const size_t records = bytes.size() / kRecord;
  const size_t first = labels.size();
  pixels.resize((first + records) * 3 * kPlane);
  for (size_t r = 0; r < records; ++r) {
    const uint8_t* record = bytes.data() + r * kRecord;
    if (record[0] >= kClasses) {
      throw DataError(fmt::format("{}: label {} of record {} is out of range; expected 0..{}",
                                  path, record[0], r, kClasses - 1));
    }
    labels.push_back(record[0]);
    uint8_t* out = pixels.data() + (first + r) * 3 * kPlane;
    for (int p = 0; p < kPlane; ++p) {
      for (int c = 0; c < 3; ++c) out[p * 3 + c] = record[1 + c * kPlane + p];
    }
  }
}

std::unique_ptr<Dataset> read_batches(const std::filesystem::path& folder,
                                      const std::vector<std::string>& names) {
  std::vector<uint8_t> pixels;
  std::vector<uint8_t> labels;
  for (const std::string& name : names) append_batch((folder / name).string(), pixels, labels);
  return std::make_unique<InMemoryDataset>(ImageShape{kSide, kSide, 3}, kClasses,
                                           std::move(pixels), std::move(labels));
}

}  // namespace

DatasetPair open_cifar10(const std::string& folder) {
  require_folder(folder, kFileList);
  std::filesystem::path root(folder);
  // The official archive unpacks into cifar-10-batches-bin/.
  if (!std::filesystem::exists(root / "test_batch.bin") &&
      std::filesystem::is_directory(root / "cifar-10-batches-bin")) {
    root /= "cifar-10-batches-bin";
  }
  DatasetPair pair;
  pair.train = read_batches(root, {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
                                   "data_batch_4.bin", "data_batch_5.bin"});
  pair.validation = read_batches(root, {"test_batch.bin"});
  return pair;
}

}  // namespace kubetrain

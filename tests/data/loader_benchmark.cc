// Examples per second of BatchLoader for Fashion-MNIST (28 x 28 and padded to 32 x 32) and for
// imagefolder JPEGs, with 1 and 2 threads (or the counts given as arguments). Uses Debian's
// Fashion-MNIST when installed, generated IDX files otherwise, and generated 500 x 375 JPEGs.
//   data_loader_benchmark [threads...]

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/data/data_fixtures.h"
#include "worker/data/batch_loader.h"

namespace kubetrain {
namespace {

double examples_per_second(const Dataset& dataset, const std::string& name, int side,
                           int channels, bool augment, int threads, int64_t examples) {
  constexpr int64_t kBatch = 128;
  const BatchLayout layout{{kBatch, channels, side, side}, MemoryFormat::kChannelsLast};
  BatchLoader loader(dataset, layout, normalization_for(name, channels), augment, threads, 4, 1);
  std::vector<std::vector<int64_t>> steps(static_cast<size_t>(examples / kBatch));
  for (size_t s = 0; s < steps.size(); ++s) {
    for (int64_t i = 0; i < kBatch; ++i) {
      steps[s].push_back((static_cast<int64_t>(s) * kBatch + i) % dataset.size());
    }
  }
  const auto begin = std::chrono::steady_clock::now();
  loader.start(std::move(steps));
  int64_t count = 0;
  while (std::optional<HostBatch> batch = loader.next()) {
    count += batch->valid;
    loader.recycle(std::move(*batch));
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  return static_cast<double>(count) / seconds;
}

void report(const char* what, int threads, double rate) {
  std::printf("%-48s threads %2d  %10.0f examples/s\n", what, threads, rate);
}

}  // namespace
}  // namespace kubetrain

int main(int argc, char** argv) {
  using namespace kubetrain;
  std::vector<int> thread_counts;
  for (int i = 1; i < argc; ++i) thread_counts.push_back(std::stoi(argv[i]));
  if (thread_counts.empty()) thread_counts = {1, 2};

  fixtures::TempFolder folder;
  DataConfig fashion;
  fashion.dataset = "fashion-mnist";
  fashion.path = "/usr/share/datasets/fashion-mnist";
  if (!std::filesystem::exists(fashion.path)) {
    fashion.path = folder / "fashion-mnist";
    fixtures::write_fashion_mnist(fashion.path, 60000, 100, true);
  }
  const DatasetPair grey = open_datasets(fashion);
  for (int threads : thread_counts) {
    report("fashion-mnist 28x28x1 train (augment)", threads,
           examples_per_second(*grey.train, "fashion-mnist", 28, 1, true, threads, 60000));
    report("fashion-mnist 32x32x3 train (pad, widen, augment)", threads,
           examples_per_second(*grey.train, "fashion-mnist", 32, 3, true, threads, 60000));
    report("fashion-mnist 32x32x3 eval", threads,
           examples_per_second(*grey.train, "fashion-mnist", 32, 3, false, threads, 60000));
  }

  DataConfig jpegs;
  jpegs.dataset = "imagefolder";
  jpegs.path = folder / "imagefolder";
  jpegs.image_size = 224;
  for (int i = 0; i < 64; ++i) {
    for (const char* split : {"train", "val"}) {
      fixtures::write_bytes(jpegs.path + "/" + split + "/c" + std::to_string(i % 4) + "/" +
                                std::to_string(i) + ".jpg",
                            fixtures::jpeg_bytes(fixtures::smooth_rgb(500, 375, i), 500, 375, 3, 90));
    }
  }
  const DatasetPair colour = open_datasets(jpegs);
  for (int threads : thread_counts) {
    report("imagefolder 500x375 JPEG -> 224 train (RRC+flip)", threads,
           examples_per_second(*colour.train, "imagefolder", 224, 3, true, threads, 1024));
    report("imagefolder 500x375 JPEG -> 224 eval (centre)", threads,
           examples_per_second(*colour.train, "imagefolder", 224, 3, false, threads, 1024));
  }
  return 0;
}

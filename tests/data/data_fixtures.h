#pragma once

// Writers for small data-set files in the formats the worker reads, for tests and benchmarks.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace kubetrain::fixtures {

// A fresh folder under the system's temporary folder, removed with everything in it on destruction.
class TempFolder {
 public:
  TempFolder();
  ~TempFolder();
  TempFolder(const TempFolder&) = delete;
  TempFolder& operator=(const TempFolder&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes);
void write_gzip(const std::string& path, const std::vector<uint8_t>& bytes);

// An IDX file: big-endian magic, dimensions, then `payload`.
std::vector<uint8_t> idx_bytes(uint32_t magic, const std::vector<uint32_t>& dims,
                               const std::vector<uint8_t>& payload);

// Images and labels of a small grey data set; pixel (i, y, x) and label i follow fixed formulas.
struct GreySet {
  int count;
  int rows;
  int cols;
  std::vector<uint8_t> pixels;  // count x rows x cols
  std::vector<uint8_t> labels;
};
GreySet make_grey_set(int count, int rows, int cols, int salt);

// Writes the four Fashion-MNIST IDX files into `folder` (gzipped when `gzip`), returning the sets.
struct GreyPair {
  GreySet train;
  GreySet test;
};
GreyPair write_fashion_mnist(const std::string& folder, int train_count, int test_count, bool gzip,
                             int rows = 28, int cols = 28);

// A CIFAR-10 binary batch: per record the label, then the R, G and B planes of 32 x 32.
struct ColourSet {
  std::vector<uint8_t> pixels;  // HWC, count x 32 x 32 x 3
  std::vector<uint8_t> labels;
};
ColourSet make_colour_set(int count, int salt);
std::vector<uint8_t> cifar_batch_bytes(const ColourSet& set);
// data_batch_1..5.bin with `per_batch` records each and test_batch.bin with `test_count`.
ColourSet write_cifar10(const std::string& folder, int per_batch, int test_count,
                        ColourSet* test = nullptr);

// Encodes interleaved pixels (1 = grey, 3 = RGB, 4 = CMYK as Adobe writes it) as a JPEG.
std::vector<uint8_t> jpeg_bytes(const std::vector<uint8_t>& pixels, int width, int height,
                                int components, int quality = 95);
// A smooth RGB test picture whose colours depend on `salt`.
std::vector<uint8_t> smooth_rgb(int width, int height, int salt);

}  // namespace kubetrain::fixtures

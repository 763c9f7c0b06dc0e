#include "tests/data/data_fixtures.h"

#include <zlib.h>

// clang-format off
#include <cstdio>
#include <jpeglib.h>
// clang-format on

#include <fstream>
#include <random>
#include <stdexcept>

namespace kubetrain::fixtures {

TempFolder::TempFolder() {
  std::random_device entropy;
  path_ = std::filesystem::temp_directory_path() /
          ("kubetrain-data-" + std::to_string(entropy()) + std::to_string(entropy()));
  std::filesystem::create_directories(path_);
}

TempFolder::~TempFolder() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream file(path, std::ios::binary);
  file.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!file) throw std::runtime_error("cannot write " + path);
}

void write_gzip(const std::string& path, const std::vector<uint8_t>& bytes) {
  gzFile file = gzopen(path.c_str(), "wb");
  if (!file) throw std::runtime_error("cannot write " + path);
  const int written = bytes.empty() ? 0 : gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(file);
  if (written != static_cast<int>(bytes.size())) throw std::runtime_error("gzwrite failed: " + path);
}

std::vector<uint8_t> idx_bytes(uint32_t magic, const std::vector<uint32_t>& dims,
                               const std::vector<uint8_t>& payload) {
  std::vector<uint8_t> bytes;
  auto put = [&bytes](uint32_t value) {
    for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(static_cast<uint8_t>(value >> shift));
  };
  put(magic);
  for (uint32_t dim : dims) put(dim);
  bytes.insert(bytes.end(), payload.begin(), payload.end());
  return bytes;
}

GreySet make_grey_set(int count, int rows, int cols, int salt) {
  GreySet set{count, rows, cols, {}, {}};
  for (int i = 0; i < count; ++i) {
    set.labels.push_back(static_cast<uint8_t>((i * 7 + salt) % 10));
    for (int p = 0; p < rows * cols; ++p) set.pixels.push_back(static_cast<uint8_t>(i * 31 + p * 13 + salt));
  }
  return set;
}

GreyPair write_fashion_mnist(const std::string& folder, int train_count, int test_count, bool gzip,
                             int rows, int cols) {
  GreyPair pair{make_grey_set(train_count, rows, cols, 1), make_grey_set(test_count, rows, cols, 2)};
  std::filesystem::create_directories(folder);
  auto write = [&](const std::string& name, const std::vector<uint8_t>& bytes) {
    const std::string path = (std::filesystem::path(folder) / name).string();
    gzip ? write_gzip(path + ".gz", bytes) : write_bytes(path, bytes);
  };
  const auto dims = [&](const GreySet& set) {
    return std::vector<uint32_t>{static_cast<uint32_t>(set.count), static_cast<uint32_t>(rows),
                                 static_cast<uint32_t>(cols)};
  };
  write("train-images-idx3-ubyte", idx_bytes(0x803, dims(pair.train), pair.train.pixels));
  write("train-labels-idx1-ubyte", idx_bytes(0x801, {uint32_t(train_count)}, pair.train.labels));
  write("t10k-images-idx3-ubyte", idx_bytes(0x803, dims(pair.test), pair.test.pixels));
  write("t10k-labels-idx1-ubyte", idx_bytes(0x801, {uint32_t(test_count)}, pair.test.labels));
  return pair;
}

ColourSet make_colour_set(int count, int salt) {
  ColourSet set;
  for (int i = 0; i < count; ++i) {
    set.labels.push_back(static_cast<uint8_t>((i * 3 + salt) % 10));
    for (int p = 0; p < 32 * 32 * 3; ++p) set.pixels.push_back(static_cast<uint8_t>(i * 17 + p * 5 + salt));
  }
  return set;
}

std::vector<uint8_t> cifar_batch_bytes(const ColourSet& set) {
  std::vector<uint8_t> bytes;
  for (size_t i = 0; i < set.labels.size(); ++i) {
    bytes.push_back(set.labels[i]);
    const uint8_t* hwc = set.pixels.data() + i * 3072;
    for (int c = 0; c < 3; ++c) {
      for (int p = 0; p < 1024; ++p) bytes.push_back(hwc[p * 3 + c]);
    }
  }
  return bytes;
}

ColourSet write_cifar10(const std::string& folder, int per_batch, int test_count, ColourSet* test) {
  ColourSet train;
  for (int b = 1; b <= 5; ++b) {
    const ColourSet batch = make_colour_set(per_batch, b);
    write_bytes(folder + "/data_batch_" + std::to_string(b) + ".bin", cifar_batch_bytes(batch));
    train.pixels.insert(train.pixels.end(), batch.pixels.begin(), batch.pixels.end());
    train.labels.insert(train.labels.end(), batch.labels.begin(), batch.labels.end());
  }
  const ColourSet test_set = make_colour_set(test_count, 9);
  write_bytes(folder + "/test_batch.bin", cifar_batch_bytes(test_set));
  if (test) *test = test_set;
  return train;
}

std::vector<uint8_t> jpeg_bytes(const std::vector<uint8_t>& pixels, int width, int height,
                                int components, int quality) {
  jpeg_compress_struct info{};
  jpeg_error_mgr errors{};
  info.err = jpeg_std_error(&errors);
  jpeg_create_compress(&info);
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&info, &buffer, &size);
  info.image_width = static_cast<JDIMENSION>(width);
  info.image_height = static_cast<JDIMENSION>(height);
  info.input_components = components;
  info.in_color_space = components == 1 ? JCS_GRAYSCALE : components == 3 ? JCS_RGB : JCS_CMYK;
  jpeg_set_defaults(&info);
  jpeg_set_quality(&info, quality, TRUE);
  if (components == 4) info.write_Adobe_marker = TRUE;  // Adobe's inverted CMYK convention
  jpeg_start_compress(&info, TRUE);
  while (info.next_scanline < info.image_height) {
    JSAMPROW row = const_cast<uint8_t*>(pixels.data()) +
                   static_cast<size_t>(info.next_scanline) * width * components;
    jpeg_write_scanlines(&info, &row, 1);
  }
  jpeg_finish_compress(&info);
  jpeg_destroy_compress(&info);
  std::vector<uint8_t> bytes(buffer, buffer + size);
  free(buffer);
  return bytes;
}

std::vector<uint8_t> smooth_rgb(int width, int height, int salt) {
  std::vector<uint8_t> pixels;
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      pixels.push_back(static_cast<uint8_t>(40 + 150 * x / width + salt * 7 % 40));
      pixels.push_back(static_cast<uint8_t>(40 + 150 * y / height));
      pixels.push_back(static_cast<uint8_t>(120 + salt * 13 % 100));
    }
  }
  return pixels;
}

}  // namespace kubetrain::fixtures

#include "worker/data/fashion_mnist.h"

#include <filesystem>
#include <fmt/format.h>

#include "worker/data/data_folder.h"
#include "worker/data/file_contents.h"
#include "worker/data/in_memory_dataset.h"

namespace kubetrain {
namespace {

constexpr int kClasses = 10;
constexpr uint32_t kImagesMagic = 0x00000803;  // unsigned bytes, 3 dimensions
constexpr uint32_t kLabelsMagic = 0x00000801;  // unsigned bytes, 1 dimension
constexpr const char* kFileList =
    "the fashion-mnist IDX files train-images-idx3-ubyte, train-labels-idx1-ubyte, "
    "t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (each plain or .gz)";

// An IDX file's dimensions and the bytes after its header.
struct IdxFile {
  std::string path;
  std::vector<uint32_t> dims;
  std::vector<uint8_t> bytes;  // the whole decompressed file
  size_t header_bytes = 0;
};

uint32_t big_endian_u32(const std::vector<uint8_t>& bytes, size_t at) {
  return uint32_t{bytes[at]} << 24 | uint32_t{bytes[at + 1]} << 16 | uint32_t{bytes[at + 2]} << 8 |
         uint32_t{bytes[at + 3]};
}

// `folder`/`name`, or `folder`/`name`.gz decompressed; the plain file wins when both exist.
IdxFile read_idx(const std::string& folder, const std::string& name, uint32_t magic,
                 const char* kind) {
  const std::string plain = (std::filesystem::path(folder) / name).string();
  const std::string gzipped = plain + ".gz";
  IdxFile file;
  if (std::filesystem::exists(plain)) {
    file.path = plain;
    file.bytes = read_file_bytes(plain);
  } else if (std::filesystem::exists(gzipped)) {
    file.path = gzipped;
    file.bytes = gunzip(read_file_bytes(gzipped), gzipped);
  } else {
    throw DataError(plain + "(.gz): missing; " + folder + " should hold " + kFileList);
  }

  const int dimensions = static_cast<int>(magic & 0xff);
  file.header_bytes = 4 + 4 * static_cast<size_t>(dimensions);
  if (file.bytes.size() < 4) {
    throw DataError(fmt::format("{}: truncated: {} bytes, shorter than an IDX magic number",
                                file.path, file.bytes.size()));
  }
  const uint32_t found = big_endian_u32(file.bytes, 0);
  if (found != magic) {
    throw DataError(fmt::format("{}: expected magic 0x{:08x} ({}), found 0x{:08x}", file.path,
                                magic, kind, found));
  }
  if (file.bytes.size() < file.header_bytes) {
    throw DataError(fmt::format("{}: truncated: {} bytes, shorter than its {}-byte IDX header",
                                file.path, file.bytes.size(), file.header_bytes));
  }
  uint64_t payload = 1;
  for (int d = 0; d < dimensions; ++d) {
    file.dims.push_back(big_endian_u32(file.bytes, 4 + 4 * static_cast<size_t>(d)));
    payload *= file.dims.back();
  }
  const uint64_t expected = file.header_bytes + payload;
  if (file.bytes.size() != expected) {
    std::string dims_text;
    for (uint32_t dim : file.dims) dims_text += (dims_text.empty() ? "" : " x ") + std::to_string(dim);
    throw DataError(fmt::format("{}: {}: expected {} bytes ({}-byte header + {}), found {}",
                                file.path, file.bytes.size() < expected ? "truncated" : "too long",
                                expected, file.header_bytes, dims_text, file.bytes.size()));
  }
  return file;
}

std::unique_ptr<Dataset> read_split(const std::string& folder, const std::string& prefix,
                                    const ImageShape* required_shape) {
  IdxFile images = read_idx(folder, prefix + "-images-idx3-ubyte", kImagesMagic, "IDX images");
  IdxFile labels = read_idx(folder, prefix + "-labels-idx1-ubyte", kLabelsMagic, "IDX labels");
  const ImageShape shape{static_cast<int>(images.dims[1]), static_cast<int>(images.dims[2]), 1};
  if (shape.height == 0 || shape.width == 0 || images.dims[0] == 0) {
    throw DataError(fmt::format("{}: holds {} images of {} x {} pixels; expected at least one "
                                "image of at least 1 x 1", images.path, images.dims[0],
                                shape.height, shape.width));
  }
  if (required_shape && (shape.height != required_shape->height ||
                         shape.width != required_shape->width)) {
    throw DataError(fmt::format("{}: images are {} x {}, but the training images are {} x {}",
                                images.path, shape.height, shape.width, required_shape->height,
                                required_shape->width));
  }
  if (images.dims[0] != labels.dims[0]) {
    throw DataError(fmt::format("{}: holds {} labels, but {} holds {} images; expected equal "
                                "counts", labels.path, labels.dims[0], images.path,
                                images.dims[0]));
  }
  std::vector<uint8_t> label_bytes(labels.bytes.begin() + labels.header_bytes, labels.bytes.end());
  for (size_t i = 0; i < label_bytes.size(); ++i) {
    if (label_bytes[i] >= kClasses) {
      throw DataError(fmt::format("{}: label {} of example {} is out of range; expected 0..{}",
                                  labels.path, label_bytes[i], i, kClasses - 1));
    }
  }
  images.bytes.erase(images.bytes.begin(), images.bytes.begin() + images.header_bytes);
  return std::make_unique<InMemoryDataset>(shape, kClasses, std::move(images.bytes),
                                           std::move(label_bytes));
}

}  // namespace

DatasetPair open_fashion_mnist(const std::string& folder) {
  require_folder(folder, kFileList);
  DatasetPair pair;
  pair.train = read_split(folder, "train", nullptr);
  const ImageShape train_shape = pair.train->image_shape();
  pair.validation = read_split(folder, "t10k", &train_shape);
  return pair;
}

}  // namespace kubetrain

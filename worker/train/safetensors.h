#pragma once

// Reading and writing tensor files in the safetensors format
// (https://huggingface.co/docs/safetensors): an 8-byte little-endian header length, a JSON header
// naming each tensor's dtype, shape and byte range, then the raw data section. Files written here
// are readable by the Python `safetensors` package and by PyTorch tooling; they carry a CRC-32 of the
// data section in the "crc32" metadata entry so that a damaged checkpoint is refused, not resumed.

#include <cstddef>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace kubetrain {

// Any unreadable, unwritable or invalid tensor file; what() names the file (and the tensor, where
// one is at fault) and what is wrong.
class CheckpointError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Element types this project stores: float32 weights and optimizer state, int64 counters.
enum class StoredType { kF32, kI64 };

struct StoredTensor {
  std::string name;
  StoredType type;
  std::vector<int64_t> shape;   // empty for a scalar
  std::vector<std::byte> data;  // little-endian, row-major, product(shape) * element size bytes
};

struct TensorFile {
  std::map<std::string, std::string> metadata;  // the header's "__metadata__"
  std::vector<StoredTensor> tensors;            // in data-section order

  // The tensor called `name`, or nullptr.
  const StoredTensor* find(std::string_view name) const;
};

// Writes `file` to `path` atomically: PATH.tmp.<pid> is written, fsynced and renamed over PATH, and
// the directory is fsynced, so PATH is always either the previous file or the complete new one.
// Adds (or replaces) the metadata entry "crc32". Throws CheckpointError naming the path on any
// failure (no space, no permission, an inconsistent tensor) and leaves no temporary file behind.
void write_tensor_file(const std::string& path, const TensorFile& file);

// Reads and validates a whole file: header length and JSON, dtypes, shapes against byte ranges,
// ranges covering the data section exactly once, and the "crc32" entry when present.
TensorFile read_tensor_file(const std::string& path);

}  // namespace kubetrain

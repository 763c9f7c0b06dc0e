#include "worker/train/safetensors.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <optional>
#include <tuple>
#include <nlohmann/json.hpp>

namespace kubetrain {
namespace {

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian; this build stores host-order bytes");

// The Python reader refuses headers above 100 MB; so do we, before allocating for one.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;
constexpr const char* kCrcKey = "crc32";

size_t element_size(StoredType type) { return type == StoredType::kF32 ? 4 : 8; }

const char* dtype_name(StoredType type) { return type == StoredType::kF32 ? "F32" : "I64"; }

std::string errno_text() { return std::strerror(errno); }

// Owns a POSIX file descriptor.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  // Closes now so that a failing close (delayed write errors on some file systems) is reported.
  bool close() {
    int fd = fd_;
    fd_ = -1;
    return ::close(fd) == 0;
  }

 private:
  int fd_;
};

// Number of bytes `shape` of `type` occupies, or nullopt when a dimension is negative or the
// product overflows.
std::optional<uint64_t> byte_size(StoredType type, const std::vector<int64_t>& shape) {
  uint64_t bytes = element_size(type);
  for (int64_t dim : shape) {
    if (dim < 0) return std::nullopt;
    if (dim != 0 && bytes > std::numeric_limits<uint64_t>::max() / static_cast<uint64_t>(dim))
      return std::nullopt;
    bytes *= static_cast<uint64_t>(dim);
  }
  return bytes;
}

uint32_t crc_of(const std::vector<StoredTensor>& tensors) {
  uLong crc = crc32_z(0L, Z_NULL, 0);
  for (const StoredTensor& tensor : tensors) {
    // zlib treats a null buffer (an empty vector's data()) as "start over" and returns 0.
    if (tensor.data.empty()) continue;
    crc = crc32_z(crc, reinterpret_cast<const Bytef*>(tensor.data.data()), tensor.data.size());
  }
  return static_cast<uint32_t>(crc);
}

std::string crc_text(uint32_t crc) {
  char text[9];
  std::snprintf(text, sizeof text, "%08x", crc);
  return text;
}

// ---- writing ----

// The JSON header, padded with spaces so that the data section starts 8-byte aligned.
std::string make_header(const std::string& path, const TensorFile& file) {
  nlohmann::json header = nlohmann::json::object();
  nlohmann::json metadata(file.metadata);
  metadata[kCrcKey] = crc_text(crc_of(file.tensors));
  header["__metadata__"] = std::move(metadata);
  uint64_t offset = 0;
  for (const StoredTensor& tensor : file.tensors) {
    const std::string where = path + ": tensor '" + tensor.name + "'";
    if (tensor.name.empty() || tensor.name == "__metadata__")
      throw CheckpointError(where + ": invalid tensor name");
    if (header.contains(tensor.name)) throw CheckpointError(where + ": duplicate tensor name");
    std::optional<uint64_t> bytes = byte_size(tensor.type, tensor.shape);
    if (!bytes || *bytes != tensor.data.size())
      throw CheckpointError(where + ": holds " + std::to_string(tensor.data.size()) +
                            " bytes, which does not match its shape and dtype " +
                            dtype_name(tensor.type));
    header[tensor.name] = {{"dtype", dtype_name(tensor.type)},
                           {"shape", tensor.shape},
                           {"data_offsets", {offset, offset + *bytes}}};
    offset += *bytes;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  return text;
}

void write_all(int fd, const void* data, size_t size, const std::string& tmp_path) {
  const char* bytes = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t written = ::write(fd, bytes, size);
    if (written < 0 && errno == EINTR) continue;
    if (written < 0) throw CheckpointError("cannot write " + tmp_path + ": " + errno_text());
    bytes += written;
    size -= static_cast<size_t>(written);
  }
}

void write_temporary(const std::string& tmp_path, const std::string& header,
                     const TensorFile& file) {
  FileDescriptor fd(::open(tmp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (fd.get() < 0) throw CheckpointError("cannot create " + tmp_path + ": " + errno_text());
  const uint64_t header_size = header.size();
  write_all(fd.get(), &header_size, sizeof header_size, tmp_path);
  write_all(fd.get(), header.data(), header.size(), tmp_path);
  for (const StoredTensor& tensor : file.tensors)
    write_all(fd.get(), tensor.data.data(), tensor.data.size(), tmp_path);
  if (::fsync(fd.get()) != 0) throw CheckpointError("cannot fsync " + tmp_path + ": " + errno_text());
  if (!fd.close()) throw CheckpointError("cannot close " + tmp_path + ": " + errno_text());
}

// Makes the rename itself durable.
void sync_directory_of(const std::string& path) {
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (dir.empty()) dir = ".";
  FileDescriptor fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0 || ::fsync(fd.get()) != 0)
    throw CheckpointError("cannot fsync directory " + dir.string() + " after writing " + path +
                          ": " + errno_text());
}

// ---- reading ----

void read_exactly(int fd, void* data, size_t size, uint64_t offset, const std::string& path) {
  char* bytes = static_cast<char*>(data);
  while (size > 0) {
    ssize_t got = ::pread(fd, bytes, size, static_cast<off_t>(offset));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) throw CheckpointError("cannot read " + path + ": " + errno_text());
    if (got == 0) throw CheckpointError(path + ": file ends early (truncated?)");
    bytes += got;
    size -= static_cast<size_t>(got);
    offset += static_cast<uint64_t>(got);
  }
}

struct TensorEntry {
  StoredTensor tensor;  // without data yet
  uint64_t begin;
  uint64_t end;
};

StoredType parse_dtype(const nlohmann::json& dtype, const std::string& where) {
  if (dtype == "F32") return StoredType::kF32;
  if (dtype == "I64") return StoredType::kI64;
  throw CheckpointError(where + ": unsupported dtype " + dtype.dump() + " (valid: F32, I64)");
}

uint64_t parse_offset(const nlohmann::json& value, const std::string& where) {
  if (!value.is_number_unsigned())
    throw CheckpointError(where + ": data_offsets must be two non-negative integers");
  return value.get<uint64_t>();
}

TensorEntry parse_entry(const std::string& name, const nlohmann::json& entry,
                        const std::string& path) {
  const std::string where = path + ": tensor '" + name + "'";
  if (!entry.is_object() || !entry.contains("dtype") || !entry.contains("shape") ||
      !entry.contains("data_offsets"))
    throw CheckpointError(where + ": header entry needs dtype, shape and data_offsets");
  TensorEntry parsed{{name, parse_dtype(entry["dtype"], where), {}, {}}, 0, 0};
  const nlohmann::json& shape = entry["shape"];
  if (!shape.is_array()) throw CheckpointError(where + ": shape must be an array");
  for (const nlohmann::json& dim : shape) {
    if (!dim.is_number_unsigned() ||
        dim.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      throw CheckpointError(where + ": shape must hold non-negative integers, got " + shape.dump());
    parsed.tensor.shape.push_back(dim.get<int64_t>());
  }
  const nlohmann::json& offsets = entry["data_offsets"];
  if (!offsets.is_array() || offsets.size() != 2)
    throw CheckpointError(where + ": data_offsets must be [begin, end]");
  parsed.begin = parse_offset(offsets[0], where);
  parsed.end = parse_offset(offsets[1], where);
  if (parsed.end < parsed.begin)
    throw CheckpointError(where + ": data_offsets " + offsets.dump() + " end before they begin");
  std::optional<uint64_t> bytes = byte_size(parsed.tensor.type, parsed.tensor.shape);
  if (!bytes || *bytes != parsed.end - parsed.begin)
    throw CheckpointError(where + ": shape " + shape.dump() + " of " + entry["dtype"].dump() +
                          " does not match data_offsets " + offsets.dump());
  return parsed;
}

std::map<std::string, std::string> parse_metadata(const nlohmann::json& metadata,
                                                  const std::string& path) {
  if (!metadata.is_object())
    throw CheckpointError(path + ": __metadata__ must be an object of strings");
  std::map<std::string, std::string> result;
  for (const auto& [key, value] : metadata.items()) {
    if (!value.is_string())
      throw CheckpointError(path + ": __metadata__ entry '" + key + "' must be a string");
    result[key] = value.get<std::string>();
  }
  return result;
}

// Every byte of the data section belongs to exactly one tensor: sorted by begin, each range starts
// where the previous one ended, and the last ends at the end of the file.
void check_ranges(std::vector<TensorEntry>& entries, uint64_t data_size, const std::string& path) {
  // Ties are empty tensors; ordering by end too puts them before the tensor that shares their begin.
  std::sort(entries.begin(), entries.end(), [](const TensorEntry& a, const TensorEntry& b) {
    return std::tie(a.begin, a.end) < std::tie(b.begin, b.end);
  });
  uint64_t expected = 0;
  for (const TensorEntry& entry : entries) {
    const std::string where = path + ": tensor '" + entry.tensor.name + "'";
    if (entry.end > data_size)
      throw CheckpointError(where + ": data_offsets end at " + std::to_string(entry.end) +
                            " beyond the data section of " + std::to_string(data_size) +
                            " bytes (truncated file?)");
    if (entry.begin < expected)
      throw CheckpointError(where + ": data_offsets overlap the previous tensor");
    if (entry.begin > expected)
      throw CheckpointError(where + ": gap in the data section before byte " +
                            std::to_string(entry.begin));
    expected = entry.end;
  }
  if (expected != data_size)
    throw CheckpointError(path + ": data section has " + std::to_string(data_size) +
                          " bytes but the tensors cover only " + std::to_string(expected));
}

void check_crc(const TensorFile& file, const std::string& path) {
  auto stored = file.metadata.find(kCrcKey);
  if (stored == file.metadata.end()) return;
  const std::string actual = crc_text(crc_of(file.tensors));
  if (stored->second != actual)
    throw CheckpointError(path + ": crc32 mismatch (header says " + stored->second +
                          ", data has " + actual + "): the file is corrupt");
}

}  // namespace

const StoredTensor* TensorFile::find(std::string_view name) const {
  auto it = std::find_if(tensors.begin(), tensors.end(),
                         [name](const StoredTensor& tensor) { return tensor.name == name; });
  return it == tensors.end() ? nullptr : &*it;
}

void write_tensor_file(const std::string& path, const TensorFile& file) {
  const std::string header = make_header(path, file);
  const std::string tmp_path = path + ".tmp." + std::to_string(::getpid());
  try {
    write_temporary(tmp_path, header, file);
    if (::rename(tmp_path.c_str(), path.c_str()) != 0)
      throw CheckpointError("cannot rename " + tmp_path + " to " + path + ": " + errno_text());
  } catch (...) {
    ::unlink(tmp_path.c_str());
    throw;
  }
  sync_directory_of(path);
}

TensorFile read_tensor_file(const std::string& path) {
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) throw CheckpointError("cannot open " + path + ": " + errno_text());
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) throw CheckpointError("cannot stat " + path + ": " + errno_text());
  const uint64_t file_size = static_cast<uint64_t>(info.st_size);
  if (file_size < 8)
    throw CheckpointError(path + ": " + std::to_string(file_size) +
                          " bytes is too short for a safetensors file (truncated?)");
  uint64_t header_size = 0;
  read_exactly(fd.get(), &header_size, sizeof header_size, 0, path);
  if (header_size > kMaxHeaderBytes || header_size > file_size - 8)
    throw CheckpointError(path + ": header length " + std::to_string(header_size) +
                          " exceeds the file size of " + std::to_string(file_size) +
                          " bytes or the limit of 100 MB (truncated or not a safetensors file?)");
  std::string header_text(header_size, '\0');
  read_exactly(fd.get(), header_text.data(), header_text.size(), 8, path);

  nlohmann::json header;
  try {
    header = nlohmann::json::parse(header_text);
  } catch (const nlohmann::json::parse_error& error) {
    throw CheckpointError(path + ": header is not valid JSON: " + error.what());
  }
  if (!header.is_object()) throw CheckpointError(path + ": header must be a JSON object");

  TensorFile file;
  std::vector<TensorEntry> entries;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__")
      file.metadata = parse_metadata(entry, path);
    else
      entries.push_back(parse_entry(name, entry, path));
  }
  const uint64_t data_start = 8 + header_size;
  check_ranges(entries, file_size - data_start, path);
  for (TensorEntry& entry : entries) {
    entry.tensor.data.resize(entry.end - entry.begin);
    read_exactly(fd.get(), entry.tensor.data.data(), entry.tensor.data.size(),
                 data_start + entry.begin, path);
    file.tensors.push_back(std::move(entry.tensor));
  }
  check_crc(file, path);
  return file;
}

}  // namespace kubetrain

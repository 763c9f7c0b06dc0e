#include "worker/train/safetensors.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <zlib.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "tests/unit/checkpoint/scratch_directory.h"
#include "tests/unit/checkpoint/tensor_file_builders.h"

namespace kubetrain {
namespace {

namespace fs = std::filesystem;
using testing::f32_tensor;
using testing::f32_values;
using testing::i64_tensor;
using testing::i64_values;

class SafetensorsTest : public ::testing::Test {
 protected:
  std::string path(const std::string& name) const { return (scratch_.path() / name).string(); }

  static TensorFile sample() {
    TensorFile file;
    file.metadata = {{"epoch", "3"}, {"note", "hello"}};
    file.tensors.push_back(f32_tensor("conv.weight", {2, 3}, {1.5f, -2.25f, 0.0f, 3e-8f, 1e30f, -0.0f}));
    file.tensors.push_back(i64_tensor("step", {}, {9'000'000'000'123}));
    file.tensors.push_back(i64_tensor("empty", {0, 4}, {}));
    file.tensors.push_back(f32_tensor("bias", {3}, {0.25f, 0.5f, 0.75f}));
    return file;
  }

  static std::string read_bytes(const std::string& file) {
    std::ifstream in(file, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  static void write_bytes(const std::string& file, const std::string& bytes) {
    std::ofstream(file, std::ios::binary | std::ios::trunc) << bytes;
  }
  // A file with the given header text and data section, laid out as the format prescribes.
  static void write_raw(const std::string& file, const std::string& header, const std::string& data) {
    std::string bytes(8, '\0');
    const uint64_t size = header.size();
    std::memcpy(bytes.data(), &size, 8);
    write_bytes(file, bytes + header + data);
  }

  void expect_refused(const std::string& file, const std::string& fragment) {
    try {
      read_tensor_file(file);
      ADD_FAILURE() << file << " was accepted; expected an error containing '" << fragment << "'";
    } catch (const CheckpointError& error) {
      const std::string message = error.what();
      EXPECT_NE(message.find(file), std::string::npos) << message;
      EXPECT_NE(message.find(fragment), std::string::npos) << message;
    }
  }

  bool has_temporary_files() const {
    for (const auto& entry : fs::directory_iterator(scratch_.path()))
      if (entry.path().filename().string().find(".tmp.") != std::string::npos) return true;
    return false;
  }

  testing::ScratchDirectory scratch_;
};

TEST_F(SafetensorsTest, RoundTripsTensorsAndMetadata) {
  const std::string file = path("a.safetensors");
  write_tensor_file(file, sample());
  const TensorFile read = read_tensor_file(file);

  ASSERT_EQ(read.tensors.size(), 4u);
  const StoredTensor* weight = read.find("conv.weight");
  ASSERT_NE(weight, nullptr);
  EXPECT_EQ(weight->type, StoredType::kF32);
  EXPECT_EQ(weight->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(f32_values(*weight), (std::vector<float>{1.5f, -2.25f, 0.0f, 3e-8f, 1e30f, -0.0f}));
  EXPECT_TRUE(std::signbit(f32_values(*weight)[5]));
  const StoredTensor* step = read.find("step");
  ASSERT_NE(step, nullptr);
  EXPECT_EQ(step->type, StoredType::kI64);
  EXPECT_TRUE(step->shape.empty());
  EXPECT_EQ(i64_values(*step), (std::vector<int64_t>{9'000'000'000'123}));
  ASSERT_NE(read.find("empty"), nullptr);
  EXPECT_EQ(read.find("empty")->shape, (std::vector<int64_t>{0, 4}));
  EXPECT_TRUE(read.find("empty")->data.empty());
  EXPECT_EQ(f32_values(*read.find("bias")), (std::vector<float>{0.25f, 0.5f, 0.75f}));
  EXPECT_EQ(read.find("missing"), nullptr);
  // Data-section order is the order written.
  EXPECT_EQ(read.tensors[0].name, "conv.weight");
  EXPECT_EQ(read.tensors[3].name, "bias");

  EXPECT_EQ(read.metadata.at("epoch"), "3");
  EXPECT_EQ(read.metadata.at("note"), "hello");
  EXPECT_FALSE(has_temporary_files());
}

TEST_F(SafetensorsTest, LayoutIsAlignedAndCrcCoversTheDataSection) {
  const std::string file = path("a.safetensors");
  write_tensor_file(file, sample());
  const std::string bytes = read_bytes(file);
  uint64_t header_size = 0;
  std::memcpy(&header_size, bytes.data(), 8);
  EXPECT_EQ((8 + header_size) % 8, 0u);
  EXPECT_EQ(bytes[8], '{');
  const std::string data = bytes.substr(8 + header_size);
  EXPECT_EQ(data.size(), 6 * 4 + 8 + 0 + 3 * 4);
  char crc[9];
  std::snprintf(crc, sizeof crc, "%08lx",
                crc32(0, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size())));
  EXPECT_EQ(read_tensor_file(file).metadata.at("crc32"), crc);
}

TEST_F(SafetensorsTest, ReplacesAnExistingFile) {
  const std::string file = path("a.safetensors");
  write_tensor_file(file, sample());
  TensorFile second;
  second.tensors.push_back(i64_tensor("only", {1}, {42}));
  write_tensor_file(file, second);
  const TensorFile read = read_tensor_file(file);
  ASSERT_EQ(read.tensors.size(), 1u);
  EXPECT_EQ(i64_values(read.tensors[0]), (std::vector<int64_t>{42}));
}

TEST_F(SafetensorsTest, RefusesTruncatedFile) {
  const std::string file = path("t.safetensors");
  write_tensor_file(file, sample());
  std::string bytes = read_bytes(file);
  write_bytes(file, bytes.substr(0, bytes.size() - 4));
  expect_refused(file, "beyond the data section");
  write_bytes(file, bytes.substr(0, 5));
  expect_refused(file, "too short");
}

TEST_F(SafetensorsTest, RefusesFlippedDataByte) {
  const std::string file = path("c.safetensors");
  write_tensor_file(file, sample());
  std::string bytes = read_bytes(file);
  bytes[bytes.size() - 2] ^= 0x10;
  write_bytes(file, bytes);
  expect_refused(file, "crc32 mismatch");
}

TEST_F(SafetensorsTest, RefusesHeaderLengthBeyondFile) {
  const std::string file = path("h.safetensors");
  write_tensor_file(file, sample());
  std::string bytes = read_bytes(file);
  const uint64_t huge = uint64_t{1} << 40;
  std::memcpy(bytes.data(), &huge, 8);
  write_bytes(file, bytes);
  expect_refused(file, "header length 1099511627776 exceeds");
}

// A header, the size of the zero-filled data section after it, and what the error must say.
struct RawFileCase {
  const char* header;
  size_t data_bytes;
  const char* fragment;
};

const RawFileCase kBadHeaders[] = {
    {R"({"a": {"dtype": "F32", )", 0, "header is not valid JSON"},
    {"[1, 2]", 0, "header must be a JSON object"},
    {R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},)"
     R"( "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})",
     12, "tensor 'b': data_offsets overlap the previous tensor"},
    {R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})", 8, "gap in the data section"},
    {R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}})", 8, "tensors cover only 4"},
    {R"({"a": {"dtype": "F16", "shape": [2], "data_offsets": [0, 4]}})", 4,
     "tensor 'a': unsupported dtype \"F16\" (valid: F32, I64)"},
    {R"({"a": {"dtype": "I64", "shape": [3], "data_offsets": [0, 16]}})", 16,
     "tensor 'a': shape [3] of \"I64\" does not match data_offsets [0,16]"},
    {R"({"a": {"dtype": "I64", "shape": [-2], "data_offsets": [0, 16]}})", 16,
     "shape must hold non-negative integers"},
    {R"({"a": {"dtype": "I64", "shape": [2], "data_offsets": [16, 0]}})", 16, "end before they begin"},
    {R"({"a": {"dtype": "I64", "shape": [2]}})", 16, "header entry needs dtype, shape and data_offsets"},
    {R"({"__metadata__": {"epoch": 3}})", 0, "__metadata__ entry 'epoch' must be a string"},
};

TEST_F(SafetensorsTest, RefusesBadHeaders) {
  const std::string file = path("bad.safetensors");
  for (const RawFileCase& bad : kBadHeaders) {
    SCOPED_TRACE(bad.header);
    write_raw(file, bad.header, std::string(bad.data_bytes, '\0'));
    expect_refused(file, bad.fragment);
  }
}

TEST_F(SafetensorsTest, MissingFileNamesIt) { expect_refused(path("none.safetensors"), "cannot open"); }

TEST_F(SafetensorsTest, RefusesInconsistentTensorOnWrite) {
  TensorFile bad;
  bad.tensors.push_back(f32_tensor("w", {2, 2}, {1.0f, 2.0f, 3.0f}));
  const std::string file = path("w.safetensors");
  try {
    write_tensor_file(file, bad);
    ADD_FAILURE() << "inconsistent tensor written";
  } catch (const CheckpointError& error) {
    EXPECT_NE(std::string(error.what()).find(file + ": tensor 'w': holds 12 bytes"), std::string::npos)
        << error.what();
  }
  EXPECT_FALSE(fs::exists(file));
  EXPECT_FALSE(has_temporary_files());
}

TEST_F(SafetensorsTest, FailedWriteLeavesPreviousFileAndNoTemporary) {
  const std::string file = path("p.safetensors");
  write_tensor_file(file, sample());
  const std::string before = read_bytes(file);

  // A file-size limit makes write() fail part-way, like a full disk would (and works as root).
  TensorFile big;
  big.tensors.push_back(f32_tensor("big", {4096}, std::vector<float>(4096, 1.0f)));
  rlimit saved{};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &saved), 0);
  auto previous_handler = signal(SIGXFSZ, SIG_IGN);
  rlimit limited = saved;
  limited.rlim_cur = 1000;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &limited), 0);
  std::string message;
  try {
    write_tensor_file(file, big);
  } catch (const CheckpointError& error) {
    message = error.what();
  }
  setrlimit(RLIMIT_FSIZE, &saved);
  signal(SIGXFSZ, previous_handler);

  EXPECT_NE(message.find("cannot write " + file + ".tmp."), std::string::npos) << message;
  EXPECT_EQ(read_bytes(file), before);
  EXPECT_FALSE(has_temporary_files());
}

TEST_F(SafetensorsTest, UnwritableLocationNamesThePath) {
  const std::string blocker = path("not_a_dir");
  write_bytes(blocker, "x");
  const std::string file = blocker + "/a.safetensors";
  try {
    write_tensor_file(file, sample());
    ADD_FAILURE() << "write under a regular file succeeded";
  } catch (const CheckpointError& error) {
    EXPECT_NE(std::string(error.what()).find("cannot create " + file + ".tmp."), std::string::npos)
        << error.what();
  }
  EXPECT_FALSE(has_temporary_files());
}

}  // namespace
}  // namespace kubetrain

// Writes, or reads and checks, the reference tensor file that safetensors_interop.py knows too.
//   safetensors_interop_tool write PATH   exit 0 once written
//   safetensors_interop_tool check PATH   exit 0 when PATH holds exactly the reference tensors

#include <cstdio>
#include <cstring>
#include <string>

#include "tests/unit/checkpoint/tensor_file_builders.h"
#include "worker/train/safetensors.h"

namespace {

using namespace kubetrain;
using namespace kubetrain::testing;

// Must match REFERENCE in safetensors_interop.py.
TensorFile reference_file() {
  TensorFile file;
  file.metadata = {{"epoch", "7"}, {"model", "resnet20"}};
  file.tensors.push_back(
      f32_tensor("layer1.0.conv1.weight", {2, 3, 1, 1}, {-0.625f, -0.375f, -0.125f, 0.125f, 0.375f, 0.625f}));
  file.tensors.push_back(f32_tensor("fc.bias", {3}, {1e-3f, -7.5f, 3.0e8f}));
  file.tensors.push_back(f32_tensor("empty", {0, 4}, {}));
  file.tensors.push_back(i64_tensor("step", {}, {1234567890123}));
  file.tensors.push_back(i64_tensor("counts", {4}, {-1, 0, 1, int64_t{1} << 40}));
  return file;
}

bool same_tensor(const StoredTensor& expected, const StoredTensor* actual) {
  if (actual == nullptr) {
    std::fprintf(stderr, "tensor %s missing\n", expected.name.c_str());
    return false;
  }
  if (actual->type != expected.type || actual->shape != expected.shape || actual->data != expected.data) {
    std::fprintf(stderr, "tensor %s differs in dtype, shape or values\n", expected.name.c_str());
    return false;
  }
  return true;
}

int check(const std::string& path) {
  const TensorFile expected = reference_file();
  const TensorFile actual = read_tensor_file(path);
  bool ok = actual.tensors.size() == expected.tensors.size();
  if (!ok) std::fprintf(stderr, "%zu tensors, expected %zu\n", actual.tensors.size(), expected.tensors.size());
  for (const StoredTensor& tensor : expected.tensors) ok = same_tensor(tensor, actual.find(tensor.name)) && ok;
  for (const auto& [key, value] : expected.metadata) {
    auto it = actual.metadata.find(key);
    if (it == actual.metadata.end() || it->second != value) {
      std::fprintf(stderr, "metadata %s missing or different\n", key.c_str());
      ok = false;
    }
  }
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 || (std::strcmp(argv[1], "write") != 0 && std::strcmp(argv[1], "check") != 0)) {
    std::fprintf(stderr, "usage: %s write|check PATH\n", argv[0]);
    return 2;
  }
  try {
    if (std::strcmp(argv[1], "write") == 0) {
      write_tensor_file(argv[2], reference_file());
      return 0;
    }
    return check(argv[2]);
  } catch (const CheckpointError& error) {
    std::fprintf(stderr, "%s\n", error.what());
    return 1;
  }
}

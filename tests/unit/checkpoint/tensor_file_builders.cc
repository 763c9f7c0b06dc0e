#include "tests/unit/checkpoint/tensor_file_builders.h"

#include <cstring>
#include <span>
#include <utility>

namespace kubetrain::testing {
namespace {

template <typename T>
std::vector<std::byte> bytes_of(const std::vector<T>& values) {
  const std::span<const std::byte> bytes = std::as_bytes(std::span(values));
  return {bytes.begin(), bytes.end()};
}

template <typename T>
std::vector<T> values_of(const StoredTensor& tensor) {
  std::vector<T> values(tensor.data.size() / sizeof(T));
  // An empty tensor's data() may be null, which memcpy must not be given even for 0 bytes.
  if (!values.empty()) std::memcpy(values.data(), tensor.data.data(), values.size() * sizeof(T));
  return values;
}

}  // namespace

StoredTensor f32_tensor(std::string name, std::vector<int64_t> shape, const std::vector<float>& values) {
  return {std::move(name), StoredType::kF32, std::move(shape), bytes_of(values)};
}

StoredTensor i64_tensor(std::string name, std::vector<int64_t> shape, const std::vector<int64_t>& values) {
  return {std::move(name), StoredType::kI64, std::move(shape), bytes_of(values)};
}

std::vector<float> f32_values(const StoredTensor& tensor) { return values_of<float>(tensor); }
std::vector<int64_t> i64_values(const StoredTensor& tensor) { return values_of<int64_t>(tensor); }

}  // namespace kubetrain::testing

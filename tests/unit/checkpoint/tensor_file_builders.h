#pragma once

// Test helpers that turn plain values into StoredTensors and back.

#include <cstdint>
#include <string>
#include <vector>

#include "worker/train/safetensors.h"

namespace kubetrain::testing {

StoredTensor f32_tensor(std::string name, std::vector<int64_t> shape, const std::vector<float>& values);
StoredTensor i64_tensor(std::string name, std::vector<int64_t> shape, const std::vector<int64_t>& values);
std::vector<float> f32_values(const StoredTensor& tensor);
std::vector<int64_t> i64_values(const StoredTensor& tensor);

}  // namespace kubetrain::testing

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "tests/unit/model/model_test_support.h"
#include "worker/backends/cpu/cpu_backend.h"
#include "worker/model/host_random.h"
#include "worker/model/model.h"
#include "worker/model/model_state.h"

namespace kubetrain {
namespace {

std::vector<float> values_of(const TensorFile& file, const std::string& name) {
  const StoredTensor* tensor = file.find(name);
  if (tensor == nullptr) return {};
  std::vector<float> values(tensor->data.size() / sizeof(float));
  std::memcpy(values.data(), tensor->data.data(), tensor->data.size());
  return values;
}

TensorFile initial_state(Backend& backend, MemoryFormat format, uint64_t seed) {
  auto model = make_model(backend, test::tiny_spec("resnet20", {2, 3, 8, 8}, 10, format));
  model->initialize(seed);
  TensorFile file;
  save_model_state(*model, 0, file);
  return file;
}

TEST(HostRandom, BoxMullerGivesStandardNormals) {
  HostRandom random(42);
  constexpr int kSamples = 200000;
  double sum = 0.0, squares = 0.0;
  int within_one = 0;
  for (int i = 0; i < kSamples; ++i) {
    const double z = random.normal();
    sum += z;
    squares += z * z;
    within_one += std::abs(z) < 1.0;
  }
  EXPECT_NEAR(sum / kSamples, 0.0, 0.01);
  EXPECT_NEAR(squares / kSamples, 1.0, 0.01);
  EXPECT_NEAR(static_cast<double>(within_one) / kSamples, 0.6827, 0.005);
}

TEST(Initialization, IsDeterministicInTheSeedAndIndependentOfTheMemoryFormat) {
  auto backend = make_cpu_backend();
  const TensorFile a = initial_state(*backend, MemoryFormat::kChannelsLast, 7);
  const TensorFile b = initial_state(*backend, MemoryFormat::kChannelsFirst, 7);
  const TensorFile c = initial_state(*backend, MemoryFormat::kChannelsLast, 8);
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  for (size_t i = 0; i < a.tensors.size(); ++i) {
    EXPECT_EQ(a.tensors[i].name, b.tensors[i].name);
    EXPECT_EQ(a.tensors[i].data, b.tensors[i].data) << a.tensors[i].name;
  }
  EXPECT_NE(values_of(a, "layer2.1.conv1.weight"), values_of(c, "layer2.1.conv1.weight"));
  EXPECT_NE(values_of(a, "fc.bias"), values_of(c, "fc.bias"));
}

TEST(Initialization, FollowsTorchvision) {
  auto backend = make_cpu_backend();
  const TensorFile state = initial_state(*backend, MemoryFormat::kChannelsLast, 1);
  // kaiming_normal_(mode="fan_out", nonlinearity="relu"): std = sqrt(2 / (K * R * S)).
  const auto conv = values_of(state, "layer3.1.conv1.weight");
  ASSERT_EQ(conv.size(), 64u * 64u * 9u);
  double sum = 0.0, squares = 0.0;
  for (float v : conv) {
    sum += v;
    squares += static_cast<double>(v) * v;
  }
  const double n = static_cast<double>(conv.size());
  const double expected_std = std::sqrt(2.0 / (64.0 * 9.0));
  EXPECT_NEAR(sum / n, 0.0, 4 * expected_std / std::sqrt(n));
  EXPECT_NEAR(std::sqrt(squares / n - (sum / n) * (sum / n)), expected_std, 0.02 * expected_std);

  for (float v : values_of(state, "layer1.0.bn1.weight")) EXPECT_EQ(v, 1.0f);
  for (float v : values_of(state, "layer1.0.bn1.bias")) EXPECT_EQ(v, 0.0f);
  for (float v : values_of(state, "layer1.0.bn1.running_mean")) EXPECT_EQ(v, 0.0f);
  for (float v : values_of(state, "layer1.0.bn1.running_var")) EXPECT_EQ(v, 1.0f);

  // nn.Linear: uniform(-1/sqrt(in), 1/sqrt(in)) for weight and bias, in = 64.
  for (const char* name : {"fc.weight", "fc.bias"}) {
    const auto values = values_of(state, name);
    const auto [low, high] = std::minmax_element(values.begin(), values.end());
    EXPECT_GE(*low, -0.125f) << name;
    EXPECT_LT(*high, 0.125f) << name;
    EXPECT_LT(*high - *low, 0.25f) << name;
    if (values.size() > 100) {
      EXPECT_GT(*high - *low, 0.2f) << name;
    }
  }
}

}  // namespace
}  // namespace kubetrain

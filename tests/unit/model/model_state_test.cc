#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "tests/unit/model/model_test_support.h"
#include "worker/backends/cpu/cpu_backend.h"
#include "worker/model/model.h"
#include "worker/model/model_state.h"

namespace kubetrain {
namespace {

class ModelStateTest : public ::testing::Test {
 protected:
  std::unique_ptr<Model> build(MemoryFormat format, uint64_t seed) {
    auto model = make_model(*backend_, test::tiny_spec("resnet20", {2, 3, 8, 8}, 10, format));
    model->initialize(seed);
    return model;
  }

  TensorFile saved(Model& model, int64_t batches_tracked = 0) {
    TensorFile file;
    save_model_state(model, batches_tracked, file);
    return file;
  }

  // load_model_state's CheckpointError message for `file`, or "" when it loads.
  std::string load_error(const TensorFile& file) {
    auto model = build(MemoryFormat::kChannelsLast, 1);
    try {
      load_model_state(*model, file);
    } catch (const CheckpointError& e) {
      return e.what();
    }
    return "";
  }

  StoredTensor& tensor(TensorFile& file, const std::string& name) {
    return *std::find_if(file.tensors.begin(), file.tensors.end(),
                         [&](const StoredTensor& t) { return t.name == name; });
  }

  std::unique_ptr<Backend> backend_ = make_cpu_backend();
};

TEST_F(ModelStateTest, StoresTorchvisionNamesAndPyTorchShapes) {
  auto model = build(MemoryFormat::kChannelsLast, 1);
  const TensorFile file = saved(*model, 7);
  const StoredTensor* conv = file.find("layer2.0.conv1.weight");
  ASSERT_NE(conv, nullptr);
  EXPECT_EQ(conv->shape, (std::vector<int64_t>{32, 16, 3, 3}));
  EXPECT_EQ(file.find("fc.weight")->shape, (std::vector<int64_t>{10, 64}));
  EXPECT_EQ(file.find("fc.bias")->shape, (std::vector<int64_t>{10}));
  EXPECT_EQ(file.find("layer3.2.bn2.running_var")->shape, (std::vector<int64_t>{64}));
  const StoredTensor* tracked = file.find("layer2.0.downsample.1.num_batches_tracked");
  ASSERT_NE(tracked, nullptr);
  EXPECT_EQ(tracked->type, StoredType::kI64);
  EXPECT_TRUE(tracked->shape.empty());
  int64_t value = 0;
  std::memcpy(&value, tracked->data.data(), sizeof(value));
  EXPECT_EQ(value, 7);
  // Parameters, running mean and variance, and a counter for each of the 21 BatchNorms.
  EXPECT_EQ(file.tensors.size(), model->parameters().parameters().size() + 3u * 21u);
}

TEST_F(ModelStateTest, RoundTripsAcrossMemoryFormats) {
  auto source = build(MemoryFormat::kChannelsLast, 1);
  auto target = build(MemoryFormat::kChannelsFirst, 2);
  const TensorFile file = saved(*source);
  load_model_state(*target, file);
  const TensorFile again = saved(*target);
  ASSERT_EQ(again.tensors.size(), file.tensors.size());
  for (size_t i = 0; i < file.tensors.size(); ++i) {
    EXPECT_EQ(again.tensors[i].name, file.tensors[i].name);
    EXPECT_EQ(again.tensors[i].shape, file.tensors[i].shape);
    EXPECT_EQ(again.tensors[i].data, file.tensors[i].data) << file.tensors[i].name;
  }
  // Same logical weights: the same logits from the same logical input (inference mode).
  const auto batch = test::make_batch({2, 3, 8, 8}, 10, 3);
  std::vector<float> logits[2];
  Model* models[2] = {source.get(), target.get()};
  for (int i = 0; i < 2; ++i) {
    const auto device = test::upload_batch(*backend_, batch, models[i]->spec().format);
    logits[i].resize(20);
    backend_->download(models[i]->forward(device.input->data(), false), logits[i].data(),
                       logits[i].size() * sizeof(float));
  }
  for (size_t i = 0; i < logits[0].size(); ++i) EXPECT_NEAR(logits[0][i], logits[1][i], 1e-5);
}

TEST_F(ModelStateTest, NamesAMissingTensor) {
  auto model = build(MemoryFormat::kChannelsLast, 1);
  TensorFile file = saved(*model);
  std::erase_if(file.tensors, [](const StoredTensor& t) {
    return t.name == "layer2.0.downsample.0.weight";
  });
  const std::string error = load_error(file);
  EXPECT_NE(error.find("\"layer2.0.downsample.0.weight\" is missing"), std::string::npos) << error;
  EXPECT_NE(error.find("[32, 16, 1, 1]"), std::string::npos) << error;
}

TEST_F(ModelStateTest, NamesAMisshapenTensorWithBothShapes) {
  auto model = build(MemoryFormat::kChannelsLast, 1);
  TensorFile file = saved(*model);
  StoredTensor& fc = tensor(file, "fc.weight");
  fc.shape = {10, 32};
  fc.data.resize(10 * 32 * sizeof(float));
  const std::string error = load_error(file);
  EXPECT_NE(error.find("\"fc.weight\" has shape [10, 32]; expected [10, 64]"), std::string::npos)
      << error;
}

TEST_F(ModelStateTest, RefusesTensorsOfAnotherArchitectureAndWrongTypes) {
  auto model = build(MemoryFormat::kChannelsLast, 1);
  TensorFile extra = saved(*model);
  extra.tensors.push_back({"layer4.0.conv1.weight", StoredType::kF32, {1}, std::vector<std::byte>(4)});
  EXPECT_NE(load_error(extra).find("\"layer4.0.conv1.weight\""), std::string::npos);

  TensorFile wrong_type = saved(*model);
  tensor(wrong_type, "bn1.num_batches_tracked").type = StoredType::kF32;
  EXPECT_NE(load_error(wrong_type).find("\"bn1.num_batches_tracked\" has the wrong dtype"),
            std::string::npos);

  TensorFile optimizer_state = saved(*model);
  optimizer_state.tensors.push_back({"optimizer.step", StoredType::kI64, {}, std::vector<std::byte>(8)});
  EXPECT_EQ(load_error(optimizer_state), "");
}

TEST_F(ModelStateTest, RoundTripsMomentumAcrossMemoryFormats) {
  auto source = build(MemoryFormat::kChannelsLast, 1);
  ParameterStore& store = source->parameters();
  std::vector<float> momentum(static_cast<size_t>(store.parameter_count()));
  for (size_t i = 0; i < momentum.size(); ++i) momentum[i] = static_cast<float>(i % 1000) * 0.5f;
  backend_->upload(momentum.data(), store.momentum(), momentum.size() * sizeof(float));
  TensorFile file;
  save_optimizer_momentum(*source, file);
  EXPECT_NE(file.find("optimizer.momentum.layer1.0.conv1.weight"), nullptr);
  EXPECT_EQ(file.find("optimizer.momentum.conv1.weight")->shape,
            (std::vector<int64_t>{16, 3, 3, 3}));

  auto target = build(MemoryFormat::kChannelsFirst, 2);
  load_optimizer_momentum(*target, file);
  TensorFile again;
  save_optimizer_momentum(*target, again);
  ASSERT_EQ(again.tensors.size(), file.tensors.size());
  for (size_t i = 0; i < file.tensors.size(); ++i) {
    EXPECT_EQ(again.tensors[i].data, file.tensors[i].data) << file.tensors[i].name;
  }

  std::erase_if(file.tensors, [](const StoredTensor& t) {
    return t.name == "optimizer.momentum.fc.bias";
  });
  EXPECT_THROW(load_optimizer_momentum(*target, file), CheckpointError);
}

}  // namespace
}  // namespace kubetrain

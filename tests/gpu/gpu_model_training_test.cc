// End to end on the GPU: a ResNet-20 trained with the backend's SGD on one fixed batch must fit it
// (the loss falls well below its starting value) in every precision, fp16 with a static loss
// scale, and the gradients stay finite throughout.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/gpu/gpu_test_support.h"
#include "worker/model/model.h"

namespace kubetrain::testing {
namespace {

class GpuModelTrainingTest : public GpuTest, public ::testing::WithParamInterface<DataType> {};

TEST_P(GpuModelTrainingTest, ResNet20FitsOneBatch) {
  const DataType type = GetParam();
  ModelSpec spec{.name = "resnet20", .input = {16, 3, 32, 32}, .classes = 10, .dtype = type,
                 .format = MemoryFormat::kChannelsLast};
  auto model = make_model(*backend_, spec);
  model->initialize(3);
  ParameterStore& store = model->parameters();

  auto images = zeros(spec.input.elements(), type);
  backend_->fill_normal(type, images->data(), spec.input.elements(), 0.0f, 1.0f, 5);
  std::vector<int32_t> labels(16);
  for (int i = 0; i < 16; ++i) labels[i] = i % 10;
  auto device_labels = backend_->allocate(labels.size() * sizeof(int32_t));
  backend_->upload(labels.data(), device_labels->data(), labels.size() * sizeof(int32_t));
  auto loss = zeros(1, DataType::kFloat32);

  const float loss_scale = type == DataType::kFloat16 ? 128.0f : 1.0f;
  const SgdHyperparameters hyper{.learning_rate = 0.05f, .momentum = 0.9f, .weight_decay = 0.0f,
                                 .nesterov = false, .gradient_scale = 1.0f / loss_scale};
  std::vector<float> losses;
  for (int step = 0; step < 40; ++step) {
    model->forward(images->data(), /*training=*/true);
    model->backward(device_labels->as<int32_t>(), loss_scale, loss->as<float>(),
                    [](int64_t, int64_t) {});
    ASSERT_TRUE(backend_->all_finite(store.gradients(), store.parameter_count()))
        << "step " << step;
    backend_->sgd_update(store.segments(), store.weights(), store.gradients(), store.momentum(),
                         hyper);
    store.sync_compute_weights();
    losses.push_back(to_host(loss->data(), DataType::kFloat32, 1)[0]);
  }
  EXPECT_LT(losses.back(), 0.5f * losses.front())
      << "first loss " << losses.front() << ", last " << losses.back();
}

INSTANTIATE_TEST_SUITE_P(Types, GpuModelTrainingTest, all_types(), type_name);

}  // namespace
}  // namespace kubetrain::testing

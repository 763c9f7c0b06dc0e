#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "tests/unit/model/model_test_support.h"
#include "tests/unit/model/reference_cifar_resnet.h"
#include "worker/backends/cpu/cpu_backend.h"
#include "worker/model/host_random.h"
#include "worker/model/model.h"
#include "worker/model/model_state.h"
#include "worker/model/weight_layout.h"

namespace kubetrain {
namespace {

test::ReferenceWeights reference_weights(Model& model) {
  TensorFile state;
  save_model_state(model, 0, state);
  test::ReferenceWeights weights;
  for (const auto& info : model.parameters().parameters()) {
    const StoredTensor* tensor = state.find(info.name);
    std::vector<float> values(static_cast<size_t>(info.elements()));
    std::memcpy(values.data(), tensor->data.data(), values.size() * sizeof(float));
    weights[info.name] = std::vector<double>(values.begin(), values.end());
  }
  return weights;
}

// Our fp32 gradients of each parameter, in PyTorch's layout.
std::map<std::string, std::vector<double>> pytorch_gradients(Backend& backend, Model& model) {
  ParameterStore& store = model.parameters();
  const auto flat = test::download_floats(backend, store.gradients(), store.parameter_count());
  std::map<std::string, std::vector<double>> gradients;
  for (const auto& info : store.parameters()) {
    std::span<const float> values(flat.data() + info.offset, static_cast<size_t>(info.elements()));
    const auto pytorch = info.conv_weight ? reorder(values, info.shape, model.spec().format,
                                                    MemoryFormat::kChannelsFirst)
                                          : std::vector<float>(values.begin(), values.end());
    gradients[info.name] = std::vector<double>(pytorch.begin(), pytorch.end());
  }
  return gradients;
}

// The whole model's analytic parameter gradients (fp32, through the backend) against central
// differences of an independent double-precision forward pass, on ResNet-20 with 8x8 images.
void check_against_finite_differences(MemoryFormat format) {
  constexpr int kClasses = 5;
  constexpr double kLabelSmoothing = 0.1;
  auto backend = make_cpu_backend();
  const ModelSpec spec = test::tiny_spec("resnet20", {3, 3, 8, 8}, kClasses, format,
                                         static_cast<float>(kLabelSmoothing));
  auto model = make_model(*backend, spec);
  model->initialize(11);
  const auto host_batch = test::make_batch(spec.input, kClasses, 12);
  const auto batch = test::upload_batch(*backend, host_batch, format);

  auto loss_buffer = backend->allocate(sizeof(float));
  const void* logits_device = model->forward(batch.input->data(), true);
  std::vector<float> logits(3 * kClasses);
  backend->download(logits_device, logits.data(), logits.size() * sizeof(float));
  model->backward(batch.labels->as<int32_t>(), 1.0f, loss_buffer->as<float>(),
                  [](int64_t, int64_t) {});
  float loss = 0.0f;
  backend->download(loss_buffer->data(), &loss, sizeof(float));

  auto weights = reference_weights(*model);
  const auto gradients = pytorch_gradients(*backend, *model);
  test::ReferenceInput input{3, 3, 8, 8,
                             std::vector<double>(host_batch.nchw.begin(), host_batch.nchw.end()),
                             std::vector<int>(host_batch.labels.begin(), host_batch.labels.end())};
  std::vector<double> reference_logits;
  const double reference_loss =
      test::reference_cifar_resnet_loss(weights, 3, input, kClasses, kLabelSmoothing,
                                        &reference_logits);
  EXPECT_NEAR(loss, reference_loss, 1e-5 * std::abs(reference_loss));
  for (size_t i = 0; i < logits.size(); ++i) {
    EXPECT_NEAR(logits[i], reference_logits[i], 1e-4) << "logit " << i;
  }

  HostRandom random(13);
  std::vector<double> scratch;
  for (const std::string name :
       {"conv1.weight", "bn1.weight", "layer1.0.conv1.weight", "layer1.2.bn2.bias",
        "layer2.0.conv1.weight", "layer2.0.downsample.0.weight", "layer2.0.downsample.1.weight",
        "layer3.0.conv2.weight", "layer3.2.bn1.weight", "layer3.2.conv2.weight", "fc.weight",
        "fc.bias"}) {
    auto& values = weights.at(name);
    const auto& gradient = gradients.at(name);
    double rms = 0.0;
    for (double g : gradient) rms += g * g;
    rms = std::sqrt(rms / static_cast<double>(gradient.size()));
    for (int sample = 0; sample < 2; ++sample) {
      const auto index = static_cast<size_t>(
          random.uniform(0.0, static_cast<double>(values.size())));
      const double original = values[index];
      const double step = 1e-5;
      values[index] = original + step;
      const double plus =
          test::reference_cifar_resnet_loss(weights, 3, input, kClasses, kLabelSmoothing, &scratch);
      values[index] = original - step;
      const double minus =
          test::reference_cifar_resnet_loss(weights, 3, input, kClasses, kLabelSmoothing, &scratch);
      values[index] = original;
      const double numeric = (plus - minus) / (2 * step);
      EXPECT_NEAR(gradient[index], numeric, 1e-3 * std::max(std::abs(numeric), rms) + 1e-7)
          << name << "[" << index << "] in " << to_string(format);
    }
  }
}

TEST(FiniteDifferences, ResNet20GradientsChannelsLast) {
  check_against_finite_differences(MemoryFormat::kChannelsLast);
}

TEST(FiniteDifferences, ResNet20GradientsChannelsFirst) {
  check_against_finite_differences(MemoryFormat::kChannelsFirst);
}

}  // namespace
}  // namespace kubetrain

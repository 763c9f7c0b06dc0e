// A whole ResNet-20 on the CUDA backend against the same network on the CPU backend, from the same
// weights (initialize(seed) generates them on the host) and the same input: logits, loss,
// BatchNorm running statistics and the full gradient buffer. Within 1e-4 relative in fp32 with
// TF32 off and 1e-2 in fp16 and bf16 (the CPU runs fp32 on the input rounded to the GPU's type).

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/gpu/gpu_test_support.h"
#include "worker/backends/cpu/cpu_backend.h"
#include "worker/model/model.h"

namespace kubetrain::testing {
namespace {

class GpuModelVsCpuTest : public GpuTest, public ::testing::WithParamInterface<FormatAndType> {};

std::vector<double> doubles(const std::vector<float>& values) {
  return {values.begin(), values.end()};
}

TEST_P(GpuModelVsCpuTest, ResNet20StepMatchesCpuBackend) {
  const auto [format, type] = GetParam();
  auto cpu = make_cpu_backend();
  ModelSpec spec{.name = "resnet20", .input = {8, 3, 32, 32}, .classes = 10, .dtype = type,
                 .format = format, .label_smoothing = 0.1f};
  ModelSpec cpu_spec = spec;
  cpu_spec.dtype = DataType::kFloat32;
  auto gpu_model = make_model(*backend_, spec);
  auto cpu_model = make_model(*cpu, cpu_spec);
  for (Model* model : {gpu_model.get(), cpu_model.get()}) {
    model->initialize(1);
    model->parameters().sync_compute_weights();
  }

  const int64_t input_count = spec.input.elements();
  const auto images = rounded(random_values(input_count, 71), type);
  auto gpu_images = to_device(images, type);
  auto cpu_images = testing::to_device(*cpu, images, DataType::kFloat32);
  const std::vector<int32_t> labels = {0, 1, 2, 3, 4, 5, 6, 9};
  auto gpu_labels = backend_->allocate(labels.size() * sizeof(int32_t));
  backend_->upload(labels.data(), gpu_labels->data(), labels.size() * sizeof(int32_t));
  auto cpu_labels = cpu->allocate(labels.size() * sizeof(int32_t));
  cpu->upload(labels.data(), cpu_labels->data(), labels.size() * sizeof(int32_t));
  auto gpu_loss = zeros(1, DataType::kFloat32);
  auto cpu_loss = cpu->allocate(sizeof(float));

  const void* gpu_logits = gpu_model->forward(gpu_images->data(), /*training=*/true);
  const void* cpu_logits = cpu_model->forward(cpu_images->data(), /*training=*/true);
  const int64_t logit_count = spec.input.n * spec.classes;
  const double tol = tolerance(type);
  EXPECT_LE(relative_error(to_host(gpu_logits, type, logit_count),
                           doubles(testing::to_host(*cpu, cpu_logits, DataType::kFloat32,
                                                    logit_count))),
            tol)
      << "logits";

  gpu_model->backward(gpu_labels->as<int32_t>(), 1.0f, gpu_loss->as<float>(),
                      [](int64_t, int64_t) {});
  cpu_model->backward(cpu_labels->as<int32_t>(), 1.0f, static_cast<float*>(cpu_loss->data()),
                      [](int64_t, int64_t) {});
  EXPECT_LE(relative_error(to_host(gpu_loss->data(), DataType::kFloat32, 1),
                           doubles(testing::to_host(*cpu, cpu_loss->data(), DataType::kFloat32,
                                                    1))),
            tol)
      << "loss";

  ParameterStore& gpu_store = gpu_model->parameters();
  ParameterStore& cpu_store = cpu_model->parameters();
  ASSERT_EQ(gpu_store.parameter_count(), cpu_store.parameter_count());
  ASSERT_EQ(gpu_store.buffer_count(), cpu_store.buffer_count());
  EXPECT_LE(relative_error(
                to_host(gpu_store.gradients(), DataType::kFloat32, gpu_store.parameter_count()),
                doubles(testing::to_host(*cpu, cpu_store.gradients(), DataType::kFloat32,
                                         cpu_store.parameter_count()))),
            tol)
      << "gradients";
  EXPECT_LE(relative_error(
                to_host(gpu_store.running_stats(), DataType::kFloat32, gpu_store.buffer_count()),
                doubles(testing::to_host(*cpu, cpu_store.running_stats(), DataType::kFloat32,
                                         cpu_store.buffer_count()))),
            tol)
      << "BatchNorm running statistics";
}

INSTANTIATE_TEST_SUITE_P(FormatsTypes, GpuModelVsCpuTest, all_formats_and_types(),
                         format_and_type_name);

}  // namespace
}  // namespace kubetrain::testing

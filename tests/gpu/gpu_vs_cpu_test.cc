// The CUDA backend against the CPU (oneDNN) backend from the same inputs and weights: every
// operator's outputs and gradients. The CPU runs in fp32 on exactly the values the GPU sees (rounded
// to the GPU's type). Tolerances: 1e-4 relative in fp32 with TF32 off, 1e-2 in fp16 and bf16.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "tests/gpu/gpu_test_support.h"
#include "worker/backends/cpu/cpu_backend.h"

namespace kubetrain::testing {
namespace {

class GpuVsCpuTest : public GpuTest, public ::testing::WithParamInterface<FormatAndType> {
 protected:
  void SetUp() override {
    GpuTest::SetUp();
    if (IsSkipped()) return;
    cpu_ = make_cpu_backend();
    std::tie(format_, type_) = GetParam();
  }

  // One tensor on each side: of `type` on the GPU, fp32 on the CPU.
  struct Pair {
    std::unique_ptr<DeviceBuffer> gpu, cpu;
  };
  Pair both(const std::vector<float>& values, DataType gpu_type) {
    return {to_device(values, gpu_type), testing::to_device(*cpu_, values, DataType::kFloat32)};
  }
  Pair activations(const std::vector<float>& values) { return both(values, type_); }
  Pair fp32(const std::vector<float>& values) { return both(values, DataType::kFloat32); }
  std::vector<float> random(int64_t count, uint32_t seed) {
    return rounded(random_values(count, seed), type_);
  }

  // The GPU tensor (of `gpu_type`) against the CPU's.
  void expect_close(const Pair& pair, DataType gpu_type, int64_t count, const std::string& what) {
    const auto cpu = testing::to_host(*cpu_, pair.cpu->data(), DataType::kFloat32, count);
    EXPECT_LE(relative_error(to_host(pair.gpu->data(), gpu_type, count),
                             std::vector<double>(cpu.begin(), cpu.end())),
              tolerance(type_))
        << what;
  }

  std::unique_ptr<Backend> cpu_;
  MemoryFormat format_ = MemoryFormat::kChannelsLast;
  DataType type_ = DataType::kFloat32;
};

TEST_P(GpuVsCpuTest, Convolution) {
  ConvolutionSpec spec{.input = {2, 16, 10, 10}, .out_channels = 8, .kernel = 3, .stride = 2,
                       .padding = 1, .dtype = type_, .format = format_};
  ConvolutionSpec cpu_spec = spec;
  cpu_spec.dtype = DataType::kFloat32;
  const int64_t xn = spec.input.elements(), yn = spec.output().elements(),
                wn = spec.weight().elements();
  auto x = activations(random(xn, 1));
  auto w = activations(random(wn, 2));
  auto dy = activations(random(yn, 3));
  auto y = activations(std::vector<float>(yn));
  auto dx = activations(std::vector<float>(xn));
  auto dw = fp32(std::vector<float>(wn));
  auto gpu = backend_->make_convolution(spec);
  auto cpu = cpu_->make_convolution(cpu_spec);
  gpu->forward(x.gpu->data(), w.gpu->data(), y.gpu->data());
  cpu->forward(x.cpu->data(), w.cpu->data(), y.cpu->data());
  gpu->backward_data(dy.gpu->data(), w.gpu->data(), dx.gpu->data());
  cpu->backward_data(dy.cpu->data(), w.cpu->data(), dx.cpu->data());
  gpu->backward_weights(x.gpu->data(), dy.gpu->data(), dw.gpu->as<float>());
  cpu->backward_weights(x.cpu->data(), dy.cpu->data(), dw.cpu->as<float>());
  expect_close(y, type_, yn, "y");
  expect_close(dx, type_, xn, "dx");
  expect_close(dw, DataType::kFloat32, wn, "dw");
}

TEST_P(GpuVsCpuTest, BatchNormWithResidualAndRelu) {
  BatchNormSpec spec{.shape = {4, 8, 6, 6}, .add_residual = true, .relu = true,
                     .dtype = type_, .format = format_};
  BatchNormSpec cpu_spec = spec;
  cpu_spec.dtype = DataType::kFloat32;
  const int64_t n = spec.shape.elements(), c = spec.shape.c;
  auto x = activations(random(n, 11));
  auto residual = activations(random(n, 12));
  auto y = activations(std::vector<float>(n));
  // gamma, beta, running mean, running var, saved mean, saved 1/std, d_gamma, d_beta
  std::vector<float> channel = random_values(c, 13, 0.5f, 1.5f);
  for (const auto& part : {random_values(c, 14), random_values(c, 15),
                           random_values(c, 16, 0.5f, 2.0f), std::vector<float>(4 * c)}) {
    channel.insert(channel.end(), part.begin(), part.end());
  }
  auto params = fp32(channel);
  auto tensors = [&](DeviceBuffer& buffer) {
    float* p = buffer.as<float>();
    return BatchNormTensors{p, p + c, p + 2 * c, p + 3 * c, p + 4 * c, p + 5 * c};
  };
  auto gpu = backend_->make_batch_norm(spec);
  auto cpu = cpu_->make_batch_norm(cpu_spec);
  gpu->forward_training(x.gpu->data(), residual.gpu->data(), y.gpu->data(), tensors(*params.gpu));
  cpu->forward_training(x.cpu->data(), residual.cpu->data(), y.cpu->data(), tensors(*params.cpu));
  expect_close(y, type_, n, "y");
  expect_close(params, DataType::kFloat32, 6 * c, "running and saved statistics");

  // Backward from the same x, dy and y: the GPU's y also on the CPU, so the ReLU masks agree even
  // for values that rounding put on the other side of zero.
  const auto gpu_y = to_host(y.gpu->data(), type_, n);
  std::copy(gpu_y.begin(), gpu_y.end(), y.cpu->as<float>());
  auto dy = activations(random(n, 17));
  auto dx = activations(std::vector<float>(n));
  auto d_residual = activations(std::vector<float>(n));
  float* gpu_grads = params.gpu->as<float>() + 6 * c;
  float* cpu_grads = params.cpu->as<float>() + 6 * c;
  gpu->backward(x.gpu->data(), y.gpu->data(), dy.gpu->data(), dx.gpu->data(),
                d_residual.gpu->data(), tensors(*params.gpu), gpu_grads, gpu_grads + c);
  cpu->backward(x.cpu->data(), y.cpu->data(), dy.cpu->data(), dx.cpu->data(),
                d_residual.cpu->data(), tensors(*params.cpu), cpu_grads, cpu_grads + c);
  expect_close(dx, type_, n, "dx");
  expect_close(d_residual, type_, n, "d_residual");
  expect_close(params, DataType::kFloat32, 8 * c, "d_gamma and d_beta");
}

TEST_P(GpuVsCpuTest, Pooling) {
  for (PoolingKind kind : {PoolingKind::kMax, PoolingKind::kGlobalAverage}) {
    PoolingSpec spec{.input = {2, 8, 8, 8}, .kind = kind, .dtype = type_, .format = format_};
    PoolingSpec cpu_spec = spec;
    cpu_spec.dtype = DataType::kFloat32;
    const int64_t xn = spec.input.elements(), yn = spec.output().elements();
    // Distinct values, exact in every type, so each window's maximum is unique. bf16 keeps only
    // 8 significant bits, too few for 1024 evenly spaced values (rounding would make ties):
    // 128 steps in each of four octaves, with both signs.
    ASSERT_LE(xn, 1024);
    std::vector<float> values(xn);
    for (int64_t i = 0; i < xn; ++i) {
      const float magnitude = std::ldexp(128.0f + static_cast<float>(i % 128),
                                         static_cast<int>(i / 128 % 4) - 8);
      values[i] = i < 512 ? magnitude : -magnitude;
    }
    std::shuffle(values.begin(), values.end(), std::mt19937(21));
    auto x = activations(values);
    auto y = activations(std::vector<float>(yn));
    auto dy = activations(random(yn, 22));
    auto dx = activations(std::vector<float>(xn));
    auto gpu = backend_->make_pooling(spec);
    auto cpu = cpu_->make_pooling(cpu_spec);
    gpu->forward(x.gpu->data(), y.gpu->data(), /*training=*/true);
    cpu->forward(x.cpu->data(), y.cpu->data(), /*training=*/true);
    gpu->backward(x.gpu->data(), y.gpu->data(), dy.gpu->data(), dx.gpu->data());
    cpu->backward(x.cpu->data(), y.cpu->data(), dy.cpu->data(), dx.cpu->data());
    const std::string name = kind == PoolingKind::kMax ? "max " : "average ";
    expect_close(y, type_, yn, name + "y");
    expect_close(dx, type_, xn, name + "dx");
  }
}

TEST_P(GpuVsCpuTest, LinearAndSoftmaxCrossEntropy) {
  const LinearSpec spec{.batch = 8, .in_features = 64, .out_features = 10, .dtype = type_};
  LinearSpec cpu_spec = spec;
  cpu_spec.dtype = DataType::kFloat32;
  const SoftmaxCrossEntropySpec loss_spec{
      .batch = 8, .classes = 10, .label_smoothing = 0.1f, .dtype = type_};
  SoftmaxCrossEntropySpec cpu_loss_spec = loss_spec;
  cpu_loss_spec.dtype = DataType::kFloat32;
  const int64_t xn = 8 * 64, wn = 10 * 64, yn = 8 * 10;
  auto x = activations(random(xn, 31));
  auto w = activations(random(wn, 32));
  auto b = fp32(random_values(10, 33));
  auto y = activations(std::vector<float>(yn));
  auto dy = activations(std::vector<float>(yn));
  auto dx = activations(std::vector<float>(xn));
  auto dw = fp32(std::vector<float>(wn));
  auto db = fp32(std::vector<float>(10));
  auto loss = fp32({0.0f});
  const std::vector<int32_t> labels = {0, 1, 2, 3, 9, 9, 5, 0};
  auto gpu_labels = backend_->allocate(labels.size() * sizeof(int32_t));
  backend_->upload(labels.data(), gpu_labels->data(), labels.size() * sizeof(int32_t));
  auto cpu_labels = cpu_->allocate(labels.size() * sizeof(int32_t));
  cpu_->upload(labels.data(), cpu_labels->data(), labels.size() * sizeof(int32_t));

  auto gpu = backend_->make_linear(spec);
  auto cpu = cpu_->make_linear(cpu_spec);
  gpu->forward(x.gpu->data(), w.gpu->data(), b.gpu->as<float>(), y.gpu->data());
  cpu->forward(x.cpu->data(), w.cpu->data(), b.cpu->as<float>(), y.cpu->data());
  expect_close(y, type_, yn, "logits");
  // The loss from identical logits (the GPU's, rounded to its type) on both sides.
  const auto logits = to_host(y.gpu->data(), type_, yn);
  std::copy(logits.begin(), logits.end(), y.cpu->as<float>());
  backend_->make_softmax_cross_entropy(loss_spec)->forward_backward(
      y.gpu->data(), gpu_labels->as<int32_t>(), dy.gpu->data(), 64.0f, loss.gpu->as<float>());
  cpu_->make_softmax_cross_entropy(cpu_loss_spec)->forward_backward(
      y.cpu->data(), cpu_labels->as<int32_t>(), dy.cpu->data(), 64.0f, loss.cpu->as<float>());
  expect_close(loss, DataType::kFloat32, 1, "loss");
  expect_close(dy, type_, yn, "d_logits");
  // Linear backward from the same (CPU-rounded) d_logits.
  const auto d_logits = to_host(dy.gpu->data(), type_, yn);
  std::copy(d_logits.begin(), d_logits.end(), dy.cpu->as<float>());
  gpu->backward_data(dy.gpu->data(), w.gpu->data(), dx.gpu->data());
  cpu->backward_data(dy.cpu->data(), w.cpu->data(), dx.cpu->data());
  gpu->backward_weights(x.gpu->data(), dy.gpu->data(), dw.gpu->as<float>(), db.gpu->as<float>());
  cpu->backward_weights(x.cpu->data(), dy.cpu->data(), dw.cpu->as<float>(), db.cpu->as<float>());
  expect_close(dx, type_, xn, "dx");
  expect_close(dw, DataType::kFloat32, wn, "dw");
  expect_close(db, DataType::kFloat32, 10, "db");
}

INSTANTIATE_TEST_SUITE_P(FormatsTypes, GpuVsCpuTest, all_formats_and_types(),
                         format_and_type_name);

TEST_F(GpuTest, SgdUpdateMatchesCpuBackend) {
  auto cpu = make_cpu_backend();
  const std::vector<ParameterSegment> segments = {{0, 5000, true}, {5000, 300, false}};
  const SgdHyperparameters hyper{.learning_rate = 0.1f, .momentum = 0.9f, .weight_decay = 1e-4f,
                                 .nesterov = true, .gradient_scale = 1.0f / 1024};
  const auto weights = random_values(5300, 51);
  const auto gradients = random_values(5300, 52, -1000.0f, 1000.0f);
  auto w_gpu = to_device(weights, DataType::kFloat32);
  auto g_gpu = to_device(gradients, DataType::kFloat32);
  auto m_gpu = zeros(5300, DataType::kFloat32);
  auto w_cpu = testing::to_device(*cpu, weights, DataType::kFloat32);
  auto g_cpu = testing::to_device(*cpu, gradients, DataType::kFloat32);
  auto m_cpu = cpu->allocate(5300 * sizeof(float));
  for (int step = 0; step < 3; ++step) {
    backend_->sgd_update(segments, w_gpu->as<float>(), g_gpu->as<float>(), m_gpu->as<float>(),
                         hyper);
    cpu->sgd_update(segments, w_cpu->as<float>(), g_cpu->as<float>(), m_cpu->as<float>(), hyper);
  }
  const auto expected = testing::to_host(*cpu, w_cpu->data(), DataType::kFloat32, 5300);
  EXPECT_LE(relative_error(to_host(w_gpu->data(), DataType::kFloat32, 5300),
                           std::vector<double>(expected.begin(), expected.end())),
            1e-6);
}

}  // namespace
}  // namespace kubetrain::testing

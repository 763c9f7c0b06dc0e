#include "worker/backends/cuda/cudnn_pooling.h"

#include <algorithm>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "worker/backends/cuda/cuda_check.h"
#include "worker/backends/cuda/cudnn_descriptors.h"
#include "worker/backends/cuda/device_memory.h"
#include "worker/backends/cuda/first_that_runs.h"
#include "worker/backends/cuda/fp32_staging.h"

namespace kubetrain::cuda {
namespace {

PoolingDescriptor make_descriptor(const PoolingSpec& spec) {
  if (spec.kind == PoolingKind::kGlobalAverage) {
    const int h = static_cast<int>(spec.input.h);
    const int w = static_cast<int>(spec.input.w);
    return pooling_descriptor(CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING, h, w, 0, h, w);
  }
  return pooling_descriptor(CUDNN_POOLING_MAX, spec.kernel, spec.kernel, spec.padding,
                            spec.stride, spec.stride);
}

class CudnnPooling final : public Pooling {
 public:
  // Runs in the spec's type when cuDNN can, else in fp32 on staged copies.
  CudnnPooling(CudaContext& context, const PoolingSpec& spec)
      : context_(context),
        spec_(spec),
        x_count_(spec.input.elements()),
        y_count_(spec.output().elements()),
        pooling_(make_descriptor(spec)) {
    std::vector<bool> staged = {false};
    if (spec.dtype != DataType::kFloat32) staged.push_back(true);
    first_that_runs(
        staged,
        [&](bool stage) {
          staging_.emplace(context, spec.dtype, std::max(x_count_, y_count_), stage);
          x_desc_ = tensor_descriptor(spec.input, spec.format, staging_->compute_type());
          y_desc_ = tensor_descriptor(spec.output(), spec.format, staging_->compute_type());
          try_once();
        },
        [](bool stage) { return std::string(stage ? "fp32 staging" : "native type"); },
        "pooling (" + std::string(to_string(spec.dtype)) + ", " +
            std::string(to_string(spec.format)) + ")");
  }

  // cuDNN's max-pooling backward recomputes the argmax from x and y, so nothing is kept.
  void forward(const void* x, void* y, bool /*training*/) override {
    const float alpha = 1.0f;
    const float beta = 0.0f;
    KUBETRAIN_CUDA_CHECK(cudnnPoolingForward(context_.cudnn(), pooling_.get(), &alpha,
                                             x_desc_.get(), staging_->input(x, x_count_, 0),
                                             &beta, y_desc_.get(), staging_->output(y, 1)));
    staging_->finish_output(y, y_count_, 1);
  }

  void backward(const void* x, const void* y, const void* dy, void* dx) override {
    const float alpha = 1.0f;
    const float beta = 0.0f;
    KUBETRAIN_CUDA_CHECK(cudnnPoolingBackward(
        context_.cudnn(), pooling_.get(), &alpha, y_desc_.get(), staging_->input(y, y_count_, 1),
        y_desc_.get(), staging_->input(dy, y_count_, 2), x_desc_.get(),
        staging_->input(x, x_count_, 0), &beta, x_desc_.get(), staging_->output(dx, 3)));
    staging_->finish_output(dx, x_count_, 3);
  }

 private:
  void try_once() {
    const size_t element = size_of(spec_.dtype);
    DeviceMemory x(x_count_ * element), y(y_count_ * element), dx(x_count_ * element);
    for (DeviceMemory* memory : {&x, &y, &dx}) {
      KUBETRAIN_CUDA_CHECK(cudaMemsetAsync(memory->data(), 0, memory->bytes(), context_.stream()));
    }
    forward(x.data(), y.data(), /*training=*/true);
    backward(x.data(), y.data(), y.data(), dx.data());
    // The scratch tensors are freed on return; errors of the kernels themselves surface here.
    KUBETRAIN_CUDA_CHECK(cudaStreamSynchronize(context_.stream()));
  }

  CudaContext& context_;
  PoolingSpec spec_;
  int64_t x_count_;
  int64_t y_count_;
  PoolingDescriptor pooling_;
  std::optional<Fp32Staging> staging_;
  TensorDescriptor x_desc_;
  TensorDescriptor y_desc_;
};

}  // namespace

std::unique_ptr<Pooling> make_cudnn_pooling(CudaContext& context, const PoolingSpec& spec) {
  const Shape4 out = spec.output();
  const bool max_ok = spec.kind != PoolingKind::kMax ||
                      (spec.kernel > 0 && spec.stride > 0 && spec.padding >= 0 &&
                       spec.padding < spec.kernel && out.h > 0 && out.w > 0);
  if (spec.input.elements() <= 0 || !max_ok) {
    throw std::invalid_argument(
        "pooling: input " + std::to_string(spec.input.h) + "x" + std::to_string(spec.input.w) +
        " with kernel " + std::to_string(spec.kernel) + ", stride " +
        std::to_string(spec.stride) + ", padding " + std::to_string(spec.padding) +
        " is not valid (positive sizes, 0 <= padding < kernel)");
  }
  return std::make_unique<CudnnPooling>(context, spec);
}

}  // namespace kubetrain::cuda

#include "worker/backends/cuda/cudnn_pooling.h"

#include <stdexcept>
#include <string>

#include "worker/backends/cuda/cuda_check.h"
#include "worker/backends/cuda/cudnn_descriptors.h"

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
  CudnnPooling(CudaContext& context, const PoolingSpec& spec)
      : context_(context),
        pooling_(make_descriptor(spec)),
        x_desc_(tensor_descriptor(spec.input, spec.format, spec.dtype)),
        y_desc_(tensor_descriptor(spec.output(), spec.format, spec.dtype)) {}

  // cuDNN's max-pooling backward recomputes the argmax from x and y, so nothing is kept.
  void forward(const void* x, void* y, bool /*training*/) override {
    const float alpha = 1.0f;
    const float beta = 0.0f;
    KUBETRAIN_CUDA_CHECK(cudnnPoolingForward(context_.cudnn(), pooling_.get(), &alpha,
                                             x_desc_.get(), x, &beta, y_desc_.get(), y));
  }

  void backward(const void* x, const void* y, const void* dy, void* dx) override {
    const float alpha = 1.0f;
    const float beta = 0.0f;
    KUBETRAIN_CUDA_CHECK(cudnnPoolingBackward(context_.cudnn(), pooling_.get(), &alpha,
                                              y_desc_.get(), y, y_desc_.get(), dy, x_desc_.get(),
                                              x, &beta, x_desc_.get(), dx));
  }

 private:
  CudaContext& context_;
  PoolingDescriptor pooling_;
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

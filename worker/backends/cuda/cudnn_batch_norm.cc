#include "worker/backends/cuda/cudnn_batch_norm.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "worker/backends/cuda/cuda_check.h"
#include "worker/backends/cuda/cudnn_descriptors.h"
#include "worker/backends/cuda/device_memory.h"
#include "worker/backends/cuda/elementwise_kernels.h"

namespace kubetrain::cuda {
namespace {

// cuDNN documents the fused BN + add + ReLU kernels for NHWC half tensors with C % 4 == 0.
bool cudnn_fuses(const BatchNormSpec& spec) {
  return (spec.relu || spec.add_residual) && spec.format == MemoryFormat::kChannelsLast &&
         spec.dtype == DataType::kFloat16 && spec.shape.c % 4 == 0;
}

cudnnBatchNormOps_t fused_ops(const BatchNormSpec& spec) {
  if (!cudnn_fuses(spec)) return CUDNN_BATCHNORM_OPS_BN;
  return spec.add_residual ? CUDNN_BATCHNORM_OPS_BN_ADD_ACTIVATION
                           : CUDNN_BATCHNORM_OPS_BN_ACTIVATION;
}

class CudnnBatchNorm final : public BatchNorm {
 public:
  CudnnBatchNorm(CudaContext& context, const BatchNormSpec& spec)
      : context_(context),
        spec_(spec),
        // The persistent kernels are cuDNN's fast path for NHWC (as PyTorch uses them).
        mode_(spec.format == MemoryFormat::kChannelsLast ? CUDNN_BATCHNORM_SPATIAL_PERSISTENT
                                                          : CUDNN_BATCHNORM_SPATIAL),
        ops_(fused_ops(spec)),
        x_desc_(spec.shape, spec.format, spec.dtype) {
    KUBETRAIN_CUDA_CHECK(cudnnDeriveBNTensorDescriptor(param_desc_.get(), x_desc_.get(), mode_));
    cudnnActivationDescriptor_t activation = activation_desc();
    cudnnTensorDescriptor_t z = residual_desc();
    size_t forward_bytes = 0;
    size_t backward_bytes = 0;
    size_t reserve_bytes = 0;
    KUBETRAIN_CUDA_CHECK(cudnnGetBatchNormalizationForwardTrainingExWorkspaceSize(
        context.cudnn(), mode_, ops_, x_desc_.get(), z, x_desc_.get(), param_desc_.get(),
        activation, &forward_bytes));
    KUBETRAIN_CUDA_CHECK(cudnnGetBatchNormalizationBackwardExWorkspaceSize(
        context.cudnn(), mode_, ops_, x_desc_.get(), x_desc_.get(), x_desc_.get(), z,
        x_desc_.get(), param_desc_.get(), activation, &backward_bytes));
    KUBETRAIN_CUDA_CHECK(cudnnGetBatchNormalizationTrainingExReserveSpaceSize(
        context.cudnn(), mode_, ops_, activation, x_desc_.get(), &reserve_bytes));
    forward_workspace_ = forward_bytes;
    backward_workspace_ = backward_bytes;
    context.reserve_workspace(std::max(forward_bytes, backward_bytes));
    reserve_ = DeviceMemory(reserve_bytes);
  }

  void forward_training(const void* x, const void* residual, void* y,
                        const BatchNormTensors& t) override {
    const float alpha = 1.0f;
    const float beta = 0.0f;
    const bool fused_add = ops_ == CUDNN_BATCHNORM_OPS_BN_ADD_ACTIVATION;
    KUBETRAIN_CUDA_CHECK(cudnnBatchNormalizationForwardTrainingEx(
        context_.cudnn(), mode_, ops_, &alpha, &beta, x_desc_.get(), x, residual_desc(),
        fused_add ? residual : nullptr, x_desc_.get(), y, param_desc_.get(), t.scale, t.bias,
        // cuDNN: running = (1 - factor) * running + factor * batch, with the unbiased batch
        // variance, which is exactly PyTorch's momentum convention.
        static_cast<double>(spec_.momentum), t.running_mean, t.running_var,
        static_cast<double>(spec_.epsilon), t.saved_mean, t.saved_inv_std, activation_desc(),
        context_.workspace(), forward_workspace_, reserve_.data(), reserve_.bytes()));
    if (ops_ == CUDNN_BATCHNORM_OPS_BN) finish_forward(residual, y);
  }

  void forward_inference(const void* x, const void* residual, void* y,
                         const BatchNormTensors& t) override {
    const float alpha = 1.0f;
    const float beta = 0.0f;
    // Inference has no fused variant; the persistent mode is a training-only choice.
    KUBETRAIN_CUDA_CHECK(cudnnBatchNormalizationForwardInference(
        context_.cudnn(), CUDNN_BATCHNORM_SPATIAL, &alpha, &beta, x_desc_.get(), x,
        x_desc_.get(), y, param_desc_.get(), t.scale, t.bias, t.running_mean, t.running_var,
        static_cast<double>(spec_.epsilon)));
    finish_forward(residual, y);
  }

  void backward(const void* x, const void* y, void* dy, void* dx, void* d_residual,
                const BatchNormTensors& t, float* d_scale, float* d_bias) override {
    const int64_t count = spec_.shape.elements();
    const bool fused_add = ops_ == CUDNN_BATCHNORM_OPS_BN_ADD_ACTIVATION;
    if (ops_ == CUDNN_BATCHNORM_OPS_BN) {
      // Undo what our kernels did after the normalisation: the ReLU masks dy in place (allowed
      // by the contract), and the residual's gradient is that masked dy.
      if (spec_.relu) launch_relu_backward(spec_.dtype, y, dy, count, context_.stream());
      if (spec_.add_residual) {
        KUBETRAIN_CUDA_CHECK(cudaMemcpyAsync(d_residual, dy, count * size_of(spec_.dtype),
                                             cudaMemcpyDeviceToDevice, context_.stream()));
      }
    }
    const float one = 1.0f;
    const float zero = 0.0f;
    KUBETRAIN_CUDA_CHECK(cudnnBatchNormalizationBackwardEx(
        context_.cudnn(), mode_, ops_, &one, &zero, &one, &zero, x_desc_.get(), x,
        // y feeds only the fused activation's backward.
        ops_ == CUDNN_BATCHNORM_OPS_BN ? nullptr : x_desc_.get(),
        ops_ == CUDNN_BATCHNORM_OPS_BN ? nullptr : y, x_desc_.get(), dy,
        residual_desc(), fused_add ? d_residual : nullptr, x_desc_.get(), dx,
        param_desc_.get(), t.scale, t.bias, d_scale, d_bias, static_cast<double>(spec_.epsilon),
        t.saved_mean, t.saved_inv_std, activation_desc(), context_.workspace(),
        backward_workspace_, reserve_.data(), reserve_.bytes()));
  }

 private:
  // The residual add and ReLU that cuDNN did not fuse.
  void finish_forward(const void* residual, void* y) {
    launch_add_relu(spec_.dtype, spec_.add_residual ? residual : nullptr, spec_.relu, y,
                    spec_.shape.elements(), context_.stream());
  }

  cudnnActivationDescriptor_t activation_desc() const {
    return ops_ == CUDNN_BATCHNORM_OPS_BN ? nullptr : relu_.get();
  }
  cudnnTensorDescriptor_t residual_desc() const {
    return ops_ == CUDNN_BATCHNORM_OPS_BN_ADD_ACTIVATION ? x_desc_.get() : nullptr;
  }

  CudaContext& context_;
  BatchNormSpec spec_;
  cudnnBatchNormMode_t mode_;
  cudnnBatchNormOps_t ops_;
  TensorDescriptor x_desc_;
  TensorDescriptor param_desc_;
  ReluDescriptor relu_;
  size_t forward_workspace_ = 0;
  size_t backward_workspace_ = 0;
  DeviceMemory reserve_;
};

}  // namespace

std::unique_ptr<BatchNorm> make_cudnn_batch_norm(CudaContext& context, const BatchNormSpec& spec) {
  if (spec.shape.elements() <= 0) {
    throw std::invalid_argument("batch norm: shape must have positive dimensions");
  }
  if (spec.epsilon < CUDNN_BN_MIN_EPSILON) {
    throw std::invalid_argument("batch norm: epsilon " + std::to_string(spec.epsilon) +
                                " is below cuDNN's minimum " +
                                std::to_string(CUDNN_BN_MIN_EPSILON));
  }
  if (spec.momentum < 0.0f || spec.momentum > 1.0f) {
    throw std::invalid_argument("batch norm: momentum " + std::to_string(spec.momentum) +
                                " must be in [0, 1]");
  }
  return std::make_unique<CudnnBatchNorm>(context, spec);
}

}  // namespace kubetrain::cuda

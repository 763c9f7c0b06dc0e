#include "worker/backends/cuda/cudnn_batch_norm.h"

#include <algorithm>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "worker/backends/cuda/cuda_check.h"
#include "worker/backends/cuda/cudnn_descriptors.h"
#include "worker/backends/cuda/device_memory.h"
#include "worker/backends/cuda/elementwise_kernels.h"
#include "worker/backends/cuda/first_that_runs.h"
#include "worker/backends/cuda/fp32_staging.h"

namespace kubetrain::cuda {
namespace {

// One way of running the layer: cuDNN's operation set, its batch-norm mode and the data type
// cuDNN computes on (the spec's type, or fp32 through the context's staging tensors).
struct Variant {
  cudnnBatchNormOps_t ops;
  cudnnBatchNormMode_t mode;
  DataType compute;
};

std::vector<Variant> candidates(const BatchNormSpec& spec) {
  std::vector<std::pair<cudnnBatchNormOps_t, DataType>> ways;
  // cuDNN documents its fused BN + add + ReLU kernels for NHWC half tensors with C % 4 == 0.
  // Both fused operation sets end in the activation, so a residual add without a ReLU cannot
  // use them: BN_ADD_ACTIVATION would clamp the sum at zero.
  if (spec.relu && spec.format == MemoryFormat::kChannelsLast &&
      spec.dtype == DataType::kFloat16 && spec.shape.c % 4 == 0) {
    ways.emplace_back(spec.add_residual ? CUDNN_BATCHNORM_OPS_BN_ADD_ACTIVATION
                                        : CUDNN_BATCHNORM_OPS_BN_ACTIVATION,
                      spec.dtype);
  }
  ways.emplace_back(CUDNN_BATCHNORM_OPS_BN, spec.dtype);
  if (spec.dtype != DataType::kFloat32) {
    ways.emplace_back(CUDNN_BATCHNORM_OPS_BN, DataType::kFloat32);
  }

  std::vector<Variant> variants;
  for (const auto& [ops, compute] : ways) {
    // The persistent kernels are cuDNN's fast path for NHWC (PyTorch uses them there), but they
    // keep a channel's partial sums on chip and are not offered for every shape and type: each
    // way is tried persistent first, then with the plain spatial kernels.
    if (spec.format == MemoryFormat::kChannelsLast) {
      variants.push_back({ops, CUDNN_BATCHNORM_SPATIAL_PERSISTENT, compute});
    }
    variants.push_back({ops, CUDNN_BATCHNORM_SPATIAL, compute});
  }
  return variants;
}

std::string describe(const Variant& variant) {
  const char* ops = variant.ops == CUDNN_BATCHNORM_OPS_BN_ADD_ACTIVATION ? "BN+add+ReLU"
                    : variant.ops == CUDNN_BATCHNORM_OPS_BN_ACTIVATION   ? "BN+ReLU"
                                                                         : "BN";
  const char* mode = variant.mode == CUDNN_BATCHNORM_SPATIAL_PERSISTENT ? ", persistent" : "";
  return std::string(ops) + " in " + std::string(to_string(variant.compute)) + mode;
}

// Descriptors, workspace sizes and reserve space for one variant.
class Plan {
 public:
  Plan(CudaContext& context, const BatchNormSpec& spec, Variant variant)
      : variant_(variant),
        x_desc_(tensor_descriptor(spec.shape, spec.format, variant.compute)),
        // Our scale, bias and statistics are fp32 [1, C, 1, 1], whatever the data's type, and
        // cuDNN is told so. cudnnDeriveBNTensorDescriptor gives exactly that for fp32 and fp16
        // data but keeps bf16 data's own type ("for other data types, the same type as the
        // input"), which would have cuDNN read and write our fp32 tensors as bf16. Where cuDNN
        // does not take fp32 parameters with bf16 data, the trial run refuses the variant and the
        // layer runs on fp32 staging copies instead.
        param_desc_(tensor_descriptor({1, spec.shape.c, 1, 1}, MemoryFormat::kChannelsFirst,
                                      DataType::kFloat32)),
        relu_(relu_descriptor()),
        staging_(context, spec.dtype, spec.shape.elements(), variant.compute != spec.dtype) {
    size_t forward_bytes = 0;
    size_t backward_bytes = 0;
    size_t reserve_bytes = 0;
    KUBETRAIN_CUDA_CHECK(cudnnGetBatchNormalizationForwardTrainingExWorkspaceSize(
        context.cudnn(), variant.mode, variant.ops, x_desc_.get(), residual_desc(), x_desc_.get(),
        param_desc_.get(), activation_desc(), &forward_bytes));
    // The size query gets y's descriptor even unfused, as PyTorch, TensorFlow and Paddle pass it
    // (y has x's shape): cuDNN documents it as optional only for the backward call itself.
    KUBETRAIN_CUDA_CHECK(cudnnGetBatchNormalizationBackwardExWorkspaceSize(
        context.cudnn(), variant.mode, variant.ops, x_desc_.get(), x_desc_.get(), x_desc_.get(),
        residual_desc(), x_desc_.get(), param_desc_.get(), activation_desc(), &backward_bytes));
    KUBETRAIN_CUDA_CHECK(cudnnGetBatchNormalizationTrainingExReserveSpaceSize(
        context.cudnn(), variant.mode, variant.ops, activation_desc(), x_desc_.get(),
        &reserve_bytes));
    forward_workspace = forward_bytes;
    backward_workspace = backward_bytes;
    context.reserve_workspace(std::max(forward_bytes, backward_bytes));
    reserve = DeviceMemory(reserve_bytes);
  }

  const Variant& variant() const { return variant_; }
  cudnnBatchNormMode_t mode() const { return variant_.mode; }
  Fp32Staging& staging() { return staging_; }
  cudnnTensorDescriptor_t x_desc() const { return x_desc_.get(); }
  cudnnTensorDescriptor_t param_desc() const { return param_desc_.get(); }
  bool fused_add() const { return variant_.ops == CUDNN_BATCHNORM_OPS_BN_ADD_ACTIVATION; }
  bool fused() const { return variant_.ops != CUDNN_BATCHNORM_OPS_BN; }
  cudnnActivationDescriptor_t activation_desc() const { return fused() ? relu_.get() : nullptr; }
  cudnnTensorDescriptor_t residual_desc() const { return fused_add() ? x_desc_.get() : nullptr; }
  // y feeds only the fused activation's backward.
  cudnnTensorDescriptor_t output_desc_for_backward() const {
    return fused() ? x_desc_.get() : nullptr;
  }

  size_t forward_workspace = 0;
  size_t backward_workspace = 0;
  DeviceMemory reserve;

 private:
  Variant variant_;
  TensorDescriptor x_desc_;
  TensorDescriptor param_desc_;
  ActivationDescriptor relu_;
  Fp32Staging staging_;
};

class CudnnBatchNorm final : public BatchNorm {
 public:
  CudnnBatchNorm(CudaContext& context, const BatchNormSpec& spec)
      : context_(context), spec_(spec) {
    // plan_ ends up holding the variant that ran.
    first_that_runs(
        candidates(spec),
        [&](const Variant& variant) {
          plan_.emplace(context, spec, variant);
          try_once();
        },
        describe,
        "batch norm (C=" + std::to_string(spec.shape.c) + ", " +
            std::string(to_string(spec.dtype)) + ", " + std::string(to_string(spec.format)) +
            ")");
  }

  void forward_training(const void* x, const void* residual, void* y,
                        const BatchNormTensors& t) override {
    normalize(x, residual, y, plan_->fused(), [&](const void* x_compute, void* y_compute) {
      const float alpha = 1.0f;
      const float beta = 0.0f;
      KUBETRAIN_CUDA_CHECK(cudnnBatchNormalizationForwardTrainingEx(
          context_.cudnn(), plan_->mode(), plan_->variant().ops, &alpha, &beta, plan_->x_desc(),
          x_compute, plan_->residual_desc(), plan_->fused_add() ? residual : nullptr,
          plan_->x_desc(), y_compute, plan_->param_desc(), t.scale, t.bias,
          // cuDNN: running = (1 - factor) * running + factor * batch, with the unbiased batch
          // variance, which is exactly PyTorch's momentum convention.
          static_cast<double>(spec_.momentum), t.running_mean, t.running_var,
          static_cast<double>(spec_.epsilon), t.saved_mean, t.saved_inv_std,
          plan_->activation_desc(), context_.workspace(), plan_->forward_workspace,
          plan_->reserve.data(), plan_->reserve.bytes()));
    });
  }

  void forward_inference(const void* x, const void* residual, void* y,
                         const BatchNormTensors& t) override {
    // Inference has no fused variant; the persistent mode is a training-only choice.
    normalize(x, residual, y, /*fused=*/false, [&](const void* x_compute, void* y_compute) {
      const float alpha = 1.0f;
      const float beta = 0.0f;
      KUBETRAIN_CUDA_CHECK(cudnnBatchNormalizationForwardInference(
          context_.cudnn(), CUDNN_BATCHNORM_SPATIAL, &alpha, &beta, plan_->x_desc(), x_compute,
          plan_->x_desc(), y_compute, plan_->param_desc(), t.scale, t.bias, t.running_mean,
          t.running_var, static_cast<double>(spec_.epsilon)));
    });
  }

  void backward(const void* x, const void* y, void* dy, void* dx, void* d_residual,
                const BatchNormTensors& t, float* d_scale, float* d_bias) override {
    const int64_t count = spec_.shape.elements();
    if (!plan_->fused()) {
      // Undo what our kernel did after the normalisation: the ReLU masks dy in place (the
      // contract allows it), and the residual's gradient is that masked dy.
      if (spec_.relu) launch_relu_backward(spec_.dtype, y, dy, count, context_.stream());
      if (spec_.add_residual) {
        KUBETRAIN_CUDA_CHECK(cudaMemcpyAsync(d_residual, dy, count * size_of(spec_.dtype),
                                             cudaMemcpyDeviceToDevice, context_.stream()));
      }
    }
    Fp32Staging& staging = plan_->staging();
    const void* x_compute = staging.input(x, count, 0);
    const void* dy_compute = staging.input(dy, count, 1);
    void* dx_compute = staging.output(dx, 2);
    const float one = 1.0f;
    const float zero = 0.0f;
    KUBETRAIN_CUDA_CHECK(cudnnBatchNormalizationBackwardEx(
        context_.cudnn(), plan_->mode(), plan_->variant().ops, &one, &zero, &one, &zero,
        plan_->x_desc(), x_compute, plan_->output_desc_for_backward(),
        plan_->fused() ? y : nullptr, plan_->x_desc(), dy_compute, plan_->residual_desc(),
        plan_->fused_add() ? d_residual : nullptr, plan_->x_desc(), dx_compute,
        plan_->param_desc(), t.scale, t.bias, d_scale, d_bias,
        static_cast<double>(spec_.epsilon), t.saved_mean, t.saved_inv_std,
        plan_->activation_desc(), context_.workspace(), plan_->backward_workspace,
        plan_->reserve.data(), plan_->reserve.bytes()));
    staging.finish_output(dx, count, 2);
  }

 private:
  // Runs cuDNN's normalisation (on staged fp32 copies when the plan says so), then the residual
  // add and ReLU that cuDNN did not fuse.
  template <typename CudnnCall>
  void normalize(const void* x, const void* residual, void* y, bool fused, CudnnCall call) {
    const int64_t count = spec_.shape.elements();
    Fp32Staging& staging = plan_->staging();
    call(staging.input(x, count, 0), staging.output(y, 1));
    staging.finish_output(y, count, 1);
    if (fused) return;
    launch_add_relu(spec_.dtype, spec_.add_residual ? residual : nullptr, spec_.relu, y, count,
                    context_.stream());
  }

  // Runs every entry point once on scratch tensors.
  void try_once() {
    const size_t bytes = static_cast<size_t>(spec_.shape.elements()) * size_of(spec_.dtype);
    DeviceMemory x(bytes), y(bytes), dx(bytes), d_residual(bytes);
    DeviceMemory parameters(8 * static_cast<size_t>(spec_.shape.c) * sizeof(float));
    for (DeviceMemory* memory : {&x, &y, &dx, &d_residual, &parameters}) {
      KUBETRAIN_CUDA_CHECK(cudaMemsetAsync(memory->data(), 0, memory->bytes(), context_.stream()));
    }
    float* p = parameters.as<float>();
    const int64_t c = spec_.shape.c;
    const BatchNormTensors t{p, p + c, p + 2 * c, p + 3 * c, p + 4 * c, p + 5 * c};
    const void* residual = spec_.add_residual ? x.data() : nullptr;
    forward_inference(x.data(), residual, y.data(), t);
    forward_training(x.data(), residual, y.data(), t);
    backward(x.data(), y.data(), y.data(), dx.data(),
             spec_.add_residual ? d_residual.data() : nullptr, t, p + 6 * c, p + 7 * c);
    // The scratch tensors are freed on return; errors of the kernels themselves surface here.
    KUBETRAIN_CUDA_CHECK(cudaStreamSynchronize(context_.stream()));
  }

  CudaContext& context_;
  BatchNormSpec spec_;
  std::optional<Plan> plan_;
};

}  // namespace

std::unique_ptr<BatchNorm> make_cudnn_batch_norm(CudaContext& context, const BatchNormSpec& spec) {
  if (spec.shape.n <= 0 || spec.shape.c <= 0 || spec.shape.h <= 0 || spec.shape.w <= 0 ||
      spec.shape.n * spec.shape.h * spec.shape.w < 2) {
    throw std::invalid_argument(
        "batch norm: shape must have positive dimensions and more than one value per channel "
        "(the running variance is unbiased)");
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

#include "worker/backends/cpu/cpu_batch_norm.h"

#include <cmath>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>

#include "worker/backends/cpu/fp32_only.h"
#include "worker/backends/cpu/host_buffer.h"

namespace kubetrain {
namespace {

using dnnl::memory;
using dnnl::normalization_flags;
using dnnl::prop_kind;

void validate(const BatchNormSpec& spec) {
  require_fp32(spec.dtype, "batch norm");
  const auto& s = spec.shape;
  if (s.n < 1 || s.c < 1 || s.h < 1 || s.w < 1) {
    throw std::invalid_argument("batch norm: every dimension of shape must be >= 1, got " +
                                std::to_string(s.n) + "x" + std::to_string(s.c) + "x" +
                                std::to_string(s.h) + "x" + std::to_string(s.w));
  }
  if (!(spec.epsilon > 0)) throw std::invalid_argument("batch norm: epsilon must be > 0");
  if (!(spec.momentum >= 0 && spec.momentum <= 1)) {
    throw std::invalid_argument("batch norm: momentum must be in [0, 1], got " +
                                std::to_string(spec.momentum));
  }
}

// oneDNN fuses the ReLU into batch norm only when nothing comes between them; with a residual the
// add and the ReLU run as one binary primitive with a ReLU post-op, and the backward masks dy by
// y > 0 with an eltwise primitive.
class CpuBatchNorm final : public BatchNorm {
 public:
  CpuBatchNorm(DnnlContext& context, const BatchNormSpec& spec)
      : context_(context),
        spec_(spec),
        fused_relu_(spec.relu && !spec.add_residual),
        variance_(static_cast<size_t>(spec.shape.c) * sizeof(float)) {
    const memory::desc data = activation_desc(spec.shape, spec.format);
    const memory::desc channel = vector_desc(spec.shape.c);
    const auto flags =
        normalization_flags::use_scale | normalization_flags::use_shift |
        (fused_relu_ ? normalization_flags::fuse_norm_relu : normalization_flags::none);
    const dnnl::engine& engine = context.engine();

    dnnl::batch_normalization_forward::primitive_desc training(
        {prop_kind::forward_training, data, spec.epsilon, flags}, engine);
    training_ = dnnl::batch_normalization_forward(training);
    inference_ =
        dnnl::batch_normalization_forward(dnnl::batch_normalization_forward::primitive_desc(
            {prop_kind::forward_inference, data, spec.epsilon,
             flags | normalization_flags::use_global_stats},
            engine));
    backward_ =
        dnnl::batch_normalization_backward(dnnl::batch_normalization_backward::primitive_desc(
            {prop_kind::backward, data, data, spec.epsilon, flags}, engine, training));
    if (fused_relu_) {
      relu_mask_.emplace(training.workspace_desc().get_size());
      workspace_ = memory(training.workspace_desc(), engine, relu_mask_->data());
    }

    if (spec.add_residual) {
      dnnl::post_ops relu;
      if (spec.relu) relu.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
      dnnl::primitive_attr attributes;
      attributes.set_post_ops(relu);
      add_ = dnnl::binary(dnnl::binary::primitive_desc(
          {dnnl::algorithm::binary_add, data, data, data}, attributes, engine));
      if (spec.relu) {
        const auto algorithm = dnnl::algorithm::eltwise_relu_use_dst_for_bwd;
        dnnl::eltwise_forward::primitive_desc hint(
            {prop_kind::forward_training, algorithm, data, 0.0f, 0.0f}, engine);
        relu_backward_ = dnnl::eltwise_backward(dnnl::eltwise_backward::primitive_desc(
            {algorithm, data, data, 0.0f, 0.0f}, engine, hint));
      }
    }
    // One handle per role: a call binds several tensors of the same shape at once.
    for (memory* handle : {&x_, &y_, &dy_, &dx_, &residual_, &d_residual_}) {
      *handle = context.unbound(data);
    }
    for (memory* handle : {&scale_, &shift_, &mean_, &running_var_, &d_scale_, &d_shift_}) {
      *handle = context.unbound(channel);
    }
    variance_memory_ = memory(channel, engine, variance_.data());
  }

  void forward_training(const void* x, const void* residual, void* y,
                        const BatchNormTensors& t) override {
    const int64_t count = spec_.shape.n * spec_.shape.h * spec_.shape.w;
    if (count < 2) {
      throw std::invalid_argument(
          "batch norm training needs more than one value per channel (N*H*W = 1)");
    }
    auto args = parameter_args(t);
    args.insert({{DNNL_ARG_SRC, bind(x_, x)},
                 {DNNL_ARG_DST, bind(y_, y)},
                 {DNNL_ARG_MEAN, bind(mean_, t.saved_mean)},
                 {DNNL_ARG_VARIANCE, variance_memory_}});
    if (fused_relu_) args.insert({DNNL_ARG_WORKSPACE, workspace_});
    training_.execute(context_.stream(), args);
    add_residual(residual, y);

    // oneDNN reports the biased batch variance; PyTorch's running variance takes the unbiased one.
    const float* variance = variance_.as<float>();
    const float momentum = spec_.momentum;
    const float unbias = static_cast<float>(count) / static_cast<float>(count - 1);
    for (int64_t c = 0; c < spec_.shape.c; ++c) {
      t.saved_inv_std[c] = 1.0f / std::sqrt(variance[c] + spec_.epsilon);
      t.running_mean[c] = (1 - momentum) * t.running_mean[c] + momentum * t.saved_mean[c];
      t.running_var[c] = (1 - momentum) * t.running_var[c] + momentum * unbias * variance[c];
    }
  }

  void forward_inference(const void* x, const void* residual, void* y,
                         const BatchNormTensors& t) override {
    auto args = parameter_args(t);
    args.insert({{DNNL_ARG_SRC, bind(x_, x)},
                 {DNNL_ARG_DST, bind(y_, y)},
                 {DNNL_ARG_MEAN, bind(mean_, t.running_mean)},
                 {DNNL_ARG_VARIANCE, bind(running_var_, t.running_var)}});
    inference_.execute(context_.stream(), args);
    add_residual(residual, y);
  }

  void backward(const void* x, const void* y, void* dy, void* dx, void* d_residual,
                const BatchNormTensors& t, float* d_scale, float* d_bias) override {
    // oneDNN's backward takes the variance; the interface saves 1/sqrt(var + eps).
    float* variance = variance_.as<float>();
    for (int64_t c = 0; c < spec_.shape.c; ++c) {
      variance[c] = 1.0f / (t.saved_inv_std[c] * t.saved_inv_std[c]) - spec_.epsilon;
    }
    const void* gradient = dy;
    if (spec_.add_residual) {
      // The residual branch receives the ReLU-masked dy, which is also batch norm's output
      // gradient, so it is computed once into d_residual.
      if (spec_.relu) {
        relu_backward_.execute(context_.stream(),
                               {{DNNL_ARG_DIFF_DST, bind(dy_, dy)},
                                {DNNL_ARG_DST, bind(y_, y)},
                                {DNNL_ARG_DIFF_SRC, bind(d_residual_, d_residual)}});
      } else {
        std::memcpy(d_residual, dy, x_.get_desc().get_size());
      }
      gradient = d_residual;
    }
    // oneDNN 2.6 wants the shift with use_shift even though its gradient does not depend on it.
    auto args = parameter_args(t);
    args.insert({{DNNL_ARG_SRC, bind(x_, x)},
                 {DNNL_ARG_DIFF_DST, bind(dy_, gradient)},
                 {DNNL_ARG_MEAN, bind(mean_, t.saved_mean)},
                 {DNNL_ARG_VARIANCE, variance_memory_},
                 {DNNL_ARG_DIFF_SRC, bind(dx_, dx)},
                 {DNNL_ARG_DIFF_SCALE, bind(d_scale_, d_scale)},
                 {DNNL_ARG_DIFF_SHIFT, bind(d_shift_, d_bias)}});
    if (fused_relu_) args.insert({DNNL_ARG_WORKSPACE, workspace_});
    backward_.execute(context_.stream(), args);
  }

 private:
  std::unordered_map<int, memory> parameter_args(const BatchNormTensors& t) {
    return {{DNNL_ARG_SCALE, bind(scale_, t.scale)}, {DNNL_ARG_SHIFT, bind(shift_, t.bias)}};
  }

  // y = [relu](y + residual), in place.
  void add_residual(const void* residual, void* y) {
    if (!spec_.add_residual) return;
    add_.execute(context_.stream(), {{DNNL_ARG_SRC_0, bind(y_, y)},
                                     {DNNL_ARG_SRC_1, bind(residual_, residual)},
                                     {DNNL_ARG_DST, y_}});
  }

  DnnlContext& context_;
  BatchNormSpec spec_;
  bool fused_relu_;
  dnnl::batch_normalization_forward training_, inference_;
  dnnl::batch_normalization_backward backward_;
  dnnl::binary add_;
  dnnl::eltwise_backward relu_backward_;
  memory x_, y_, dy_, dx_, residual_, d_residual_;
  memory scale_, shift_, mean_, running_var_, variance_memory_, d_scale_, d_shift_, workspace_;
  HostBuffer variance_;                  // batch variance of the last call, C floats
  std::optional<HostBuffer> relu_mask_;  // fused ReLU's mask from the last training forward
};

}  // namespace

std::unique_ptr<BatchNorm> make_cpu_batch_norm(DnnlContext& context, const BatchNormSpec& spec) {
  validate(spec);
  return std::make_unique<CpuBatchNorm>(context, spec);
}

}  // namespace kubetrain

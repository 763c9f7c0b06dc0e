#include "worker/backends/cpu/cpu_pooling.h"

#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>

#include "worker/backends/cpu/fp32_only.h"
#include "worker/backends/cpu/host_buffer.h"

namespace kubetrain {
namespace {

using dnnl::memory;

void validate(const PoolingSpec& spec) {
  require_fp32(spec.dtype, "pooling");
  const auto& in = spec.input;
  if (in.n < 1 || in.c < 1 || in.h < 1 || in.w < 1) {
    throw std::invalid_argument("pooling: every input dimension must be >= 1");
  }
  if (spec.kind == PoolingKind::kGlobalAverage) return;
  if (spec.kernel < 1 || spec.stride < 1 || spec.padding < 0 || spec.padding >= spec.kernel) {
    throw std::invalid_argument(
        "max pooling: need kernel >= 1, stride >= 1 and padding in [0, "
        "kernel), got kernel " +
        std::to_string(spec.kernel) + ", stride " + std::to_string(spec.stride) + ", padding " +
        std::to_string(spec.padding));
  }
  const Shape4 out = spec.output();
  if (out.h < 1 || out.w < 1) {
    throw std::invalid_argument("max pooling: kernel " + std::to_string(spec.kernel) +
                                " is larger than the padded " + std::to_string(in.h) + "x" +
                                std::to_string(in.w) + " input");
  }
}

// Max pooling keeps the argmax workspace of its last training forward for the backward pass;
// global average pooling is an average over the whole H x W window.
class CpuPooling final : public Pooling {
 public:
  CpuPooling(DnnlContext& context, const PoolingSpec& spec) : context_(context) {
    const memory::desc src = activation_desc(spec.input, spec.format);
    const memory::desc dst = activation_desc(spec.output(), spec.format);
    const bool global = spec.kind == PoolingKind::kGlobalAverage;
    const auto algorithm =
        global ? dnnl::algorithm::pooling_avg_exclude_padding : dnnl::algorithm::pooling_max;
    const memory::dims kernel =
        global ? memory::dims{spec.input.h, spec.input.w} : memory::dims{spec.kernel, spec.kernel};
    const memory::dims strides =
        global ? memory::dims{1, 1} : memory::dims{spec.stride, spec.stride};
    const memory::dims padding =
        global ? memory::dims{0, 0} : memory::dims{spec.padding, spec.padding};
    const dnnl::engine& engine = context.engine();

    dnnl::pooling_forward::primitive_desc training(
        {dnnl::prop_kind::forward_training, algorithm, src, dst, strides, kernel, padding, padding},
        engine);
    training_ = dnnl::pooling_forward(training);
    inference_ = dnnl::pooling_forward(
        dnnl::pooling_forward::primitive_desc({dnnl::prop_kind::forward_inference, algorithm, src,
                                               dst, strides, kernel, padding, padding},
                                              engine));
    backward_ = dnnl::pooling_backward(dnnl::pooling_backward::primitive_desc(
        {algorithm, src, dst, strides, kernel, padding, padding}, engine, training));
    if (training.workspace_desc().get_size() > 0) {
      workspace_buffer_.emplace(training.workspace_desc().get_size());
      workspace_ = memory(training.workspace_desc(), engine, workspace_buffer_->data());
    }
    x_ = context.unbound(src);
    dx_ = context.unbound(src);
    y_ = context.unbound(dst);
    dy_ = context.unbound(dst);
  }

  void forward(const void* x, void* y, bool training) override {
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, bind(x_, x)}, {DNNL_ARG_DST, bind(y_, y)}};
    if (!training) {
      inference_.execute(context_.stream(), args);
      return;
    }
    if (workspace_buffer_) args.insert({DNNL_ARG_WORKSPACE, workspace_});
    training_.execute(context_.stream(), args);
  }

  void backward(const void* /*x*/, const void* /*y*/, const void* dy, void* dx) override {
    std::unordered_map<int, memory> args{{DNNL_ARG_DIFF_DST, bind(dy_, dy)},
                                         {DNNL_ARG_DIFF_SRC, bind(dx_, dx)}};
    if (workspace_buffer_) args.insert({DNNL_ARG_WORKSPACE, workspace_});
    backward_.execute(context_.stream(), args);
  }

 private:
  DnnlContext& context_;
  dnnl::pooling_forward training_, inference_;
  dnnl::pooling_backward backward_;
  memory x_, y_, dx_, dy_, workspace_;
  std::optional<HostBuffer> workspace_buffer_;
};

}  // namespace

std::unique_ptr<Pooling> make_cpu_pooling(DnnlContext& context, const PoolingSpec& spec) {
  validate(spec);
  return std::make_unique<CpuPooling>(context, spec);
}

}  // namespace kubetrain

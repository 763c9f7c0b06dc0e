#include "worker/backends/cpu/cpu_convolution.h"

#include <stdexcept>
#include <string>

#include "worker/backends/cpu/fp32_only.h"
#include "worker/backends/cpu/layout_bridge.h"

namespace kubetrain {
namespace {

using dnnl::memory;
using Direction = LayoutBridge::Direction;

void validate(const ConvolutionSpec& spec) {
  require_fp32(spec.dtype, "convolution");
  const auto& in = spec.input;
  auto fail = [&](const std::string& why) {
    throw std::invalid_argument("convolution on input " + std::to_string(in.n) + "x" +
                                std::to_string(in.c) + "x" + std::to_string(in.h) + "x" +
                                std::to_string(in.w) + ": " + why);
  };
  if (in.n < 1 || in.c < 1 || in.h < 1 || in.w < 1) fail("every input dimension must be >= 1");
  if (spec.out_channels < 1) fail("out_channels must be >= 1");
  if (spec.kernel < 1) fail("kernel must be >= 1");
  if (spec.stride < 1) fail("stride must be >= 1");
  if (spec.padding < 0) fail("padding must be >= 0");
  const Shape4 out = spec.output();
  if (out.h < 1 || out.w < 1) {
    fail("kernel " + std::to_string(spec.kernel) + " is larger than the padded input");
  }
}

// Activations as the primitives should see them. NHWC goes straight into oneDNN's jit kernels;
// for NCHW those kernels want a blocked layout (nChw8c) and only an im2col + gemm path reads NCHW
// as is, several times slower, so there the primitive picks and the bridges reorder.
memory::desc activation_request(const Shape4& shape, MemoryFormat format) {
  if (format == MemoryFormat::kChannelsLast) return activation_desc(shape, format);
  return memory::desc(dims_of(shape), memory::data_type::f32, memory::format_tag::any);
}

struct Plans {
  dnnl::convolution_forward::primitive_desc forward;
  dnnl::convolution_backward_data::primitive_desc data;
  dnnl::convolution_backward_weights::primitive_desc weights;
};

// Weights are always `any`: the primitive's blocked weight layout is worth one reorder per call.
Plans plan(const dnnl::engine& engine, const ConvolutionSpec& spec) {
  const memory::desc src = activation_request(spec.input, spec.format);
  const memory::desc dst = activation_request(spec.output(), spec.format);
  const memory::desc weights(dims_of(spec.weight()), memory::data_type::f32,
                             memory::format_tag::any);
  const memory::dims strides{spec.stride, spec.stride};
  const memory::dims padding{spec.padding, spec.padding};
  const auto algorithm = dnnl::algorithm::convolution_direct;

  dnnl::convolution_forward::primitive_desc forward(
      {dnnl::prop_kind::forward_training, algorithm, src, weights, dst, strides, padding, padding},
      engine);
  return {forward,
          {{algorithm, src, weights, dst, strides, padding, padding}, engine, forward},
          {{algorithm, src, weights, dst, strides, padding, padding}, engine, forward}};
}

class CpuConvolution final : public Convolution {
 public:
  CpuConvolution(DnnlContext& context, const ConvolutionSpec& spec)
      : CpuConvolution(context, spec, plan(context.engine(), spec)) {}

  void forward(const void* x, const void* w, void* y) override {
    const auto& dst = y_.target(y);
    forward_.execute(
        context_.stream(),
        {{DNNL_ARG_SRC, x_.read(x)}, {DNNL_ARG_WEIGHTS, w_.read(w)}, {DNNL_ARG_DST, dst}});
    y_.write_back();
  }

  void backward_data(const void* dy, const void* w, void* dx) override {
    const auto& diff_src = dx_.target(dx);
    backward_data_.execute(context_.stream(), {{DNNL_ARG_DIFF_DST, dy_for_data_.read(dy)},
                                               {DNNL_ARG_WEIGHTS, w_for_data_.read(w)},
                                               {DNNL_ARG_DIFF_SRC, diff_src}});
    dx_.write_back();
  }

  void backward_weights(const void* x, const void* dy, float* dw) override {
    const auto& diff_weights = dw_.target(dw);
    backward_weights_.execute(context_.stream(), {{DNNL_ARG_SRC, x_for_weights_.read(x)},
                                                  {DNNL_ARG_DIFF_DST, dy_for_weights_.read(dy)},
                                                  {DNNL_ARG_DIFF_WEIGHTS, diff_weights}});
    dw_.write_back();
  }

 private:
  CpuConvolution(DnnlContext& context, const ConvolutionSpec& spec, const Plans& plans)
      : context_(context),
        forward_(plans.forward),
        backward_data_(plans.data),
        backward_weights_(plans.weights),
        x_(context, activation_desc(spec.input, spec.format), plans.forward.src_desc(),
           ScratchSlot::kInput, Direction::kInput),
        w_(context, conv_weight_desc(spec.weight(), spec.format), plans.forward.weights_desc(),
           ScratchSlot::kWeights, Direction::kInput),
        y_(context, activation_desc(spec.output(), spec.format), plans.forward.dst_desc(),
           ScratchSlot::kOutput, Direction::kOutput),
        dy_for_data_(context, activation_desc(spec.output(), spec.format),
                     plans.data.diff_dst_desc(), ScratchSlot::kInput, Direction::kInput),
        w_for_data_(context, conv_weight_desc(spec.weight(), spec.format),
                    plans.data.weights_desc(), ScratchSlot::kWeights, Direction::kInput),
        dx_(context, activation_desc(spec.input, spec.format), plans.data.diff_src_desc(),
            ScratchSlot::kOutput, Direction::kOutput),
        x_for_weights_(context, activation_desc(spec.input, spec.format), plans.weights.src_desc(),
                       ScratchSlot::kInput, Direction::kInput),
        dy_for_weights_(context, activation_desc(spec.output(), spec.format),
                        plans.weights.diff_dst_desc(), ScratchSlot::kSecondInput,
                        Direction::kInput),
        dw_(context, conv_weight_desc(spec.weight(), spec.format),
            plans.weights.diff_weights_desc(), ScratchSlot::kWeights, Direction::kOutput) {}

  DnnlContext& context_;
  dnnl::convolution_forward forward_;
  dnnl::convolution_backward_data backward_data_;
  dnnl::convolution_backward_weights backward_weights_;
  LayoutBridge x_, w_, y_;                            // forward
  LayoutBridge dy_for_data_, w_for_data_, dx_;        // backward data
  LayoutBridge x_for_weights_, dy_for_weights_, dw_;  // backward weights
};

}  // namespace

std::unique_ptr<Convolution> make_cpu_convolution(DnnlContext& context,
                                                  const ConvolutionSpec& spec) {
  validate(spec);
  return std::make_unique<CpuConvolution>(context, spec);
}

}  // namespace kubetrain

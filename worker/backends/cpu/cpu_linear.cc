#include "worker/backends/cpu/cpu_linear.h"

#include <stdexcept>
#include <string>

#include "worker/backends/cpu/fp32_only.h"

namespace kubetrain {
namespace {

using dnnl::memory;

void validate(const LinearSpec& spec) {
  require_fp32(spec.dtype, "linear");
  if (spec.batch < 1 || spec.in_features < 1 || spec.out_features < 1) {
    throw std::invalid_argument("linear: batch, in_features and out_features must be >= 1, got " +
                                std::to_string(spec.batch) + ", " +
                                std::to_string(spec.in_features) + ", " +
                                std::to_string(spec.out_features));
  }
}

// An inner product on plain row-major matrices: the weight stays in PyTorch's [out, in] order,
// which oneDNN's gemm-based inner product reads directly.
class CpuLinear final : public Linear {
 public:
  CpuLinear(DnnlContext& context, const LinearSpec& spec) : context_(context) {
    const memory::desc src = matrix_desc(spec.batch, spec.in_features);
    const memory::desc weights = matrix_desc(spec.out_features, spec.in_features);
    const memory::desc bias = vector_desc(spec.out_features);
    const memory::desc dst = matrix_desc(spec.batch, spec.out_features);
    const dnnl::engine& engine = context.engine();

    dnnl::inner_product_forward::primitive_desc forward(
        {dnnl::prop_kind::forward_training, src, weights, bias, dst}, engine);
    forward_ = dnnl::inner_product_forward(forward);
    backward_data_ = dnnl::inner_product_backward_data(
        dnnl::inner_product_backward_data::primitive_desc({src, weights, dst}, engine, forward));
    backward_weights_ =
        dnnl::inner_product_backward_weights(dnnl::inner_product_backward_weights::primitive_desc(
            {src, weights, bias, dst}, engine, forward));
    x_ = context.unbound(src);
    w_ = context.unbound(weights);
    b_ = context.unbound(bias);
    y_ = context.unbound(dst);
  }

  void forward(const void* x, const void* w, const float* b, void* y) override {
    forward_.execute(context_.stream(), {{DNNL_ARG_SRC, bind(x_, x)},
                                         {DNNL_ARG_WEIGHTS, bind(w_, w)},
                                         {DNNL_ARG_BIAS, bind(b_, b)},
                                         {DNNL_ARG_DST, bind(y_, y)}});
  }

  void backward_data(const void* dy, const void* w, void* dx) override {
    backward_data_.execute(context_.stream(), {{DNNL_ARG_DIFF_DST, bind(y_, dy)},
                                               {DNNL_ARG_WEIGHTS, bind(w_, w)},
                                               {DNNL_ARG_DIFF_SRC, bind(x_, dx)}});
  }

  void backward_weights(const void* x, const void* dy, float* dw, float* db) override {
    backward_weights_.execute(context_.stream(), {{DNNL_ARG_SRC, bind(x_, x)},
                                                  {DNNL_ARG_DIFF_DST, bind(y_, dy)},
                                                  {DNNL_ARG_DIFF_WEIGHTS, bind(w_, dw)},
                                                  {DNNL_ARG_DIFF_BIAS, bind(b_, db)}});
  }

 private:
  DnnlContext& context_;
  dnnl::inner_product_forward forward_;
  dnnl::inner_product_backward_data backward_data_;
  dnnl::inner_product_backward_weights backward_weights_;
  // Each call binds one tensor per shape, so one handle per shape suffices.
  memory x_, w_, b_, y_;
};

}  // namespace

std::unique_ptr<Linear> make_cpu_linear(DnnlContext& context, const LinearSpec& spec) {
  validate(spec);
  return std::make_unique<CpuLinear>(context, spec);
}

}  // namespace kubetrain

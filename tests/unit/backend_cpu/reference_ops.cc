#include "tests/unit/backend_cpu/reference_ops.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace kubetrain::testing {

std::vector<double> conv_forward(const ConvolutionSpec& spec, const std::vector<double>& x,
                                 const std::vector<double>& w) {
  const Shape4 in = spec.input, out = spec.output(), ws = spec.weight();
  std::vector<double> y(out.elements());
  for (int64_t n = 0; n < out.n; ++n)
    for (int64_t k = 0; k < out.c; ++k)
      for (int64_t oh = 0; oh < out.h; ++oh)
        for (int64_t ow = 0; ow < out.w; ++ow) {
          double sum = 0;
          for (int64_t c = 0; c < in.c; ++c)
            for (int64_t r = 0; r < spec.kernel; ++r)
              for (int64_t s = 0; s < spec.kernel; ++s) {
                const int64_t ih = oh * spec.stride - spec.padding + r;
                const int64_t iw = ow * spec.stride - spec.padding + s;
                if (ih < 0 || ih >= in.h || iw < 0 || iw >= in.w) continue;
                sum += x[offset_of(in, spec.format, n, c, ih, iw)] *
                       w[offset_of(ws, spec.format, k, c, r, s)];
              }
          y[offset_of(out, spec.format, n, k, oh, ow)] = sum;
        }
  return y;
}

namespace {

// y = [relu](gamma * (x - mean) / sqrt(var + eps) + beta [+ residual]).
std::vector<double> normalize(const BatchNormSpec& spec, const std::vector<double>& x,
                              const std::vector<double>& residual, const std::vector<double>& gamma,
                              const std::vector<double>& beta, const std::vector<double>& mean,
                              const std::vector<double>& variance) {
  const Shape4 s = spec.shape;
  std::vector<double> y(s.elements());
  for (int64_t n = 0; n < s.n; ++n)
    for (int64_t c = 0; c < s.c; ++c)
      for (int64_t h = 0; h < s.h; ++h)
        for (int64_t w = 0; w < s.w; ++w) {
          const int64_t i = offset_of(s, spec.format, n, c, h, w);
          double v = gamma[c] * (x[i] - mean[c]) / std::sqrt(variance[c] + spec.epsilon) + beta[c];
          if (spec.add_residual) v += residual[i];
          if (spec.relu) v = std::max(v, 0.0);
          y[i] = v;
        }
  return y;
}

}  // namespace

BatchNormResult batch_norm_training(const BatchNormSpec& spec, const std::vector<double>& x,
                                    const std::vector<double>& residual,
                                    const std::vector<double>& gamma,
                                    const std::vector<double>& beta) {
  const Shape4 s = spec.shape;
  const double count = static_cast<double>(s.n * s.h * s.w);
  std::vector<double> mean(s.c, 0.0), variance(s.c, 0.0);
  for (int64_t n = 0; n < s.n; ++n)
    for (int64_t c = 0; c < s.c; ++c)
      for (int64_t h = 0; h < s.h; ++h)
        for (int64_t w = 0; w < s.w; ++w) mean[c] += x[offset_of(s, spec.format, n, c, h, w)];
  for (double& m : mean) m /= count;
  for (int64_t n = 0; n < s.n; ++n)
    for (int64_t c = 0; c < s.c; ++c)
      for (int64_t h = 0; h < s.h; ++h)
        for (int64_t w = 0; w < s.w; ++w) {
          const double d = x[offset_of(s, spec.format, n, c, h, w)] - mean[c];
          variance[c] += d * d;
        }
  for (double& v : variance) v /= count;
  return {normalize(spec, x, residual, gamma, beta, mean, variance), mean, variance};
}

std::vector<double> batch_norm_inference(const BatchNormSpec& spec, const std::vector<double>& x,
                                         const std::vector<double>& residual,
                                         const std::vector<double>& gamma,
                                         const std::vector<double>& beta,
                                         const std::vector<double>& mean,
                                         const std::vector<double>& variance) {
  return normalize(spec, x, residual, gamma, beta, mean, variance);
}

std::vector<double> pooling_forward(const PoolingSpec& spec, const std::vector<double>& x) {
  const Shape4 in = spec.input, out = spec.output();
  std::vector<double> y(out.elements());
  const bool global = spec.kind == PoolingKind::kGlobalAverage;
  for (int64_t n = 0; n < out.n; ++n)
    for (int64_t c = 0; c < out.c; ++c)
      for (int64_t oh = 0; oh < out.h; ++oh)
        for (int64_t ow = 0; ow < out.w; ++ow) {
          double sum = 0;
          double max = -std::numeric_limits<double>::infinity();
          const int64_t kh = global ? in.h : spec.kernel, kw = global ? in.w : spec.kernel;
          for (int64_t r = 0; r < kh; ++r)
            for (int64_t s = 0; s < kw; ++s) {
              const int64_t ih = global ? r : oh * spec.stride - spec.padding + r;
              const int64_t iw = global ? s : ow * spec.stride - spec.padding + s;
              if (ih < 0 || ih >= in.h || iw < 0 || iw >= in.w) continue;
              const double v = x[offset_of(in, spec.format, n, c, ih, iw)];
              sum += v;
              max = std::max(max, v);
            }
          y[offset_of(out, spec.format, n, c, oh, ow)] =
              global ? sum / static_cast<double>(in.h * in.w) : max;
        }
  return y;
}

std::vector<double> linear_forward(const LinearSpec& spec, const std::vector<double>& x,
                                   const std::vector<double>& w, const std::vector<double>& b) {
  std::vector<double> y(spec.batch * spec.out_features);
  for (int64_t n = 0; n < spec.batch; ++n)
    for (int64_t o = 0; o < spec.out_features; ++o) {
      double sum = b[o];
      for (int64_t i = 0; i < spec.in_features; ++i) {
        sum += x[n * spec.in_features + i] * w[o * spec.in_features + i];
      }
      y[n * spec.out_features + o] = sum;
    }
  return y;
}

double softmax_cross_entropy(const SoftmaxCrossEntropySpec& spec, const std::vector<double>& logits,
                             const std::vector<int32_t>& labels) {
  const int64_t classes = spec.classes;
  const double s = spec.label_smoothing;
  double total = 0;
  for (int64_t n = 0; n < spec.batch; ++n) {
    const double* z = logits.data() + n * classes;
    double sum_exp = 0;
    for (int64_t j = 0; j < classes; ++j) sum_exp += std::exp(z[j]);
    const double log_sum = std::log(sum_exp);
    for (int64_t j = 0; j < classes; ++j) {
      const double target = (j == labels[n] ? 1.0 - s : 0.0) + s / static_cast<double>(classes);
      total -= target * (z[j] - log_sum);
    }
  }
  return total / static_cast<double>(spec.batch);
}

}  // namespace kubetrain::testing

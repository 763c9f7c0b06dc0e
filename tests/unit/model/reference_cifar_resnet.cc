#include "tests/unit/model/reference_cifar_resnet.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace kubetrain::test {
namespace {

struct Activation {
  int64_t n, c, h, w;
  std::vector<double> v;
  double& at(int64_t in, int64_t ic, int64_t ih, int64_t iw) {
    return v[static_cast<size_t>(((in * c + ic) * h + ih) * w + iw)];
  }
  double at(int64_t in, int64_t ic, int64_t ih, int64_t iw) const {
    return v[static_cast<size_t>(((in * c + ic) * h + ih) * w + iw)];
  }
};

const std::vector<double>& get(const ReferenceWeights& weights, const std::string& name) {
  auto it = weights.find(name);
  if (it == weights.end()) throw std::runtime_error("reference: no weight " + name);
  return it->second;
}

Activation conv(const Activation& x, const std::vector<double>& w, int64_t out_channels,
                int kernel, int stride) {
  const int pad = kernel / 2;
  Activation y{x.n, out_channels, (x.h + 2 * pad - kernel) / stride + 1,
               (x.w + 2 * pad - kernel) / stride + 1, {}};
  y.v.assign(static_cast<size_t>(y.n * y.c * y.h * y.w), 0.0);
  for (int64_t n = 0; n < y.n; ++n)
    for (int64_t k = 0; k < y.c; ++k)
      for (int64_t oh = 0; oh < y.h; ++oh)
        for (int64_t ow = 0; ow < y.w; ++ow) {
          double sum = 0.0;
          for (int64_t c = 0; c < x.c; ++c)
            for (int r = 0; r < kernel; ++r)
              for (int s = 0; s < kernel; ++s) {
                const int64_t ih = oh * stride - pad + r;
                const int64_t iw = ow * stride - pad + s;
                if (ih < 0 || ih >= x.h || iw < 0 || iw >= x.w) continue;
                sum += x.at(n, c, ih, iw) * w[static_cast<size_t>(((k * x.c + c) * kernel + r) *
                                                                      kernel + s)];
              }
          y.at(n, k, oh, ow) = sum;
        }
  return y;
}

// Training-mode BatchNorm: biased batch variance, epsilon 1e-5.
void batch_norm(Activation& x, const ReferenceWeights& weights, const std::string& name) {
  const auto& gamma = get(weights, name + ".weight");
  const auto& beta = get(weights, name + ".bias");
  const double count = static_cast<double>(x.n * x.h * x.w);
  for (int64_t c = 0; c < x.c; ++c) {
    double mean = 0.0, var = 0.0;
    for (int64_t n = 0; n < x.n; ++n)
      for (int64_t h = 0; h < x.h; ++h)
        for (int64_t w = 0; w < x.w; ++w) mean += x.at(n, c, h, w);
    mean /= count;
    for (int64_t n = 0; n < x.n; ++n)
      for (int64_t h = 0; h < x.h; ++h)
        for (int64_t w = 0; w < x.w; ++w) var += std::pow(x.at(n, c, h, w) - mean, 2);
    var /= count;
    const double inv_std = 1.0 / std::sqrt(var + 1e-5);
    for (int64_t n = 0; n < x.n; ++n)
      for (int64_t h = 0; h < x.h; ++h)
        for (int64_t w = 0; w < x.w; ++w) {
          double& value = x.at(n, c, h, w);
          value = gamma[static_cast<size_t>(c)] * (value - mean) * inv_std +
                  beta[static_cast<size_t>(c)];
        }
  }
}

void relu(Activation& x) {
  for (auto& value : x.v) value = std::max(value, 0.0);
}

Activation conv_bn(const Activation& x, const ReferenceWeights& weights,
                   const std::string& conv_name, const std::string& bn_name, int64_t channels,
                   int kernel, int stride) {
  Activation y = conv(x, get(weights, conv_name + ".weight"), channels, kernel, stride);
  batch_norm(y, weights, bn_name);
  return y;
}

}  // namespace

double reference_cifar_resnet_loss(const ReferenceWeights& weights, int blocks_per_stage,
                                   const ReferenceInput& input, int classes,
                                   double label_smoothing, std::vector<double>* logits) {
  Activation x{input.n, input.c, input.h, input.w, input.nchw};
  x = conv_bn(x, weights, "conv1", "bn1", 16, 3, 1);
  relu(x);
  const int64_t widths[3] = {16, 32, 64};
  for (int stage = 0; stage < 3; ++stage) {
    for (int b = 0; b < blocks_per_stage; ++b) {
      const std::string prefix = "layer" + std::to_string(stage + 1) + "." + std::to_string(b);
      const int stride = (stage > 0 && b == 0) ? 2 : 1;
      const int64_t width = widths[stage];
      Activation out = conv_bn(x, weights, prefix + ".conv1", prefix + ".bn1", width, 3, stride);
      relu(out);
      out = conv_bn(out, weights, prefix + ".conv2", prefix + ".bn2", width, 3, 1);
      const Activation shortcut =
          (stride != 1 || x.c != width)
              ? conv_bn(x, weights, prefix + ".downsample.0", prefix + ".downsample.1", width, 1,
                        stride)
              : x;
      for (size_t i = 0; i < out.v.size(); ++i) out.v[i] += shortcut.v[i];
      relu(out);
      x = std::move(out);
    }
  }
  const auto& fc_w = get(weights, "fc.weight");
  const auto& fc_b = get(weights, "fc.bias");
  logits->assign(static_cast<size_t>(x.n * classes), 0.0);
  double loss = 0.0;
  for (int64_t n = 0; n < x.n; ++n) {
    std::vector<double> pooled(static_cast<size_t>(x.c), 0.0);
    for (int64_t c = 0; c < x.c; ++c) {
      for (int64_t h = 0; h < x.h; ++h)
        for (int64_t w = 0; w < x.w; ++w) pooled[static_cast<size_t>(c)] += x.at(n, c, h, w);
      pooled[static_cast<size_t>(c)] /= static_cast<double>(x.h * x.w);
    }
    double* row = logits->data() + n * classes;
    double largest = -1e300;
    for (int k = 0; k < classes; ++k) {
      double sum = fc_b[static_cast<size_t>(k)];
      for (int64_t c = 0; c < x.c; ++c) {
        sum += fc_w[static_cast<size_t>(k * x.c + c)] * pooled[static_cast<size_t>(c)];
      }
      row[k] = sum;
      largest = std::max(largest, sum);
    }
    double normalizer = 0.0;
    for (int k = 0; k < classes; ++k) normalizer += std::exp(row[k] - largest);
    const double log_normalizer = largest + std::log(normalizer);
    // Target (1 - eps) * one_hot + eps / classes.
    for (int k = 0; k < classes; ++k) {
      const double target = (k == input.labels[static_cast<size_t>(n)] ? 1.0 - label_smoothing
                                                                         : 0.0) +
                            label_smoothing / classes;
      loss -= target * (row[k] - log_normalizer);
    }
  }
  return loss / static_cast<double>(x.n);
}

}  // namespace kubetrain::test

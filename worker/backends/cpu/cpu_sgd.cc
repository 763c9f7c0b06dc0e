#include "worker/backends/cpu/cpu_sgd.h"

#include <stdexcept>
#include <string>

namespace kubetrain {
namespace {

// Splitting below this many elements costs more in thread wake-ups than it saves.
constexpr int64_t kParallelElements = 1 << 15;

template <bool kNesterov>
void update_segment(float* __restrict w, const float* __restrict grad, float* __restrict m,
                    int64_t count, float decay, const SgdHyperparameters& hyper) {
  const float scale = hyper.gradient_scale;
  const float mu = hyper.momentum;
  const float lr = hyper.learning_rate;
#pragma omp parallel for simd if (count > kParallelElements)
  for (int64_t i = 0; i < count; ++i) {
    const float g = grad[i] * scale + decay * w[i];
    const float velocity = mu * m[i] + g;
    m[i] = velocity;
    w[i] -= lr * (kNesterov ? g + mu * velocity : velocity);
  }
}

}  // namespace

void cpu_sgd_update(std::span<const ParameterSegment> segments, float* weights,
                    const float* gradients, float* momentum, const SgdHyperparameters& hyper) {
  for (const ParameterSegment& segment : segments) {
    if (segment.offset < 0 || segment.count < 0) {
      throw std::invalid_argument("sgd_update: segment at offset " +
                                  std::to_string(segment.offset) + " with count " +
                                  std::to_string(segment.count) + " is invalid");
    }
    const float decay = segment.weight_decay ? hyper.weight_decay : 0.0f;
    float* w = weights + segment.offset;
    const float* g = gradients + segment.offset;
    float* m = momentum + segment.offset;
    if (hyper.nesterov) {
      update_segment<true>(w, g, m, segment.count, decay, hyper);
    } else {
      update_segment<false>(w, g, m, segment.count, decay, hyper);
    }
  }
}

}  // namespace kubetrain

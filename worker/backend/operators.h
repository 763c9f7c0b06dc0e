#pragma once

// The planned operators a backend provides. Each is created once for one shape when the model is
// built (so oneDNN primitives, cuDNN descriptors, algorithm choices and workspaces are made once and
// reused every step) and then runs on device pointers. Pointers to activations and to the compute
// copy of conv/linear weights are in the operator's DataType; everything marked `float*` is fp32.
// All calls are ordered on the backend's stream; none waits for the device unless it says so.

#include <cstdint>

#include "worker/backend/tensor.h"

namespace kubetrain {

struct ConvolutionSpec {
  Shape4 input;           // N, C, H, W
  int64_t out_channels;   // K
  int kernel;             // R = S
  int stride;
  int padding;            // symmetric
  DataType dtype = DataType::kFloat32;
  MemoryFormat format = MemoryFormat::kChannelsLast;

  Shape4 output() const {
    return {input.n, out_channels, (input.h + 2 * padding - kernel) / stride + 1,
            (input.w + 2 * padding - kernel) / stride + 1};
  }
  Shape4 weight() const { return {out_channels, input.c, kernel, kernel}; }
};

// Convolution without bias.
class Convolution {
 public:
  virtual ~Convolution() = default;
  virtual void forward(const void* x, const void* w, void* y) = 0;
  virtual void backward_data(const void* dy, const void* w, void* dx) = 0;
  // Overwrites dw (fp32, the weight's memory format) with the weight gradient.
  virtual void backward_weights(const void* x, const void* dy, float* dw) = 0;
};

struct BatchNormSpec {
  Shape4 shape;
  bool add_residual = false;  // y = bn(x) + residual
  bool relu = false;          // then y = max(y, 0)
  float epsilon = 1e-5f;
  // PyTorch's convention: running = (1 - momentum) * running + momentum * batch, and the running
  // variance takes the unbiased batch variance.
  float momentum = 0.1f;
  DataType dtype = DataType::kFloat32;
  MemoryFormat format = MemoryFormat::kChannelsLast;
};

// Per-channel fp32 tensors of a BatchNorm layer (each `shape.c` floats).
struct BatchNormTensors {
  const float* scale;     // gamma
  const float* bias;      // beta
  float* running_mean;
  float* running_var;
  float* saved_mean;      // written by forward_training, read by backward
  float* saved_inv_std;   // 1 / sqrt(batch_var + epsilon)
};

// y = [relu](batch_norm(x) [+ residual]). Backends fuse what their library allows.
class BatchNorm {
 public:
  virtual ~BatchNorm() = default;
  // Normalizes with the batch statistics, updates the running ones and saves mean and 1/std.
  virtual void forward_training(const void* x, const void* residual, void* y,
                                const BatchNormTensors& t) = 0;
  // Normalizes with the running statistics.
  virtual void forward_inference(const void* x, const void* residual, void* y,
                                 const BatchNormTensors& t) = 0;
  // From the forward's x and y (y gives the ReLU mask) and dy: dx, d_residual (when add_residual;
  // equals the ReLU-masked dy) and the fp32 parameter gradients, which it overwrites.
  // dy may be overwritten.
  virtual void backward(const void* x, const void* y, void* dy, void* dx, void* d_residual,
                        const BatchNormTensors& t, float* d_scale, float* d_bias) = 0;
};

enum class PoolingKind { kMax, kGlobalAverage };

struct PoolingSpec {
  Shape4 input;
  PoolingKind kind = PoolingKind::kMax;
  int kernel = 3;   // kMax only; kGlobalAverage pools the whole H x W
  int stride = 2;
  int padding = 1;
  DataType dtype = DataType::kFloat32;
  MemoryFormat format = MemoryFormat::kChannelsLast;

  Shape4 output() const {
    if (kind == PoolingKind::kGlobalAverage) return {input.n, input.c, 1, 1};
    return {input.n, input.c, (input.h + 2 * padding - kernel) / stride + 1,
            (input.w + 2 * padding - kernel) / stride + 1};
  }
};

class Pooling {
 public:
  virtual ~Pooling() = default;
  // `training` lets max pooling keep what its backward needs.
  virtual void forward(const void* x, void* y, bool training) = 0;
  virtual void backward(const void* x, const void* y, const void* dy, void* dx) = 0;
};

// y[N, out] = x[N, in] * w[out, in]^T + b, PyTorch's nn.Linear. The weight is in the operator's
// dtype (compute copy), the bias always fp32.
struct LinearSpec {
  int64_t batch;
  int64_t in_features;
  int64_t out_features;
  DataType dtype = DataType::kFloat32;
};

class Linear {
 public:
  virtual ~Linear() = default;
  virtual void forward(const void* x, const void* w, const float* b, void* y) = 0;
  virtual void backward_data(const void* dy, const void* w, void* dx) = 0;
  // Overwrites the fp32 gradients dw [out, in] and db [out].
  virtual void backward_weights(const void* x, const void* dy, float* dw, float* db) = 0;
};

struct SoftmaxCrossEntropySpec {
  int64_t batch;
  int64_t classes;
  float label_smoothing = 0.0f;  // PyTorch's CrossEntropyLoss(label_smoothing=...)
  DataType dtype = DataType::kFloat32;  // of logits and d_logits
};

class SoftmaxCrossEntropy {
 public:
  virtual ~SoftmaxCrossEntropy() = default;
  // Mean loss over the batch into *loss (fp32, device memory); d_logits = gradient of that mean
  // times `gradient_scale` (the loss scale, times 1/world when the caller wants it).
  // labels are int32 class indices in device memory.
  virtual void forward_backward(const void* logits, const int32_t* labels, void* d_logits,
                                float gradient_scale, float* loss) = 0;
};

}  // namespace kubetrain

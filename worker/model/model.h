#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "worker/backend/backend.h"
#include "worker/model/parameter_store.h"

namespace kubetrain {

struct ModelSpec {
  std::string name;        // resnet20/32/44/56/110 (CIFAR-style), resnet18/34/50/101/152 (v1.5)
  Shape4 input;            // per-rank batch N, input channels, image size
  int classes = 10;
  DataType dtype = DataType::kFloat32;
  MemoryFormat format = MemoryFormat::kChannelsLast;
  float label_smoothing = 0.0f;
};

// A ResNet planned for one input shape on one backend. Activations for the backward pass are kept
// from the last training forward.
class Model {
 public:
  virtual ~Model() = default;
  virtual const ModelSpec& spec() const = 0;
  virtual ParameterStore& parameters() = 0;

  // He-normal (fan_out, as torchvision) conv weights, BatchNorm gamma 1 and beta 0, PyTorch's
  // default nn.Linear init; deterministic in `seed`, generated on the host and uploaded.
  virtual void initialize(uint64_t seed) = 0;

  // `input` is spec().input in the compute dtype and format, on the device. Returns the logits,
  // [N, classes] in the compute dtype, valid until the next forward.
  virtual const void* forward(const void* input, bool training) = 0;

  // Mean softmax cross-entropy (with label smoothing) of the last training forward against
  // `labels` (int32, device); writes the fp32 loss to *loss (device) and runs the backward pass.
  // Each time a run of gradients [offset, offset + count) of the flat buffer is final,
  // `gradients_ready` is called with it (in backward order, from the end of the buffer).
  virtual void backward(const int32_t* labels, float loss_scale, float* loss,
                        const std::function<void(int64_t offset, int64_t count)>&
                            gradients_ready) = 0;
};

// Throws std::invalid_argument for a name it does not know (the config parser validates names).
std::unique_ptr<Model> make_model(Backend& backend, const ModelSpec& spec);

}  // namespace kubetrain

#pragma once

#include <cstdint>

#include "worker/model/model.h"
#include "worker/train/safetensors.h"

namespace kubetrain {

// Checkpoint tensors of a model, named and shaped as torchvision's resnet state_dict: parameters
// and BatchNorm running statistics in PyTorch's layouts (conv weights OIHW whatever the model's
// memory format), plus "<bn>.num_batches_tracked" as an I64 scalar. Downloads from the device.
void save_model_state(Model& model, int64_t batches_tracked, TensorFile& file);

// Loads what save_model_state wrote (or a torchvision state_dict of the same architecture) into
// the model and refreshes its compute copy. Every tensor of the model must be present with its
// dtype and shape, and every other tensor must be optimizer state ("optimizer." prefix); otherwise
// throws CheckpointError naming the tensor and the expected and actual shape.
void load_model_state(Model& model, const TensorFile& file);

// SGD momentum as "optimizer.momentum.<parameter name>" F32 tensors in the same layouts.
void save_optimizer_momentum(Model& model, TensorFile& file);
// Throws CheckpointError for a missing or misshapen momentum tensor.
void load_optimizer_momentum(Model& model, const TensorFile& file);

}  // namespace kubetrain

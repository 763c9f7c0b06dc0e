#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "worker/backend/backend.h"
#include "worker/model/model.h"

namespace kubetrain::test {

ModelSpec tiny_spec(const std::string& name, Shape4 input, int classes, MemoryFormat format,
                    float label_smoothing = 0.0f);

// A deterministic batch: NCHW standard-normal pixels and labels i % classes.
struct HostBatch {
  Shape4 shape;
  std::vector<float> nchw;
  std::vector<int32_t> labels;
};
HostBatch make_batch(Shape4 shape, int classes, uint64_t seed);

// The batch on the device in the model's memory format, with its labels.
struct DeviceBatch {
  std::unique_ptr<DeviceBuffer> input;
  std::unique_ptr<DeviceBuffer> labels;
};
DeviceBatch upload_batch(Backend& backend, const HostBatch& batch, MemoryFormat format);

std::vector<float> download_floats(Backend& backend, const float* device, int64_t count);

// Runs one training forward and backward; returns the loss.
float train_step(Backend& backend, Model& model, const DeviceBatch& batch,
                 const std::function<void(int64_t, int64_t)>& gradients_ready);

}  // namespace kubetrain::test

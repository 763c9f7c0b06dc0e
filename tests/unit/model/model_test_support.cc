#include "tests/unit/model/model_test_support.h"

#include "worker/model/host_random.h"
#include "worker/model/weight_layout.h"

namespace kubetrain::test {

ModelSpec tiny_spec(const std::string& name, Shape4 input, int classes, MemoryFormat format,
                    float label_smoothing) {
  ModelSpec spec;
  spec.name = name;
  spec.input = input;
  spec.classes = classes;
  spec.format = format;
  spec.label_smoothing = label_smoothing;
  return spec;
}

HostBatch make_batch(Shape4 shape, int classes, uint64_t seed) {
  HostBatch batch{shape, std::vector<float>(static_cast<size_t>(shape.elements())), {}};
  HostRandom random(seed);
  for (auto& value : batch.nchw) value = static_cast<float>(random.normal());
  for (int64_t i = 0; i < shape.n; ++i) batch.labels.push_back(static_cast<int32_t>(i % classes));
  return batch;
}

DeviceBatch upload_batch(Backend& backend, const HostBatch& batch, MemoryFormat format) {
  const auto stored = reorder(batch.nchw, batch.shape, MemoryFormat::kChannelsFirst, format);
  DeviceBatch device{backend.allocate(stored.size() * sizeof(float)),
                     backend.allocate(batch.labels.size() * sizeof(int32_t))};
  backend.upload(stored.data(), device.input->data(), stored.size() * sizeof(float));
  backend.upload(batch.labels.data(), device.labels->data(),
                 batch.labels.size() * sizeof(int32_t));
  backend.synchronize();
  return device;
}

std::vector<float> download_floats(Backend& backend, const float* device, int64_t count) {
  std::vector<float> host(static_cast<size_t>(count));
  backend.download(device, host.data(), host.size() * sizeof(float));
  return host;
}

float train_step(Backend& backend, Model& model, const DeviceBatch& batch,
                 const std::function<void(int64_t, int64_t)>& gradients_ready) {
  auto loss = backend.allocate(sizeof(float));
  model.forward(batch.input->data(), /*training=*/true);
  model.backward(batch.labels->as<int32_t>(), 1.0f, loss->as<float>(), gradients_ready);
  float value = 0.0f;
  backend.download(loss->data(), &value, sizeof(float));
  return value;
}

}  // namespace kubetrain::test

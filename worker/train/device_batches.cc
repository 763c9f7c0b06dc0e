#include "worker/train/device_batches.h"

#include <random>

namespace kubetrain {
namespace {

// Device buffers for one batch: images in the compute type, labels, and an fp32 staging buffer
// when the compute type is not fp32.
class DeviceBatchBuffers {
 public:
  DeviceBatchBuffers(Backend& backend, DataType compute_type, const BatchLayout& layout)
      : backend_(backend),
        compute_type_(compute_type),
        elements_(layout.shape.elements()),
        images_(backend.allocate(static_cast<size_t>(elements_) * size_of(compute_type))),
        labels_(backend.allocate(static_cast<size_t>(layout.shape.n) * sizeof(int32_t))) {
    if (compute_type != DataType::kFloat32) {
      staging_ = backend.allocate(static_cast<size_t>(elements_) * sizeof(float));
    }
  }

  void upload(const std::vector<float>& images, const std::vector<int32_t>& labels) {
    void* target = staging_ ? staging_->data() : images_->data();
    backend_.upload(images.data(), target, images.size() * sizeof(float));
    if (staging_) {
      backend_.cast(DataType::kFloat32, staging_->data(), compute_type_, images_->data(),
                    elements_);
    }
    backend_.upload(labels.data(), labels_->data(), labels.size() * sizeof(int32_t));
  }

  void* images() { return images_->data(); }
  int32_t* labels() { return labels_->as<int32_t>(); }

 private:
  Backend& backend_;
  DataType compute_type_;
  int64_t elements_;
  std::unique_ptr<DeviceBuffer> images_;
  std::unique_ptr<DeviceBuffer> labels_;
  std::unique_ptr<DeviceBuffer> staging_;
};

class LoadedBatches final : public DeviceBatches {
 public:
  LoadedBatches(Backend& backend, DataType compute_type, std::unique_ptr<BatchLoader> loader,
                const BatchLayout& layout)
      : loader_(std::move(loader)), buffers_(backend, compute_type, layout) {}

  void start(std::vector<std::vector<int64_t>> steps, uint64_t pass_key) override {
    loader_->start(std::move(steps), pass_key);
  }

  std::optional<DeviceBatch> next() override {
    auto batch = loader_->next();
    if (!batch) return std::nullopt;
    buffers_.upload(batch->images, batch->labels);
    return DeviceBatch{buffers_.images(), buffers_.labels(), batch->valid};
  }

 private:
  std::unique_ptr<BatchLoader> loader_;
  DeviceBatchBuffers buffers_;
};

class SyntheticBatches final : public DeviceBatches {
 public:
  SyntheticBatches(Backend& backend, DataType compute_type, const BatchLayout& layout,
                   int classes, uint64_t seed)
      : batch_size_(layout.shape.n),
        images_(backend.allocate(static_cast<size_t>(layout.shape.elements()) *
                                 size_of(compute_type))),
        labels_(backend.allocate(static_cast<size_t>(layout.shape.n) * sizeof(int32_t))) {
    backend.fill_normal(compute_type, images_->data(), layout.shape.elements(), 0.0f, 1.0f, seed);
    std::mt19937_64 random(seed);
    std::vector<int32_t> labels(static_cast<size_t>(layout.shape.n));
    for (auto& label : labels) label = static_cast<int32_t>(random() % static_cast<uint64_t>(classes));
    backend.upload(labels.data(), labels_->data(), labels.size() * sizeof(int32_t));
    backend.synchronize();
  }

  void start(std::vector<std::vector<int64_t>> steps, uint64_t) override {
    remaining_ = static_cast<int64_t>(steps.size());
  }

  std::optional<DeviceBatch> next() override {
    if (remaining_ == 0) return std::nullopt;
    --remaining_;
    return DeviceBatch{images_->data(), labels_->as<int32_t>(), batch_size_};
  }

 private:
  int64_t batch_size_;
  std::unique_ptr<DeviceBuffer> images_;
  std::unique_ptr<DeviceBuffer> labels_;
  int64_t remaining_ = 0;
};

}  // namespace

std::unique_ptr<DeviceBatches> make_loaded_batches(Backend& backend, DataType compute_type,
                                                   std::unique_ptr<BatchLoader> loader,
                                                   BatchLayout layout) {
  return std::make_unique<LoadedBatches>(backend, compute_type, std::move(loader), layout);
}

std::unique_ptr<DeviceBatches> make_synthetic_batches(Backend& backend, DataType compute_type,
                                                      BatchLayout layout, int classes,
                                                      uint64_t seed) {
  return std::make_unique<SyntheticBatches>(backend, compute_type, layout, classes, seed);
}

}  // namespace kubetrain

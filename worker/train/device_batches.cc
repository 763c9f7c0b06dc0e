#include "worker/train/device_batches.h"

#include <cstring>
#include <random>

namespace kubetrain {
namespace {

// Where a loaded batch goes: device buffers for its images in the compute type and its labels,
// an fp32 device staging buffer when the compute type is not fp32 (the cast happens on the
// device), and two pinned host buffers that batches pass through. A batch is copied into one of
// those and uploaded from there asynchronously: the host never waits for the device's queue to
// drain (an upload from pageable memory must), only, before refilling a pinned buffer, for the
// upload that read it two batches ago. The device buffers are the same for every batch, so the
// uploads are ordered after the previous step on the stream and a recorded training step stays
// valid.
class DeviceBatchBuffers {
 public:
  DeviceBatchBuffers(Backend& backend, DataType compute_type, const BatchLayout& layout)
      : backend_(backend),
        compute_type_(compute_type),
        image_bytes_(static_cast<size_t>(layout.shape.elements()) * sizeof(float)),
        label_bytes_(static_cast<size_t>(layout.shape.n) * sizeof(int32_t)),
        images_(backend.allocate(static_cast<size_t>(layout.shape.elements()) *
                                 size_of(compute_type))),
        labels_(backend.allocate(label_bytes_)) {
    if (compute_type != DataType::kFloat32) staging_ = backend.allocate(image_bytes_);
    for (auto& pinned : pinned_) {
      pinned.images = backend.allocate_host(image_bytes_);
      pinned.labels = backend.allocate_host(label_bytes_);
    }
  }

  // Queues the upload of `batch`, whose memory may be reused as soon as this returns.
  void upload(const HostBatch& batch) {
    Pinned& pinned = pinned_[turn_];
    turn_ = 1 - turn_;
    backend_.wait_for(pinned.read_by_upload);
    std::memcpy(pinned.images->data(), batch.images.data(), image_bytes_);
    std::memcpy(pinned.labels->data(), batch.labels.data(), label_bytes_);
    void* target = staging_ ? staging_->data() : images_->data();
    backend_.upload(pinned.images->data(), target, image_bytes_);
    if (staging_) {
      backend_.cast(DataType::kFloat32, staging_->data(), compute_type_, images_->data(),
                    static_cast<int64_t>(image_bytes_ / sizeof(float)));
    }
    backend_.upload(pinned.labels->data(), labels_->data(), label_bytes_);
    pinned.read_by_upload = backend_.mark();
  }

  void* images() { return images_->data(); }
  int32_t* labels() { return labels_->as<int32_t>(); }

 private:
  // Host memory the backend copies from without waiting (pinned on CUDA), and the stream point
  // after the last upload that read it.
  struct Pinned {
    std::unique_ptr<DeviceBuffer> images;
    std::unique_ptr<DeviceBuffer> labels;
    uint64_t read_by_upload = 0;
  };

  Backend& backend_;
  DataType compute_type_;
  size_t image_bytes_;  // fp32, as the loader produces them
  size_t label_bytes_;
  std::unique_ptr<DeviceBuffer> images_;
  std::unique_ptr<DeviceBuffer> labels_;
  std::unique_ptr<DeviceBuffer> staging_;
  Pinned pinned_[2];
  int turn_ = 0;
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
    buffers_.upload(*batch);
    const int64_t valid = batch->valid;
    // Copied: its memory serves the next batch instead of fresh pages.
    loader_->recycle(std::move(*batch));
    return DeviceBatch{buffers_.images(), buffers_.labels(), valid};
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

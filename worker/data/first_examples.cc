#include "worker/data/first_examples.h"

namespace kubetrain {
namespace {

class PrefixDataset : public Dataset {
 public:
  PrefixDataset(std::unique_ptr<Dataset> inner, int64_t count)
      : inner_(std::move(inner)), count_(count) {}

  int64_t size() const override { return count_; }
  int classes() const override { return inner_->classes(); }
  ImageShape image_shape() const override { return inner_->image_shape(); }
  int32_t read(int64_t index, std::span<uint8_t> pixels) const override {
    return inner_->read(index, pixels);
  }
  bool crops_for_training() const override { return inner_->crops_for_training(); }
  int32_t read_training_crop(int64_t index, std::span<uint8_t> pixels,
                             ExampleRandom& random) const override {
    return inner_->read_training_crop(index, pixels, random);
  }

 private:
  std::unique_ptr<Dataset> inner_;
  int64_t count_;
};

}  // namespace

std::unique_ptr<Dataset> first_examples(std::unique_ptr<Dataset> dataset, int64_t count,
                                        const std::string& field, const std::string& description) {
  if (count < 0) {
    throw DataError(field + ": " + std::to_string(count) + " is negative; use 0 (all) or 1.." +
                    std::to_string(dataset->size()));
  }
  if (count > dataset->size()) {
    throw DataError(field + ": " + std::to_string(count) + " is larger than " + description +
                    ", which has " + std::to_string(dataset->size()) + " examples");
  }
  if (count == 0 || count == dataset->size()) return dataset;
  return std::make_unique<PrefixDataset>(std::move(dataset), count);
}

}  // namespace kubetrain

#pragma once

#include <vector>

#include "worker/data/dataset.h"

namespace kubetrain {

// A data set decoded once into memory: example i's HWC pixels at pixels[i * shape.bytes()].
class InMemoryDataset : public Dataset {
 public:
  InMemoryDataset(ImageShape shape, int classes, std::vector<uint8_t> pixels,
                  std::vector<uint8_t> labels);

  int64_t size() const override { return static_cast<int64_t>(labels_.size()); }
  int classes() const override { return classes_; }
  ImageShape image_shape() const override { return shape_; }
  int32_t read(int64_t index, std::span<uint8_t> pixels) const override;

 private:
  ImageShape shape_;
  int classes_;
  std::vector<uint8_t> pixels_;
  std::vector<uint8_t> labels_;
};

}  // namespace kubetrain

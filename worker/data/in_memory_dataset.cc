#include "worker/data/in_memory_dataset.h"

#include <algorithm>
#include <stdexcept>

namespace kubetrain {

InMemoryDataset::InMemoryDataset(ImageShape shape, int classes, std::vector<uint8_t> pixels,
                                 std::vector<uint8_t> labels)
    : shape_(shape), classes_(classes), pixels_(std::move(pixels)), labels_(std::move(labels)) {
  if (static_cast<int64_t>(pixels_.size()) != size() * shape_.bytes()) {
    throw std::invalid_argument("InMemoryDataset: pixel buffer does not match labels x shape");
  }
}

int32_t InMemoryDataset::read(int64_t index, std::span<uint8_t> pixels) const {
  const int64_t bytes = shape_.bytes();
  std::copy_n(pixels_.begin() + index * bytes, bytes, pixels.begin());
  return labels_[static_cast<size_t>(index)];
}

}  // namespace kubetrain

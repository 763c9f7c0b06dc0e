#include "worker/data/dataset.h"

namespace kubetrain {

int32_t Dataset::read_training_crop(int64_t index, std::span<uint8_t> pixels,
                                    ExampleRandom& /*random*/) const {
  return read(index, pixels);
}

}  // namespace kubetrain

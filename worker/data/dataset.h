#pragma once

// Data sets: random access to decoded examples. Training batches are assembled from them by
// BatchLoader (worker/data/batch_loader.h); which indices each rank reads is decided by
// ShardPlan (worker/dist/shard_plan.h).

#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>

#include "worker/config/config.h"
#include "worker/data/example_random.h"

namespace kubetrain {

// A data file or folder is missing, truncated or malformed. what() names the file and what is
// wrong. The worker exits with code 3 on it.
class DataError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Shape of the uint8 pixels a data set returns for each example, interleaved HWC.
struct ImageShape {
  int height;
  int width;
  int channels;  // 1 (grey) or 3 (RGB)
  int64_t bytes() const { return int64_t{height} * width * channels; }
};

class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual int64_t size() const = 0;
  virtual int classes() const = 0;
  virtual ImageShape image_shape() const = 0;
  // Writes example `index`'s pixels (image_shape().bytes() of HWC uint8) and returns its label.
  // Thread-safe: loader threads call it concurrently.
  virtual int32_t read(int64_t index, std::span<uint8_t> pixels) const = 0;

  // Whether training augmentation crops inside the data set (imagefolder: a random-resized crop
  // of the full-resolution JPEG, then scaled to image_shape()) rather than in the loader (small
  // fixed-size images: pad 4 + random crop). The loader flips either way.
  virtual bool crops_for_training() const { return false; }
  // Like read(), but a random training crop drawn from `random`; only called when
  // crops_for_training(). Thread-safe like read().
  virtual int32_t read_training_crop(int64_t index, std::span<uint8_t> pixels,
                                     ExampleRandom& random) const;
};

struct DatasetPair {
  std::unique_ptr<Dataset> train;
  std::unique_ptr<Dataset> validation;
};

// Opens the training and validation sets that `config` names (not for "synthetic"), honouring
// trainExamples/validationExamples. imagefolder examples come out at imageSize x imageSize
// (evaluation: the central 224/256 of the shorter side; training: see crops_for_training()); the
// others at their native size, which the loader fits to the model's input. Throws DataError.
DatasetPair open_datasets(const DataConfig& config);

}  // namespace kubetrain

#include "worker/data/cifar10.h"
#include "worker/data/dataset.h"
#include "worker/data/fashion_mnist.h"
#include "worker/data/first_examples.h"
#include "worker/data/image_folder.h"

namespace kubetrain {

DatasetPair open_datasets(const DataConfig& config) {
  if (config.path.empty()) {
    throw DataError("data.path: empty; name the folder holding the " + config.dataset + " files");
  }
  DatasetPair pair;
  if (config.dataset == "fashion-mnist") {
    pair = open_fashion_mnist(config.path);
  } else if (config.dataset == "cifar10") {
    pair = open_cifar10(config.path);
  } else if (config.dataset == "imagefolder") {
    pair = open_image_folder(config.path, config.image_size);
  } else {
    throw DataError("data.dataset: '" + config.dataset +
                    "' has no files to open; expected cifar10, fashion-mnist or imagefolder "
                    "(synthetic data is made by the trainer)");
  }
  pair.train = first_examples(std::move(pair.train), config.train_examples, "data.trainExamples",
                              "the training set in " + config.path);
  pair.validation = first_examples(std::move(pair.validation), config.validation_examples,
                                   "data.validationExamples",
                                   "the validation set in " + config.path);
  return pair;
}

}  // namespace kubetrain

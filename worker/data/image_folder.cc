#include "worker/data/image_folder.h"

#include <algorithm>
#include <filesystem>

#include "worker/data/data_folder.h"
#include "worker/data/file_contents.h"
#include "worker/data/jpeg_decoder.h"

namespace kubetrain {
namespace {

namespace fs = std::filesystem;

// The usual ImageNet evaluation: resize the shorter side to side*256/224, centre-crop side.
constexpr double kEvaluationFraction = 224.0 / 256.0;
constexpr const char* kLayout =
    "train/<class>/*.jpg and val/<class>/*.jpg (one sub-folder per class, the same in both)";

struct Example {
  std::string path;
  int32_t label;
};

class ImageFolderDataset : public Dataset {
 public:
  ImageFolderDataset(std::vector<Example> examples, int classes, int side)
      : examples_(std::move(examples)), classes_(classes), side_(side) {}

  int64_t size() const override { return static_cast<int64_t>(examples_.size()); }
  int classes() const override { return classes_; }
  ImageShape image_shape() const override { return {side_, side_, 3}; }
  bool crops_for_training() const override { return true; }

  int32_t read(int64_t index, std::span<uint8_t> pixels) const override {
    return decode(index, pixels, [](int width, int height) {
      return central_square(width, height, kEvaluationFraction);
    });
  }
  int32_t read_training_crop(int64_t index, std::span<uint8_t> pixels,
                             ExampleRandom& random) const override {
    return decode(index, pixels, [&random](int width, int height) {
      return random_resized_crop(width, height, random);
    });
  }

 private:
  int32_t decode(int64_t index, std::span<uint8_t> pixels, const CropChooser& choose) const {
    const Example& example = examples_[static_cast<size_t>(index)];
    decode_jpeg_crop(read_file_bytes(example.path), example.path, choose, side_, side_, pixels);
    return example.label;
  }

  std::vector<Example> examples_;
  int classes_;
  int side_;
};

bool is_jpeg(const fs::path& file) {
  std::string extension = file.extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return extension == ".jpg" || extension == ".jpeg";
}

std::vector<std::string> class_names(const fs::path& split) {
  require_folder(split.string(), "one sub-folder of .jpg/.jpeg files per class");
  std::vector<std::string> names;
  for (const fs::directory_entry& entry : fs::directory_iterator(split)) {
    if (entry.is_directory()) names.push_back(entry.path().filename().string());
  }
  if (names.empty()) {
    throw DataError(split.string() + ": holds no class folders; expected " + kLayout);
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::unique_ptr<Dataset> list_split(const fs::path& split, const std::vector<std::string>& classes,
                                    int side) {
  std::vector<Example> examples;
  for (size_t label = 0; label < classes.size(); ++label) {
    const fs::path class_folder = split / classes[label];
    std::vector<std::string> files;
    for (const fs::directory_entry& entry : fs::directory_iterator(class_folder)) {
      if (entry.is_regular_file() && is_jpeg(entry.path())) files.push_back(entry.path().string());
    }
    if (files.empty()) {
      throw DataError(class_folder.string() +
                      ": holds no .jpg or .jpeg files; every class folder needs at least one");
    }
    std::sort(files.begin(), files.end());
    for (std::string& file : files) {
      examples.push_back({std::move(file), static_cast<int32_t>(label)});
    }
  }
  return std::make_unique<ImageFolderDataset>(std::move(examples),
                                              static_cast<int>(classes.size()), side);
}

std::string first_difference(const std::vector<std::string>& train,
                             const std::vector<std::string>& val) {
  for (const std::string& name : train) {
    if (!std::binary_search(val.begin(), val.end(), name)) return "'" + name + "' is only in train";
  }
  for (const std::string& name : val) {
    if (!std::binary_search(train.begin(), train.end(), name)) return "'" + name + "' is only in val";
  }
  return {};
}

}  // namespace

DatasetPair open_image_folder(const std::string& folder, int side) {
  require_folder(folder, kLayout);
  const fs::path root(folder);
  const std::vector<std::string> train_classes = class_names(root / "train");
  const std::vector<std::string> val_classes = class_names(root / "val");
  if (train_classes != val_classes) {
    throw DataError(folder + ": train has " + std::to_string(train_classes.size()) +
                    " classes and val " + std::to_string(val_classes.size()) + " (" +
                    first_difference(train_classes, val_classes) +
                    "); expected the same class folders in both");
  }
  DatasetPair pair;
  pair.train = list_split(root / "train", train_classes, side);
  pair.validation = list_split(root / "val", train_classes, side);
  return pair;
}

}  // namespace kubetrain

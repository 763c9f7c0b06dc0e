#pragma once

#include <string>

#include "worker/data/dataset.h"

namespace kubetrain {

// `folder`/train/<class>/*.jpg|jpeg and `folder`/val/<class>/*.jpg|jpeg. Classes are the sorted
// sub-folder names (the same in both); files are read in name order. Examples are decoded on each
// read at side x side RGB: evaluation takes the central 224/256 of the shorter side; training
// (read_training_crop) a random-resized crop.
DatasetPair open_image_folder(const std::string& folder, int side);

}  // namespace kubetrain

#pragma once

#include <string>

#include "worker/data/dataset.h"

namespace kubetrain {

// Fashion-MNIST's four IDX files in `folder`, each plain or gzipped (the plain one wins when both
// exist): train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte,
// t10k-labels-idx1-ubyte. Decompressed and checked once, then held in memory as 1-channel images.
DatasetPair open_fashion_mnist(const std::string& folder);

}  // namespace kubetrain

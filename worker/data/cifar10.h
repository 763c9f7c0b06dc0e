#pragma once

#include <string>

#include "worker/data/dataset.h"

namespace kubetrain {

// CIFAR-10's binary batches data_batch_1.bin .. data_batch_5.bin (training) and test_batch.bin
// (validation), in `folder` or `folder`/cifar-10-batches-bin. Each record is 1 label byte and
// 3072 pixel bytes (the 32 x 32 red plane, then green, then blue); held in memory as HWC.
DatasetPair open_cifar10(const std::string& folder);

}  // namespace kubetrain

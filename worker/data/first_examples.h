#pragma once

#include <memory>
#include <string>

#include "worker/data/dataset.h"

namespace kubetrain {

// The first `count` examples of `dataset` (count 0: all of it). A count beyond the set's size is a
// DataError naming `field` (the config key) and the real size.
std::unique_ptr<Dataset> first_examples(std::unique_ptr<Dataset> dataset, int64_t count,
                                        const std::string& field, const std::string& description);

}  // namespace kubetrain

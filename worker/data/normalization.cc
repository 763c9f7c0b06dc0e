#include <fmt/format.h>

#include "worker/data/batch_loader.h"

namespace kubetrain {

Normalization normalization_for(const std::string& dataset, int channels) {
  Normalization data;
  if (dataset == "fashion-mnist") {
    data = {{0.2860f}, {0.3530f}};
  } else if (dataset == "cifar10") {
    data = {{0.4914f, 0.4822f, 0.4465f}, {0.2470f, 0.2435f, 0.2616f}};
  } else if (dataset == "imagefolder") {
    data = {{0.485f, 0.456f, 0.406f}, {0.229f, 0.224f, 0.225f}};
  } else {
    throw DataError(fmt::format("data.dataset: no normalization for '{}'; expected cifar10, "
                                "fashion-mnist or imagefolder", dataset));
  }
  const int data_channels = static_cast<int>(data.mean.size());
  if (channels == data_channels) return data;
  if (data_channels == 1 && channels > 1) {
    // Grey is widened by repeating it in every channel, so every channel has its statistics.
    return {std::vector<float>(channels, data.mean[0]), std::vector<float>(channels, data.stddev[0])};
  }
  throw DataError(fmt::format("{} has {} channels; a model with {} input channels cannot take it",
                              dataset, data_channels, channels));
}

}  // namespace kubetrain

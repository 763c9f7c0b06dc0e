#include "worker/config/model_names.h"

#include <algorithm>

namespace kubetrain {
namespace {

const std::vector<std::string_view> kImageNetStyle = {"resnet18", "resnet34", "resnet50", "resnet101",
                                                      "resnet152"};

}  // namespace

const std::vector<std::string_view>& model_names() {
  static const std::vector<std::string_view> names = {"resnet20",  "resnet32", "resnet44", "resnet56",
                                                      "resnet110", "resnet18", "resnet34", "resnet50",
                                                      "resnet101", "resnet152"};
  return names;
}

bool is_imagenet_style(std::string_view model) {
  return std::find(kImageNetStyle.begin(), kImageNetStyle.end(), model) != kImageNetStyle.end();
}

}  // namespace kubetrain

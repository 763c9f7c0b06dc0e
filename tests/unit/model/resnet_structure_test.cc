#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/unit/model/model_test_support.h"
#include "worker/backends/cpu/cpu_backend.h"
#include "worker/model/model.h"

namespace kubetrain {
namespace {

using test::tiny_spec;

std::vector<std::string> parameter_names(Model& model) {
  std::vector<std::string> names;
  for (const auto& p : model.parameters().parameters()) names.push_back(p.name);
  return names;
}

const TensorInfo& find(const std::vector<TensorInfo>& tensors, const std::string& name) {
  auto it = std::find_if(tensors.begin(), tensors.end(),
                         [&](const TensorInfo& t) { return t.name == name; });
  if (it == tensors.end()) throw std::runtime_error("no tensor " + name);
  return *it;
}

// Counts from PyTorch: torchvision.models.resnetXX() for the ImageNet models (the figures
// torchvision publishes), tests/torch/cifar_resnet.py for the CIFAR models. He et al. publish
// 0.27M and 0.85M for ResNet-20 and ResNet-56 with parameter-free shortcuts; the projection
// shortcuts used here add 2,752 parameters (1x1 convs 16->32 and 32->64 and their BatchNorms).
TEST(ResNetStructure, ParameterCountsMatchPublishedFigures) {
  auto backend = make_cpu_backend();
  struct Case {
    const char* name;
    int classes;
    int64_t parameters;
  };
  for (const Case& c : {Case{"resnet20", 10, 272474}, Case{"resnet56", 10, 855770},
                        Case{"resnet18", 1000, 11689512}, Case{"resnet50", 1000, 25557032}}) {
    auto model = make_model(*backend, tiny_spec(c.name, {2, 3, 32, 32}, c.classes,
                                                MemoryFormat::kChannelsLast));
    EXPECT_EQ(model->parameters().parameter_count(), c.parameters) << c.name;
  }
}

TEST(ResNetStructure, CifarNamesFollowTorchvisionInForwardOrder) {
  auto backend = make_cpu_backend();
  auto model = make_model(*backend, tiny_spec("resnet20", {2, 1, 28, 28}, 10,
                                              MemoryFormat::kChannelsFirst));
  const auto names = parameter_names(*model);
  ASSERT_EQ(names.size(), 1u + 2u + 9u * 6u + 2u * 3u + 2u);
  const std::vector<std::string> head = {"conv1.weight", "bn1.weight", "bn1.bias",
                                         "layer1.0.conv1.weight", "layer1.0.bn1.weight",
                                         "layer1.0.bn1.bias", "layer1.0.conv2.weight",
                                         "layer1.0.bn2.weight", "layer1.0.bn2.bias",
                                         "layer1.1.conv1.weight"};
  EXPECT_TRUE(std::equal(head.begin(), head.end(), names.begin()));
  // torchvision registers downsample after the main path.
  auto bn2 = std::find(names.begin(), names.end(), "layer2.0.bn2.bias");
  ASSERT_NE(bn2, names.end());
  EXPECT_EQ(*(bn2 + 1), "layer2.0.downsample.0.weight");
  EXPECT_EQ(*(bn2 + 2), "layer2.0.downsample.1.weight");
  EXPECT_EQ(*(bn2 + 3), "layer2.0.downsample.1.bias");
  EXPECT_EQ(*(bn2 + 4), "layer2.1.conv1.weight");
  EXPECT_EQ(std::count_if(names.begin(), names.end(),
                          [](const std::string& n) { return n.find("downsample") != n.npos; }),
            6);
  EXPECT_EQ(names[names.size() - 2], "fc.weight");
  EXPECT_EQ(names.back(), "fc.bias");

  const auto& params = model->parameters().parameters();
  EXPECT_EQ(find(params, "conv1.weight").shape, (Shape4{16, 1, 3, 3}));
  EXPECT_EQ(find(params, "layer3.0.downsample.0.weight").shape, (Shape4{64, 32, 1, 1}));
  EXPECT_EQ(find(params, "fc.weight").shape, (Shape4{10, 64, 1, 1}));
  const auto& buffers = model->parameters().buffers();
  ASSERT_EQ(buffers.size(), 2u * (1u + 18u + 2u));
  EXPECT_EQ(buffers[0].name, "bn1.running_mean");
  EXPECT_EQ(buffers[1].name, "bn1.running_var");
  EXPECT_EQ(find(buffers, "layer3.2.bn2.running_var").shape, (Shape4{64, 1, 1, 1}));
}

TEST(ResNetStructure, ImageNetModelsHaveTorchvisionShapes) {
  auto backend = make_cpu_backend();
  auto resnet18 = make_model(*backend, tiny_spec("resnet18", {2, 3, 32, 32}, 7,
                                                 MemoryFormat::kChannelsLast));
  const auto& p18 = resnet18->parameters().parameters();
  EXPECT_EQ(find(p18, "conv1.weight").shape, (Shape4{64, 3, 7, 7}));
  EXPECT_EQ(find(p18, "layer4.1.conv2.weight").shape, (Shape4{512, 512, 3, 3}));
  EXPECT_EQ(find(p18, "layer2.0.downsample.0.weight").shape, (Shape4{128, 64, 1, 1}));
  EXPECT_EQ(find(p18, "fc.weight").shape, (Shape4{7, 512, 1, 1}));
  const auto n18 = parameter_names(*resnet18);
  EXPECT_EQ(std::count(n18.begin(), n18.end(), "layer1.0.downsample.0.weight"), 0);

  auto resnet50 = make_model(*backend, tiny_spec("resnet50", {2, 3, 32, 32}, 7,
                                                 MemoryFormat::kChannelsFirst));
  const auto& p50 = resnet50->parameters().parameters();
  // v1.5: the stride sits on the 3x3 conv; layer1.0 projects 64 -> 256 channels at stride 1.
  EXPECT_EQ(find(p50, "layer1.0.downsample.0.weight").shape, (Shape4{256, 64, 1, 1}));
  EXPECT_EQ(find(p50, "layer2.0.conv1.weight").shape, (Shape4{128, 256, 1, 1}));
  EXPECT_EQ(find(p50, "layer2.0.conv2.weight").shape, (Shape4{128, 128, 3, 3}));
  EXPECT_EQ(find(p50, "layer2.0.conv3.weight").shape, (Shape4{512, 128, 1, 1}));
  EXPECT_EQ(find(p50, "fc.weight").shape, (Shape4{7, 2048, 1, 1}));
  EXPECT_EQ(resnet50->parameters().buffers().size(), 2u * 53u);
}

TEST(ResNetStructure, FlatLayoutIsContiguousInForwardOrder) {
  auto backend = make_cpu_backend();
  auto model = make_model(*backend, tiny_spec("resnet18", {2, 3, 32, 32}, 10,
                                              MemoryFormat::kChannelsLast));
  const ParameterStore& store = model->parameters();
  int64_t next = 0;
  for (const auto& p : store.parameters()) {
    EXPECT_EQ(p.offset, next) << p.name;
    next += p.elements();
    const bool conv = p.name.find("conv") != std::string::npos ||
                      p.name.find("downsample.0") != std::string::npos;
    EXPECT_EQ(p.conv_weight, conv) << p.name;
    EXPECT_EQ(p.weight_decay, p.conv_weight || p.name == "fc.weight") << p.name;
  }
  EXPECT_EQ(next, store.parameter_count());
  next = 0;
  for (const auto& b : store.buffers()) {
    EXPECT_EQ(b.offset, next) << b.name;
    next += b.elements();
  }
  EXPECT_EQ(next, store.buffer_count());
}

TEST(ResNetStructure, RefusesUnknownNamesAndEmptyInputs) {
  auto backend = make_cpu_backend();
  try {
    make_model(*backend, tiny_spec("resnet19", {2, 3, 32, 32}, 10, MemoryFormat::kChannelsLast));
    FAIL() << "resnet19 was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("resnet19"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("resnet110"), std::string::npos);
  }
  EXPECT_THROW(make_model(*backend, tiny_spec("resnet20", {0, 3, 32, 32}, 10,
                                              MemoryFormat::kChannelsLast)),
               std::invalid_argument);
  EXPECT_THROW(make_model(*backend, tiny_spec("resnet20", {2, 3, 32, 32}, 0,
                                              MemoryFormat::kChannelsLast)),
               std::invalid_argument);
}

}  // namespace
}  // namespace kubetrain

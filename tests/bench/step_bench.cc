// Training-step throughput of a ResNet on the CPU backend: forward, backward and the SGD update on
// synthetic data, timed after a warm-up. Prints one JSON line (see cpu_vs_torch.sh).

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "worker/backends/cpu/cpu_backend.h"
#include "worker/model/model.h"

namespace kubetrain {
namespace {

struct Options {
  std::string model = "resnet20";
  int64_t batch = 128;
  int64_t image_size = 32;
  int classes = 10;
  int steps = 20;
  int warmup = 3;
  float label_smoothing = 0.1f;
  bool channels_first = false;
};

int run(const Options& options) {
  auto backend = make_cpu_backend();
  ModelSpec spec;
  spec.name = options.model;
  spec.input = {options.batch, 3, options.image_size, options.image_size};
  spec.classes = options.classes;
  spec.format = options.channels_first ? MemoryFormat::kChannelsFirst : MemoryFormat::kChannelsLast;
  spec.label_smoothing = options.label_smoothing;
  auto model = make_model(*backend, spec);
  model->initialize(1);
  ParameterStore& store = model->parameters();

  auto images = backend->allocate(static_cast<size_t>(spec.input.elements()) * sizeof(float));
  backend->fill_normal(DataType::kFloat32, images->data(), spec.input.elements(), 0.0f, 1.0f, 7);
  std::vector<int32_t> host_labels(static_cast<size_t>(options.batch));
  for (size_t i = 0; i < host_labels.size(); ++i) {
    host_labels[i] = static_cast<int32_t>((i * 7 + 3) % static_cast<size_t>(options.classes));
  }
  auto labels = backend->allocate(host_labels.size() * sizeof(int32_t));
  backend->upload(host_labels.data(), labels->data(), host_labels.size() * sizeof(int32_t));
  auto loss = backend->allocate(sizeof(float));
  const SgdHyperparameters hyper{0.1f, 0.9f, 1e-4f, false, 1.0f};

  auto step = [&] {
    model->forward(images->data(), /*training=*/true);
    model->backward(labels->as<int32_t>(), 1.0f, loss->as<float>(), [](int64_t, int64_t) {});
    backend->sgd_update(store.segments(), store.weights(), store.gradients(), store.momentum(),
                        hyper);
    store.sync_compute_weights();
    backend->synchronize();
  };
  for (int i = 0; i < options.warmup; ++i) step();
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < options.steps; ++i) step();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  float final_loss = 0;
  backend->download(loss->data(), &final_loss, sizeof(float));

  std::printf(
      "{\"framework\": \"kubetrain\", \"backend\": \"%s\", \"model\": \"%s\", \"batch\": %lld, "
      "\"image_size\": %lld, \"channels_last\": %s, \"steps\": %d, \"loss\": %.4f, "
      "\"images_per_second\": %.2f}\n",
      backend->description().c_str(), options.model.c_str(), static_cast<long long>(options.batch),
      static_cast<long long>(options.image_size), options.channels_first ? "false" : "true",
      options.steps, final_loss, static_cast<double>(options.batch) * options.steps / seconds);
  return 0;
}

}  // namespace
}  // namespace kubetrain

int main(int argc, char** argv) {
  kubetrain::Options options;
  CLI::App app{"Times ResNet training steps on kubetrain's CPU backend"};
  app.add_option("--model", options.model, "resnet20/32/44/56/110, resnet18/34/50/101/152");
  app.add_option("--batch", options.batch, "images per step")->check(CLI::PositiveNumber);
  app.add_option("--image-size", options.image_size, "height = width")->check(CLI::PositiveNumber);
  app.add_option("--classes", options.classes, "classifier outputs")->check(CLI::Range(2, 100000));
  app.add_option("--steps", options.steps, "timed steps")->check(CLI::PositiveNumber);
  app.add_option("--warmup", options.warmup, "untimed steps first")->check(CLI::NonNegativeNumber);
  app.add_option("--label-smoothing", options.label_smoothing, "as CrossEntropyLoss's");
  app.add_flag("--channels-first", options.channels_first, "NCHW instead of NHWC");
  CLI11_PARSE(app, argc, argv);
  try {
    return kubetrain::run(options);
  } catch (const std::exception& e) {
    std::cerr << "kubetrain-step-bench: " << e.what() << "\n";
    return 2;
  }
}

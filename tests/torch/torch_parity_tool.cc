// Runs a few SGD steps of a model on the CPU backend and writes everything PyTorch needs to
// repeat them: the initial weights, the batch, and the logits, losses, updated weights, running
// statistics and momentum (see torch_parity.py).

#include <CLI/CLI.hpp>

#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "worker/backends/cpu/cpu_backend.h"
#include "worker/model/host_random.h"
#include "worker/model/model.h"
#include "worker/model/model_state.h"
#include "worker/model/weight_layout.h"
#include "worker/train/safetensors.h"

namespace kubetrain {
namespace {

template <typename T>
StoredTensor stored(const std::string& name, StoredType type, std::vector<int64_t> shape,
                    const std::vector<T>& values) {
  StoredTensor tensor{name, type, std::move(shape), std::vector<std::byte>(values.size() * sizeof(T))};
  std::memcpy(tensor.data.data(), values.data(), tensor.data.size());
  return tensor;
}

struct Options {
  ModelSpec spec;
  std::string format = "channels_last";
  uint64_t seed = 1;
  int steps = 2;
  SgdHyperparameters sgd{0.1f, 0.9f, 1e-4f, false, 1.0f};
  std::string out;
};

int run(const Options& options) {
  auto backend = make_cpu_backend();
  const ModelSpec& spec = options.spec;
  auto model = make_model(*backend, spec);
  model->initialize(options.seed);
  TensorFile initial;
  save_model_state(*model, 0, initial);
  write_tensor_file(options.out + "/initial.safetensors", initial);

  const Shape4 in = spec.input;
  std::vector<float> nchw(static_cast<size_t>(in.elements()));
  HostRandom random(options.seed + 1);
  for (auto& value : nchw) value = static_cast<float>(random.normal());
  std::vector<int32_t> labels;
  for (int64_t i = 0; i < in.n; ++i) {
    labels.push_back(static_cast<int32_t>(random.uniform(0.0, spec.classes)));
  }
  TensorFile batch;
  batch.tensors.push_back(stored("input", StoredType::kF32, {in.n, in.c, in.h, in.w}, nchw));
  batch.tensors.push_back(stored("labels", StoredType::kI64, {in.n},
                                 std::vector<int64_t>(labels.begin(), labels.end())));
  write_tensor_file(options.out + "/batch.safetensors", batch);

  const auto input = reorder(nchw, in, MemoryFormat::kChannelsFirst, spec.format);
  auto device_input = backend->allocate(input.size() * sizeof(float));
  auto device_labels = backend->allocate(labels.size() * sizeof(int32_t));
  auto device_loss = backend->allocate(sizeof(float));
  backend->upload(input.data(), device_input->data(), input.size() * sizeof(float));
  backend->upload(labels.data(), device_labels->data(), labels.size() * sizeof(int32_t));

  TensorFile result;
  ParameterStore& store = model->parameters();
  for (int step = 0; step < options.steps; ++step) {
    const void* logits = model->forward(device_input->data(), /*training=*/true);
    std::vector<float> host_logits(static_cast<size_t>(in.n * spec.classes));
    backend->download(logits, host_logits.data(), host_logits.size() * sizeof(float));
    model->backward(device_labels->as<int32_t>(), 1.0f, device_loss->as<float>(),
                    [](int64_t, int64_t) {});
    std::vector<float> loss(1);
    backend->download(device_loss->data(), loss.data(), sizeof(float));
    backend->sgd_update(store.segments(), store.weights(), store.gradients(), store.momentum(),
                        options.sgd);
    store.sync_compute_weights();
    const std::string index = std::to_string(step);
    result.tensors.push_back(
        stored("logits." + index, StoredType::kF32, {in.n, spec.classes}, host_logits));
    result.tensors.push_back(stored("loss." + index, StoredType::kF32, {}, loss));
  }
  save_model_state(*model, options.steps, result);
  save_optimizer_momentum(*model, result);
  write_tensor_file(options.out + "/result.safetensors", result);
  return 0;
}

}  // namespace
}  // namespace kubetrain

int main(int argc, char** argv) {
  using namespace kubetrain;
  Options options;
  ModelSpec& spec = options.spec;
  spec.name = "resnet20";
  spec.input = {4, 3, 16, 16};
  CLI::App app{"Runs SGD steps of a model on the CPU backend for comparison with PyTorch"};
  app.add_option("--model", spec.name, "resnet20 ... resnet152");
  app.add_option("--format", options.format, "channels_last or channels_first")
      ->check(CLI::IsMember({"channels_last", "channels_first"}));
  app.add_option("--batch", spec.input.n)->check(CLI::PositiveNumber);
  app.add_option("--channels", spec.input.c)->check(CLI::PositiveNumber);
  app.add_option("--image-size", spec.input.h)->check(CLI::PositiveNumber);
  app.add_option("--classes", spec.classes)->check(CLI::PositiveNumber);
  app.add_option("--label-smoothing", spec.label_smoothing)->check(CLI::Range(0.0, 0.99));
  app.add_option("--seed", options.seed);
  app.add_option("--steps", options.steps)->check(CLI::PositiveNumber);
  app.add_option("--lr", options.sgd.learning_rate);
  app.add_option("--momentum", options.sgd.momentum);
  app.add_option("--weight-decay", options.sgd.weight_decay);
  app.add_flag("--nesterov", options.sgd.nesterov);
  app.add_option("--out", options.out, "folder for the .safetensors files")
      ->required()
      ->check(CLI::ExistingDirectory);
  CLI11_PARSE(app, argc, argv);
  spec.input.w = spec.input.h;
  spec.format = options.format == "channels_last" ? MemoryFormat::kChannelsLast
                                                  : MemoryFormat::kChannelsFirst;
  try {
    return run(options);
  } catch (const std::exception& e) {
    std::cerr << "kubetrain-torch-parity: " << e.what() << "\n";
    return 1;
  }
}

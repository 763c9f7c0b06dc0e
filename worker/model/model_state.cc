#include "worker/model/model_state.h"

#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "worker/model/weight_layout.h"

namespace kubetrain {
namespace {

constexpr std::string_view kRunningMean = ".running_mean";
constexpr std::string_view kBatchesTracked = ".num_batches_tracked";
constexpr std::string_view kMomentumPrefix = "optimizer.momentum.";
constexpr std::string_view kOptimizerPrefix = "optimizer.";

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) text += ", ";
    text += std::to_string(shape[i]);
  }
  return text + "]";
}

std::vector<float> download(Backend& backend, const float* device, int64_t count) {
  std::vector<float> host(static_cast<size_t>(count));
  backend.download(device, host.data(), host.size() * sizeof(float));
  return host;
}

// One tensor of a flat buffer in PyTorch's layout.
StoredTensor to_stored(const std::string& name, const TensorInfo& info, std::span<const float> flat,
                       MemoryFormat format) {
  auto values = flat.subspan(static_cast<size_t>(info.offset), static_cast<size_t>(info.elements()));
  const std::vector<float> pytorch =
      info.conv_weight ? reorder(values, info.shape, format, MemoryFormat::kChannelsFirst)
                       : std::vector<float>(values.begin(), values.end());
  StoredTensor tensor{name, StoredType::kF32, pytorch_shape(info), {}};
  tensor.data.resize(pytorch.size() * sizeof(float));
  std::memcpy(tensor.data.data(), pytorch.data(), tensor.data.size());
  return tensor;
}

const StoredTensor& require(const TensorFile& file, const std::string& name, StoredType type,
                            const std::vector<int64_t>& shape) {
  const StoredTensor* tensor = file.find(name);
  if (tensor == nullptr) {
    throw CheckpointError("checkpoint tensor \"" + name + "\" is missing (expected shape " +
                          shape_text(shape) + ")");
  }
  if (tensor->type != type) {
    throw CheckpointError("checkpoint tensor \"" + name + "\" has the wrong dtype (expected " +
                          (type == StoredType::kF32 ? "F32" : "I64") + ")");
  }
  if (tensor->shape != shape) {
    throw CheckpointError("checkpoint tensor \"" + name + "\" has shape " +
                          shape_text(tensor->shape) + "; expected " + shape_text(shape));
  }
  const size_t element_bytes = type == StoredType::kF32 ? sizeof(float) : sizeof(int64_t);
  size_t elements = 1;
  for (int64_t d : shape) elements *= static_cast<size_t>(d);
  if (tensor->data.size() != elements * element_bytes) {
    throw CheckpointError("checkpoint tensor \"" + name + "\" holds " +
                          std::to_string(tensor->data.size()) + " bytes; expected " +
                          std::to_string(elements * element_bytes));
  }
  return *tensor;
}

// Reads one tensor of a flat buffer from PyTorch's layout into `flat`.
void from_stored(const StoredTensor& tensor, const TensorInfo& info, std::span<float> flat,
                 MemoryFormat format) {
  std::vector<float> pytorch(static_cast<size_t>(info.elements()));
  std::memcpy(pytorch.data(), tensor.data.data(), pytorch.size() * sizeof(float));
  const std::vector<float> stored =
      info.conv_weight ? reorder(pytorch, info.shape, MemoryFormat::kChannelsFirst, format)
                       : std::move(pytorch);
  std::copy(stored.begin(), stored.end(), flat.begin() + info.offset);
}

bool is_running_mean(const std::string& name) { return name.ends_with(kRunningMean); }

std::string batches_tracked_name(const std::string& running_mean) {
  return running_mean.substr(0, running_mean.size() - kRunningMean.size()) +
         std::string(kBatchesTracked);
}

}  // namespace

void save_model_state(Model& model, int64_t batches_tracked, TensorFile& file) {
  ParameterStore& store = model.parameters();
  Backend& backend = store.backend();
  const MemoryFormat format = model.spec().format;
  const auto weights = download(backend, store.weights(), store.parameter_count());
  const auto stats = download(backend, store.running_stats(), store.buffer_count());
  for (const auto& info : store.parameters()) {
    file.tensors.push_back(to_stored(info.name, info, weights, format));
  }
  for (const auto& info : store.buffers()) {
    file.tensors.push_back(to_stored(info.name, info, stats, format));
    if (is_running_mean(info.name)) {
      StoredTensor count{batches_tracked_name(info.name), StoredType::kI64, {}, {}};
      count.data.resize(sizeof(int64_t));
      std::memcpy(count.data.data(), &batches_tracked, sizeof(int64_t));
      file.tensors.push_back(std::move(count));
    }
  }
}

void load_model_state(Model& model, const TensorFile& file) {
  ParameterStore& store = model.parameters();
  const MemoryFormat format = model.spec().format;
  std::unordered_set<std::string> expected;
  std::vector<float> weights(static_cast<size_t>(store.parameter_count()));
  std::vector<float> stats(static_cast<size_t>(store.buffer_count()));
  for (const auto& info : store.parameters()) {
    from_stored(require(file, info.name, StoredType::kF32, pytorch_shape(info)), info, weights,
                format);
    expected.insert(info.name);
  }
  for (const auto& info : store.buffers()) {
    from_stored(require(file, info.name, StoredType::kF32, pytorch_shape(info)), info, stats,
                format);
    expected.insert(info.name);
    if (is_running_mean(info.name)) {
      const std::string count = batches_tracked_name(info.name);
      require(file, count, StoredType::kI64, {});
      expected.insert(count);
    }
  }
  for (const auto& tensor : file.tensors) {
    if (!expected.contains(tensor.name) && !tensor.name.starts_with(kOptimizerPrefix)) {
      throw CheckpointError("checkpoint tensor \"" + tensor.name + "\" (shape " +
                            shape_text(tensor.shape) + ") is not part of " + model.spec().name +
                            "; the checkpoint is of another architecture");
    }
  }
  Backend& backend = store.backend();
  backend.upload(weights.data(), store.weights(), weights.size() * sizeof(float));
  backend.upload(stats.data(), store.running_stats(), stats.size() * sizeof(float));
  store.sync_compute_weights();
  backend.synchronize();  // the host vectors go out of scope
}

void save_optimizer_momentum(Model& model, TensorFile& file) {
  ParameterStore& store = model.parameters();
  const auto momentum = download(store.backend(), store.momentum(), store.parameter_count());
  for (const auto& info : store.parameters()) {
    file.tensors.push_back(
        to_stored(std::string(kMomentumPrefix) + info.name, info, momentum, model.spec().format));
  }
}

void load_optimizer_momentum(Model& model, const TensorFile& file) {
  ParameterStore& store = model.parameters();
  std::vector<float> momentum(static_cast<size_t>(store.parameter_count()));
  for (const auto& info : store.parameters()) {
    const std::string name = std::string(kMomentumPrefix) + info.name;
    from_stored(require(file, name, StoredType::kF32, pytorch_shape(info)), info, momentum,
                model.spec().format);
  }
  Backend& backend = store.backend();
  backend.upload(momentum.data(), store.momentum(), momentum.size() * sizeof(float));
  backend.synchronize();
}

}  // namespace kubetrain

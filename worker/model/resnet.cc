#include <algorithm>
#include <array>
#include <cmath>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include "worker/model/conv_bn.h"
#include "worker/model/model.h"
#include "worker/model/residual_block.h"
#include "worker/model/resnet_architecture.h"

namespace kubetrain {
namespace {

void validate(Backend& backend, const ModelSpec& spec) {
  const Shape4& in = spec.input;
  if (in.n < 1 || in.c < 1 || in.h < 1 || in.w < 1) {
    throw std::invalid_argument("model input must have a positive batch, channel count and image "
                                "size; got N=" + std::to_string(in.n) + " C=" +
                                std::to_string(in.c) + " H=" + std::to_string(in.h) +
                                " W=" + std::to_string(in.w));
  }
  if (spec.classes < 1) {
    throw std::invalid_argument("model classes must be at least 1; got " +
                                std::to_string(spec.classes));
  }
  if (!(spec.label_smoothing >= 0.0f && spec.label_smoothing < 1.0f)) {
    throw std::invalid_argument("label smoothing must be in [0, 1); got " +
                                std::to_string(spec.label_smoothing));
  }
  if (!backend.supports(spec.dtype)) {
    throw std::invalid_argument("the " + backend.description() + " backend does not support " +
                                std::string(to_string(spec.dtype)));
  }
}

size_t bytes_of(int64_t elements, DataType type) {
  return static_cast<size_t>(elements) * size_of(type);
}

// A torchvision-style ResNet: stem, residual stages, global average pool, fc, and the loss.
class ResNet final : public Model {
 public:
  ResNet(Backend& backend, const ModelSpec& spec)
      : backend_(backend), spec_(spec), architecture_(resnet_architecture(spec.name)) {
    validate(backend, spec);
    ParameterLayout layout;
    const DataType dtype = spec.dtype;
    const MemoryFormat format = spec.format;

    ConvBnOptions stem;
    stem.conv_name = "conv1";
    stem.bn_name = "bn1";
    stem.conv = architecture_.imagenet_stem
                    ? ConvolutionSpec{spec.input, architecture_.stem_channels, 7, 2, 3, dtype, format}
                    : ConvolutionSpec{spec.input, architecture_.stem_channels, 3, 1, 1, dtype, format};
    stem_.emplace(backend, stem, layout);
    Shape4 shape = stem_->output_shape();
    int64_t largest = shape.elements();
    if (architecture_.imagenet_stem) {
      const PoolingSpec pool{shape, PoolingKind::kMax, 3, 2, 1, dtype, format};
      max_pool_ = backend.make_pooling(pool);
      shape = pool.output();
      pooled_stem_ = backend.allocate(bytes_of(shape.elements(), dtype));
    }

    for (size_t stage = 0; stage < architecture_.blocks_per_stage.size(); ++stage) {
      for (int b = 0; b < architecture_.blocks_per_stage[stage]; ++b) {
        ResidualBlockOptions block;
        block.prefix = "layer" + std::to_string(stage + 1) + "." + std::to_string(b);
        block.kind = architecture_.block;
        block.input = shape;
        block.width = architecture_.stage_widths[stage];
        block.stride = (stage > 0 && b == 0) ? 2 : 1;
        block.dtype = dtype;
        block.format = format;
        blocks_.emplace_back(backend, block, layout);
        shape = blocks_.back().output_shape();
        largest = std::max(largest, blocks_.back().largest_activation());
      }
    }

    const PoolingSpec average{shape, PoolingKind::kGlobalAverage, 0, 1, 0, dtype, format};
    average_pool_ = backend.make_pooling(average);
    const int64_t features = shape.c;
    features_ = backend.allocate(bytes_of(spec.input.n * features, dtype));
    d_features_ = backend.allocate(bytes_of(spec.input.n * features, dtype));
    fc_ = backend.make_linear({spec.input.n, features, spec.classes, dtype});
    fc_weight_offset_ = layout.add_parameter("fc.weight", {spec.classes, features, 1, 1}, true,
                                             false);
    fc_bias_offset_ = layout.add_parameter("fc.bias", {spec.classes, 1, 1, 1}, false, false);
    logits_ = backend.allocate(bytes_of(spec.input.n * spec.classes, dtype));
    d_logits_ = backend.allocate(bytes_of(spec.input.n * spec.classes, dtype));
    loss_ = backend.make_softmax_cross_entropy(
        {spec.input.n, spec.classes, spec.label_smoothing, dtype});

    input_copy_ = backend.allocate(bytes_of(spec.input.elements(), dtype));
    for (auto& buffer : scratch_buffers_) buffer = backend.allocate(bytes_of(largest, dtype));
    store_ = std::make_unique<ParameterStore>(backend, layout.parameters(), layout.buffers(),
                                              dtype);
  }

  const ModelSpec& spec() const override { return spec_; }
  ParameterStore& parameters() override { return *store_; }

  void initialize(uint64_t seed) override {
    std::vector<float> weights(static_cast<size_t>(store_->parameter_count()));
    std::vector<float> stats(static_cast<size_t>(store_->buffer_count()));
    HostRandom random(seed);
    // Forward order, so the random stream does not depend on the memory format.
    stem_->initialize(weights, stats, random);
    for (const auto& block : blocks_) block.initialize(weights, stats, random);
    // nn.Linear's default: kaiming_uniform_(a=sqrt(5)) for the weight, which is
    // uniform(-1/sqrt(in), 1/sqrt(in)), and the same bound for the bias.
    const int64_t features = fc_bias_offset_ - fc_weight_offset_;
    const int64_t in_features = features / spec_.classes;
    const double bound = 1.0 / std::sqrt(static_cast<double>(in_features));
    for (int64_t i = fc_weight_offset_; i < fc_bias_offset_ + spec_.classes; ++i) {
      weights[static_cast<size_t>(i)] = static_cast<float>(random.uniform(-bound, bound));
    }
    backend_.upload(weights.data(), store_->weights(), weights.size() * sizeof(float));
    backend_.upload(stats.data(), store_->running_stats(), stats.size() * sizeof(float));
    backend_.fill_zero(store_->momentum(), weights.size() * sizeof(float));
    backend_.fill_zero(store_->gradients(), weights.size() * sizeof(float));
    store_->sync_compute_weights();
    backend_.synchronize();  // the host vectors go out of scope
  }

  const void* forward(const void* input, bool training) override {
    // The stem's weight gradient needs the input; keep our own copy so the caller may reuse its
    // batch buffer as soon as forward returns.
    const void* x = input;
    if (training) {
      backend_.copy(input, input_copy_->data(), bytes_of(spec_.input.elements(), spec_.dtype));
      x = input_copy_->data();
    }
    stem_->forward(*store_, x, nullptr, training);
    x = stem_->output();
    if (max_pool_) {
      max_pool_->forward(x, pooled_stem_->data(), training);
      x = pooled_stem_->data();
    }
    for (auto& block : blocks_) {
      block.forward(*store_, x, training);
      x = block.output();
    }
    average_pool_->forward(x, features_->data(), training);
    fc_->forward(features_->data(), fc_weight(), store_->weights() + fc_bias_offset_,
                 logits_->data());
    has_training_forward_ = training;
    return logits_->data();
  }

  void backward(const int32_t* labels, float loss_scale, float* loss,
                const std::function<void(int64_t, int64_t)>& gradients_ready) override {
    if (!has_training_forward_) {
      throw std::logic_error("Model::backward needs a training forward first");
    }
    loss_->forward_backward(logits_->data(), labels, d_logits_->data(), loss_scale, loss);
    float* gradients = store_->gradients();
    fc_->backward_weights(features_->data(), d_logits_->data(), gradients + fc_weight_offset_,
                          gradients + fc_bias_offset_);
    gradients_ready(fc_weight_offset_, fc_bias_offset_ + spec_.classes - fc_weight_offset_);
    fc_->backward_data(d_logits_->data(), fc_weight(), d_features_->data());

    GradientScratch scratch{scratch_buffers_[0]->data(), scratch_buffers_[1]->data(),
                            scratch_buffers_[2]->data()};
    average_pool_->backward(blocks_.back().output(), features_->data(), d_features_->data(),
                            scratch[0]);
    for (auto block = blocks_.rbegin(); block != blocks_.rend(); ++block) {
      block->backward(*store_, scratch, gradients_ready);
    }
    if (max_pool_) {
      max_pool_->backward(stem_->output(), pooled_stem_->data(), scratch[0], scratch[1]);
      std::swap(scratch[0], scratch[1]);
    }
    stem_->backward_batch_norm(*store_, scratch[0], scratch[1], nullptr, gradients_ready);
    // Nothing needs the input's gradient.
    stem_->backward_convolution(*store_, scratch[1], nullptr, gradients_ready);
  }

 private:
  const void* fc_weight() {
    return static_cast<const std::byte*>(store_->compute_weights()) +
           fc_weight_offset_ * size_of(spec_.dtype);
  }

  Backend& backend_;
  ModelSpec spec_;
  ResNetArchitecture architecture_;
  std::optional<ConvBn> stem_;
  std::unique_ptr<Pooling> max_pool_;
  std::unique_ptr<DeviceBuffer> pooled_stem_;
  std::vector<ResidualBlock> blocks_;
  std::unique_ptr<Pooling> average_pool_;
  std::unique_ptr<DeviceBuffer> features_, d_features_;
  std::unique_ptr<Linear> fc_;
  int64_t fc_weight_offset_ = 0;
  int64_t fc_bias_offset_ = 0;
  std::unique_ptr<DeviceBuffer> logits_, d_logits_;
  std::unique_ptr<SoftmaxCrossEntropy> loss_;
  std::unique_ptr<DeviceBuffer> input_copy_;
  std::array<std::unique_ptr<DeviceBuffer>, 3> scratch_buffers_;
  std::unique_ptr<ParameterStore> store_;
  bool has_training_forward_ = false;
};

}  // namespace

std::unique_ptr<Model> make_model(Backend& backend, const ModelSpec& spec) {
  return std::make_unique<ResNet>(backend, spec);
}

}  // namespace kubetrain

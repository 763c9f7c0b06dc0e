// Under `mpirun -np 2`: one data-parallel training step (each rank half of a global batch,
// gradients averaged by the bucketed reducer, SGD) must equal what one process computes from the
// same weights by running the two half-batches as micro-batches and averaging their gradients.
// BatchNorm normalises each rank's half with that half's statistics, which is exactly what the
// micro-batches reproduce.

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <random>
#include <vector>

#include "worker/backend/backend.h"
#include "worker/dist/communicator.h"
#include "worker/dist/gradient_reducer.h"
#include "worker/model/model.h"
#include "worker/train/parameter_broadcast.h"

namespace kubetrain {
namespace {

constexpr int64_t kGlobalBatch = 8;
constexpr int64_t kLocalBatch = kGlobalBatch / 2;
constexpr int64_t kImage = 16;
constexpr int kClasses = 10;
constexpr uint64_t kSeed = 5;

struct GlobalBatch {
  std::vector<float> images;
  std::vector<int32_t> labels;
};

GlobalBatch make_global_batch() {
  std::mt19937_64 random(42);
  std::uniform_real_distribution<float> pixel(-1.0f, 1.0f);
  GlobalBatch batch;
  batch.images.resize(kGlobalBatch * 3 * kImage * kImage);
  for (auto& value : batch.images) value = pixel(random);
  for (int64_t i = 0; i < kGlobalBatch; ++i) batch.labels.push_back(static_cast<int32_t>(i % kClasses));
  return batch;
}

ModelSpec spec() {
  return {"resnet20", {kLocalBatch, 3, kImage, kImage}, kClasses, DataType::kFloat32,
          MemoryFormat::kChannelsLast, 0.1f};
}

// Forward and backward over half `half` of the global batch; gradients land in the store.
void forward_backward(Backend& backend, Model& model, const GlobalBatch& batch, int half,
                      const std::function<void(int64_t, int64_t)>& ready) {
  const int64_t per_half = kLocalBatch * 3 * kImage * kImage;
  auto images = backend.allocate(per_half * sizeof(float));
  auto labels = backend.allocate(kLocalBatch * sizeof(int32_t));
  auto loss = backend.allocate(sizeof(float));
  backend.upload(batch.images.data() + half * per_half, images->data(), per_half * sizeof(float));
  backend.upload(batch.labels.data() + half * kLocalBatch, labels->data(),
                 kLocalBatch * sizeof(int32_t));
  model.forward(images->data(), true);
  model.backward(labels->as<int32_t>(), 1.0f, loss->as<float>(), ready);
  backend.synchronize();
}

void sgd_step(Backend& backend, ParameterStore& store) {
  backend.sgd_update(store.segments(), store.weights(), store.gradients(), store.momentum(),
                     {0.1f, 0.9f, 1e-4f, false, 1.0f});
  store.sync_compute_weights();
}

std::vector<float> download(Backend& backend, const float* device, int64_t count) {
  std::vector<float> host(static_cast<size_t>(count));
  backend.download(device, host.data(), host.size() * sizeof(float));
  return host;
}

double max_relative_difference(const std::vector<float>& a, const std::vector<float>& b) {
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double scale = std::max(1e-3, std::abs(static_cast<double>(b[i])));
    worst = std::max(worst, std::abs(static_cast<double>(a[i]) - b[i]) / scale);
  }
  return worst;
}

int run(Communicator& world) {
  if (world.size() != 2) {
    std::fprintf(stderr, "run with mpirun -np 2\n");
    return 1;
  }
  auto backend = make_backend(DeviceKind::kCpu, world.local_rank());
  const auto batch = make_global_batch();

  auto parallel = make_model(*backend, spec());
  auto& store = parallel->parameters();
  parallel->initialize(world.rank() == 0 ? kSeed : kSeed + 1);  // rank 1 differs until broadcast
  broadcast_parameters(world, *backend, store);
  auto reducer = backend->make_gradient_reducer(world, store.gradients(), store.parameter_count());
  forward_backward(*backend, *parallel, batch, world.rank(),
                   [&](int64_t offset, int64_t count) { reducer->mark_ready(offset, count); });
  reducer->finish();
  sgd_step(*backend, store);
  auto weights = download(*backend, store.weights(), store.parameter_count());

  // Both ranks must hold identical weights after the step.
  auto rank1_weights = weights;
  world.broadcast(rank1_weights.data(), rank1_weights.size() * sizeof(float), 1);
  int failures = 0;
  if (world.rank() == 0 && rank1_weights != weights) {
    std::fprintf(stderr, "FAIL: ranks hold different weights after the step\n");
    ++failures;
  }
  if (world.rank() != 0) return 0;

  auto single = make_model(*backend, spec());
  auto& reference = single->parameters();
  single->initialize(kSeed);
  const auto no_reducer = [](int64_t, int64_t) {};
  forward_backward(*backend, *single, batch, 0, no_reducer);
  auto accumulated = download(*backend, reference.gradients(), reference.parameter_count());
  forward_backward(*backend, *single, batch, 1, no_reducer);
  const auto second = download(*backend, reference.gradients(), reference.parameter_count());
  for (size_t i = 0; i < accumulated.size(); ++i) accumulated[i] = (accumulated[i] + second[i]) / 2;
  backend->upload(accumulated.data(), reference.gradients(), accumulated.size() * sizeof(float));
  sgd_step(*backend, reference);
  const auto expected = download(*backend, reference.weights(), reference.parameter_count());

  const double difference = max_relative_difference(weights, expected);
  std::printf("data-parallel step vs micro-batches: %zu weights, max relative difference %.3g\n",
              weights.size(), difference);
  if (!(difference < 1e-5)) {
    std::fprintf(stderr, "FAIL: the data-parallel update differs from the micro-batch one\n");
    ++failures;
  }
  std::printf("%d passed, %d failed\n", 2 - failures, failures);
  return failures == 0 ? 0 : 1;
}

}  // namespace
}  // namespace kubetrain

int main(int argc, char** argv) {
  auto world = kubetrain::make_world_communicator(&argc, &argv);
  const int status = kubetrain::run(*world);
  std::vector<int64_t> worst{status};
  world->allreduce_max(worst);
  return static_cast<int>(worst[0]);
}

#include "worker/train/parameter_broadcast.h"

#include <vector>

namespace kubetrain {
namespace {

void broadcast_device_floats(Communicator& communicator, Backend& backend, float* device,
                             int64_t count) {
  std::vector<float> host(static_cast<size_t>(count));
  const size_t bytes = host.size() * sizeof(float);
  if (communicator.rank() == 0) backend.download(device, host.data(), bytes);
  communicator.broadcast(host.data(), bytes, 0);
  if (communicator.rank() != 0) backend.upload(host.data(), device, bytes);
}

}  // namespace

void broadcast_parameters(Communicator& communicator, Backend& backend, ParameterStore& store) {
  if (communicator.size() == 1) return;
  broadcast_device_floats(communicator, backend, store.weights(), store.parameter_count());
  broadcast_device_floats(communicator, backend, store.momentum(), store.parameter_count());
  broadcast_device_floats(communicator, backend, store.running_stats(), store.buffer_count());
  store.sync_compute_weights();
  backend.synchronize();
}

}  // namespace kubetrain

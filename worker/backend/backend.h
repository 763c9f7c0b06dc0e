#pragma once

// The compute interface that models, data and the training loop are written against. The CPU
// backend (oneDNN, worker/backends/cpu) and the CUDA backend (cuDNN, cuBLAS, NCCL,
// worker/backends/cuda) implement it; nothing above this line knows which one runs.

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>

#include "worker/backend/operators.h"
#include "worker/backend/tensor.h"

namespace kubetrain {

class Communicator;
class GradientReducer;
class HostWaits;

enum class DeviceKind { kCpu, kCuda };

// Memory owned by a backend: device memory for CUDA, aligned host memory for the CPU.
class DeviceBuffer {
 public:
  virtual ~DeviceBuffer() = default;
  virtual void* data() = 0;
  virtual size_t bytes() const = 0;

  template <typename T>
  T* as() { return static_cast<T*>(data()); }
};

// One run of parameters inside the flat parameter buffers (see worker/model/parameter_store.h).
struct ParameterSegment {
  int64_t offset;      // in elements
  int64_t count;
  bool weight_decay;   // false for BatchNorm parameters and biases
};

// Work on a backend's stream recorded once and then replayed as a whole (a CUDA graph): one launch
// instead of hundreds, with the device pointers and arguments it was recorded with.
class RecordedWork {
 public:
  virtual ~RecordedWork() = default;
  // Enqueues the recorded work. Returns false, enqueuing nothing, when memory the recording used
  // has been replaced since: record it again.
  virtual bool replay() = 0;
  // Operations in the recording (for logs).
  virtual size_t operations() const = 0;
};

// SGD with momentum, PyTorch's torch.optim.SGD semantics (dampening 0):
//   g = grad * gradient_scale + weight_decay * w   (decay only on segments that ask for it)
//   m = momentum * m + g
//   w -= learning_rate * (nesterov ? g + momentum * m : m)
struct SgdHyperparameters {
  float learning_rate;
  float momentum;
  float weight_decay;
  bool nesterov;
  float gradient_scale;  // 1 / loss scale
};

class Backend {
 public:
  virtual ~Backend() = default;

  virtual DeviceKind kind() const = 0;
  // For logs: library versions, device name, ISA or compute capability, TF32 state.
  virtual std::string description() const = 0;
  virtual bool supports(DataType type) const = 0;

  // ---- memory -------------------------------------------------------------------------------
  // Zero-initialised device memory.
  virtual std::unique_ptr<DeviceBuffer> allocate(size_t bytes) = 0;
  // Host memory the backend copies from fastest (pinned on CUDA).
  virtual std::unique_ptr<DeviceBuffer> allocate_host(size_t bytes) = 0;
  // Ordered before every later operation on the stream; `host` may be reused once upload returns
  // unless it came from allocate_host, in which case it must stay untouched until synchronize()
  // or wait_for() a mark() made after the upload.
  virtual void upload(const void* host, void* device, size_t bytes) = 0;
  // Waits for the stream, then copies.
  virtual void download(const void* device, void* host, size_t bytes) = 0;
  virtual void copy(const void* from, void* to, size_t bytes) = 0;
  virtual void fill_zero(void* device, size_t bytes) = 0;
  // Waits until every operation issued so far has finished.
  virtual void synchronize() = 0;
  // A point in the stream: everything issued before mark() returned it. wait_for(point) blocks
  // until that much has finished, no more: how a producer learns that an upload has read the
  // pinned memory it wants to fill again, without waiting for the whole stream.
  virtual uint64_t mark() = 0;
  virtual void wait_for(uint64_t point) = 0;

  // ---- planned operators --------------------------------------------------------------------
  virtual std::unique_ptr<Convolution> make_convolution(const ConvolutionSpec& spec) = 0;
  virtual std::unique_ptr<BatchNorm> make_batch_norm(const BatchNormSpec& spec) = 0;
  virtual std::unique_ptr<Pooling> make_pooling(const PoolingSpec& spec) = 0;
  virtual std::unique_ptr<Linear> make_linear(const LinearSpec& spec) = 0;
  virtual std::unique_ptr<SoftmaxCrossEntropy> make_softmax_cross_entropy(
      const SoftmaxCrossEntropySpec& spec) = 0;

  // ---- element-wise -------------------------------------------------------------------------
  // y += x, both of `type`.
  virtual void add_inplace(DataType type, const void* x, void* y, int64_t count) = 0;
  // Converts between element types (also fp32 -> fp32, a copy).
  virtual void cast(DataType from, const void* x, DataType to, void* y, int64_t count) = 0;
  // Standard-normal values times `stddev` plus `mean`, from a counter-based generator keyed by
  // `seed`: the same seed gives the same values on every call (synthetic data on the device).
  virtual void fill_normal(DataType type, void* y, int64_t count, float mean, float stddev,
                           uint64_t seed) = 0;
  // Waits, then tells whether all `count` fp32 values are finite (dynamic loss scaling).
  virtual bool all_finite(const float* x, int64_t count) = 0;

  // ---- optimizer ----------------------------------------------------------------------------
  // One SGD step over the given segments of the flat fp32 buffers.
  virtual void sgd_update(std::span<const ParameterSegment> segments, float* weights,
                          const float* gradients, float* momentum,
                          const SgdHyperparameters& hyper) = 0;

  // ---- recording ----------------------------------------------------------------------------
  // Records what `work` issues on the stream, and on streams that wait on it (the gradient
  // reducer's), without running any of it. Throws std::runtime_error when this backend cannot
  // record (the CPU backend) or `work` did something a recording cannot hold, such as waiting for
  // the device or allocating; nothing has run then either, though `work`'s host-side effects
  // (bookkeeping) have happened.
  virtual std::unique_ptr<RecordedWork> record(const std::function<void()>& work) {
    (void)work;
    throw std::runtime_error("this backend cannot record work for replay");
  }

  // ---- communication ------------------------------------------------------------------------
  // The reducer that averages the flat fp32 gradient buffer across `communicator`'s ranks:
  // MPI for host memory, NCCL for CUDA memory. Its blocking waits are marked in host_waits().
  virtual std::unique_ptr<GradientReducer> make_gradient_reducer(Communicator& communicator,
                                                                 float* gradients,
                                                                 int64_t count) = 0;
  // Where the host blocks on this backend's device or its reducer's collectives: the caller marks
  // its own collectives here too, and a watchdog reads it (worker/dist/collective_watchdog.h).
  virtual HostWaits& host_waits() = 0;
};

// Creates the backend for `kind`; throws std::runtime_error with the reason when the kind is not
// built in or no device is usable. `local_rank` picks the GPU; `allow_tf32` lets fp32
// convolutions and matrix products use TF32 tensor cores (GPUs only).
std::unique_ptr<Backend> make_backend(DeviceKind kind, int local_rank, bool allow_tf32 = false);
// Whether a CUDA device is present and the CUDA backend was built in.
bool cuda_available();

}  // namespace kubetrain

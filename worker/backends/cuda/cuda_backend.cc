#include "worker/backends/cuda/cuda_backend.h"

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>
#include <nccl.h>

#include <algorithm>
#include <deque>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "worker/backends/cuda/cublas_linear.h"
#include "worker/backends/cuda/cuda_check.h"
#include "worker/backends/cuda/cuda_context.h"
#include "worker/backends/cuda/cuda_graph.h"
#include "worker/backends/cuda/cudnn_batch_norm.h"
#include "worker/backends/cuda/cudnn_convolution.h"
#include "worker/backends/cuda/cudnn_pooling.h"
#include "worker/backends/cuda/device_memory.h"
#include "worker/backends/cuda/elementwise_kernels.h"
#include "worker/backends/cuda/nccl_gradient_reducer.h"
#include "worker/backends/cuda/pinned_memory.h"
#include "worker/backends/cuda/sgd_kernel.h"
#include "worker/backends/cuda/softmax_cross_entropy.h"

namespace kubetrain {
namespace {

using cuda::CudaContext;
using cuda::DeviceMemory;

// A DeviceBuffer over device (DeviceMemory) or pinned host (PinnedMemory) memory.
template <typename Memory>
class OwnedBuffer final : public DeviceBuffer {
 public:
  explicit OwnedBuffer(size_t bytes) : memory_(bytes) {}
  void* data() override { return memory_.data(); }
  size_t bytes() const override { return memory_.bytes(); }

 private:
  Memory memory_;
};

std::string version_string(int major, int minor, int patch) {
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
}

class CudaBackend final : public Backend {
 public:
  CudaBackend(int device, bool allow_tf32)
      : context_(device, allow_tf32),
        non_finite_flag_(sizeof(int)),
        non_finite_host_(sizeof(int)) {
    cudaDeviceProp properties{};
    KUBETRAIN_CUDA_CHECK(cudaGetDeviceProperties(&properties, device));
    compute_capability_ = properties.major * 10 + properties.minor;
    device_name_ = properties.name;
  }

  // Buffers owned here are freed before the context; nothing queued may still use them.
  ~CudaBackend() override {
    cudaStreamSynchronize(context_.stream());
    for (const auto& [point, event] : marks_) cudaEventDestroy(event);
    for (cudaEvent_t event : spare_events_) cudaEventDestroy(event);
  }

  DeviceKind kind() const override { return DeviceKind::kCuda; }

  std::string description() const override {
    int runtime = 0;
    int driver = 0;
    cudaRuntimeGetVersion(&runtime);
    cudaDriverGetVersion(&driver);
    int cublas = 0;
    cublasGetVersion(context_.cublas(), &cublas);
    int nccl = 0;
    ncclGetVersion(&nccl);
    const size_t cudnn = cudnnGetVersion();
    return "CUDA device " + std::to_string(context_.device()) + " (" + device_name_ +
           ", compute capability " + std::to_string(compute_capability_ / 10) + "." +
           std::to_string(compute_capability_ % 10) + "), CUDA runtime " +
           version_string(runtime / 1000, runtime % 1000 / 10, 0) + ", driver " +
           version_string(driver / 1000, driver % 1000 / 10, 0) + ", cuDNN " +
           version_string(static_cast<int>(cudnn / 10000), static_cast<int>(cudnn % 10000 / 100),
                          static_cast<int>(cudnn % 100)) +
           ", cuBLAS " +
           version_string(cublas / 10000, cublas % 10000 / 100, cublas % 100) + ", NCCL " +
           version_string(nccl / 10000, nccl % 10000 / 100, nccl % 100) + ", TF32 " +
           (context_.allow_tf32() ? "on" : "off");
  }

  // Tensor cores for fp16 and bf16 need sm_80 or newer (the build targets sm_90 anyway).
  bool supports(DataType type) const override {
    return type == DataType::kFloat32 || compute_capability_ >= 80;
  }

  // ---- memory -----------------------------------------------------------------------------

  std::unique_ptr<DeviceBuffer> allocate(size_t bytes) override {
    KUBETRAIN_CUDA_CHECK(cudaSetDevice(context_.device()));
    auto buffer = std::make_unique<OwnedBuffer<DeviceMemory>>(bytes);
    fill_zero(buffer->data(), bytes);
    return buffer;
  }

  std::unique_ptr<DeviceBuffer> allocate_host(size_t bytes) override {
    KUBETRAIN_CUDA_CHECK(cudaSetDevice(context_.device()));
    return std::make_unique<OwnedBuffer<cuda::PinnedMemory>>(bytes);
  }

  void upload(const void* host, void* device, size_t bytes) override {
    KUBETRAIN_CUDA_CHECK(cudaSetDevice(context_.device()));
    KUBETRAIN_CUDA_CHECK(
        cudaMemcpyAsync(device, host, bytes, cudaMemcpyHostToDevice, context_.stream()));
    // Pinned memory is read by the DMA engine later (the caller keeps it until synchronize());
    // pageable memory may be reused as soon as we return, so wait for the copy.
    if (!is_pinned(host)) wait_for_stream("the GPU stream to finish an upload");
  }

  void download(const void* device, void* host, size_t bytes) override {
    KUBETRAIN_CUDA_CHECK(cudaSetDevice(context_.device()));
    KUBETRAIN_CUDA_CHECK(
        cudaMemcpyAsync(host, device, bytes, cudaMemcpyDeviceToHost, context_.stream()));
    wait_for_stream("the GPU stream to finish a download");
  }

  void copy(const void* from, void* to, size_t bytes) override {
    KUBETRAIN_CUDA_CHECK(
        cudaMemcpyAsync(to, from, bytes, cudaMemcpyDeviceToDevice, context_.stream()));
  }

  void fill_zero(void* device, size_t bytes) override {
    KUBETRAIN_CUDA_CHECK(cudaMemsetAsync(device, 0, bytes, context_.stream()));
  }

  void synchronize() override { wait_for_stream("the GPU stream to finish its work"); }

  uint64_t mark() override {
    cudaEvent_t event = nullptr;
    if (spare_events_.empty()) {
      KUBETRAIN_CUDA_CHECK(cudaEventCreateWithFlags(&event, cudaEventDisableTiming));
    } else {
      event = spare_events_.back();
      spare_events_.pop_back();
    }
    KUBETRAIN_CUDA_CHECK(cudaEventRecord(event, context_.stream()));
    marks_.emplace_back(++last_mark_, event);
    return last_mark_;
  }

  void wait_for(uint64_t point) override {
    // Marks complete in stream order: waiting on each one up to `point` costs no more than
    // waiting on the last, and frees them all for reuse.
    const auto waiting = context_.host_waits().enter(
        "the GPU stream to finish earlier work (a step and its allreduce)");
    while (!marks_.empty() && marks_.front().first <= point) {
      const cudaEvent_t event = marks_.front().second;
      KUBETRAIN_CUDA_CHECK(cudaEventSynchronize(event));
      marks_.pop_front();
      spare_events_.push_back(event);
    }
  }

  // ---- planned operators ------------------------------------------------------------------

  std::unique_ptr<Convolution> make_convolution(const ConvolutionSpec& spec) override {
    require_supported(spec.dtype);
    return cuda::make_cudnn_convolution(context_, spec);
  }
  std::unique_ptr<BatchNorm> make_batch_norm(const BatchNormSpec& spec) override {
    require_supported(spec.dtype);
    return cuda::make_cudnn_batch_norm(context_, spec);
  }
  std::unique_ptr<Pooling> make_pooling(const PoolingSpec& spec) override {
    require_supported(spec.dtype);
    return cuda::make_cudnn_pooling(context_, spec);
  }
  std::unique_ptr<Linear> make_linear(const LinearSpec& spec) override {
    require_supported(spec.dtype);
    return cuda::make_cublas_linear(context_, spec);
  }
  std::unique_ptr<SoftmaxCrossEntropy> make_softmax_cross_entropy(
      const SoftmaxCrossEntropySpec& spec) override {
    require_supported(spec.dtype);
    return cuda::make_cuda_softmax_cross_entropy(context_, spec);
  }

  // ---- element-wise -----------------------------------------------------------------------

  void add_inplace(DataType type, const void* x, void* y, int64_t count) override {
    cuda::launch_add_inplace(type, x, y, count, context_.stream());
  }

  void cast(DataType from, const void* x, DataType to, void* y, int64_t count) override {
    cuda::launch_cast(from, x, to, y, count, context_.stream());
  }

  void fill_normal(DataType type, void* y, int64_t count, float mean, float stddev,
                   uint64_t seed) override {
    cuda::launch_fill_normal(type, y, count, mean, stddev, seed, context_.stream());
  }

  bool all_finite(const float* x, int64_t count) override {
    int* flag = non_finite_flag_.as<int>();
    KUBETRAIN_CUDA_CHECK(cudaMemsetAsync(flag, 0, sizeof(int), context_.stream()));
    cuda::launch_find_non_finite(x, count, flag, context_.stream());
    int* host = static_cast<int*>(non_finite_host_.data());
    KUBETRAIN_CUDA_CHECK(
        cudaMemcpyAsync(host, flag, sizeof(int), cudaMemcpyDeviceToHost, context_.stream()));
    wait_for_stream("the GPU stream to finish the loss-scale check");
    return *host == 0;
  }

  // ---- optimizer --------------------------------------------------------------------------

  void sgd_update(std::span<const ParameterSegment> segments, float* weights,
                  const float* gradients, float* momentum,
                  const SgdHyperparameters& hyper) override {
    upload_segment_table(segments);
    cuda::launch_sgd_update(sgd_table_.as<cuda::SgdSegment>(), sgd_rows_, sgd_blocks_, weights,
                            gradients, momentum, hyper, context_.stream());
  }

  // ---- recording --------------------------------------------------------------------------

  std::unique_ptr<RecordedWork> record(const std::function<void()>& work) override {
    KUBETRAIN_CUDA_CHECK(cudaSetDevice(context_.device()));
    return cuda::record_cuda_graph(context_, work);
  }

  // ---- communication ----------------------------------------------------------------------

  std::unique_ptr<GradientReducer> make_gradient_reducer(Communicator& communicator,
                                                         float* gradients,
                                                         int64_t count) override {
    return cuda::make_nccl_gradient_reducer(communicator, context_, gradients, count,
                                            cuda::kNcclBucketBytes / int64_t{sizeof(float)});
  }

  HostWaits& host_waits() override { return context_.host_waits(); }

 private:
  // Blocks until the stream has drained, marked in host_waits() for the collective watchdog: the
  // stream may be held up behind an allreduce that never ends.
  void wait_for_stream(const char* what) {
    const auto waiting = context_.host_waits().enter(what);
    KUBETRAIN_CUDA_CHECK(cudaStreamSynchronize(context_.stream()));
  }

  void require_supported(DataType type) const {
    if (!supports(type)) {
      throw std::invalid_argument("precision " + std::string(to_string(type)) +
                                  " needs compute capability 8.0 or newer; " + device_name_ +
                                  " has " + std::to_string(compute_capability_ / 10) + "." +
                                  std::to_string(compute_capability_ % 10));
    }
  }

  static bool is_pinned(const void* host) {
    cudaPointerAttributes attributes{};
    if (cudaPointerGetAttributes(&attributes, host) != cudaSuccess) {
      cudaGetLastError();  // an unregistered pointer is not an error worth keeping
      return false;
    }
    return attributes.type == cudaMemoryTypeHost;
  }

  // The segments rarely change (once per model); the device table is rebuilt only when they do.
  void upload_segment_table(std::span<const ParameterSegment> segments) {
    const bool same = segments.size() == sgd_segments_.size() &&
                      std::equal(segments.begin(), segments.end(), sgd_segments_.begin(),
                                 [](const ParameterSegment& a, const ParameterSegment& b) {
                                   return a.offset == b.offset && a.count == b.count &&
                                          a.weight_decay == b.weight_decay;
                                 });
    if (same && !sgd_segments_.empty()) return;
    std::vector<cuda::SgdSegment> table;
    int64_t blocks = 0;
    for (const auto& segment : segments) {
      if (segment.offset < 0 || segment.count < 0) {
        throw std::invalid_argument("sgd_update: segment offset " +
                                    std::to_string(segment.offset) + " and count " +
                                    std::to_string(segment.count) + " must not be negative");
      }
      if (segment.count == 0) continue;
      table.push_back({segment.offset, segment.count, blocks, segment.weight_decay ? 1 : 0});
      blocks += (segment.count + cuda::kSgdElementsPerBlock - 1) / cuda::kSgdElementsPerBlock;
    }
    DeviceMemory device_table(std::max<size_t>(table.size(), 1) * sizeof(cuda::SgdSegment));
    if (!table.empty()) {
      // Pageable source: upload() waits for the copy, so `table` may go away afterwards.
      upload(table.data(), device_table.data(), table.size() * sizeof(cuda::SgdSegment));
    }
    // The old table may still be read by a queued update.
    synchronize();
    sgd_table_ = std::move(device_table);
    sgd_rows_ = static_cast<int>(table.size());
    sgd_blocks_ = blocks;
    sgd_segments_.assign(segments.begin(), segments.end());
  }

  CudaContext context_;
  int compute_capability_ = 0;
  std::string device_name_;
  DeviceMemory non_finite_flag_;
  cuda::PinnedMemory non_finite_host_;
  std::deque<std::pair<uint64_t, cudaEvent_t>> marks_;  // recorded, not yet waited for
  std::vector<cudaEvent_t> spare_events_;
  uint64_t last_mark_ = 0;
  std::vector<ParameterSegment> sgd_segments_;
  DeviceMemory sgd_table_;
  int sgd_rows_ = 0;
  int64_t sgd_blocks_ = 0;
};

}  // namespace

std::unique_ptr<Backend> make_cuda_backend(int device, bool allow_tf32) {
  const int count = cuda_device_count();
  if (device < 0 || device >= count) {
    throw std::runtime_error("CUDA device " + std::to_string(device) + " is not available (" +
                             std::to_string(count) + " CUDA device(s) visible)");
  }
  return std::make_unique<CudaBackend>(device, allow_tf32);
}

int cuda_device_count() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no driver" status
    return 0;
  }
  return count;
}

}  // namespace kubetrain

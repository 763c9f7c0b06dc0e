#include "worker/backends/cpu/cpu_backend.h"

#include <omp.h>

#include <cstdlib>
#include <cstring>
#include <oneapi/dnnl/dnnl.hpp>
#include <stdexcept>
#include <string>

#include "worker/backends/cpu/available_cores.h"
#include "worker/backends/cpu/cpu_batch_norm.h"
#include "worker/backends/cpu/cpu_convolution.h"
#include "worker/backends/cpu/cpu_elementwise.h"
#include "worker/backends/cpu/cpu_linear.h"
#include "worker/backends/cpu/cpu_pooling.h"
#include "worker/backends/cpu/cpu_sgd.h"
#include "worker/backends/cpu/cpu_softmax_cross_entropy.h"
#include "worker/backends/cpu/dnnl_context.h"
#include "worker/backends/cpu/fp32_only.h"
#include "worker/backends/cpu/host_buffer.h"
#include "worker/backends/cpu/normal_generator.h"
#include "worker/dist/host_gradient_reducer.h"

namespace kubetrain {
namespace {

std::string isa_name(dnnl::cpu_isa isa) {
  switch (isa) {
    case dnnl::cpu_isa::sse41:
      return "sse4.1";
    case dnnl::cpu_isa::avx:
      return "avx";
    case dnnl::cpu_isa::avx2:
      return "avx2";
    case dnnl::cpu_isa::avx512_mic:
      return "avx512_mic";
    case dnnl::cpu_isa::avx512_mic_4ops:
      return "avx512_mic_4ops";
    case dnnl::cpu_isa::avx512_core:
      return "avx512_core";
    case dnnl::cpu_isa::avx512_core_vnni:
      return "avx512_core_vnni";
    case dnnl::cpu_isa::avx512_core_bf16:
      return "avx512_core_bf16";
    case dnnl::cpu_isa::avx512_core_amx:
      return "avx512_core_amx";
    case dnnl::cpu_isa::avx2_vnni:
      return "avx2_vnni";
    default:
      return "isa " + std::to_string(static_cast<int>(isa));
  }
}

// oneDNN's OpenMP runtime honours OMP_NUM_THREADS; without it OpenMP would start one thread per
// online CPU, more than a CPU-limited container may use.
void choose_thread_count() {
  if (std::getenv("OMP_NUM_THREADS") == nullptr) omp_set_num_threads(available_cores());
}

class CpuBackend final : public Backend {
 public:
  CpuBackend() { choose_thread_count(); }

  DeviceKind kind() const override { return DeviceKind::kCpu; }

  std::string description() const override {
    const dnnl_version_t* version = dnnl::version();
    return "cpu (oneDNN " + std::to_string(version->major) + "." + std::to_string(version->minor) +
           "." + std::to_string(version->patch) + ", " + isa_name(dnnl::get_effective_cpu_isa()) +
           ", " + std::to_string(omp_get_max_threads()) + " threads)";
  }

  bool supports(DataType type) const override { return type == DataType::kFloat32; }

  std::unique_ptr<DeviceBuffer> allocate(size_t bytes) override {
    return std::make_unique<HostBuffer>(bytes);
  }
  std::unique_ptr<DeviceBuffer> allocate_host(size_t bytes) override {
    return std::make_unique<HostBuffer>(bytes);
  }
  void upload(const void* host, void* device, size_t bytes) override {
    std::memcpy(device, host, bytes);
  }
  void download(const void* device, void* host, size_t bytes) override {
    std::memcpy(host, device, bytes);
  }
  void copy(const void* from, void* to, size_t bytes) override { std::memcpy(to, from, bytes); }
  void fill_zero(void* device, size_t bytes) override { std::memset(device, 0, bytes); }
  // Every operation runs to completion before it returns (oneDNN's CPU stream is synchronous).
  void synchronize() override { context_.stream().wait(); }
  // Nothing is left running once a call returns.
  uint64_t mark() override { return 0; }
  void wait_for(uint64_t) override {}

  std::unique_ptr<Convolution> make_convolution(const ConvolutionSpec& spec) override {
    return make_cpu_convolution(context_, spec);
  }
  std::unique_ptr<BatchNorm> make_batch_norm(const BatchNormSpec& spec) override {
    return make_cpu_batch_norm(context_, spec);
  }
  std::unique_ptr<Pooling> make_pooling(const PoolingSpec& spec) override {
    return make_cpu_pooling(context_, spec);
  }
  std::unique_ptr<Linear> make_linear(const LinearSpec& spec) override {
    return make_cpu_linear(context_, spec);
  }
  std::unique_ptr<SoftmaxCrossEntropy> make_softmax_cross_entropy(
      const SoftmaxCrossEntropySpec& spec) override {
    return make_cpu_softmax_cross_entropy(spec);
  }

  void add_inplace(DataType type, const void* x, void* y, int64_t count) override {
    require_fp32(type, "add_inplace");
    cpu_add_inplace(static_cast<const float*>(x), static_cast<float*>(y), count);
  }

  void cast(DataType from, const void* x, DataType to, void* y, int64_t count) override {
    require_fp32(from, "cast from");
    require_fp32(to, "cast to");
    std::memcpy(y, x, static_cast<size_t>(count) * sizeof(float));
  }

  void fill_normal(DataType type, void* y, int64_t count, float mean, float stddev,
                   uint64_t seed) override {
    require_fp32(type, "fill_normal");
    fill_normal_f32(static_cast<float*>(y), count, mean, stddev, seed);
  }

  bool all_finite(const float* x, int64_t count) override { return cpu_all_finite(x, count); }

  void sgd_update(std::span<const ParameterSegment> segments, float* weights,
                  const float* gradients, float* momentum,
                  const SgdHyperparameters& hyper) override {
    cpu_sgd_update(segments, weights, gradients, momentum, hyper);
  }

  std::unique_ptr<GradientReducer> make_gradient_reducer(Communicator& communicator,
                                                         float* gradients, int64_t count) override {
    return make_host_gradient_reducer(communicator, gradients, count, kHostBucketBytes / 4,
                                      host_waits_);
  }

  HostWaits& host_waits() override { return host_waits_; }

 private:
  DnnlContext context_;
  HostWaits host_waits_;
};

}  // namespace

std::unique_ptr<Backend> make_cpu_backend() { return std::make_unique<CpuBackend>(); }

}  // namespace kubetrain

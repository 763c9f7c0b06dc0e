#include "worker/backends/cuda/cudnn_convolution.h"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "worker/backends/cuda/cuda_check.h"
#include "worker/backends/cuda/cudnn_descriptors.h"
#include "worker/backends/cuda/device_memory.h"
#include "worker/backends/cuda/elementwise_kernels.h"

namespace kubetrain::cuda {
namespace {

// The most workspace an algorithm may use; the search itself runs inside it.
constexpr size_t kSearchWorkspaceBytes = size_t{512} << 20;

// Tensor cores for 16-bit data; for fp32 either TF32 (default math) or exact FMA math.
cudnnMathType_t requested_math(DataType type, bool allow_tf32) {
  if (type != DataType::kFloat32) return CUDNN_TENSOR_OP_MATH;
  return allow_tf32 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH;
}

struct Choice {
  int algo = -1;
  cudnnMathType_t math = CUDNN_DEFAULT_MATH;
  size_t workspace = 0;
};

// Times every algorithm of one direction with `find(requested, &returned, results)` and keeps the
// fastest successful one whose math type honours the request (exact fp32 must not fall back to
// TF32); `workspace_of(algo, &bytes)` confirms it with the descriptor set to that math type.
template <typename Perf, typename Find, typename WorkspaceOf>
Choice search(int max_count, cudnnConvolutionDescriptor_t conv, DataType type, bool allow_tf32,
              Find find, WorkspaceOf workspace_of, const char* direction) {
  std::vector<Perf> results(std::max(max_count, 1));
  int returned = 0;
  KUBETRAIN_CUDA_CHECK(cudnnSetConvolutionMathType(conv, requested_math(type, allow_tf32)));
  KUBETRAIN_CUDA_CHECK(find(static_cast<int>(results.size()), &returned, results.data()));
  const bool exact_fp32 = type == DataType::kFloat32 && !allow_tf32;
  for (int i = 0; i < returned; ++i) {
    const Perf& perf = results[i];
    if (perf.status != CUDNN_STATUS_SUCCESS) continue;
    const cudnnMathType_t math = exact_fp32 ? CUDNN_FMA_MATH : perf.mathType;
    KUBETRAIN_CUDA_CHECK(cudnnSetConvolutionMathType(conv, math));
    size_t bytes = 0;
    if (workspace_of(perf.algo, &bytes) != CUDNN_STATUS_SUCCESS) continue;
    if (bytes > kSearchWorkspaceBytes) continue;
    return {static_cast<int>(perf.algo), math, bytes};
  }
  throw std::runtime_error(std::string("cuDNN found no usable ") + direction +
                           " convolution algorithm for this shape and data type");
}

class CudnnConvolution final : public Convolution {
 public:
  CudnnConvolution(CudaContext& context, const ConvolutionSpec& spec)
      : context_(context),
        spec_(spec),
        x_desc_(tensor_descriptor(spec.input, spec.format, spec.dtype)),
        y_desc_(tensor_descriptor(spec.output(), spec.format, spec.dtype)),
        w_desc_(filter_descriptor(spec.weight(), spec.format, spec.dtype)),
        conv_(convolution_descriptor(spec.padding, spec.stride)) {
    KUBETRAIN_CUDA_CHECK(
        cudnnSetConvolutionMathType(conv_.get(), requested_math(spec.dtype, context.allow_tf32())));
    if (spec.dtype != DataType::kFloat32) {
      // cuDNN writes the weight gradient in the data type; it is widened to fp32 afterwards.
      dw_compute_ = DeviceMemory(spec.weight().elements() * size_of(spec.dtype));
    }
    find_algorithms();
  }

  void forward(const void* x, const void* w, void* y) override {
    const float alpha = 1.0f;
    const float beta = 0.0f;
    KUBETRAIN_CUDA_CHECK(cudnnSetConvolutionMathType(conv_.get(), forward_.math));
    KUBETRAIN_CUDA_CHECK(cudnnConvolutionForward(
        context_.cudnn(), &alpha, x_desc_.get(), x, w_desc_.get(), w, conv_.get(),
        static_cast<cudnnConvolutionFwdAlgo_t>(forward_.algo), context_.workspace(),
        forward_.workspace, &beta, y_desc_.get(), y));
  }

  void backward_data(const void* dy, const void* w, void* dx) override {
    const float alpha = 1.0f;
    const float beta = 0.0f;
    KUBETRAIN_CUDA_CHECK(cudnnSetConvolutionMathType(conv_.get(), backward_data_.math));
    KUBETRAIN_CUDA_CHECK(cudnnConvolutionBackwardData(
        context_.cudnn(), &alpha, w_desc_.get(), w, y_desc_.get(), dy, conv_.get(),
        static_cast<cudnnConvolutionBwdDataAlgo_t>(backward_data_.algo), context_.workspace(),
        backward_data_.workspace, &beta, x_desc_.get(), dx));
  }

  void backward_weights(const void* x, const void* dy, float* dw) override {
    const float alpha = 1.0f;
    const float beta = 0.0f;
    void* target = spec_.dtype == DataType::kFloat32 ? static_cast<void*>(dw) : dw_compute_.data();
    KUBETRAIN_CUDA_CHECK(cudnnSetConvolutionMathType(conv_.get(), backward_filter_.math));
    KUBETRAIN_CUDA_CHECK(cudnnConvolutionBackwardFilter(
        context_.cudnn(), &alpha, x_desc_.get(), x, y_desc_.get(), dy, conv_.get(),
        static_cast<cudnnConvolutionBwdFilterAlgo_t>(backward_filter_.algo),
        context_.workspace(), backward_filter_.workspace, &beta, w_desc_.get(), target));
    if (spec_.dtype != DataType::kFloat32) {
      launch_cast(spec_.dtype, dw_compute_.data(), DataType::kFloat32, dw,
                  spec_.weight().elements(), context_.stream());
    }
  }

 private:
  // Times every algorithm on scratch tensors (their contents do not matter).
  void find_algorithms() {
    context_.reserve_workspace(kSearchWorkspaceBytes);
    const size_t element = size_of(spec_.dtype);
    DeviceMemory x(spec_.input.elements() * element);
    DeviceMemory y(spec_.output().elements() * element);
    DeviceMemory w(spec_.weight().elements() * element);
    for (DeviceMemory* scratch : {&x, &y, &w}) {
      KUBETRAIN_CUDA_CHECK(cudaMemsetAsync(scratch->data(), 0, scratch->bytes(), context_.stream()));
    }
    cudnnHandle_t handle = context_.cudnn();
    cudnnConvolutionDescriptor_t conv = conv_.get();
    const DataType type = spec_.dtype;
    const bool tf32 = context_.allow_tf32();
    void* workspace = context_.workspace();
    int max_count = 0;

    KUBETRAIN_CUDA_CHECK(cudnnGetConvolutionForwardAlgorithmMaxCount(handle, &max_count));
    forward_ = search<cudnnConvolutionFwdAlgoPerf_t>(
        max_count, conv, type, tf32,
        [&](int requested, int* returned, cudnnConvolutionFwdAlgoPerf_t* results) {
          return cudnnFindConvolutionForwardAlgorithmEx(
              handle, x_desc_.get(), x.data(), w_desc_.get(), w.data(), conv, y_desc_.get(),
              y.data(), requested, returned, results, workspace, kSearchWorkspaceBytes);
        },
        [&](cudnnConvolutionFwdAlgo_t algo, size_t* bytes) {
          return cudnnGetConvolutionForwardWorkspaceSize(handle, x_desc_.get(), w_desc_.get(),
                                                         conv, y_desc_.get(), algo, bytes);
        },
        "forward");

    KUBETRAIN_CUDA_CHECK(cudnnGetConvolutionBackwardDataAlgorithmMaxCount(handle, &max_count));
    backward_data_ = search<cudnnConvolutionBwdDataAlgoPerf_t>(
        max_count, conv, type, tf32,
        [&](int requested, int* returned, cudnnConvolutionBwdDataAlgoPerf_t* results) {
          return cudnnFindConvolutionBackwardDataAlgorithmEx(
              handle, w_desc_.get(), w.data(), y_desc_.get(), y.data(), conv, x_desc_.get(),
              x.data(), requested, returned, results, workspace, kSearchWorkspaceBytes);
        },
        [&](cudnnConvolutionBwdDataAlgo_t algo, size_t* bytes) {
          return cudnnGetConvolutionBackwardDataWorkspaceSize(
              handle, w_desc_.get(), y_desc_.get(), conv, x_desc_.get(), algo, bytes);
        },
        "backward-data");

    KUBETRAIN_CUDA_CHECK(cudnnGetConvolutionBackwardFilterAlgorithmMaxCount(handle, &max_count));
    backward_filter_ = search<cudnnConvolutionBwdFilterAlgoPerf_t>(
        max_count, conv, type, tf32,
        [&](int requested, int* returned, cudnnConvolutionBwdFilterAlgoPerf_t* results) {
          return cudnnFindConvolutionBackwardFilterAlgorithmEx(
              handle, x_desc_.get(), x.data(), y_desc_.get(), y.data(), conv, w_desc_.get(),
              w.data(), requested, returned, results, workspace, kSearchWorkspaceBytes);
        },
        [&](cudnnConvolutionBwdFilterAlgo_t algo, size_t* bytes) {
          return cudnnGetConvolutionBackwardFilterWorkspaceSize(
              handle, x_desc_.get(), y_desc_.get(), conv, w_desc_.get(), algo, bytes);
        },
        "backward-filter");
    // The scratch tensors are freed when this returns; the search must be over by then.
    KUBETRAIN_CUDA_CHECK(cudaStreamSynchronize(context_.stream()));
  }

  CudaContext& context_;
  ConvolutionSpec spec_;
  TensorDescriptor x_desc_;
  TensorDescriptor y_desc_;
  FilterDescriptor w_desc_;
  ConvolutionDescriptor conv_;
  DeviceMemory dw_compute_;
  Choice forward_;
  Choice backward_data_;
  Choice backward_filter_;
};

void validate(const ConvolutionSpec& spec) {
  const auto out = spec.output();
  if (spec.input.elements() <= 0 || spec.out_channels <= 0 || spec.kernel <= 0 ||
      spec.stride <= 0 || spec.padding < 0 || out.h <= 0 || out.w <= 0) {
    throw std::invalid_argument(
        "convolution: input " + std::to_string(spec.input.n) + "x" +
        std::to_string(spec.input.c) + "x" + std::to_string(spec.input.h) + "x" +
        std::to_string(spec.input.w) + ", out_channels " + std::to_string(spec.out_channels) +
        ", kernel " + std::to_string(spec.kernel) + ", stride " + std::to_string(spec.stride) +
        ", padding " + std::to_string(spec.padding) +
        " do not give a valid convolution (all sizes positive, padding >= 0)");
  }
}

}  // namespace

std::unique_ptr<Convolution> make_cudnn_convolution(CudaContext& context,
                                                    const ConvolutionSpec& spec) {
  validate(spec);
  return std::make_unique<CudnnConvolution>(context, spec);
}

}  // namespace kubetrain::cuda

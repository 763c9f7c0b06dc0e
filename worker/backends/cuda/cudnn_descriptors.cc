#include "worker/backends/cuda/cudnn_descriptors.h"

#include <limits>
#include <stdexcept>
#include <string>

#include "worker/backends/cuda/cuda_check.h"

namespace kubetrain::cuda {
namespace {

// cuDNN's legacy descriptors take int dimensions.
int to_int(int64_t value, const char* what) {
  if (value <= 0 || value > std::numeric_limits<int>::max()) {
    throw std::invalid_argument(std::string("cuDNN descriptor: ") + what + " " +
                                std::to_string(value) + " is not a positive 32-bit integer");
  }
  return static_cast<int>(value);
}

}  // namespace

cudnnDataType_t cudnn_data_type(DataType type) {
  switch (type) {
    case DataType::kFloat32: return CUDNN_DATA_FLOAT;
    case DataType::kFloat16: return CUDNN_DATA_HALF;
    case DataType::kBFloat16: return CUDNN_DATA_BFLOAT16;
  }
  throw std::invalid_argument("unknown DataType");
}

cudnnTensorFormat_t cudnn_format(MemoryFormat format) {
  return format == MemoryFormat::kChannelsLast ? CUDNN_TENSOR_NHWC : CUDNN_TENSOR_NCHW;
}

TensorDescriptor::TensorDescriptor() { KUBETRAIN_CUDA_CHECK(cudnnCreateTensorDescriptor(&desc_)); }

TensorDescriptor::TensorDescriptor(const Shape4& shape, MemoryFormat format, DataType type)
    : TensorDescriptor() {
  try {
    KUBETRAIN_CUDA_CHECK(cudnnSetTensor4dDescriptor(
        desc_, cudnn_format(format), cudnn_data_type(type), to_int(shape.n, "n"),
        to_int(shape.c, "c"), to_int(shape.h, "h"), to_int(shape.w, "w")));
  } catch (...) {
    cudnnDestroyTensorDescriptor(desc_);
    throw;
  }
}

TensorDescriptor::~TensorDescriptor() { cudnnDestroyTensorDescriptor(desc_); }

FilterDescriptor::FilterDescriptor(const Shape4& shape, MemoryFormat format, DataType type) {
  KUBETRAIN_CUDA_CHECK(cudnnCreateFilterDescriptor(&desc_));
  try {
    KUBETRAIN_CUDA_CHECK(cudnnSetFilter4dDescriptor(
        desc_, cudnn_data_type(type), cudnn_format(format), to_int(shape.n, "k"),
        to_int(shape.c, "c"), to_int(shape.h, "r"), to_int(shape.w, "s")));
  } catch (...) {
    cudnnDestroyFilterDescriptor(desc_);
    throw;
  }
}

FilterDescriptor::~FilterDescriptor() { cudnnDestroyFilterDescriptor(desc_); }

ConvolutionDescriptor::ConvolutionDescriptor(int padding, int stride) {
  KUBETRAIN_CUDA_CHECK(cudnnCreateConvolutionDescriptor(&desc_));
  try {
    // fp16 and bf16 data accumulate in fp32 too ("pseudo half" configuration).
    KUBETRAIN_CUDA_CHECK(cudnnSetConvolution2dDescriptor(desc_, padding, padding, stride, stride,
                                                         1, 1, CUDNN_CROSS_CORRELATION,
                                                         CUDNN_DATA_FLOAT));
  } catch (...) {
    cudnnDestroyConvolutionDescriptor(desc_);
    throw;
  }
}

ConvolutionDescriptor::~ConvolutionDescriptor() { cudnnDestroyConvolutionDescriptor(desc_); }

PoolingDescriptor::PoolingDescriptor(cudnnPoolingMode_t mode, int window_h, int window_w,
                                     int padding, int stride_h, int stride_w) {
  KUBETRAIN_CUDA_CHECK(cudnnCreatePoolingDescriptor(&desc_));
  try {
    // NaN propagates like PyTorch's max_pool2d.
    KUBETRAIN_CUDA_CHECK(cudnnSetPooling2dDescriptor(desc_, mode, CUDNN_PROPAGATE_NAN, window_h,
                                                     window_w, padding, padding, stride_h,
                                                     stride_w));
  } catch (...) {
    cudnnDestroyPoolingDescriptor(desc_);
    throw;
  }
}

PoolingDescriptor::~PoolingDescriptor() { cudnnDestroyPoolingDescriptor(desc_); }

ReluDescriptor::ReluDescriptor() {
  KUBETRAIN_CUDA_CHECK(cudnnCreateActivationDescriptor(&desc_));
  try {
    KUBETRAIN_CUDA_CHECK(
        cudnnSetActivationDescriptor(desc_, CUDNN_ACTIVATION_RELU, CUDNN_PROPAGATE_NAN, 0.0));
  } catch (...) {
    cudnnDestroyActivationDescriptor(desc_);
    throw;
  }
}

ReluDescriptor::~ReluDescriptor() { cudnnDestroyActivationDescriptor(desc_); }

}  // namespace kubetrain::cuda

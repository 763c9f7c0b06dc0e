#include "worker/backends/cuda/cudnn_descriptors.h"

#include <limits>
#include <stdexcept>
#include <string>

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

TensorDescriptor tensor_descriptor(const Shape4& shape, MemoryFormat format, DataType type) {
  TensorDescriptor descriptor;
  KUBETRAIN_CUDA_CHECK(cudnnSetTensor4dDescriptor(
      descriptor.get(), cudnn_format(format), cudnn_data_type(type), to_int(shape.n, "n"),
      to_int(shape.c, "c"), to_int(shape.h, "h"), to_int(shape.w, "w")));
  return descriptor;
}

FilterDescriptor filter_descriptor(const Shape4& shape, MemoryFormat format, DataType type) {
  FilterDescriptor descriptor;
  KUBETRAIN_CUDA_CHECK(cudnnSetFilter4dDescriptor(
      descriptor.get(), cudnn_data_type(type), cudnn_format(format), to_int(shape.n, "k"),
      to_int(shape.c, "c"), to_int(shape.h, "r"), to_int(shape.w, "s")));
  return descriptor;
}

ConvolutionDescriptor convolution_descriptor(int padding, int stride) {
  ConvolutionDescriptor descriptor;
  // fp16 and bf16 data accumulate in fp32 too ("pseudo half" configuration).
  KUBETRAIN_CUDA_CHECK(cudnnSetConvolution2dDescriptor(descriptor.get(), padding, padding, stride,
                                                       stride, 1, 1, CUDNN_CROSS_CORRELATION,
                                                       CUDNN_DATA_FLOAT));
  return descriptor;
}

PoolingDescriptor pooling_descriptor(cudnnPoolingMode_t mode, int window_h, int window_w,
                                     int padding, int stride_h, int stride_w) {
  PoolingDescriptor descriptor;
  // NaN propagates like PyTorch's max_pool2d.
  KUBETRAIN_CUDA_CHECK(cudnnSetPooling2dDescriptor(descriptor.get(), mode, CUDNN_PROPAGATE_NAN,
                                                   window_h, window_w, padding, padding, stride_h,
                                                   stride_w));
  return descriptor;
}

ActivationDescriptor relu_descriptor() {
  ActivationDescriptor descriptor;
  KUBETRAIN_CUDA_CHECK(cudnnSetActivationDescriptor(descriptor.get(), CUDNN_ACTIVATION_RELU,
                                                    CUDNN_PROPAGATE_NAN, 0.0));
  return descriptor;
}

}  // namespace kubetrain::cuda

#pragma once

// Owning cuDNN descriptors, made ready by the functions below, and the mapping from our types to
// cuDNN's.

#include <utility>

#include <cudnn.h>

#include "worker/backend/tensor.h"
#include "worker/backends/cuda/cuda_check.h"

namespace kubetrain::cuda {

cudnnDataType_t cudnn_data_type(DataType type);
cudnnTensorFormat_t cudnn_format(MemoryFormat format);

// Owns one descriptor created by `Create` and released by `Destroy`. Moves, never copies.
template <typename Handle, cudnnStatus_t (*Create)(Handle*), cudnnStatus_t (*Destroy)(Handle)>
class Descriptor {
 public:
  Descriptor() { KUBETRAIN_CUDA_CHECK(Create(&handle_)); }
  ~Descriptor() {
    if (handle_ != nullptr) Destroy(handle_);
  }
  Descriptor(Descriptor&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
  Descriptor& operator=(Descriptor&& other) noexcept {
    std::swap(handle_, other.handle_);
    return *this;
  }
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;

  Handle get() const { return handle_; }

 private:
  Handle handle_ = nullptr;
};

using TensorDescriptor = Descriptor<cudnnTensorDescriptor_t, cudnnCreateTensorDescriptor,
                                    cudnnDestroyTensorDescriptor>;
using FilterDescriptor = Descriptor<cudnnFilterDescriptor_t, cudnnCreateFilterDescriptor,
                                    cudnnDestroyFilterDescriptor>;
using ConvolutionDescriptor =
    Descriptor<cudnnConvolutionDescriptor_t, cudnnCreateConvolutionDescriptor,
               cudnnDestroyConvolutionDescriptor>;
using PoolingDescriptor = Descriptor<cudnnPoolingDescriptor_t, cudnnCreatePoolingDescriptor,
                                     cudnnDestroyPoolingDescriptor>;
using ActivationDescriptor =
    Descriptor<cudnnActivationDescriptor_t, cudnnCreateActivationDescriptor,
               cudnnDestroyActivationDescriptor>;

// A dense 4-D tensor of `shape` in `format`.
TensorDescriptor tensor_descriptor(const Shape4& shape, MemoryFormat format, DataType type);
// Convolution weights [K, C, R, S]: KRSC for channels-last, KCRS for channels-first.
FilterDescriptor filter_descriptor(const Shape4& shape, MemoryFormat format, DataType type);
// Cross-correlation (what deep-learning frameworks call convolution) with fp32 accumulation.
ConvolutionDescriptor convolution_descriptor(int padding, int stride);
PoolingDescriptor pooling_descriptor(cudnnPoolingMode_t mode, int window_h, int window_w,
                                     int padding, int stride_h, int stride_w);
ActivationDescriptor relu_descriptor();

}  // namespace kubetrain::cuda

#pragma once

// Owning wrappers for cuDNN descriptors and the mapping from our types to cuDNN's.

#include <cudnn.h>

#include "worker/backend/tensor.h"

namespace kubetrain::cuda {

cudnnDataType_t cudnn_data_type(DataType type);
cudnnTensorFormat_t cudnn_format(MemoryFormat format);

// A dense 4-D tensor of `shape` in `format`.
class TensorDescriptor {
 public:
  TensorDescriptor();
  TensorDescriptor(const Shape4& shape, MemoryFormat format, DataType type);
  ~TensorDescriptor();
  TensorDescriptor(const TensorDescriptor&) = delete;
  TensorDescriptor& operator=(const TensorDescriptor&) = delete;
  cudnnTensorDescriptor_t get() const { return desc_; }

 private:
  cudnnTensorDescriptor_t desc_ = nullptr;
};

// Convolution weights [K, C, R, S]: KRSC for channels-last, KCRS for channels-first.
class FilterDescriptor {
 public:
  FilterDescriptor(const Shape4& shape, MemoryFormat format, DataType type);
  ~FilterDescriptor();
  FilterDescriptor(const FilterDescriptor&) = delete;
  FilterDescriptor& operator=(const FilterDescriptor&) = delete;
  cudnnFilterDescriptor_t get() const { return desc_; }

 private:
  cudnnFilterDescriptor_t desc_ = nullptr;
};

class ConvolutionDescriptor {
 public:
  // Cross-correlation (what deep-learning frameworks call convolution), fp32 accumulation.
  ConvolutionDescriptor(int padding, int stride);
  ~ConvolutionDescriptor();
  ConvolutionDescriptor(const ConvolutionDescriptor&) = delete;
  ConvolutionDescriptor& operator=(const ConvolutionDescriptor&) = delete;
  cudnnConvolutionDescriptor_t get() const { return desc_; }

 private:
  cudnnConvolutionDescriptor_t desc_ = nullptr;
};

class PoolingDescriptor {
 public:
  PoolingDescriptor(cudnnPoolingMode_t mode, int window_h, int window_w, int padding, int stride_h,
                    int stride_w);
  ~PoolingDescriptor();
  PoolingDescriptor(const PoolingDescriptor&) = delete;
  PoolingDescriptor& operator=(const PoolingDescriptor&) = delete;
  cudnnPoolingDescriptor_t get() const { return desc_; }

 private:
  cudnnPoolingDescriptor_t desc_ = nullptr;
};

class ReluDescriptor {
 public:
  ReluDescriptor();
  ~ReluDescriptor();
  ReluDescriptor(const ReluDescriptor&) = delete;
  ReluDescriptor& operator=(const ReluDescriptor&) = delete;
  cudnnActivationDescriptor_t get() const { return desc_; }

 private:
  cudnnActivationDescriptor_t desc_ = nullptr;
};

}  // namespace kubetrain::cuda

#include "worker/backends/cuda/cublas_linear.h"

#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "worker/backends/cuda/cuda_check.h"
#include "worker/backends/cuda/device_memory.h"
#include "worker/backends/cuda/elementwise_kernels.h"

namespace kubetrain::cuda {
namespace {

cudaDataType_t cuda_data_type(DataType type) {
  switch (type) {
    case DataType::kFloat32: return CUDA_R_32F;
    case DataType::kFloat16: return CUDA_R_16F;
    case DataType::kBFloat16: return CUDA_R_16BF;
  }
  throw std::invalid_argument("unknown DataType");
}

// Row-major [rows, cols] matrices are column-major [cols, rows] ones, so every product below is
// written for cuBLAS's column-major view:
//   forward        Y^T[out, N]  = W^T[out, in] * X^T[in, N]   (W stored [out, in] row-major)
//   backward_data  dX^T[in, N]  = W[in, out]   * dY^T[out, N]
//   backward_w     dW^T[in, out] = X^T[in, N]  * dY[N, out]
//   bias           db[out]      = dY^T[out, N] * ones[N]
class CublasLinear final : public Linear {
 public:
  CublasLinear(CudaContext& context, const LinearSpec& spec)
      : context_(context),
        batch_(static_cast<int>(spec.batch)),
        in_(static_cast<int>(spec.in_features)),
        out_(static_cast<int>(spec.out_features)),
        dtype_(spec.dtype),
        type_(cuda_data_type(spec.dtype)),
        compute_(spec.dtype == DataType::kFloat32 && context.allow_tf32()
                     ? CUBLAS_COMPUTE_32F_FAST_TF32
                     : CUBLAS_COMPUTE_32F),
        ones_(spec.batch * size_of(spec.dtype)) {
    // A column of ones in the data type (1 is exact in fp16 and bf16) for the bias gradient.
    const std::vector<float> ones(spec.batch, 1.0f);
    DeviceMemory staging(spec.batch * sizeof(float));
    KUBETRAIN_CUDA_CHECK(cudaMemcpyAsync(staging.data(), ones.data(), staging.bytes(),
                                         cudaMemcpyHostToDevice, context.stream()));
    launch_cast(DataType::kFloat32, staging.data(), dtype_, ones_.data(), spec.batch,
                context.stream());
    KUBETRAIN_CUDA_CHECK(cudaStreamSynchronize(context.stream()));
  }

  void forward(const void* x, const void* w, const float* b, void* y) override {
    // y starts as the broadcast bias and the product is added onto it (beta = 1).
    launch_broadcast_rows(dtype_, b, y, batch_, out_, context_.stream());
    gemm(CUBLAS_OP_T, CUBLAS_OP_N, out_, batch_, in_, w, in_, x, in_, 1.0f, y, type_, out_);
  }

  void backward_data(const void* dy, const void* w, void* dx) override {
    gemm(CUBLAS_OP_N, CUBLAS_OP_N, in_, batch_, out_, w, in_, dy, out_, 0.0f, dx, type_, in_);
  }

  void backward_weights(const void* x, const void* dy, float* dw, float* db) override {
    gemm(CUBLAS_OP_N, CUBLAS_OP_T, in_, out_, batch_, x, in_, dy, out_, 0.0f, dw, CUDA_R_32F,
         in_);
    gemm(CUBLAS_OP_N, CUBLAS_OP_N, out_, 1, batch_, dy, out_, ones_.data(), batch_, 0.0f, db,
         CUDA_R_32F, out_);
  }

 private:
  void gemm(cublasOperation_t op_a, cublasOperation_t op_b, int m, int n, int k, const void* a,
            int lda, const void* b, int ldb, float beta, void* c, cudaDataType_t c_type,
            int ldc) {
    const float alpha = 1.0f;
    KUBETRAIN_CUDA_CHECK(cublasGemmEx(context_.cublas(), op_a, op_b, m, n, k, &alpha, a, type_,
                                      lda, b, type_, ldb, &beta, c, c_type, ldc, compute_,
                                      CUBLAS_GEMM_DEFAULT));
  }

  CudaContext& context_;
  int batch_;
  int in_;
  int out_;
  DataType dtype_;
  cudaDataType_t type_;
  cublasComputeType_t compute_;
  DeviceMemory ones_;
};

}  // namespace

std::unique_ptr<Linear> make_cublas_linear(CudaContext& context, const LinearSpec& spec) {
  constexpr int64_t kMax = std::numeric_limits<int>::max();
  for (const auto& [name, value] : {std::pair{"batch", spec.batch},
                                    std::pair{"in_features", spec.in_features},
                                    std::pair{"out_features", spec.out_features}}) {
    if (value <= 0 || value > kMax) {
      throw std::invalid_argument(std::string("linear: ") + name + " " + std::to_string(value) +
                                  " must be a positive 32-bit integer");
    }
  }
  return std::make_unique<CublasLinear>(context, spec);
}

}  // namespace kubetrain::cuda

# Every dependency comes from Debian's packages (see scripts/install-deps.sh).
find_package(Threads REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(spdlog REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
find_package(CLI11 REQUIRED)
find_package(ZLIB REQUIRED)
find_package(JPEG REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(dnnl REQUIRED)
if(KUBETRAIN_OPERATOR)
  find_package(CURL REQUIRED)  # the operator's Kubernetes client only
endif()

# Debian 12's cpp-httplib is a compiled library (no CMake package) built with OpenSSL, zlib and
# Brotli support; every translation unit that includes httplib.h must see the same macros, or the
# classes' layouts differ from the library's.
find_path(HTTPLIB_INCLUDE_DIR httplib.h REQUIRED)
find_library(HTTPLIB_LIBRARY cpp-httplib REQUIRED)
add_library(httplib INTERFACE)
target_include_directories(httplib SYSTEM INTERFACE ${HTTPLIB_INCLUDE_DIR})
target_compile_definitions(httplib INTERFACE
  CPPHTTPLIB_OPENSSL_SUPPORT CPPHTTPLIB_ZLIB_SUPPORT CPPHTTPLIB_BROTLI_SUPPORT)
target_link_libraries(httplib INTERFACE ${HTTPLIB_LIBRARY} OpenSSL::SSL OpenSSL::Crypto ZLIB::ZLIB
                      Threads::Threads)

if(KUBETRAIN_MPI)
  find_package(MPI REQUIRED COMPONENTS CXX)
  find_program(KUBETRAIN_MPIEXEC NAMES mpirun mpiexec REQUIRED)
endif()

# CUDA backend: on when the toolkit (with cuDNN, cuBLAS and NCCL) is found, unless switched off.
set(KUBETRAIN_CUDA_ENABLED OFF)
if(NOT KUBETRAIN_CUDA STREQUAL "OFF")
  # CMake 3.25.1 (Debian 12's) fails in find_package(CUDAToolkit) when the toolkit lacks the
  # nvToolsExt library, as CUDA 13 does: it marks CUDA::nvToolsExt deprecated without checking that
  # the target exists. An empty one stands in (nothing here links it); later releases check.
  if(CMAKE_VERSION VERSION_LESS 3.26 AND NOT TARGET CUDA::nvToolsExt)
    add_library(CUDA::nvToolsExt INTERFACE IMPORTED)
  endif()
  find_package(CUDAToolkit 12)
  set(_cudnn_hints ${CUDNN_ROOT} $ENV{CUDNN_ROOT} ${CUDAToolkit_LIBRARY_ROOT})
  set(_nccl_hints ${NCCL_ROOT} $ENV{NCCL_ROOT} ${CUDAToolkit_LIBRARY_ROOT})
  find_path(CUDNN_INCLUDE_DIR cudnn.h HINTS ${_cudnn_hints} ${CUDAToolkit_INCLUDE_DIRS} PATH_SUFFIXES include)
  find_library(CUDNN_LIBRARY cudnn HINTS ${_cudnn_hints} ${CUDAToolkit_LIBRARY_DIR} PATH_SUFFIXES lib lib64)
  find_path(NCCL_INCLUDE_DIR nccl.h HINTS ${_nccl_hints} ${CUDAToolkit_INCLUDE_DIRS} PATH_SUFFIXES include)
  find_library(NCCL_LIBRARY nccl HINTS ${_nccl_hints} ${CUDAToolkit_LIBRARY_DIR} PATH_SUFFIXES lib lib64)
  if(CUDAToolkit_FOUND AND CUDNN_INCLUDE_DIR AND CUDNN_LIBRARY AND NCCL_INCLUDE_DIR AND NCCL_LIBRARY)
    set(KUBETRAIN_CUDA_ENABLED ON)
  elseif(KUBETRAIN_CUDA STREQUAL "ON")
    message(FATAL_ERROR "KUBETRAIN_CUDA=ON but CUDA, cuDNN or NCCL was not found "
                        "(set CUDNN_ROOT / NCCL_ROOT, or KUBETRAIN_CUDA=OFF)")
  endif()
endif()
if(KUBETRAIN_CUDA_ENABLED)
  if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
    # Hopper (H100/H200) machine code plus PTX that newer GPUs can JIT.
    set(CMAKE_CUDA_ARCHITECTURES 90-real 90-virtual)
  endif()
  if(NOT CMAKE_CUDA_COMPILER)
    set(CMAKE_CUDA_COMPILER ${CUDAToolkit_NVCC_EXECUTABLE})
  endif()
  enable_language(CUDA)
  # CMake before 3.26 does not know nvcc's C++20 flag (nvcc 12+ has it).
  if(CMAKE_VERSION VERSION_LESS 3.26)
    set(CMAKE_CUDA20_STANDARD_COMPILE_OPTION "-std=c++20")
    set(CMAKE_CUDA20_EXTENSION_COMPILE_OPTION "-std=c++20")
  endif()
  set(CMAKE_CUDA_STANDARD 20)
  set(CMAKE_CUDA_STANDARD_REQUIRED ON)
endif()

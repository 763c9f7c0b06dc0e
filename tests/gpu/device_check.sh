#!/usr/bin/env bash
# One command for a GPU machine: configures and builds kubetrain with CUDA (Release), runs every
# GPU test (ctest -L gpu) and the ResNet-50 benchmark against PyTorch, and prints it all with the
# date and the device, ready to be kept under docs/benchmarks/.
#
#   tests/gpu/device_check.sh [LOG_FILE]
# Environment: BUILD_DIR (build-gpu), JOBS (nproc), SKIP_BENCHMARK=1 to run only the tests,
#              SKIP_TESTS=1 to run only the benchmark (a second call on a machine that built),
#              KUBETRAIN_FASHION_MNIST (the learning test's data; .device-deps/fashion-mnist),
#              KUBETRAIN_DEVICE_DEPS (.device-deps: the .deb files of scripts/fetch-device-deps.sh,
#              used when present, for a machine without the -dev packages) and
#              KUBETRAIN_DEVICE_DEPS_PREFIX (/tmp/kubetrain-deps: where they are unpacked),
#              and what tests/bench/gpu_vs_torch.sh reads (STEPS, WARMUP_STEPS, PRECISIONS).
set -uo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
if [[ $# -ge 1 ]]; then
  mkdir -p "$(dirname "$1")"
  exec > >(tee "$1") 2>&1
fi
build=${BUILD_DIR:-$repo/build-gpu}
jobs=${JOBS:-$(nproc)}

section() { printf '\n==== %s ====\n' "$*"; }

section "kubetrain GPU check, $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
echo "host: $(uname -srm), $(nproc) CPUs"
if ! command -v nvidia-smi >/dev/null; then
  echo "nvidia-smi not found: this is not a GPU machine" >&2
  exit 1
fi
nvidia-smi
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,power.limit --format=csv

# The toolkit: /usr/local/cuda, or nvcc on PATH.
if ! command -v nvcc >/dev/null && [[ -x /usr/local/cuda/bin/nvcc ]]; then
  export PATH=/usr/local/cuda/bin:$PATH
fi
if ! command -v nvcc >/dev/null; then
  echo "nvcc not found (install the CUDA toolkit or put it on PATH)" >&2
  exit 1
fi
nvcc --version | tail -n 2

cmake_args=(-DCMAKE_BUILD_TYPE=Release -DKUBETRAIN_CUDA=ON -DKUBETRAIN_OPERATOR=OFF)
command -v ninja >/dev/null && cmake_args+=(-G Ninja)
# CMake 4 refuses packages' config files that declare compatibility with CMake older than 3.5.
cmake_major=$(cmake --version | head -n 1 | grep -oE '[0-9]+' | head -n 1)
((${cmake_major:-0} >= 4)) && cmake_args+=(-DCMAKE_POLICY_VERSION_MINIMUM=3.5)
if ! command -v mpirun >/dev/null; then
  echo "Open MPI not found: building a single-rank worker (KUBETRAIN_MPI=OFF)"
  cmake_args+=(-DKUBETRAIN_MPI=OFF)
fi

# cuDNN and NCCL from PyTorch's wheels when the toolkit has none: the wheels ship versioned
# libraries only (libcudnn.so.9, libnccl.so.2), so the files are named directly.
cuda_include=$(dirname "$(command -v nvcc)")/../include
# use_wheel PACKAGE HEADER LIBRARY VARIABLE_PREFIX: take the library from nvidia/PACKAGE in
# site-packages when the toolkit lacks HEADER.
use_wheel() {
  [[ -e $cuda_include/$2 ]] && return
  local dir=""
  for python in python3 /usr/bin/python3; do
    dir=$("$python" -c "import nvidia.$1 as m; print(list(m.__path__)[0])" 2>/dev/null) && break
  done
  [[ -n $dir ]] || return
  echo "$4 from the Python wheel in $dir"
  cmake_args+=(-D"$4_ROOT=$dir" -D"$4_INCLUDE_DIR=$dir/include"
               -D"$4_LIBRARY=$(ls "$dir"/lib/"$3".so* | head -n 1)")
  export LD_LIBRARY_PATH=$dir/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
}
use_wheel cudnn cudnn.h libcudnn CUDNN
use_wheel nccl nccl.h libnccl NCCL

source "$repo/tests/gpu/device_deps.sh"
bundle=${KUBETRAIN_DEVICE_DEPS:-$repo/.device-deps}
use_device_deps "$bundle" "${KUBETRAIN_DEVICE_DEPS_PREFIX:-/tmp/kubetrain-deps}" || exit 1
if [[ -z ${KUBETRAIN_FASHION_MNIST:-} && -d $bundle/fashion-mnist ]]; then
  export KUBETRAIN_FASHION_MNIST=$bundle/fashion-mnist
fi

section "configure"
echo "cmake ${cmake_args[*]}"
cmake -S "$repo" -B "$build" "${cmake_args[@]}" || exit 1

section "build"
start=$SECONDS
# The GPU tests first, so they run even if another part of the tree does not build here.
cmake --build "$build" -j "$jobs" --target kubetrain_gpu_tests || exit 1
cmake --build "$build" -j "$jobs" || echo "WARNING: the full build failed; see above"
echo "build took $((SECONDS - start)) s"

tests_status=0
if [[ ${SKIP_TESTS:-0} != 1 ]]; then
  # One process for all of them: each of ctest's ~150 processes would pay for CUDA's and cuDNN's
  # start-up again. ctest takes over only if that process dies, to tell which test killed it.
  section "GPU tests ($build/bin/kubetrain_gpu_tests)"
  "$build/bin/kubetrain_gpu_tests" --gtest_brief=1
  tests_status=$?
  echo "kubetrain_gpu_tests exit status: $tests_status"
  if ((tests_status > 1)); then
    section "GPU tests one process each (ctest -L gpu)"
    ctest --test-dir "$build" -L gpu --output-on-failure -j 1
    tests_status=$?
  elif ctest --test-dir "$build" -N -R '^gpu_nccl_two_ranks$' | grep -q 'Total Tests: 1'; then
    section "NCCL across two ranks (ctest -R gpu_nccl_two_ranks)"
    ctest --test-dir "$build" -R '^gpu_nccl_two_ranks$' --output-on-failure || tests_status=1
  fi
fi

bench_status=0
if [[ ${SKIP_BENCHMARK:-0} != 1 ]]; then
  section "benchmark: tests/bench/gpu_vs_torch.sh"
  "$repo/tests/bench/gpu_vs_torch.sh" "$build"
  bench_status=$?
fi

section "done, $(date -u '+%Y-%m-%d %H:%M:%S UTC'): tests $tests_status, benchmark $bench_status"
exit $((tests_status != 0 || bench_status != 0))

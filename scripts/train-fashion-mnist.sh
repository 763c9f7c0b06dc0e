#!/usr/bin/env bash
# The main job: installs what it needs, builds kubetrain-worker for the CPU and trains ResNet-20 on
# Fashion-MNIST (Debian's dataset-fashion-mnist) data-parallel over two MPI ranks, then prints the
# test accuracy reached. Extra arguments go to the worker, e.g. --set epochs=30.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
cmake -S . -B build-cpu -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DKUBETRAIN_CUDA=OFF -DKUBETRAIN_OPERATOR=OFF -DKUBETRAIN_TESTS=OFF >/dev/null
cmake --build build-cpu --target kubetrain-worker

ranks=${RANKS:-2}
mpirun_args=(-np "$ranks" --bind-to none -x OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}")
[ "$(id -u)" = 0 ] && mpirun_args+=(--allow-run-as-root)
(( ranks > $(nproc) )) && mpirun_args+=(--oversubscribe)
exec mpirun "${mpirun_args[@]}" build-cpu/bin/kubetrain-worker \
  --config examples/fashion-mnist.yaml "$@"

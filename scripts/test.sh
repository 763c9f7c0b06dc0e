#!/usr/bin/env bash
# Installs what the build and the tests need, builds everything (the CUDA backend too when the CUDA
# toolkit is installed) and runs every test. GPU tests skip themselves without a GPU.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh --tests
if [ -f scripts/install-chart-tools.sh ]; then bash scripts/install-chart-tools.sh; fi
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build
ctest --test-dir build --output-on-failure --timeout 1800 -j "${TEST_JOBS:-2}"

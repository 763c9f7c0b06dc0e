#!/usr/bin/env bash
# Benchmarks kubetrain-operator against the fake API server and prints the figures as JSON.
# Usage: tests/bench/operator_bench.sh [BUILD_DIR] [--jobs N] [--workers N] [--big-workers N]
set -euo pipefail
build=${1:-build}
shift || true
ninja -C "$build" operator_bench kubetrain-operator kubetrain-fake-apiserver >/dev/null
exec "$build/bin/operator_bench" "$@"

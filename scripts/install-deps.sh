#!/usr/bin/env bash
# Installs what building and running kubetrain needs, from Debian 12's packages; with --tests, also
# what its tests need. Idempotent; run as root.
# Usage: scripts/install-deps.sh [--tests]
set -euo pipefail

# Building the worker and the operator, and running the main job (scripts/train-fashion-mnist.sh).
packages=(
  build-essential cmake ninja-build ccache pkg-config
  libopenmpi-dev openmpi-bin openssh-client
  # oneDNN's CMake package looks for OpenCL (Debian builds oneDNN with its OpenCL GPU runtime), and
  # libdnnl-dev only recommends these, which --no-install-recommends leaves out.
  libdnnl-dev ocl-icd-opencl-dev opencl-c-headers
  libyaml-cpp-dev libspdlog-dev nlohmann-json3-dev libcli11-dev libcpp-httplib-dev
  libcurl4-openssl-dev libssl-dev zlib1g-dev libjpeg62-turbo-dev
  dataset-fashion-mnist
)
# The tests (scripts/test.sh): GoogleTest, PyTorch for the parity tests, Python for the harnesses.
test_packages=(
  git ca-certificates
  libgtest-dev libgmock-dev
  python3 python3-numpy python3-torch python3-torchvision python3-yaml
  # The e2e suite (tests/e2e): images and pods as podman containers, the base image made with
  # mmdebstrap, the kubelet stand-in on the official Kubernetes Python client (catatonit: the
  # infra process of podman pods).
  podman buildah runc netavark aardvark-dns catatonit iptables mmdebstrap python3-kubernetes
)

case ${1:-} in
  "") ;;
  --tests) packages+=("${test_packages[@]}") ;;
  *) echo "usage: scripts/install-deps.sh [--tests]" >&2; exit 2 ;;
esac

bash "$(dirname "$0")/install-debian-packages.sh" install-deps "${packages[@]}"

#!/usr/bin/env bash
# Installs what building, testing and running kubetrain needs, from Debian 12's packages.
# Idempotent; run as root.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git ca-certificates
  libopenmpi-dev openmpi-bin
  # oneDNN's CMake package looks for OpenCL (Debian builds oneDNN with its OpenCL GPU runtime), and
  # libdnnl-dev only recommends these, which --no-install-recommends leaves out.
  libdnnl-dev ocl-icd-opencl-dev opencl-c-headers
  libyaml-cpp-dev libspdlog-dev nlohmann-json3-dev libcli11-dev libcpp-httplib-dev
  libcurl4-openssl-dev libssl-dev zlib1g-dev libjpeg62-turbo-dev
  libgtest-dev libgmock-dev
  openssh-client
  python3 python3-numpy python3-torch python3-torchvision python3-yaml
  dataset-fashion-mnist
)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$package")
done
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

#!/usr/bin/env bash
# Downloads, as Debian 12 .deb files, what building the worker and the GPU tests needs beyond a
# compiler, CMake and the CUDA toolkit, for a GPU machine that cannot install packages itself.
# tests/gpu/device_check.sh unpacks them there (tests/gpu/device_deps.sh); the folder is git-ignored,
# so copy it along with the tree. Open MPI is left out: without mpirun the check builds a
# single-rank worker. A Fashion-MNIST subset for the GPU learning test goes along too.
#
#   scripts/fetch-device-deps.sh [DIR]      (default: .device-deps/ in the repository)
# Needs a Debian 12 (amd64) machine with current apt lists (apt-get update); no root.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$repo/.device-deps}

packages=(
  # Headers, CMake packages and the unversioned .so links that the build finds.
  libyaml-cpp-dev libspdlog-dev libfmt-dev nlohmann-json3-dev libcli11-dev libjpeg62-turbo-dev
  libgtest-dev libgmock-dev
  # oneDNN's CMake package requires OpenCL (Debian builds it with the OpenCL GPU runtime).
  libdnnl-dev ocl-icd-opencl-dev opencl-c-headers
  # httplib.h includes the OpenSSL, zlib and Brotli headers.
  libcpp-httplib-dev libssl-dev zlib1g-dev libbrotli-dev
  # The shared libraries those links point at. At run time the machine's own copy of a library
  # wins where it has one (OpenSSL, zlib and Brotli, usually).
  libyaml-cpp0.7 libspdlog1.10 libfmt9 libjpeg62-turbo libdnnl2 ocl-icd-libopencl1
  libcpp-httplib0.11 libssl3 zlib1g libbrotli1
)

mkdir -p "$dir"
rm -f "$dir"/*.deb
if ! (cd "$dir" && apt-get download -q "${packages[@]}"); then
  echo "fetch-device-deps.sh: apt-get download failed (run apt-get update first?)" >&2
  exit 1
fi
# Plain names (apt's carry the version, with characters such as '%', '+' and '~' that not every
# way of copying a tree keeps); the unpacking prints each package's version.
for deb in "$dir"/*.deb; do
  package=$(dpkg-deb --show --showformat='${Package}' "$deb")
  [[ $deb == "$dir/$package.deb" ]] || mv "$deb" "$dir/$package.deb"
done
echo "${#packages[@]} packages in $dir:"
du -ch "$dir"/*.deb | tail -n 1

# The GPU learning test's data: a Fashion-MNIST subset (about 4 MB), when the data set is here.
fashion_mnist=/usr/share/datasets/fashion-mnist
if [[ -d $fashion_mnist ]]; then
  python3 "$repo/scripts/fashion-mnist-subset.py" "$fashion_mnist" "$dir/fashion-mnist"
else
  echo "no $fashion_mnist (apt-get install dataset-fashion-mnist): the GPU learning test will skip"
fi

#!/usr/bin/env bash
# A manual check, not part of ctest (it needs root, the network and many minutes): the bundle of
# scripts/fetch-device-deps.sh is all a GPU machine without the -dev packages needs.
#
# Makes a minimal Debian 12 root with a compiler, CMake, ninja and Python but none of the -dev
# packages, lends it this machine's CUDA toolkit (with cuDNN and NCCL), and runs there
# tests/gpu/device_check.sh (configure, build everything, ctest -L gpu; the GPU tests skip, the root
# having no GPU), then kubetrain-worker --validate with the libraries as device_check.sh sets them.
#
#   tests/gpu/check_device_deps_in_chroot.sh [ROOT]      (default: /tmp/kubetrain-devroot)
# An empty ROOT becomes a Debian 12 root (debootstrap); one that holds a system already is used as
# it is (an Ubuntu 24.04 root, say, like the GPU machines), and kept with its ccache for the next
# run. The build folder is ROOT/build, made afresh each time.
# Environment: CUDA_HOME (/usr/local/cuda), JOBS (2), MIRROR (http://deb.debian.org/debian).
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
root=${1:-/tmp/kubetrain-devroot}
cuda=$(realpath "${CUDA_HOME:-/usr/local/cuda}")
jobs=${JOBS:-2}
mirror=${MIRROR:-http://deb.debian.org/debian}
bundle=$repo/.device-deps

if ((EUID != 0)); then
  echo "check_device_deps_in_chroot.sh: run as root (debootstrap, chroot, mount)" >&2
  exit 1
fi
if ! ls "$bundle"/*.deb >/dev/null 2>&1; then
  echo "check_device_deps_in_chroot.sh: no .deb files in $bundle; run scripts/fetch-device-deps.sh" >&2
  exit 1
fi
[[ -x $cuda/bin/nvcc ]] || { echo "no nvcc in $cuda (set CUDA_HOME)" >&2; exit 1; }

if [[ ! -e $root/usr/bin/env ]]; then
  command -v debootstrap >/dev/null || apt-get install -y -qq debootstrap
  debootstrap --variant=minbase --include=g++,cmake,ninja-build,git,ca-certificates,python3,ccache \
    bookworm "$root" "$mirror"
fi

# The point of the check: the root must not have what the bundle brings.
for deb in "$bundle"/*.deb; do
  package=$(dpkg-deb --show --showformat='${Package}' "$deb")
  if [[ $package == *-dev || $package == *-headers ]] &&
     chroot "$root" dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed"; then
    echo "check_device_deps_in_chroot.sh: $root has $package installed; use a fresh root" >&2
    exit 1
  fi
done

mounts=()
cleanup() {
  local i
  for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do umount "${mounts[i]}" || true; done
}
trap cleanup EXIT
# bind SOURCE TARGET [ro]
bind() {
  mkdir -p "$2"
  mount --bind "$1" "$2"
  mounts+=("$2")
  [[ ${3:-} == ro ]] && mount -o remount,bind,ro "$2"
  return 0
}
mkdir -p "$root/proc"
mount -t proc proc "$root/proc"
mounts+=("$root/proc")
bind /dev "$root/dev"
bind "$cuda" "$root$cuda" ro
ln -sfn "$cuda" "$root/usr/local/cuda"
# The source read-only: the build must write only into its build folder.
bind "$repo" "$root/src" ro

rm -rf "$root/build"

# device_check.sh insists on nvidia-smi, as it should on a GPU machine; this stand-in lets it run
# in a root without one, where the GPU tests then skip themselves.
cat >"$root/usr/local/bin/nvidia-smi" <<'EOF'
#!/bin/sh
echo "nvidia-smi stand-in: no GPU in this root"
EOF
chmod +x "$root/usr/local/bin/nvidia-smi"

chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin \
  BUILD_DIR=/build JOBS="$jobs" SKIP_BENCHMARK=1 bash -euo pipefail -c '
    /src/tests/gpu/device_check.sh /build/device_check.log
    echo; echo "==== nothing left to build (device_check.sh only warns when the full build fails) ===="
    cmake --build /build -j "$JOBS"
    echo; echo "==== kubetrain-worker --validate, with the libraries device_check.sh sets ===="
    source /src/tests/gpu/device_deps.sh
    cmake_args=()
    use_device_deps /src/.device-deps /tmp/kubetrain-deps >/dev/null
    if ldd /build/bin/kubetrain-worker | grep "not found"; then exit 1; fi
    ldd /build/bin/kubetrain-worker | grep kubetrain-deps || echo "(no library from the bundle)"
    /build/bin/kubetrain-worker --validate --config /src/examples/synthetic-benchmark.yaml'
echo "check_device_deps_in_chroot.sh: passed (log: $root/build/device_check.log)"

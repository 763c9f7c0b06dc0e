#!/usr/bin/env bash
# Prints the distribution packages that hold the shared libraries the given binaries load, one per
# line, so that a runtime image installs exactly those. Used in the build stages of
# operator.Dockerfile and worker.Dockerfile; needs ldd and dpkg (Debian and Ubuntu).
# Libraries ldd cannot find here (the GPU driver's libcuda, mounted into containers at run time)
# are reported on stderr and left out.
# Usage: runtime-packages.sh BINARY...
set -euo pipefail

(($#)) || { echo "usage: runtime-packages.sh BINARY..." >&2; exit 2; }

owner_of() { # LIBRARY_PATH: the package owning it, trying the path, its real path and both /usr forms
  local library=$1 candidate
  for candidate in "$library" "$(readlink -f "$library")"; do
    for form in "$candidate" "${candidate#/usr}" "/usr$candidate"; do
      if dpkg -S "$form" 2>/dev/null | head -1 | cut -d: -f1; then
        return 0
      fi
    done
  done
  echo "runtime-packages: no package owns $library" >&2
  return 1
}

for binary in "$@"; do
  ldd "$binary" | while read -r line; do
    case "$line" in
      *"=> not found"*) echo "runtime-packages: $binary: ${line%% *} not found, left out" >&2 ;;
      *"=> /"*)
        library=${line#*=> }
        owner_of "${library%% (*}"
        ;;
    esac
  done
done | sort -u

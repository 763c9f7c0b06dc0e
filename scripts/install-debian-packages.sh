#!/usr/bin/env bash
# Installs the given Debian packages that are not installed yet, without their recommendations;
# does nothing (and needs no root) when all are there. Shared by the install scripts.
# Usage: scripts/install-debian-packages.sh WHO PACKAGE...   (WHO prefixes the error message)
set -euo pipefail

who=$1
shift
missing=()
for package in "$@"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$package")
done
((${#missing[@]})) || exit 0
if ((EUID != 0)); then
  echo "$who: missing Debian packages ${missing[*]}; run as root to install them" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"

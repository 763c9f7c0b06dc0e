#!/usr/bin/env bash
# Makes a Debian 12 (bookworm) minbase root file system as a tarball with mmdebstrap, from
# Debian's archive (bookworm, -updates and -security), unless TARBALL exists and is younger than 30
# days. The fresh root of CI (scripts/fresh-root.sh) unpacks it; the e2e suite imports it into
# podman as the debian:12 image the Dockerfiles start from, as no image registry may be reachable.
# Usage: scripts/debian-base-tarball.sh TARBALL
set -euo pipefail

(($# == 1)) || { echo "usage: scripts/debian-base-tarball.sh TARBALL" >&2; exit 2; }
tarball=$1
max_age_days=30
if [[ -f "$tarball" ]] && [[ -z "$(find "$tarball" -mtime +"$max_age_days")" ]]; then
  exit 0
fi
bash "$(dirname "$0")/install-debian-packages.sh" debian-base-tarball mmdebstrap >/dev/null
echo "debian-base-tarball: making $tarball (mmdebstrap, Debian 12 minbase)"
mkdir -p "$(dirname "$tarball")"
partial="$tarball.partial"
rm -f "$partial"
mmdebstrap --quiet --variant=minbase --format=tar bookworm "$partial" \
  "deb http://deb.debian.org/debian bookworm main" \
  "deb http://deb.debian.org/debian bookworm-updates main" \
  "deb http://deb.debian.org/debian-security bookworm-security main"
mv "$partial" "$tarball"

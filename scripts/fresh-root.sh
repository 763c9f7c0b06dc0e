#!/usr/bin/env bash
# Runs commands on a fresh Debian 12 (bookworm, minbase) root file system, in a clean clone of the
# repository's HEAD commit, as a new user's machine would: nothing is installed there but what the
# commands install themselves. CI proves the README this way (.ci/run); run it by hand before
# pushing to see what a newcomer sees.
#
# Usage: scripts/fresh-root.sh [--keep-root] 'NAME=COMMAND' ...
#   Each stage's COMMAND runs with bash -c as root inside the root, in /src/kubetrain; the stages run
#   in order and the first that fails ends the run. Every stage's duration is printed at the end.
#   --keep-root leaves the root's folder in place (its path is printed) for a look afterwards.
#
# What the root gets from this machine, and nothing more:
#   - /usr/local/cuda: NVIDIA's CUDA toolkit (not a Debian package), bind-mounted read-only from the
#     versioned directory that this machine's /usr/local/cuda points at, when there is one;
#   - the CA certificates of /usr/local/share/ca-certificates, copied in before any package is
#     installed, so that ca-certificates adds them to the bundle, and the variables that name that
#     bundle (SSL_CERT_FILE, NODE_EXTRA_CA_CERTS, ...);
#   - /etc/resolv.conf and /etc/hosts, and the host's network.
# Kept between runs, outside the root, in $KUBETRAIN_FRESH_ROOT_CACHE (default
# /var/cache/kubetrain-fresh-root): the untouched base tarball (made with mmdebstrap, remade after
# 30 days), downloaded .deb files, the npm cache, the ccache directory, podman's container storage
# and buildah's cache mounts. Every run unpacks the tarball anew.
#
# The root's mounts live in a mount namespace of their own, and its processes in a PID namespace of
# their own: both vanish with the run however it ends, so no mount outlives it and removing the root
# can never reach into the CUDA toolkit. The root's folder is removed on exit, and a folder left by
# a run that was killed is removed by the next one.
set -euo pipefail

self=$(readlink -f "$0")
repo=$(cd "$(dirname "$self")/.." && pwd)
cache=${KUBETRAIN_FRESH_ROOT_CACHE:-/var/cache/kubetrain-fresh-root}
base_tarball="$cache/debian12-minbase.tar"
# Variables that name the machine's CA bundle; carried into the root as they are.
ca_variables=(SSL_CERT_FILE SSL_CERT_DIR CURL_CA_BUNDLE NODE_EXTRA_CA_CERTS REQUESTS_CA_BUNDLE
  GIT_SSL_CAINFO PIP_CERT)

die() { echo "fresh-root: $*" >&2; exit 1; }
log() { echo "fresh-root: $*"; }

keep_root=false
inside_root=""
stages=()
if [[ ${1:-} == --pivot-into ]]; then  # the script itself, entering the root for one stage
  # The root becomes "/" of a mount namespace of its own, by pivot_root as a container runtime
  # does, not by chroot: in a chroot, runc sets up containers whose `podman exec` and `podman top`
  # join the host's root instead of the container's.
  cd "$2"
  shift 2
  mkdir -p .host-root
  pivot_root . .host-root
  exec chroot . /bin/sh -c 'umount -l /.host-root && rmdir /.host-root && exec "$@"' sh "$@"
fi
if [[ ${1:-} == --inside-namespace ]]; then  # the script itself, in the new namespaces
  inside_root=$2
  shift 2
fi
for argument in "$@"; do
  case $argument in
    --keep-root) keep_root=true ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *=*) stages+=("$argument") ;;
    *) die "a stage is NAME=COMMAND, got '$argument'" ;;
  esac
done
((${#stages[@]})) || die "no stage given; usage: scripts/fresh-root.sh 'NAME=COMMAND' ..."
((EUID == 0)) || die "must run as root (it unpacks a root file system and mounts into it)"

install_host_tools() {
  bash "$repo/scripts/install-debian-packages.sh" fresh-root git util-linux procps >/dev/null
}

remove_stale_roots() {
  local stale
  for stale in "$cache"/roots/*; do
    [[ -d "$stale" ]] || continue
    local pid=${stale##*.}
    if [[ ! -d "/proc/$pid" ]]; then
      log "removing $stale, left by a run that did not finish"
      rm -rf --one-file-system "$stale"
    fi
  done
}

root=""
cleanup() {
  local status=$?
  if [[ -n "$root" && -d "$root" ]]; then
    if $keep_root; then
      log "kept the root at $root"
    else
      rm -rf --one-file-system "$root"
    fi
  fi
  exit "$status"
}

# Runs inside the new mount and PID namespaces: mounts what the root needs, then each stage.
run_in_namespace() {
  local root=$1
  mount --make-rprivate /
  # The root a mount point of its own: podman (containers/storage) remounts "/" private before it
  # unpacks a layer, which fails on a plain directory.
  mount --bind "$root" "$root"
  mount -t proc proc "$root/proc"
  mount --rbind /sys "$root/sys"
  mount --rbind /dev "$root/dev"
  mount -t tmpfs -o mode=1777 shm "$root/dev/shm"  # Open MPI's shared-memory transport
  mount -t tmpfs -o mode=1777 tmp "$root/tmp"
  local cuda
  if cuda=$(readlink -e /usr/local/cuda) && [[ -d "$cuda" ]]; then
    mkdir -p "$root/usr/local/cuda"
    mount --bind "$cuda" "$root/usr/local/cuda"
    mount -o remount,bind,ro "$root/usr/local/cuda"
  fi
  local source target
  # Container storage keeps the images the e2e suite builds, so that their layers are reused, and
  # buildah's cache mounts (RUN --mount=type=cache) keep the images' compiler cache.
  for pair in "$cache/apt-archives:/var/cache/apt/archives" "$cache/npm:/root/.npm" \
    "$cache/ccache:/var/cache/ccache" "$cache/containers:/var/lib/containers" \
    "$cache/buildah-cache:/var/tmp/buildah-cache"; do
    source=${pair%%:*} target="$root${pair#*:}"
    mkdir -p "$source" "$target"
    mount --bind "$source" "$target"
  done

  local environment=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
    LANG=C.UTF-8 TERM="${TERM:-dumb}" CI="${CI:-}" CCACHE_DIR=/var/cache/ccache CCACHE_MAXSIZE=8G)
  local variable
  for variable in "${ca_variables[@]}"; do
    [[ -n "${!variable:-}" ]] && environment+=("$variable=${!variable}")
  done

  local stage name command started status outcome summary=()
  for stage in "${stages[@]}"; do
    name=${stage%%=*} command=${stage#*=}
    log "== stage '$name': $command"
    started=$SECONDS
    status=0
    unshare --mount --propagation private -- "$self" --pivot-into "$root" \
      /usr/bin/env -i "${environment[@]}" /bin/bash -c "cd /src/kubetrain && $command" || status=$?
    outcome=ok
    ((status == 0)) || outcome="FAILED (exit $status)"
    summary+=("$(printf '%-20s %s in %d s' "$name" "$outcome" $((SECONDS - started)))")
    ((status == 0)) || break
  done
  log "stage durations:"
  printf '  %s\n' "${summary[@]}"
  return "$status"
}

if [[ -n "$inside_root" ]]; then
  run_in_namespace "$inside_root"
  exit
fi

install_host_tools
mkdir -p "$cache/roots"
remove_stale_roots
bash "$repo/scripts/debian-base-tarball.sh" "$base_tarball"

commit=$(git -C "$repo" rev-parse HEAD)
if [[ -n "$(git -C "$repo" status --porcelain --untracked-files=no)" ]]; then
  log "note: testing commit ${commit:0:12}; uncommitted changes are not part of the run"
fi

trap cleanup EXIT
root="$cache/roots/root.$$"
mkdir -p "$root"
started=$SECONDS
tar -C "$root" -xf "$base_tarball"
cp /etc/resolv.conf /etc/hosts "$root/etc/"
shopt -s nullglob
certificates=(/usr/local/share/ca-certificates/*.crt)
shopt -u nullglob
if ((${#certificates[@]})); then
  mkdir -p "$root/usr/local/share/ca-certificates"
  cp "${certificates[@]}" "$root/usr/local/share/ca-certificates/"
fi
git clone --quiet --no-hardlinks "$repo" "$root/src/kubetrain"
git -C "$root/src/kubetrain" checkout --quiet --detach "$commit"
log "root at $root with commit ${commit:0:12}, ready in $((SECONDS - started)) s"

# In the background, so that this script still acts on a signal: unshare itself ignores INT and
# TERM, and the namespace's first process takes from outside only SIGKILL, which ends every
# process inside the namespace with it.
unshare --mount --pid --fork --kill-child -- "$self" --inside-namespace "$root" "${stages[@]}" &
namespace_pid=$!
trap 'echo "fresh-root: stopped by a signal" >&2; pkill -KILL -P "$namespace_pid" || true' INT TERM
status=0
wait "$namespace_pid" || status=$?
while kill -0 "$namespace_pid" 2>/dev/null; do  # a signal interrupted the wait
  wait "$namespace_pid" || status=$?
done
exit "$status"

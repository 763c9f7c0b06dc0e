#!/usr/bin/env bash
# Sets up the runtime stage of both worker images, worker.Dockerfile (CUDA's Ubuntu) and
# worker-cpu.Dockerfile (Debian 12), in one way, so that what the CPU image proves end to end
# (sshd as a non-root user, key paths, the environment of commands started over ssh) holds for the
# GPU image too. Expects docker/ copied to the directory this script is in, and removes it.
#   install-worker-runtime.sh UID GID [PACKAGE_OR_DEB_FILE...]
# Installs Open MPI, the ssh server and client and the given packages, creates the user kubetrain
# (UID:GID, taking the place of a base image user that holds the UID) and the directories sshd and
# the job's keys need, and installs the ssh configuration and the entry point.
set -euo pipefail

uid=$1 gid=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)

apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
  openmpi-bin openssh-server openssh-client "$@"
# Host keys generated at install time would be shared by every container of the image.
rm -rf /var/lib/apt/lists/* /etc/ssh/ssh_host_*

existing=$(getent passwd "$uid" | cut -d: -f1 || true)
[[ -n "$existing" ]] && { userdel --remove "$existing" 2>/dev/null || true; }
existing_group=$(getent group "$gid" | cut -d: -f1 || true)
[[ -n "$existing_group" ]] && groupdel "$existing_group"
groupadd --gid "$gid" kubetrain
useradd --uid "$uid" --gid "$gid" --create-home --shell /bin/bash kubetrain

mkdir -p /run/sshd /etc/kubetrain/ssh /run/kubetrain/ssh /home/kubetrain/.ssh
chmod 0755 /run/sshd
install -m 0644 "$here/sshd_config" /etc/kubetrain/sshd_config
install -m 0644 "$here/ssh_config" /etc/ssh/ssh_config.d/kubetrain.conf
# Commands mpirun starts over ssh (orted, prted and the ranks) get neither the image's ENV nor the
# pod's: sshd reads this file when PermitUserEnvironment allows it, which both the operator's sshd
# command line and docker/sshd_config do.
install -m 0600 "$here/ssh_environment" /home/kubetrain/.ssh/environment
install -m 0755 "$here/worker-entrypoint.sh" /usr/local/bin/kubetrain-entrypoint
chown -R "$uid:$gid" /run/kubetrain /home/kubetrain/.ssh
chmod 0700 /run/kubetrain/ssh /home/kubetrain/.ssh
rm -rf "$here"

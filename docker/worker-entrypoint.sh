#!/usr/bin/env bash
# Entry point of the kubetrain-worker image.
#   kubetrain-entrypoint sshd [SSHD_ARGS...]   worker pods: sshd on port 2222 in the foreground
#   kubetrain-entrypoint COMMAND [ARGS...]     launcher or local use: runs COMMAND (e.g. mpirun)
# Both first copy the job's SSH keys from the mounted Secret (KUBETRAIN_SSH_SECRET_DIR, default
# /etc/kubetrain/ssh: ssh-privatekey, and authorized_keys or ssh-publickey, optionally ssh-host-key)
# to /run/kubetrain/ssh with the owner and modes ssh requires; Secret volumes are owned by root and
# shared with a group. The paths are the ones kubetrain-operator uses when it starts sshd and mpirun
# with its own command lines, so keys prepared either way work with either.
set -euo pipefail

secret_dir=${KUBETRAIN_SSH_SECRET_DIR:-/etc/kubetrain/ssh}
run_dir=/run/kubetrain/ssh

prepare_ssh() {
  umask 077
  mkdir -p "$run_dir"
  install -m 0600 "$secret_dir/ssh-privatekey" "$run_dir/id_ed25519"
  if [[ -r "$secret_dir/authorized_keys" ]]; then
    install -m 0600 "$secret_dir/authorized_keys" "$run_dir/authorized_keys"
  elif [[ -r "$secret_dir/ssh-publickey" ]]; then
    install -m 0600 "$secret_dir/ssh-publickey" "$run_dir/authorized_keys"
  else
    ssh-keygen -y -f "$run_dir/id_ed25519" >"$run_dir/authorized_keys"
  fi
  if [[ -r "$secret_dir/ssh-host-key" ]]; then
    install -m 0600 "$secret_dir/ssh-host-key" "$run_dir/host_ed25519"
  elif [[ ! -f "$run_dir/host_ed25519" ]]; then
    ssh-keygen -q -t ed25519 -N '' -C "$(hostname)" -f "$run_dir/host_ed25519"
  fi
}

has_secret() { [[ -r "$secret_dir/ssh-privatekey" ]]; }

if [[ "${1:-}" == "sshd" ]]; then
  shift
  if ! has_secret; then
    echo "kubetrain-entrypoint: sshd needs the job's SSH key at $secret_dir/ssh-privatekey" \
      "(the operator mounts it from the job's Secret)" >&2
    exit 2
  fi
  prepare_ssh
  exec /usr/sbin/sshd -D -e -f /etc/kubetrain/sshd_config "$@"
fi

# Without a Secret (a local run of the image), commands run without SSH set up.
if has_secret; then
  prepare_ssh
fi
if (($# == 0)); then
  echo "usage: kubetrain-entrypoint sshd | COMMAND [ARGS...]" >&2
  exit 2
fi
exec "$@"

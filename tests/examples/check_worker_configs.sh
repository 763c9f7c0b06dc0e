#!/usr/bin/env bash
# The worker's own config parser must accept every worker config in examples/ and the
# spec.training of every example TrainingJob: kubetrain-worker --config FILE --validate.
# Usage: check_worker_configs.sh REPO_ROOT WORKER_BINARY
# Exits 77 (skipped) when the worker binary has not been built.
set -euo pipefail

repo=$1
worker=$2
here="$repo/tests/examples"

if [[ ! -x "$worker" ]]; then
  echo "SKIP: $worker is not built"
  exit 77
fi
if ! /usr/bin/python3 -c "import yaml" 2>/dev/null; then
  echo "SKIP: python3-yaml is missing"
  exit 77
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
checked=0

check() { # LABEL CONFIG
  if "$worker" --config "$2" --validate >"$work/out.txt" 2>&1; then
    echo "accepted $1"
  else
    echo "FAIL: kubetrain-worker --validate rejected $1:" >&2
    cat "$work/out.txt" >&2
    failures=$((failures + 1))
  fi
  checked=$((checked + 1))
}

for file in "$repo"/examples/*.yaml; do
  if grep -q '^kind: TrainingJob' "$file"; then
    config="$work/$(basename "$file" .yaml).training.yaml"
    /usr/bin/python3 "$here/training_config_of.py" "$file" "$config"
    check "spec.training of $(basename "$file")" "$config"
  else
    check "$(basename "$file")" "$file"
  fi
done

if ((checked < 4)); then
  echo "FAIL: expected at least 4 example configs, checked $checked" >&2
  exit 1
fi
if ((failures)); then
  echo "$failures of $checked example config(s) rejected" >&2
  exit 1
fi
echo "all $checked example configs accepted"

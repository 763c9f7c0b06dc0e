#!/usr/bin/env bash
# Every example TrainingJob (examples/trainingjob-*.yaml) must pass the CRD's OpenAPI schema, with
# defaults applied and unknown fields rejected, and its CEL rules; every manifest in invalid/ must
# be rejected with the message its "# expect:" line names.
# Usage: check_trainingjobs.sh REPO_ROOT TOOLS_DIR   (TOOLS_DIR from scripts/install-chart-tools.sh)
# Exits 77 (skipped) when the tools are not installed.
set -euo pipefail

repo=$1
here="$repo/tests/examples"
crd="$repo/charts/kubetrain/crds/trainingjobs.kubetrain.dev.yaml"
source "$repo/tests/chart/check_harness.sh" "$2"

validate() { # OUT_JSON FILE...: schema, then CEL rules (also on schema-invalid objects, as
  # every object's errors are wanted); messages on stderr, each starting with its file
  local out=$1 schema=0 rules=0
  shift
  /usr/bin/python3 "$here/validate_custom_resources.py" "$crd" "$@" >"$out" || schema=$?
  node "$here/eval_cel_rules.js" "$node_modules" <"$out" || rules=$?
  ((schema == 0 && rules == 0))
}

shopt -s nullglob
examples=("$repo"/examples/trainingjob-*.yaml)
if ((${#examples[@]} < 2)); then
  fail "expected the example TrainingJobs in examples/, found ${#examples[@]}"
fi
echo "== example TrainingJobs"
validate "$work/examples.json" "${examples[@]}" || fail "an example TrainingJob is invalid"

echo "== defaults applied as the API server would"
/usr/bin/python3 - "$work/examples.json" <<'PY' || fail "defaults"
import json, sys
objects = {o["object"]["metadata"]["name"]: o["object"] for o in json.load(open(sys.argv[1]))["objects"]}
spec = objects["fashion-mnist-cpu"]["spec"]
expected = {"backoffLimit": 2, "startupDeadlineSeconds": 600, "progressDeadlineSeconds": 1800,
            "cleanPodPolicy": "Running", "suspend": False, "ttlSecondsAfterFinished": 86400}
actual = {key: spec["runPolicy"].get(key) for key in expected}
assert actual == expected, f"fashion-mnist-cpu runPolicy after defaulting: {actual}, expected {expected}"
print("runPolicy defaults applied:", actual)
PY

echo "== invalid manifests are rejected with their message"
invalid=("$here"/invalid/*.yaml)
validate "$work/invalid.json" "${invalid[@]}" >/dev/null 2>"$work/errors.txt" || true
for manifest in "${invalid[@]}"; do
  expected=$(sed -n 's/^# expect: //p' "$manifest")
  name=$(basename "$manifest")
  errors=$(grep -F -- "$manifest: " "$work/errors.txt" || true)
  if [[ -z "$expected" ]]; then
    fail "$name has no '# expect:' line"
  elif [[ -z "$errors" ]]; then
    fail "$name was accepted; expected: $expected"
  elif ! grep -qF -- "$expected" <<<"$errors"; then
    fail "$name was rejected without '$expected': $errors"
  else
    echo "rejected $name: $expected"
  fi
done

finish_checks TrainingJob

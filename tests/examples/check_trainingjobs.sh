#!/usr/bin/env bash
# Every example TrainingJob (examples/trainingjob-*.yaml) must pass the CRD's OpenAPI schema, with
# defaults applied and unknown fields rejected, and its CEL rules, and so must Kueue's objects beside
# a queued one (against Kueue's CRDs in third_party/crds), which must also let it be admitted; every
# manifest in invalid/ must be rejected with the message its "# expect:" line names.
# Usage: check_trainingjobs.sh REPO_ROOT TOOLS_DIR   (TOOLS_DIR from scripts/install-chart-tools.sh)
# Exits 77 (skipped) when the tools are not installed.
set -euo pipefail

repo=$1
here="$repo/tests/examples"
crd="$repo/charts/kubetrain/crds/trainingjobs.kubetrain.dev.yaml"
kueue_crds=()
for kind in resourceflavors clusterqueues localqueues; do
  kueue_crds+=(--also-crd "$repo/third_party/crds/kueue/kueue.x-k8s.io_$kind.yaml")
done
source "$repo/tests/chart/check_harness.sh" "$2"

validate() { # OUT_JSON FILE...: schema, then CEL rules (also on schema-invalid objects, as
  # every object's errors are wanted); messages on stderr, each starting with its file
  local out=$1 schema=0 rules=0
  shift
  /usr/bin/python3 "$here/validate_custom_resources.py" "${kueue_crds[@]}" "$crd" "$@" >"$out" || schema=$?
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

echo "== queued examples name a LocalQueue whose ClusterQueue can admit them"
/usr/bin/python3 - "$work/examples.json" <<'PY' || fail "Kueue objects of the queued examples"
import json, re, sys
from fractions import Fraction

UNITS = {"": 1, "m": Fraction(1, 1000), "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12,
         "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}
def quantity(value):
    number, unit = re.fullmatch(r"([0-9.]+)([a-zA-Z]*)", str(value)).groups()
    return Fraction(number) * UNITS[unit]

objects = json.load(open(sys.argv[1]))["objects"]
by_file = {}
for entry in objects:
    by_file.setdefault(entry["file"], []).append(entry["object"])
queued = 0
for path, documents in by_file.items():
    named = {(o["kind"], o["metadata"]["name"]): o for o in documents}
    for job in (o for o in documents if o["kind"] == "TrainingJob"):
        queue = job["metadata"].get("labels", {}).get("kueue.x-k8s.io/queue-name")
        if queue is None:
            continue
        queued += 1
        where = f"{path}: TrainingJob {job['metadata']['name']}"
        local = named.get(("LocalQueue", queue))
        assert local, f"{where}: the file holds no LocalQueue {queue}"
        cluster = named.get(("ClusterQueue", local["spec"]["clusterQueue"]))
        assert cluster, f"{where}: the file holds no ClusterQueue {local['spec']['clusterQueue']}"
        # The launcher requests nothing; every worker requests spec.resources (limits where unset).
        resources = job["spec"].get("resources", {})
        needed = {**resources.get("limits", {}), **resources.get("requests", {})}
        for group in cluster["spec"]["resourceGroups"]:
            for flavor in group["flavors"]:
                assert ("ResourceFlavor", flavor["name"]) in named, f"{where}: no ResourceFlavor {flavor['name']}"
        for name, amount in needed.items():
            group = next((g for g in cluster["spec"]["resourceGroups"] if name in g["coveredResources"]), None)
            assert group, f"{where}: ClusterQueue {cluster['metadata']['name']} does not cover {name}"
            total = job["spec"]["workers"] * quantity(amount)
            quota = max(quantity(r["nominalQuota"]) for f in group["flavors"] for r in f["resources"] if r["name"] == name)
            assert total <= quota, f"{where}: needs {total} {name}, above the largest quota {quota}"
        print(f"{where}: LocalQueue {queue}, ClusterQueue {cluster['metadata']['name']}: fits the quota")
assert queued, "expected a queued example (kueue.x-k8s.io/queue-name label)"
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

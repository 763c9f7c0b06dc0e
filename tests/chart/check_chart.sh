#!/usr/bin/env bash
# Lints and renders charts/kubetrain, validates every rendered manifest and the CRD against the
# Kubernetes OpenAPI schemas offline, checks the CRD is structural and documented (in its schema
# and in README.md) and that its validation rules stay within the API server's cost budget, checks
# the chart's security and RBAC policy, and checks that values.schema.json rejects wrong types.
# Usage: check_chart.sh REPO_ROOT TOOLS_DIR   (TOOLS_DIR from scripts/install-chart-tools.sh)
# Exits 77 (skipped) when the tools are not installed.
set -euo pipefail

repo=$1
here="$repo/tests/chart"
chart="$repo/charts/kubetrain"
crd="$chart/crds/trainingjobs.kubetrain.dev.yaml"
source "$here/check_harness.sh" "$2"

validate_objects() { # FILE...
  /usr/bin/python3 "$here/yaml_to_json.py" "$@" | node "$here/validate_k8s_objects.js" "$node_modules"
}

echo "== helm lint"
"$helm" lint --strict "$chart" || fail "helm lint"
"$helm" lint --strict "$chart" --namespace kubetrain-system --set watchNamespace=team-a \
  --set replicaCount=2 || fail "helm lint (namespaced, 2 replicas)"

# name | release namespace | watch namespace | replicas | service monitor | gang schedulers | kueue
variants=(
  "default|kubetrain-system||1|||"
  "namespaced|kubetrain-system|team-a|1|||"
  "ha-monitored|ops|ml-jobs|3|yes||"
  "gang|kubetrain-system||1||volcano,coscheduling|"
  "volcano|kubetrain-system|team-a|1||volcano|"
  "kueue|kubetrain-system||1|||yes"
  "kueue-namespaced|kubetrain-system|team-a|1||volcano|yes"
)
for variant in "${variants[@]}"; do
  IFS='|' read -r name namespace watch replicas monitor gang kueue <<<"$variant"
  echo "== helm template ($name)"
  out="$work/$name.yaml"
  set_args=(--set "replicaCount=$replicas")
  policy_args=(--release-namespace "$namespace" --replicas "$replicas")
  if [[ -n "$watch" ]]; then
    set_args+=(--set "watchNamespace=$watch")
    policy_args+=(--watch-namespace "$watch")
  fi
  if [[ -n "$monitor" ]]; then
    set_args+=(--set metrics.serviceMonitor.enabled=true)
    policy_args+=(--service-monitor)
  fi
  if [[ -n "$gang" ]]; then
    for scheduler in ${gang//,/ }; do set_args+=(--set "gangScheduling.$scheduler=true"); done
    policy_args+=(--gang-schedulers "$gang")
  fi
  if [[ -n "$kueue" ]]; then
    set_args+=(--set kueue.enabled=true)
    policy_args+=(--kueue)
  fi
  if ! "$helm" template kubetrain "$chart" --namespace "$namespace" "${set_args[@]}" >"$out"; then
    fail "helm template ($name)"
    continue
  fi
  validate_objects "$out" || fail "schema validation ($name)"
  /usr/bin/python3 "$here/check_chart_policy.py" "$out" "${policy_args[@]}" || fail "chart policy ($name)"
done

# The policy checker itself must catch a weakened security context.
"$helm" template kubetrain "$chart" --namespace kubetrain-system \
  --set securityContext.readOnlyRootFilesystem=false >"$work/weakened.yaml"
if /usr/bin/python3 "$here/check_chart_policy.py" "$work/weakened.yaml" \
  --release-namespace kubetrain-system 2>/dev/null; then
  fail "check_chart_policy.py accepted a writable root filesystem"
fi
# ... and Kueue's flag and grants where Kueue is not asked for, in both scopes.
for name in kueue kueue-namespaced; do
  watch_args=()
  [[ $name == kueue-namespaced ]] && watch_args=(--watch-namespace team-a --gang-schedulers volcano)
  if /usr/bin/python3 "$here/check_chart_policy.py" "$work/$name.yaml" --release-namespace kubetrain-system \
    "${watch_args[@]}" 2>"$work/$name-unasked.txt"; then
    fail "check_chart_policy.py accepted Kueue's flag and grants without --kueue ($name)"
  fi
  for expected in "unexpected flags ['--kueue']" "grants workloads (kueue.x-k8s.io), but Kueue is not enabled" \
    "grants resourceflavors (kueue.x-k8s.io), but Kueue is not enabled"; do
    grep -qF -- "$expected" "$work/$name-unasked.txt" || fail "check_chart_policy.py missed ($name): $expected"
  done
done

echo "== CRD"
validate_objects "$crd" || fail "CRD against the apiextensions.k8s.io/v1 schema"
/usr/bin/python3 "$here/check_crd.py" "$crd" || fail "CRD structure"
/usr/bin/python3 "$here/check_crd_documented.py" "$crd" "$repo/README.md" || fail "CRD documentation"
# The checker itself must find each defect planted in the fixture.
broken_report="$work/broken-crd.txt"
if /usr/bin/python3 "$here/check_crd.py" "$here/fixtures/broken-crd.yaml" 2>"$broken_report"; then
  fail "check_crd.py accepted fixtures/broken-crd.yaml"
fi
for defect in "metadata may only set type" "untyped: has no type" "undocumented: has no description" \
  "default 'three' is not of type integer" "both properties and additionalProperties" \
  "type is not allowed inside a junctor" "printer column Missing"; do
  grep -q "$defect" "$broken_report" || fail "check_crd.py missed: $defect"
done

echo "== CRD validation rules within the API server's cost budget"
cel_cost() { /usr/bin/python3 "$here/yaml_to_json.py" "$1" | node "$here/check_cel_cost.js" "$node_modules"; }
cel_cost "$crd" || fail "CRD validation rules a real API server would refuse for their cost"
# The checker itself must find each costly rule planted in the fixture, and only those.
costly_report="$work/costly-crd.txt"
if cel_cost "$here/fixtures/costly-crd.yaml" 2>"$costly_report"; then
  fail "check_cel_cost.js accepted fixtures/costly-crd.yaml"
fi
for defect in "openAPIV3Schema.x-kubernetes-validations[1].rule: self.metadata.name is a string without" \
  "properties[spec].x-kubernetes-validations[0].messageExpression: refused" \
  "properties[spec].x-kubernetes-validations[1].rule: self.image is a string without maxLength" \
  "properties[spec].x-kubernetes-validations[2].rule: self.hosts is a list without maxItems" \
  "properties[spec].x-kubernetes-validations[2].rule: h is a string without maxLength"; do
  grep -qF "$defect" "$costly_report" || fail "check_cel_cost.js missed: $defect"
done
found=$(wc -l <"$costly_report")
((found == 5)) || fail "check_cel_cost.js reported $found problems in fixtures/costly-crd.yaml, expected 5: $(cat "$costly_report")"

echo "== RBAC decisions of check_rbac_coverage.py"
# Requests any operator in namespaced mode may make pass; each of the others must be denied.
namespaced="$work/namespaced.yaml"
/usr/bin/python3 "$here/check_rbac_coverage.py" "$namespaced" "$here/fixtures/requests-allowed.json" \
  --require create:pods >/dev/null || fail "RBAC coverage denied a request the Role allows"
/usr/bin/python3 "$here/check_rbac_coverage.py" "$namespaced" "$here/fixtures/requests-denied.json" \
  2>"$work/denied.txt" >/dev/null && fail "RBAC coverage allowed requests the Role denies"
denied=$(grep -c "denies" "$work/denied.txt" || true)
((denied == 5)) || fail "RBAC coverage denied $denied of the 5 forbidden requests: $(cat "$work/denied.txt")"
# With Kueue and watchNamespace, the cluster-scoped ResourceFlavors and PriorityClasses are read
# through the extra ClusterRole; the Workloads stay confined to the watched namespace.
kueue_namespaced="$work/kueue-namespaced.yaml"
/usr/bin/python3 "$here/check_rbac_coverage.py" "$kueue_namespaced" "$here/fixtures/requests-kueue-allowed.json" \
  --require list:resourceflavors --require list:priorityclasses --require update:workloads/status --require delete:workloads \
  >/dev/null || fail "RBAC coverage denied a Kueue request the roles allow"
/usr/bin/python3 "$here/check_rbac_coverage.py" "$kueue_namespaced" "$here/fixtures/requests-kueue-denied.json" \
  2>"$work/kueue-denied.txt" >/dev/null && fail "RBAC coverage allowed Kueue requests the roles deny"
denied=$(grep -c "denies" "$work/kueue-denied.txt" || true)
((denied == 6)) || fail "RBAC coverage denied $denied of the 6 forbidden Kueue requests: $(cat "$work/kueue-denied.txt")"

echo "== values.schema.json rejects wrong types"
for bad in replicaCount=two threads=-1 logFormat=xml metrics.port=http leaderElection.enabled=maybe \
  watchNamespace=Not_A_Namespace image.pullPolicy=Sometimes kueue.enabled=maybe; do
  if "$helm" template kubetrain "$chart" --set "$bad" >/dev/null 2>"$work/err.txt"; then
    fail "values.schema.json accepted --set $bad"
  else
    echo "rejected --set $bad: $(grep -m1 -o "at '.*" "$work/err.txt" || head -1 "$work/err.txt")"
  fi
done
if "$helm" template kubetrain "$chart" --set replicaCount=2 --set leaderElection.enabled=false \
  >/dev/null 2>&1; then
  fail "two replicas without leader election were accepted"
fi

finish_checks chart

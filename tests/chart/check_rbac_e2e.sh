#!/usr/bin/env bash
# The chart's RBAC must allow every API request kubetrain-operator makes: the operator runs, with
# the flags the chart renders, against the fake API server through a job's life (drive_operator.py),
# and check_rbac_coverage.py compares the requests it made with the rendered roles: watching all
# namespaces (ClusterRole), with watchNamespace set (Role in that namespace), with both gang
# schedulers on (their PodGroups created and deleted), and with Kueue and watchNamespace set (the
# Workloads in the Role's namespace, the ResourceFlavors and PriorityClasses through the extra
# ClusterRole). The operator must create each job's Secret and never read one.
# Usage: check_rbac_e2e.sh REPO_ROOT TOOLS_DIR FAKE_APISERVER_BINARY OPERATOR_BINARY
# Exits 77 (skipped) when the tools or either binary are missing.
set -euo pipefail

repo=$1
here="$repo/tests/chart"
chart="$repo/charts/kubetrain"
fake_apiserver=$3
operator=$4
if [[ ! -x "$fake_apiserver" || ! -x "$operator" ]]; then
  echo "SKIP: $fake_apiserver or $operator is not built"
  exit 77
fi
source "$here/check_harness.sh" "$2"

release_namespace=kubetrain-system
job_namespace=team-a
for mode in all-namespaces namespaced gang-scheduling kueue; do
  echo "== operator watching $mode"
  manifests="$work/$mode.yaml"
  set_args=()
  required=(--require create:pods --require list:trainingjobs --require create:secrets)
  [[ $mode == namespaced ]] && set_args=(--set "watchNamespace=$job_namespace")
  if [[ $mode == gang-scheduling ]]; then
    set_args=(--set gangScheduling.volcano=true --set gangScheduling.coscheduling=true)
    required+=(--require create:podgroups --require delete:podgroups --require watch:podgroups)
  fi
  if [[ $mode == kueue ]]; then
    set_args=(--set kueue.enabled=true --set "watchNamespace=$job_namespace")
    required+=(--require create:workloads --require watch:workloads --require update:workloads --require delete:workloads
      --require update:workloads/status --require watch:resourceflavors --require watch:priorityclasses)
  fi
  "$helm" template kubetrain "$chart" --namespace "$release_namespace" "${set_args[@]}" >"$manifests"
  if ! /usr/bin/python3 "$here/drive_operator.py" --fake-apiserver "$fake_apiserver" \
    --operator "$operator" --manifests "$manifests" --namespace "$job_namespace" \
    --out "$work/$mode-requests.json" --step-seconds 20; then
    fail "operator run ($mode)"
    continue
  fi
  /usr/bin/python3 "$here/check_rbac_coverage.py" "$manifests" "$work/$mode-requests.json" \
    "${required[@]}" --refuse get:secrets --refuse list:secrets --refuse watch:secrets || fail "RBAC coverage ($mode)"
done

finish_checks "RBAC coverage"

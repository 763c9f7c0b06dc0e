#!/usr/bin/env bash
# kubectl against kubetrain-fake-apiserver, with no special flags: it creates the TrainingJob CRD,
# applies a CPU example (created, unchanged, then configured by a changed copy), prints TrainingJobs
# and pods through the server's Tables, describes, binds a pod as kube-scheduler does, deletes a
# bound pod gracefully and then as the kubelet confirms it, and deletes the TrainingJob.
# Skips (exit 77) without kubectl, which scripts/install-chart-tools.sh installs.
#
# Usage: fake_api_server_kubectl_test.sh FAKE_APISERVER REPO_ROOT KUBECTL
set -euo pipefail

fake=$1
root=$2
kubectl=$3
if [[ ! -x $kubectl ]]; then kubectl=$(command -v kubectl || true); fi
if [[ -z $kubectl ]]; then
  echo "SKIP: kubectl not found at $3 or on PATH (scripts/install-chart-tools.sh installs it)"
  exit 77
fi
if [[ ! -x $fake ]]; then
  echo "FAIL: $fake is not built" >&2
  exit 1
fi

work=$(mktemp -d)
"$fake" --port 0 >"$work/port" &
fake_pid=$!
trap 'kill $fake_pid 2>/dev/null || true; wait $fake_pid 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 200); do
  [[ -s $work/port ]] && break
  sleep 0.05
done
port=$(head -n 1 "$work/port")

# A home of its own keeps kubectl's discovery cache from other runs.
export HOME=$work KUBECONFIG=$work/kubeconfig
cat >"$KUBECONFIG" <<EOF
apiVersion: v1
kind: Config
clusters: [{name: fake, cluster: {server: "http://127.0.0.1:$port"}}]
users: [{name: tester, user: {}}]
contexts: [{name: fake, context: {cluster: fake, user: tester, namespace: default}}]
current-context: fake
EOF

step() { echo "--- kubectl $*"; }
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
# expect_line OUTPUT REGEX: some line of OUTPUT matches REGEX (extended).
expect_line() {
  grep -Eq -- "$2" <<<"$1" || fail "expected a line matching '$2' in:"$'\n'"$1"
}
run() {
  step "$@"
  local output
  output=$("$kubectl" "$@" 2>&1) || fail "kubectl $* exited with $?:"$'\n'"$output"
  echo "$output"
  last=$output
}

job=fashion-mnist-cpu
example=$root/examples/trainingjob-$job.yaml

run create -f "$root/charts/kubetrain/crds/trainingjobs.kubetrain.dev.yaml"
expect_line "$last" '^customresourcedefinition.apiextensions.k8s.io/trainingjobs.kubetrain.dev created$'
run get crd trainingjobs.kubetrain.dev -o 'jsonpath={.status.conditions[?(@.type=="Established")].status}'
[[ $last == True ]] || fail "the CRD is not Established"

# Client-side apply: GET (404), then POST with the last-applied annotation; then merge patches.
run apply -f "$example"
expect_line "$last" "^trainingjob.kubetrain.dev/$job created$"
run get tj "$job" -o 'jsonpath={.metadata.annotations.kubectl\.kubernetes\.io/last-applied-configuration}'
expect_line "$last" '"kind":"TrainingJob"'
run apply -f "$example"
expect_line "$last" "^trainingjob.kubetrain.dev/$job unchanged$"
sed 's/^    epochs: 3 *$/    epochs: 5/' "$example" >"$work/changed.yaml"
grep -q 'epochs: 5' "$work/changed.yaml" || fail "the example no longer trains for 3 epochs"
run apply -f "$work/changed.yaml"
expect_line "$last" "^trainingjob.kubetrain.dev/$job configured$"
run get tj "$job" -o 'jsonpath={.spec.training.epochs}'
[[ $last == 5 ]] || fail "apply did not change spec.training.epochs"

# What the operator would report, through the status subresource.
run patch tj "$job" --subresource=status --type=merge \
  -p '{"status":{"state":"Running","readyRanks":"2/2","progress":{"percent":42,"imagesPerSecond":1234.5}}}'

# The CRD's printer columns, filled from the object.
for listing in "get tj" "get trainingjobs -o wide" "get tj $job"; do
  # shellcheck disable=SC2086 # the listing is words on purpose
  run $listing
  expect_line "$last" '^NAME +STATE +READY +PROGRESS +IMG/S +AGE$'
  expect_line "$last" "^$job +Running +2/2 +42 +1234.5 +[0-9]+s$"
done

# A watch prints each change as a row of a one-row Table (kubectl asks for gzip, which must not
# hold the events back).
step get tj -w
"$kubectl" get tj -w >"$work/watch" 2>&1 &
watch_pid=$!
for _ in $(seq 200); do
  grep -q "^$job " "$work/watch" && break
  sleep 0.05
done
run patch tj "$job" --subresource=status --type=merge -p '{"status":{"state":"Stalled"}}'
for _ in $(seq 200); do
  grep -Eq "^$job +Stalled " "$work/watch" && break
  sleep 0.05
done
kill "$watch_pid" 2>/dev/null || true
wait "$watch_pid" 2>/dev/null || true
cat "$work/watch"
expect_line "$(cat "$work/watch")" "^$job +Stalled +2/2 +42 +1234.5 +[0-9]+s$"
run patch tj "$job" --subresource=status --type=merge -p '{"status":{"state":"Running"}}'

run get tj "$job" -o yaml
expect_line "$last" '^kind: TrainingJob$'
expect_line "$last" '^    epochs: 5$'
run describe tj "$job"
expect_line "$last" "^Name: +$job$"
expect_line "$last" '^Kind: +TrainingJob$'
expect_line "$last" '^  State: +Running$'

# A pod, bound to a node as kube-scheduler binds it, deleted gracefully, then confirmed.
cat >"$work/pod.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata: {name: worker-0}
spec:
  containers: [{name: worker, image: kubetrain-worker:0.1.0}]
EOF
run create -f "$work/pod.yaml"
echo '{"apiVersion":"v1","kind":"Binding","metadata":{"name":"worker-0"},
       "target":{"apiVersion":"v1","kind":"Node","name":"node-1"}}' >"$work/binding.json"
run create --raw /api/v1/namespaces/default/pods/worker-0/binding -f "$work/binding.json"
expect_line "$last" '"status":"Success"'
run get pods
expect_line "$last" '^NAME +READY +STATUS +RESTARTS +AGE$'
expect_line "$last" '^worker-0 +0/1 +0 +[0-9]+s$'
run get pods -o wide
expect_line "$last" '^worker-0 +0/1 +0 +[0-9]+s +<none> +node-1 +<none> +<none>$'
run delete pod worker-0 --wait=false
run get pods
expect_line "$last" '^worker-0 +0/1 +Terminating +0 +[0-9]+s$'
run delete pod worker-0 --grace-period=0 --force
run get pods
expect_line "$last" '^No resources found in default namespace.$'

run delete tj "$job"
expect_line "$last" "^trainingjob.kubetrain.dev \"$job\" deleted"
run get tj
expect_line "$last" '^No resources found in default namespace.$'

kill -0 "$fake_pid" 2>/dev/null || fail "the fake API server exited"
echo "PASS"

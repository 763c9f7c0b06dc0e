# Sourced by the chart and example checks: finds the tools scripts/install-chart-tools.sh installs
# (skipping with exit code 77 when they are missing), keeps a scratch folder, and counts failures
# so that one run reports every failing check.
# Usage: source check_harness.sh TOOLS_DIR; ... fail "what"; ...; finish_checks "what was checked"

tools=$1
helm="$tools/bin/helm"
node_modules="$tools/npm/node_modules"

if [[ ! -x "$helm" || ! -d "$node_modules/kubernetes-models" || ! -d "$node_modules/@bufbuild/cel" ]] ||
  ! command -v node >/dev/null || ! /usr/bin/python3 -c "import yaml, jsonschema" 2>/dev/null; then
  echo "SKIP: helm, node, the npm schema packages or python3-yaml/python3-jsonschema are missing" \
    "in $tools (run scripts/install-chart-tools.sh)"
  exit 77
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0

fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

finish_checks() { # WHAT
  if ((failures)); then
    echo "$failures $1 check(s) failed" >&2
    exit 1
  fi
  echo "$1 checks passed"
}

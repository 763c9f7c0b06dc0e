#!/usr/bin/env bash
# Training throughput of kubetrain-worker --benchmark on the CPU (synthetic data, one rank) next to
# PyTorch's (Debian's torch, /usr/bin/python3) for the same model, batch, image size, memory format
# and thread count; prints both figures and the ratio kubetrain / PyTorch.
#
#   tests/bench/cpu_vs_torch.sh [--model resnet20] [--batch 128] [--image-size 32] [--classes N]
#                               [--threads 2] [--steps 20] [--warmup 3] [--channels-first]
#                               [--build build]
# Build the worker first: ninja -C build kubetrain-worker. OMP_WAIT_POLICY is passed on
# (default here: passive).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
model=resnet20 batch=128 image_size=32 classes="" threads=2 steps=20 warmup=3
channels_first=false build="$here/../../build"

usage() { sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while (($#)); do
  case $1 in
    --model) model=$2; shift 2 ;;
    --batch) batch=$2; shift 2 ;;
    --image-size) image_size=$2; shift 2 ;;
    --classes) classes=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --channels-first) channels_first=true; shift ;;
    --build) build=$2; shift 2 ;;
    -h|--help) usage ;;
    *) echo "cpu_vs_torch.sh: unknown argument '$1'" >&2; usage ;;
  esac
done
# CIFAR-style ResNets classify 10 classes, ImageNet-style ones 1000, unless told otherwise.
if [[ -z $classes ]]; then
  case $model in resnet20|resnet32|resnet44|resnet56|resnet110) classes=10 ;; *) classes=1000 ;; esac
fi

worker="$build/bin/kubetrain-worker"
if [[ ! -x $worker ]]; then
  echo "cpu_vs_torch.sh: $worker not found; build it with: ninja -C $build kubetrain-worker" >&2
  exit 2
fi

common=(--model "$model" --batch "$batch" --image-size "$image_size" --classes "$classes"
        --steps "$steps" --warmup "$warmup")
format=channels_last torch_format=(--channels-last)
if [[ $channels_first == true ]]; then format=channels_first torch_format=(); fi
config=$(mktemp --suffix=.yaml)
trap 'rm -f "$config"' EXIT
cat >"$config" <<YAML
model: $model
data: {dataset: synthetic, imageSize: $image_size, classes: $classes}
globalBatchSize: $batch
dataFormat: $format
device: cpu
benchmark: {warmupSteps: $warmup, steps: $steps}
statusPort: 0
YAML

# Both sides run on libgomp. Its default spin-waiting at barriers collapses throughput (3x here)
# when other processes share the cores, so the comparison sleeps instead unless told otherwise;
# on dedicated cores OMP_WAIT_POLICY=active is the faster choice for both.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
ours=$(OMP_NUM_THREADS=$threads "$worker" --config "$config" --benchmark --log-level warn |
       grep '"event":"summary"')
theirs=$(OMP_NUM_THREADS=$threads /usr/bin/python3 "$here/torch_cpu_train.py" "${common[@]}" \
           --threads "$threads" "${torch_format[@]}")
echo "$ours"
echo "$theirs"
/usr/bin/python3 - "$ours" "$theirs" <<'PY'
import json, sys
ours = json.loads(sys.argv[1])["imagesPerSecond"]
theirs = json.loads(sys.argv[2])["images_per_second"]
print(json.dumps({"kubetrain_images_per_second": ours, "pytorch_images_per_second": theirs,
                  "ratio": round(ours / theirs, 3)}))
PY

#!/usr/bin/env bash
# ON THE DEVICE: some rows of the experiment tables (issue 5), results packed for the trip back.
#
#   bash bench/gpu/experiments.sh TABLE "ROW ..." [SEEDS] [EPOCHS]    e.g. table1 "scat_p_fixed lscat" "0"
#   LAYERS=1 bash bench/gpu/experiments.sh table2 "mod cst" 0          # then the per-layer evidence
#
# Carry .data/gpu-cifar (tables 1, 2, layers) or, for table 3, extract .data/gpu-nette-a first with
# `bash bench/gpu/train.sh none` and carry .data/gpu-nette-b here. Data go to /tmp/data (kept while the
# machine is warm), runs to /tmp/exp. Everything kept (logs, final metrics, configs, layers.json)
# comes back as $OUT/experiments.tgz: extract it into docs/experiments/ here and run
# `python -m core experiments report`.
set -uo pipefail
cd "$(dirname "$0")/../.."
TABLE=$1; ROWS=$2; SEEDS=${3:-0}; EPOCHS=${4:-}
OUT=${OUT:-artifacts/gpu}; mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
DATA=/tmp/data; mkdir -p "$DATA"
for f in .data/gpu-*/*.tar.gz .data/gpu-*/*.tar; do
  [ -e "$f" ] || continue
  case $f in *.tar.gz) tar -xzf "$f" -C "$DATA" ;; *) tar -xf "$f" -C "$DATA" ;; esac && echo "extracted $f"
done
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
if [ "$TABLE" = table3 ]; then DOPT=(--imagenette "$DATA"); else DOPT=(--cifar10 "$DATA/cifar10-jpeg"); fi
EXTRA=(); [ -n "$EPOCHS" ] && EXTRA=(--epochs "$EPOCHS")
# shellcheck disable=SC2086
python3 -m core.experiments "$TABLE" "${DOPT[@]}" --rows $ROWS --seeds $SEEDS "${EXTRA[@]}" \
  --out /tmp/exp --docs /tmp/expdocs 2>&1 | tee -a "$OUT/console.txt"
if [ "${LAYERS:-0}" = 1 ]; then
  python3 -m core.experiments layers --cifar10 "$DATA/cifar10-jpeg" --out /tmp/exp --docs /tmp/expdocs 2>&1 \
    | tee -a "$OUT/console.txt"
fi
tar -czf "$OUT/experiments.tgz" -C /tmp/expdocs --exclude='*.html' --exclude='*.png' --exclude='*.md' .
ls -la "$OUT"

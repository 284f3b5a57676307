#!/usr/bin/env bash
# ON THE DEVICE: extract the carried data, start one training run (recipe, wall-time budget,
# export) in the background, then wait for it and collect the results under $OUT (collect.sh).
#
#   bash bench/gpu/train.sh RECIPE EXPORT_NAME BUDGET_S [more core.train arguments]
#   bash bench/gpu/train.sh none                 # only extract the carried tars (Imagenette, 1st call)
#
# Data: every .data/gpu-*/ *.tar.gz / *.tar present is extracted to /tmp/data, which stays while
# the machine is warm. The run survives the end of this call (setsid): if it has not finished when
# collect.sh stops waiting (WAIT_S, default 560 s), call `bash bench/gpu/collect.sh RECIPE NAME` at once.
set -uo pipefail
cd "$(dirname "$0")/../.."
RECIPE=$1; NAME=${2:-none}; BUDGET=${3:-520}
[ $# -ge 3 ] && shift 3 || shift $#
export PYTHONUNBUFFERED=1
DATA=/tmp/data; mkdir -p "$DATA"
t0=$(date +%s)
for f in .data/gpu-*/*.tar.gz; do [ -e "$f" ] && tar -xzf "$f" -C "$DATA" && echo "extracted $f"; done
for f in .data/gpu-*/*.tar; do [ -e "$f" ] && tar -xf "$f" -C "$DATA" && echo "extracted $f"; done
echo "extraction: $(($(date +%s) - t0)) s"
[ "$RECIPE" = none ] && { ls "$DATA"; exit 0; }
c=$(cat .data/gpu-*/COMMIT 2>/dev/null | head -1); export PHASE_COLLAPSE_COMMIT=${c:-unknown}
case $RECIPE in
  cifar10_*) ROOT=$DATA/cifar10-jpeg ;;
  *) ROOT=$DATA ;;
esac
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
rm -rf "/tmp/runs/$RECIPE" "/tmp/runs/$RECIPE.rc" "/tmp/runs/$RECIPE.console.txt"; mkdir -p /tmp/runs /tmp/export
setsid nohup bash bench/gpu/job.sh "$RECIPE" "$NAME" "$BUDGET" "$ROOT" "$@" > /dev/null 2>&1 < /dev/null &
sleep 2
exec bash bench/gpu/collect.sh "$RECIPE" "$NAME"

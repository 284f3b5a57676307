#!/usr/bin/env bash
# ON THE DEVICE, started by train.sh: the training run itself. If it fails for a reason that looks
# like torch.compile, it is retried once with --no-compile in what is left of the budget.
# Writes /tmp/runs/RECIPE/ (core.train's output), /tmp/runs/RECIPE.console.txt and, last, RECIPE.rc.
set -uo pipefail
cd "$(dirname "$0")/../.."
RECIPE=$1; NAME=$2; BUDGET=$3; ROOT=$4; shift 4
RUN=/tmp/runs/$RECIPE; LOG=/tmp/runs/$RECIPE.console.txt
START=$(date +%s)
{ python3 -c "import torch, torchvision; print('torch', torch.__version__, 'torchvision', torchvision.__version__)"
  echo "commit $PHASE_COLLAPSE_COMMIT"; } >> "$LOG" 2>&1
train() { python3 -m core train --recipe "$RECIPE" --data "$ROOT" --out "$RUN" --export "$NAME" \
            --export-dir /tmp/export --no-progress "$@" >> "$LOG" 2>&1; }
train --budget-s "$BUDGET" "$@"; rc=$?
if [ "$rc" -ne 0 ] && [ "$rc" -ne 3 ] && grep -qiE "dynamo|inductor|triton|compile" "$LOG"; then
  left=$((BUDGET - ($(date +%s) - START)))
  if [ "$left" -gt 150 ]; then
    echo "=== retrying without torch.compile, budget $left s ===" >> "$LOG"
    rm -rf "$RUN"; train --budget-s "$left" --no-compile "$@"; rc=$?
  fi
fi
echo "job.sh: rc=$rc after $(($(date +%s) - START)) s" >> "$LOG"
echo "$rc" > "/tmp/runs/$RECIPE.rc"

#!/usr/bin/env bash
# The GPU half of the speed benchmark (issue 2). Run it on the device machine from the repo root:
#
#   here, once:  python3 -m pip download --no-deps --only-binary=:all: -d .whl \
#                    kymatio==0.3.0 appdirs==1.4.4 configparser==7.2.0
#                echo /.whl/ >> .git/info/exclude
#                bash bench/gpu/prepare.sh     (before each session: writes .whl/COMMIT)
#   device run:  command "bash bench/gpu_speed.sh", carry [".whl"], timeout_s 540
#
# Writes every result to $OUT/speed.jsonl (and the console to $OUT/*.txt). About 5-7 minutes on
# one H100/H200, most of it torch.compile.
set -uo pipefail
OUT=${OUT:-artifacts/gpu}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
# the device gets the tree without .git: the commit comes from the file bench/gpu/prepare.sh wrote
export PHASE_COLLAPSE_COMMIT=${PHASE_COLLAPSE_COMMIT:-$(cat .whl/COMMIT 2>/dev/null || echo unknown)}
if ls .whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site
fi
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > "$OUT/gpu.txt" 2>&1
run() { timeout 200 python3 bench/bench_speed.py --device cuda --out "$OUT/speed.jsonl" "$@" 2>&1 | tee -a "$OUT/console.txt"; }
run --imagenet                                   # fp32, as the authors measured
run --amp bf16 --imagenet
run --amp bf16 --channels-last --imagenet --skip operator
run --amp bf16 --channels-last --compile --imagenet --skip operator

#!/usr/bin/env bash
# ON THE DEVICE: wait for the run started by train.sh (at most WAIT_S seconds, default 560), then put
# its results under $OUT: run_RECIPE.tar.gz (console, config, log, final, card) and the weights in
# 15 MB parts NAME.safetensors.partNN (RETURN_WEIGHTS=0: not the weights). At most 8 files come back.
#
#   bash bench/gpu/collect.sh RECIPE EXPORT_NAME
set -uo pipefail
RECIPE=$1; NAME=${2:-none}
OUT=${OUT:-artifacts/gpu}; mkdir -p "$OUT"
RUN=/tmp/runs/$RECIPE; LOG=/tmp/runs/$RECIPE.console.txt
t0=$(date +%s); shown=0
while [ ! -e "$RUN.rc" ] && [ $(($(date +%s) - t0)) -lt "${WAIT_S:-560}" ]; do
  sleep 5
  n=$(wc -l < "$LOG" 2>/dev/null || echo 0)
  if [ "$n" -gt "$shown" ]; then tail -n +$((shown + 1)) "$LOG" | cut -c1-200; shown=$n; fi
done
files=()
cp "$LOG" /tmp/console.txt 2>/dev/null && files+=(console.txt)
for f in config.json log.jsonl final.json; do [ -e "$RUN/$f" ] && cp "$RUN/$f" "/tmp/$f" && files+=("$f"); done
[ -e "/tmp/export/$NAME.json" ] && cp "/tmp/export/$NAME.json" /tmp/card.json && files+=(card.json)
[ ${#files[@]} -gt 0 ] && tar -czf "$OUT/run_$RECIPE.tar.gz" -C /tmp "${files[@]}"
if [ ! -e "$RUN.rc" ]; then
  echo "collect.sh: still running after ${WAIT_S:-560} s; call 'bash bench/gpu/collect.sh $RECIPE $NAME' now"
  exit 124
fi
rc=$(cat "$RUN.rc")
if [ "$rc" = 0 ] && [ "${RETURN_WEIGHTS:-1}" = 1 ] && [ -e "/tmp/export/$NAME.safetensors" ]; then
  split -b 15M -d "/tmp/export/$NAME.safetensors" "$OUT/$NAME.safetensors.part"
fi
ls -la "$OUT"
tail -n 3 "$LOG"
exit "$rc"

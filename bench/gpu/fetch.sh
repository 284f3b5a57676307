#!/usr/bin/env bash
# HERE, after a device call: put its results in place and check them.
#
#   bash bench/gpu/fetch.sh FILES_AT RECIPE [EXPORT_NAME]
#
# FILES_AT is the folder the run tool's reply names (files_at). Writes docs/runs/gpu_<RECIPE>/
# (config.json, log.jsonl, final.json, console.txt, card.json) and, if the weights came back,
# pretrained/<EXPORT_NAME>.safetensors + .json, then loads them through core.pretrained (sha256).
set -euo pipefail
cd "$(dirname "$0")/../.."
AT=$1; RECIPE=$2; NAME=${3:-}
dest=docs/runs/gpu_$RECIPE
mkdir -p "$dest"
tar -xzf "$AT/run_$RECIPE.tar.gz" -C "$dest"
ls -la "$dest"
if [ -n "$NAME" ] && ls "$AT/$NAME.safetensors.part"* >/dev/null 2>&1; then
  cat "$AT/$NAME.safetensors.part"* > "pretrained/$NAME.safetensors"
  cp "$dest/card.json" "pretrained/$NAME.json"
  .venv/bin/python -c "
from core import pretrained
m, card = pretrained.load('$NAME')
print('$NAME loads; sha256 ok; top1', card['top1'], 'epochs', card['epochs'], 'wall', card['wall_time_s'], 's on', card['gpu'])
"
  du -ch pretrained/*.safetensors | tail -1
fi

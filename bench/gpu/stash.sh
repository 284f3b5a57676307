#!/usr/bin/env bash
# HERE: move the committed weights out of the working tree for device calls, and back.
#
#   bash bench/gpu/stash.sh out    # pretrained/*.safetensors -> ../pc_weights_stash/
#   bash bench/gpu/stash.sh in     # and back (do this before any commit)
#
# Why: every device call sends the working tree (tracked files) plus its carry, 64 MiB at most;
# the shipped weights are ~118 MB. Do not commit while they are out (git would see deletions).
set -euo pipefail
cd "$(dirname "$0")/../.."
STASH=../pc_weights_stash
case "${1:-}" in
  out) mkdir -p "$STASH"; shopt -s nullglob; for f in pretrained/*.safetensors; do mv "$f" "$STASH/"; done ;;
  in)  shopt -s nullglob; for f in "$STASH"/*.safetensors; do mv "$f" pretrained/; done ;;
  *) echo "usage: $0 out|in" >&2; exit 2 ;;
esac
ls -la pretrained/ "$STASH" 2>/dev/null | grep -c safetensors | xargs echo "safetensors files listed:"

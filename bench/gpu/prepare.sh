#!/usr/bin/env bash
# HERE, before device calls: stage the data tars that the calls carry, and the commit they run.
#
#   bash bench/gpu/prepare.sh            -> .data/gpu-cifar (19 MB), .data/gpu-nette-a (48 MB),
#                                           .data/gpu-nette-b (50 MB), each with a COMMIT file
#
# .data/ is git-ignored, so these folders travel only when a call names them in `carry`.
# The device's 64 MiB per call counts the working tree too: see stash.sh once weights are committed.
set -euo pipefail
cd "$(dirname "$0")/../.."
SHARED=${SHARED:-../shared/data}
[ -f "$SHARED/cifar10-jpeg.tar.gz" ] || { echo "no $SHARED/cifar10-jpeg.tar.gz (set SHARED=...)" >&2; exit 1; }
commit=$(git rev-parse HEAD)
if [ -n "$(git status --porcelain -uno -- core bench)" ]; then commit="$commit-dirty"; fi
stage() {  # folder, tars...
  local d=.data/$1; shift
  rm -rf "$d"; mkdir -p "$d"
  for f in "$@"; do cp "$SHARED/$f" "$d/"; done
  echo "$commit" > "$d/COMMIT"
}
stage gpu-cifar cifar10-jpeg.tar.gz
stage gpu-nette-a imagenette2-160-train-0.tar imagenette2-160-train-1.tar
stage gpu-nette-b imagenette2-160-train-2.tar imagenette2-160-val.tar
if [ -d .whl ]; then echo "$commit" > .whl/COMMIT; fi  # bench/gpu_speed.sh carries .whl, not the data
du -sh .data/gpu-* 
echo "working tree that travels: $(git ls-files -z | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1) bytes (+ carry; 64 MiB max)"
echo "commit recorded: $commit"

#!/usr/bin/env bash
# Stored baselines on a GPU: one run saved, then the same kernel and a 2% slower one compared with
# it (the path `--gpuslo-save` / a later run takes, where the GPU kernel control decides whether the
# machine moved). Usage: bash benchmarks/gpu_stored.sh OUTDIR
set -u
base_ns=${BASE_NS:-200_000}
slow_ns=${SLOW_NS:-204_000}
out=${1:-/tmp/gpu-stored}
mkdir -p "$out"
here=$(cd "$(dirname "$0")" && pwd)
repo=$(mktemp -d)
cp "$here/gpu_ab/test_kernel.py" "$repo/"
printf '[pytest]\naddopts = -p no:cacheprovider\n' > "$repo/pytest.ini"
echo "SPIN_NS = $base_ns" > "$repo/spin_conf.py"
(cd "$repo" && GPUSLO_NOW=2026-12-01T10:00:00 python3 -m pytest -q --gpuslo-save) > "$out/save.txt" 2>&1
echo "== save (exit $?)"; grep -E "^baseline" "$out/save.txt" | cut -c1-160
for case in same slower; do
  if [ "$case" = slower ]; then echo "SPIN_NS = $slow_ns" > "$repo/spin_conf.py"; fi
  (cd "$repo" && python3 -m pytest -v) > "$out/$case.txt" 2>&1
  echo "== $case vs 1 stored run (exit $?)"; grep -E "p95 vs baseline|machine control" "$out/$case.txt" | head -3 | cut -c1-400
done
rm -rf "$repo"

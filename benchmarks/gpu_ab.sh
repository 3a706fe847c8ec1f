#!/usr/bin/env bash
# Same-machine A/B on a GPU (issue: gate): a 2% slower kernel against its base, and the base
# against itself, each with `gpuslo ab --runs 3` over 5,000 requests. Usage: bash benchmarks/gpu_ab.sh OUTDIR
# Another test of gpu_ab/: TEST=test_servers.py BASE_NS=400_000 SLOW_NS=408_000 bash benchmarks/gpu_ab.sh OUTDIR
# Only the slower case: CASES=slower bash benchmarks/gpu_ab.sh OUTDIR
# Stored baselines instead (one run saved, then the same kernel and the slower one against it, the
# path the GPU kernel control decides on): CASES=stored bash benchmarks/gpu_ab.sh OUTDIR
set -u
test=${TEST:-test_kernel.py}
base_ns=${BASE_NS:-200_000}
slow_ns=${SLOW_NS:-204_000}
out=${1:-/tmp/gpu-ab}
mkdir -p "$out"
here=$(cd "$(dirname "$0")" && pwd)
repo=$(mktemp -d)
cp "$here/gpu_ab/$test" "$repo/"
printf '[pytest]\naddopts = -p no:cacheprovider\n' > "$repo/pytest.ini"
echo "SPIN_NS = $base_ns" > "$repo/spin_conf.py"
git -C "$repo" init -q && git -C "$repo" add . && git -C "$repo" -c user.name=ab -c user.email=ab@ab commit -qm base
for case in ${CASES:-aa slower}; do
  if [ "$case" = stored ]; then
    (cd "$repo" && GPUSLO_NOW=2026-12-01T10:00:00 python3 -m pytest -q --gpuslo-save) > "$out/save.txt" 2>&1
    echo "== save (exit $?)"; grep -E "^baseline" "$out/save.txt" | cut -c1-160
    for against in same slower; do
      if [ "$against" = slower ]; then echo "SPIN_NS = $slow_ns" > "$repo/spin_conf.py"; fi
      (cd "$repo" && python3 -m pytest -v) > "$out/$against.txt" 2>&1
      echo "== $against vs 1 stored run (exit $?)"
      grep -E "p95 vs baseline|machine control" "$out/$against.txt" | head -3 | cut -c1-400
    done
    echo "SPIN_NS = $base_ns" > "$repo/spin_conf.py"
    continue
  fi
  if [ "$case" = slower ]; then echo "SPIN_NS = $slow_ns" > "$repo/spin_conf.py"; fi
  (cd "$repo" && python3 -m pytest_gpuslo ab HEAD --runs 3 --json "$out/ab-$case.json" --keep "$out/kept-$case" -- -q) \
    > "$out/ab-$case.txt" 2>&1
  echo "== A/B $case (exit $?)"; grep -E "REGRESSED|OK |IMPROVED|INCONCLUSIVE|error" "$out/ab-$case.txt" | head -6
done
# Every run's samples, to decide again offline (gpuslo ab --from DIR) and to publish.
if compgen -G "$out/kept-*" > /dev/null; then
  (cd "$out" && tar -czf ab-kept.tgz kept-* ab-*.json ab-*.txt)
  rm -rf "$out"/kept-* "$out"/ab-*.json "$out"/ab-*.txt
fi
rm -rf "$repo"

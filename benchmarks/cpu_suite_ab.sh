#!/usr/bin/env bash
# The gate issue's finding 8 on a real CPU workload (mistune): `gpuslo ab --runs 3` of the base
# against itself and of a 22% slower renderer against it, each run 3,000 requests at 120/s on 2
# lanes (CPU_SUITE_REQUESTS overrides). Needs mistune installed.
# Usage: bash benchmarks/cpu_suite_ab.sh [OUTDIR] [RUNS] ["aa slower"] [MAX_RUNS]
set -u
out=${1:-/tmp/cpu-ab}
runs=${2:-3}
cases=${3:-aa slower}
more=()
if [ -n "${4:-}" ]; then more=(--max-runs "$4"); fi
mkdir -p "$out"
here=$(cd "$(dirname "$0")" && pwd)
repo=$(mktemp -d)
cp "$here/cpu_suite/test_render.py" "$repo/"
printf '[pytest]\naddopts = -p no:cacheprovider\n' > "$repo/pytest.ini"
echo "SLOW = 0.0" > "$repo/slow_conf.py"
git -C "$repo" init -q && git -C "$repo" add . && git -C "$repo" -c user.name=ab -c user.email=ab@ab commit -qm base
for case in $cases; do
  if [ "$case" = slower ]; then echo "SLOW = 0.22" > "$repo/slow_conf.py"; else echo "SLOW = 0.0" > "$repo/slow_conf.py"; fi
  (cd "$repo" && python3 -m pytest_gpuslo ab HEAD --runs "$runs" ${more[@]+"${more[@]}"} --json "$out/ab-$case.json" -- -q) \
    > "$out/ab-$case.txt" 2>&1
  echo "== A/B $case, $runs+$runs runs${4:+, up to $4} (exit $?)"
  grep -E "gpuslo ab: 1 SLO|test_render|REGRESSED|IMPROVED|INCONCLUSIVE|error|busy" "$out/ab-$case.txt" | head -8
done

#!/usr/bin/env bash
# The stored-baseline path on a real GPU: five runs recorded as five sessions (GPUSLO_SESSION and
# GPUSLO_NOW: five labels on five days), the
# controls and replay scales they stored, then candidates judged against them with -v (the control
# must not hold back what the GPU did not cause).
# Usage: bash benchmarks/gpu_control_gate.sh [TEST_FILE BASE_NS CANDIDATE_NS...]
#   default: gpu_ab/test_kernel.py (one stream, 200 us spin), candidates 200_000 (same) and 204_000 (2% slower)
set -u
here=$(cd "$(dirname "$0")" && pwd)
test_file=${1:-gpu_ab/test_kernel.py}
base_ns=${2:-200_000}
shift $(( $# > 2 ? 2 : $# ))
candidates=("$@")
[ ${#candidates[@]} -eq 0 ] && candidates=("$base_ns" 204_000)
repo=$(mktemp -d)
cp "$here/$test_file" "$repo/"
printf '[pytest]\naddopts = -p no:cacheprovider\n' > "$repo/pytest.ini"
cd "$repo" || exit 2
echo "SPIN_NS = $base_ns" > spin_conf.py
for s in 1 2 3 4 5; do
  # each run its own day too: runs that share a UTC day count as one session (gate.session_groups)
  GPUSLO_SESSION="day-$s" GPUSLO_NOW="2026-11-1${s}T12:00:00+00:00" python3 -m pytest -q --gpuslo-save > "save-$s.txt" 2>&1
  grep -E "baseline .*:" "save-$s.txt" | tail -1
done
python3 - <<'PY'
import glob, json
d = json.load(open(glob.glob(".gpuslo/*.json")[0]))
print("stored controls:", [r["summary"].get("control") for r in d["runs"]])
print("stored replay scales:", [r["summary"].get("scale") for r in d["runs"]])
PY
for ns in "${candidates[@]}"; do
  echo "SPIN_NS = $ns" > spin_conf.py
  python3 -m pytest -v > "run-$ns.txt" 2>&1
  echo "== spin $ns ns (exit $?)"
  grep -E "vs baseline|machine control" "run-$ns.txt" | grep -v "^vs baseline:" | head -4
  # the CLI on the same run: its last-run record keeps the request stamps a moved control replays
  last=$(ls .gpuslo/.last/*.json | head -1)
  python3 -c "import json,sys; print('last-run stamps kept:', 'stamps' in json.load(open(sys.argv[1]))['runs'][0])" "$last"
  python3 -m pytest_gpuslo compare .gpuslo "$last" > "compare-$ns.txt" 2>&1
  echo "   gpuslo compare (exit $?): $(grep -E ' ratio ' "compare-$ns.txt" | head -1 | cut -c1-160)"
done

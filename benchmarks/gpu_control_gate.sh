#!/usr/bin/env bash
# The machine control on a real GPU, on the stored-baseline path: five runs recorded as five
# sessions (GPUSLO_SESSION), then the same kernel and a 2% slower one judged against them with -v
# (the control must not hold back what the GPU did not cause). Usage: bash benchmarks/gpu_control_gate.sh
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(mktemp -d)
cp "$here/gpu_ab/test_kernel.py" "$repo/"
printf '[pytest]\naddopts = -p no:cacheprovider\n' > "$repo/pytest.ini"
cd "$repo" || exit 2
echo "SPIN_NS = 200_000" > spin_conf.py
for s in 1 2 3 4 5; do
  GPUSLO_SESSION="day-$s" python3 -m pytest -q --gpuslo-save > "save-$s.txt" 2>&1
  grep -E "baseline .*:" "save-$s.txt" | tail -1
done
python3 - <<'PY'
import glob, json
d = json.load(open(glob.glob(".gpuslo/*.json")[0]))
print("stored controls:", [r["summary"].get("control") for r in d["runs"]])
print("stored replay scales:", [r["summary"].get("scale") for r in d["runs"]])
PY
for case in same slower; do
  if [ "$case" = slower ]; then echo "SPIN_NS = 204_000" > spin_conf.py; fi
  python3 -m pytest -v > "$case.txt" 2>&1
  echo "== $case (exit $?)"
  grep -E "vs baseline|machine control" "$case.txt" | head -4
done

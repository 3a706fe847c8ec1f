#!/usr/bin/env bash
# The replay-chosen scale end to end on a GPU: four one-block-kernel streams at utilisation 0.9
# (a many-server queue near saturation), five runs saved as five sessions (GPUSLO_SESSION), the
# scales they stored, then the same kernel, a 1% slower and a 4% slower one judged against them
# with -v. Usage: bash benchmarks/gpu_replay_gate.sh
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(mktemp -d)
cp "$here/gpu_ab/test_servers.py" "$repo/"
printf '[pytest]\naddopts = -p no:cacheprovider\n' > "$repo/pytest.ini"
cd "$repo" || exit 2
echo "SPIN_NS = 400_000" > spin_conf.py
for s in 1 2 3 4 5; do
  GPUSLO_SESSION="day-$s" python3 -m pytest -q --gpuslo-save > "save-$s.txt" 2>&1
  grep -E "baseline .*:" "save-$s.txt" | tail -1
done
python3 - <<'PY'
import glob, json
d = json.load(open(glob.glob(".gpuslo/*.json")[0]))
print("stored replay scales:", [r["summary"].get("scale") for r in d["runs"]])
PY
for ns in 400_000 404_000 416_000; do
  echo "SPIN_NS = $ns" > spin_conf.py
  python3 -m pytest -v > "run-$ns.txt" 2>&1
  echo "== spin $ns ns (exit $?)"
  grep -E "vs baseline" "run-$ns.txt" | grep -v "^vs baseline:" | head -3
done

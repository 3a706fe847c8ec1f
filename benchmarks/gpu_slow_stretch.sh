#!/usr/bin/env bash
# A GPU body that gets slow mid-run: the verdict and its reason for a step to 2.5x the budget from
# 55% of the run on one stream (its own times are the service: FAIL) and on 8 streams (not known:
# INCONCLUSIVE, naming the run that would FAIL it), and with no step (PASS).
# Usage: bash benchmarks/gpu_slow_stretch.sh
set -u
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
cp "$here/gpu_slow/test_step.py" "$work/"
printf '[pytest]\naddopts = -p no:cacheprovider\n' > "$work/pytest.ini"
echo "| streams | slow from | verdict | reason |"
echo "|---|---|---|---|"
for case in "1 0.55" "8 0.55" "1 2"; do
  set -- $case
  (cd "$work" && STREAMS=$1 SLOW_FROM=$2 python3 -m pytest -q --gpuslo-json=r.json > out.txt 2>&1)
  python3 - "$work/r.json" "$1" "$2" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]["verdict"]
c = r["checks"][0]
frm = "never" if float(sys.argv[3]) > 1 else f"{float(sys.argv[3]):.0%}"
print(f"| {sys.argv[2]} | {frm} | {r['outcome']} | {(c['reason'] or c['detail'])[:240]} |")
PY
done
rm -rf "$work"

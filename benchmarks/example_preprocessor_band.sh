#!/usr/bin/env bash
# The example project's cheap-preprocessor incident: where, on this machine, the "before" test stops
# failing and the "after" test stops holding.  The rate is set by hand (RATES) in a scratch copy of
# the test file; the import-time calibration is measured apart, in fresh processes (CALIBRATIONS).
# Usage: RATES="500 700 900 1100" CALIBRATIONS=5 bash benchmarks/example_preprocessor_band.sh
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
cp -r "$here/example_project/." "$work/"
cd "$work"
echo "== the calibration, in ${CALIBRATIONS:-5} fresh processes (cost of the two-pass normaliser, ms; rate 1.3/cost)"
for _ in $(seq "${CALIBRATIONS:-5}"); do
  python3 - <<'PY'
import sys, statistics, time
sys.path[:0] = [".", "tests"]
from conftest import documents
from textpipe.service import normalise, normalise_two_pass
docs = documents(64)
def cost(fn, reps=3):
    for d in docs: fn(d)
    t = []
    for _ in range(reps):
        for d in docs:
            s = time.perf_counter(); fn(d); t.append(time.perf_counter() - s)
    return statistics.median(t)
c2, c1 = cost(normalise_two_pass), cost(normalise)
c2b = min(cost(normalise_two_pass, 3) for _ in range(5))
print(f"two-pass {c2*1e3:.3f} ms  one-pass {c1*1e3:.3f} ms  (best of 5: {c2b*1e3:.3f} ms)  rate {1.3/c2:.0f}/s")
PY
done
for rate in ${RATES:-500 700 900 1100}; do
  sed -i "s/^PREPROCESSOR_RATE = .*/PREPROCESSOR_RATE = $rate/" tests/test_incidents.py
  echo "== rate $rate/s"
  python3 -m pytest -q -p no:cacheprovider -rA --runxfail "tests/test_incidents.py::TestPreprocessor" 2>&1 \
    | grep -E "^tests/test_incidents.py::TestPreprocessor::test_cheap" | cut -c1-200
done
rm -rf "$work"

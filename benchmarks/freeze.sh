#!/usr/bin/env bash
# A frozen process (SIGSTOP for FREEZE_S seconds, as a paused VM leaves it) in the middle of a CPU
# SLO run, then the same run unfrozen: what the lateness reads as (the delay it added to
# completions, the machine's where the dispatcher's schedstat is read: docs/architecture.md "Whose
# is a late dispatch?").  Usage: bash benchmarks/freeze.sh OUTDIR
set -u
out=${1:-/tmp/freeze}
mkdir -p "$out"
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
cp "$here/freeze/test_freeze.py" "$work/"
for case in frozen plain; do
  (cd "$work" && exec "${PYTHON:-python3}" -m pytest -q -p no:cacheprovider --gpuslo-json="$out/$case.json") > "$out/$case.txt" 2>&1 &
  pid=$!
  if [ "$case" = frozen ]; then
    sleep "${AFTER_S:-6}"; kill -STOP "$pid"; sleep "${FREEZE_S:-2}"; kill -CONT "$pid"
  fi
  wait "$pid"
  python3 - "$out/$case.json" "$case" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
lag = r["lag_ms"]
print(f"{sys.argv[2]:<7} lag p99 {lag['p99']:9.2f} ms  delay to completions p99 {lag['delay_p99']:9.2f} ms, "
      f"max {lag['delay_max']:9.2f} ms, frozen max {lag.get('frozen_max') or 0:8.2f} ms  verdict {r['verdict']['outcome']}: {r['verdict']['reasons'][:1]}")
PY
done
rm -rf "$work"

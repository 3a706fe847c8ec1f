"""The example project's two incidents, before and after their fixes: p95 and the culprit stage.

Runs ``example_project/tests/test_incidents.py`` with ``--runxfail`` (so the "before" tests report
their real verdict) and prints one markdown table for docs/validation.md.  On a machine with a GPU
the model step runs on CuPy; without one, on numpy.

Usage: python benchmarks/incidents.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def main() -> int:
    sys.path.insert(0, ROOT)
    from pytest_gpuslo.backends import probe
    from pytest_gpuslo.reports.terminal import tail_stage

    step = "CuPy (GPU)" if probe("cuda") is None else "numpy (CPU)"
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "incidents.json")
        proc = subprocess.run([sys.executable, "-m", "pytest", "--runxfail", "-q", "-p", "no:cacheprovider",
                               "tests/test_incidents.py", f"--gpuslo-json={out}"],
                              cwd=os.path.join(ROOT, "example_project"), capture_output=True, text=True)
        if not os.path.exists(out):
            print(proc.stdout[-3000:], proc.stderr[-3000:])
            return 1
        results = json.load(open(out))["results"]
    print(f"model step on {step}")
    print()
    print("| test | offered | p95 ms | budget | verdict | stage holding the tail (p95 ms) |")
    print("|---|---|---|---|---|---|")
    for r in sorted(results, key=lambda r: r["nodeid"]):
        stages = r.get("stages", {})
        worst = tail_stage(stages) if stages else "-"
        budget = ", ".join(f"{k}<={v:g}ms" for k, v in r["spec"]["budgets_ms"].items())
        print(f"| {r['nodeid'].split('::', 1)[1]} | {r['offered_hz']:.0f}/s | {r['latency_ms']['p95']:.1f} | "
              f"{budget} | {r['verdict']['outcome']} | {worst} ({stages[worst]['p95_ms']:.1f}) |"
              if stages else "")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The HTML report's size per test: does a suite of 50 tests stay under about 2 MB?

Builds summaries the way the plugin does (``SloResult.summary()`` with ``series.build``) for a
worst case per test: seven stages with admission, a stored reference with its stages, two budgets,
600 NVML samples and an on-off arrival process; sweeps the run's length, renders the report and
prints its size.  ``--report FILE`` measures an existing report instead (e.g. the example
project's): its size, its tests and the size per test beyond the fixed part (uPlot, CSS, script).

Usage: python benchmarks/report_size.py [--tests 50] [--report FILE ...]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pytest_gpuslo import gate, series  # noqa: E402
from pytest_gpuslo.recorder import RunData, StageTimes  # noqa: E402
from pytest_gpuslo.reports import Context  # noqa: E402
from pytest_gpuslo.reports.html import render  # noqa: E402
from pytest_gpuslo.result import SloResult  # noqa: E402
from pytest_gpuslo.spec import SloSpec  # noqa: E402

STAGES = ("normalise.queue", "normalise.service", "tokenize", "model.queue", "model.service", "detokenise")


def one_run(n: int, seed: int) -> SloResult:
    """n requests of on-off arrivals through a 2-lane FIFO service cut into six stages."""
    rng = np.random.default_rng(seed)
    gaps = np.where(rng.random(n) < 0.3, rng.exponential(2.5e6, n), rng.exponential(0.4e6, n))
    sched = np.cumsum(gaps).astype(np.int64)
    service = rng.gamma(2.0, 0.45e6, n).astype(np.int64) + 200_000
    free = np.zeros(2, np.int64)
    start = np.empty(n, np.int64)
    for i in range(n):
        lane = int(free.argmin())
        start[i] = max(sched[i], free[lane])
        free[lane] = start[i] + service[i]
    end = start + service
    cuts = start[:, None] + (service[:, None] * np.linspace(0, 1, len(STAGES) + 1)[None, :]).astype(np.int64)
    stages = {name: StageTimes(cuts[:, k].copy(), cuts[:, k + 1].copy()) for k, name in enumerate(STAGES)}
    t0 = 10**12
    data = RunData(sched, sched + rng.integers(0, 200_000, n), start, end, np.zeros(n, np.int32),
                   np.zeros(n, bool), stages, 60 * 10**9, t0_ns=t0)
    span = int(end.max())
    trace = [{"t_ns": t0 + int(k * span / 600), "sm_mhz": 1980 - 300 * (k % 97 == 0), "reasons": 0x4 * (k % 97 == 0),
              "temp_c": 55 + k % 9, "power_w": 310.5 + k % 13} for k in range(600)]
    spec = SloSpec(budgets_ms={0.95: 5.0, 0.99: 10.0}, rate_hz=n / (sched[-1] / 1e9), requests=n, streams=2,
                   arrivals="onoff(burst_s=0.05, calm_s=0.2)")
    result = SloResult(spec=spec, data=data, warmup=0, backend="cuda-like", nodeid=f"tests/test_svc.py::test_{n}_{seed}",
                       telemetry={"disturbances": [], "trace": trace})
    result.verdict = gate.decide(spec, result.measurements())
    return result


def summary(n: int, seed: int) -> dict[str, Any]:
    result = one_run(n, seed)
    base = one_run(n, seed + 1000)
    ref = series.reference("baseline", [base.latency_ms], confidence=0.99, percentiles=[0.95, 0.99],
                           stages={k: {"p50_ms": v.p50_ms, "p95_ms": v.p95_ms} for k, v in base.stages.items()},
                           detail="stored 2026-11-30")
    result.series_data = series.build(result, alpha=0.01, ref=ref)
    # what the controller receives from a worker: the summary as JSON
    return json.loads(json.dumps(result.summary()))


def fixed_size() -> int:
    return len(render([], Context()).encode())


def sweep(tests: int) -> None:
    fixed = fixed_size()
    print(f"fixed part (uPlot, CSS, script, page): {fixed / 1024:.0f} KB")
    print()
    print(f"| requests per test | series JSON per test | HTML per test | {tests} tests |")
    print("|---:|---:|---:|---:|")
    for n in (2_000, 20_000, 200_000):
        s = summary(n, 1)
        ser = len(json.dumps(s["series"], separators=(",", ":")))
        one = len(render([s], Context()).encode()) - fixed
        total = fixed + tests * one
        print(f"| {n:,} | {ser / 1024:.1f} KB | {one / 1024:.1f} KB | {total / 2**20:.2f} MB |")


def measure(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    n = len(re.findall(r"<details class=\"test\"|<section id=\"t", text))
    size = len(text.encode())
    per = (size - fixed_size()) / max(n, 1)
    print(f"{path}: {size / 1024:.0f} KB for {n} tests, {per / 1024:.1f} KB per test beyond the fixed part "
          f"(50 such tests: {(fixed_size() + 50 * per) / 2**20:.2f} MB)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tests", type=int, default=50)
    ap.add_argument("--report", type=Path, nargs="*", default=[])
    a = ap.parse_args()
    if a.report:
        for p in a.report:
            measure(p)
        return 0
    sweep(a.tests)
    return 0


if __name__ == "__main__":
    sys.exit(main())

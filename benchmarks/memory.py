"""Measure the memory one scheduled request costs while a test runs, and print a table
(docs/limits.md: ``limits.BYTES_PER_REQUEST`` and ``limits.MAX_REQUESTS`` come from it).

A run allocates the schedule, the recorder's stamps, the dispatcher's Python lists and the run data
copied from them, then the gate's arrays.  The peak of tracemalloc (numpy's buffers included) over
plan + run + decide + summary is divided by the requests scheduled (warm-up included).

Usage: python benchmarks/memory.py [--requests 100000 400000]
"""

from __future__ import annotations

import argparse
import platform
import tracemalloc

from pytest_gpuslo import arrivals, limits, spec
from pytest_gpuslo.backends import cpu, virtual
from pytest_gpuslo.runner import execute


def peak_bytes(n: int, backend: str, stages: bool) -> tuple[int, int]:
    """(peak bytes, requests scheduled) of one run of ``n`` measured requests."""
    rate = 1e6 if backend == "virtual" else 2e5
    sp = spec.resolve({"p95_ms": 1e6, "rate_hz": rate, "requests": n, "timeout_s": 3600.0}, nodeid="m::x")

    def body(req: object) -> None:
        if stages:
            with req.stage("a"):  # type: ignore[attr-defined]
                pass

    tracemalloc.start()
    schedule, warm = arrivals.plan(sp)
    lanes = virtual.Backend() if backend == "virtual" else cpu.Backend()
    result = execute(sp, body, backend=lanes, schedule=schedule, warm=warm)
    result.summary()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak, int(schedule.size)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, nargs="+", default=[100_000, 400_000])
    args = parser.parse_args()
    print(f"python {platform.python_version()}, limits.BYTES_PER_REQUEST = {limits.BYTES_PER_REQUEST}")
    for backend in ("cpu", "virtual"):  # first calls import scipy's pieces lazily: not per request
        peak_bytes(2000, backend, True)
    print(f"{'backend':<8} {'stages':<6} {'requests':>9} {'peak MB':>8} {'bytes/request':>13}")
    for backend in ("cpu", "virtual"):
        for stages in (False, True):
            for n in args.requests:
                peak, scheduled = peak_bytes(n, backend, stages)
                print(f"{backend:<8} {str(stages):<6} {scheduled:>9} {peak / 1e6:>8.1f} {peak / scheduled:>13.0f}")


if __name__ == "__main__":
    main()

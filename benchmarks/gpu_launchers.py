"""Can several launchers issue faster than one?  The capacity issue's question before building one.

The harness issues every request from one Python thread, and its capacity sits at 0.6-0.7x of the
closed bare loop (docs/validation.md).  This measures the closed bare loop of the copy workload
(64 KB H2D + kernel + D2H, 64 streams) issued by 1, 2, 4 and 8 threads, each owning its share of
the streams, and by 2 and 4 processes (one CUDA context each), so a multi-launcher design is
judged on numbers.  Prints a table; three repetitions, medians.

    python3 benchmarks/gpu_launchers.py [--requests 20000]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def threads_rate(work: object, m: int, k: int) -> float:
    """Sustained requests/s with ``k`` threads, thread j issuing requests j, j+k, ... on the lanes
    congruent to j (so no two threads share a stream)."""
    import cupy as cp

    barrier = threading.Barrier(k + 1)

    def issue(j: int) -> None:
        barrier.wait()
        for i in range(j, m, k):
            work(i, work.streams[i % work.lanes])  # type: ignore[attr-defined,operator]

    ts = [threading.Thread(target=issue, args=(j,)) for j in range(k)]
    for t in ts:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in ts:
        t.join()
    cp.cuda.Device().synchronize()
    return m / (time.perf_counter() - t0)


def _proc(lanes: int, m: int, start: object, q: object) -> None:
    from benchmarks.copyload import CopyWork

    work = CopyWork(lanes=lanes)
    work.closed_loop(300)
    start.wait()  # type: ignore[attr-defined]
    t0 = time.perf_counter()
    rate, _ = work.closed_loop(m, warm=0)
    q.put((t0, time.perf_counter(), m))  # type: ignore[attr-defined]


def procs_rate(m: int, k: int) -> float:
    ctx = mp.get_context("spawn")
    start, q = ctx.Event(), ctx.Queue()
    ps = [ctx.Process(target=_proc, args=(64 // k, m // k, start, q)) for _ in range(k)]
    for p in ps:
        p.start()
    time.sleep(8.0)  # every process has made its context and warmed up
    start.set()
    res = [q.get(timeout=120) for _ in ps]
    for p in ps:
        p.join()
    t0, t1 = min(r[0] for r in res), max(r[1] for r in res)
    return sum(r[2] for r in res) / (t1 - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=20000)
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    from benchmarks.copyload import CopyWork

    work = CopyWork(lanes=64)
    work.closed_loop(500)
    rows = []
    for k in (1, 2, 4, 8):
        rows.append((f"{k} thread(s)", statistics.median(threads_rate(work, a.requests, k) for _ in range(a.reps))))
    for k in (2, 4):
        rows.append((f"{k} processes", statistics.median(procs_rate(a.requests, k) for _ in range(a.reps))))
    one = rows[0][1]
    print("| launchers | closed bare loop, requests/s (median of %d) | vs one thread |" % a.reps)
    print("|---|---|---|")
    for name, rate in rows:
        print(f"| {name} | {rate:,.0f} | {rate / one:.2f} |")


if __name__ == "__main__":
    main()

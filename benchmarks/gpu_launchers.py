"""Can several launchers issue faster than one?  The capacity issue's question before building one.

The harness issues every request from one Python thread, and its capacity sits at 0.6-0.7x of the
closed bare loop (docs/validation.md).  This measures the closed bare loop of the copy workload
(64 KB H2D + kernel + D2H, 64 streams) issued by 1, 2, 4 and 8 threads, each owning its share of
the streams, and by 2 and 4 processes (one CUDA context each), so a multi-launcher design is
judged on numbers.  Prints a table; three repetitions, medians.

``--overlap`` asks the other half of the question: would a launcher process per lane group still
measure the same system?  Two lanes each run K small kernels of fixed work (one block, a loop of
arithmetic, about 200 us): from two streams of one process, and from two processes (two CUDA
contexts, no MPS).  If the second takes twice as long, kernels of different contexts did not
overlap (the driver time-slices contexts), so lanes split over processes would serialise work
that one service process runs concurrently.

    python3 benchmarks/gpu_launchers.py [--requests 20000] [--overlap]
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


WORK_SRC = r"""
extern "C" __global__ void work(long long n, float* out) {
    float x = threadIdx.x;
    for (long long i = 0; i < n; ++i) { x = x * 1.0000001f + 0.5f; }
    if (x == -1.0f) { out[0] = x; }
}
"""


def _work_kernel() -> tuple[object, object]:
    import cupy as cp

    return cp.RawKernel(WORK_SRC, "work"), cp.zeros(1, dtype=cp.float32)


def _loop_for(us: float) -> int:
    """The loop count that makes one kernel run about ``us`` microseconds on this card."""
    import cupy as cp

    kern, out = _work_kernel()
    n = 100_000
    for _ in range(3):
        kern((1,), (32,), (cp.int64(n), out))
        cp.cuda.Device().synchronize()
        t = time.perf_counter()
        kern((1,), (32,), (cp.int64(n), out))
        cp.cuda.Device().synchronize()
        n = max(1000, int(n * us / ((time.perf_counter() - t) * 1e6)))
    return n


def _overlap_proc(n: int, k: int, start: object, q: object) -> None:
    import cupy as cp

    kern, out = _work_kernel()
    s = cp.cuda.Stream(non_blocking=True)
    with s:
        kern((1,), (32,), (cp.int64(n), out))
    s.synchronize()
    start.wait()  # type: ignore[attr-defined]
    t0 = time.perf_counter()
    with s:
        for _ in range(k):
            kern((1,), (32,), (cp.int64(n), out))
    s.synchronize()
    q.put((t0, time.perf_counter()))  # type: ignore[attr-defined]


def overlap(k: int = 200, us: float = 200.0) -> list[tuple[str, float]]:
    """Wall time (ms) of two lanes of ``k`` fixed-work kernels: one kernel alone, two streams of
    one process, two processes."""
    import cupy as cp

    n = _loop_for(us)
    kern, out = _work_kernel()
    streams = [cp.cuda.Stream(non_blocking=True) for _ in range(2)]
    rows = []
    for lanes in (1, 2):
        t = time.perf_counter()
        for _ in range(k):
            for s in streams[:lanes]:
                with s:
                    kern((1,), (32,), (cp.int64(n), out))
        cp.cuda.Device().synchronize()
        rows.append((f"{lanes} stream(s), one process", (time.perf_counter() - t) * 1e3))
    ctx = mp.get_context("spawn")
    start, q = ctx.Event(), ctx.Queue()
    ps = [ctx.Process(target=_overlap_proc, args=(n, k, start, q)) for _ in range(2)]
    for p in ps:
        p.start()
    time.sleep(8.0)
    start.set()
    res = [q.get(timeout=120) for _ in ps]
    for p in ps:
        p.join()
    rows.append(("2 processes, one stream each", (max(r[1] for r in res) - min(r[0] for r in res)) * 1e3))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=20000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--overlap", action="store_true", help="only the context time-slicing check")
    a = ap.parse_args()
    if a.overlap:
        reps = [overlap() for _ in range(a.reps)]
        alone = statistics.median(r[0][1] for r in reps)
        print(f"| two lanes of 200 fixed-work kernels (~200 us each) | wall ms (median of {a.reps}) | vs one lane |")
        print("|---|---|---|")
        for j, (name, _) in enumerate(reps[0]):
            ms = statistics.median(r[j][1] for r in reps)
            print(f"| {name} | {ms:.1f} | {ms / alone:.2f} |")
        return
    from benchmarks.copyload import CopyWork

    work = CopyWork(lanes=64)
    work.closed_loop(500)
    rows = []
    for k in (1, 2, 4, 8):
        rows.append((f"{k} thread(s)", statistics.median(threads_rate(work, a.requests, k) for _ in range(a.reps))))
    for k in (2, 4):
        rows.append((f"{k} processes", statistics.median(procs_rate(a.requests, k) for _ in range(a.reps))))
    one = rows[0][1]
    print(f"| launchers | closed bare loop, requests/s (median of {a.reps}) | vs one thread |")
    print("|---|---|---|")
    for name, rate in rows:
        print(f"| {name} | {rate:,.0f} | {rate / one:.2f} |")


if __name__ == "__main__":
    main()

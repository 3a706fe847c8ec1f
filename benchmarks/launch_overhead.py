"""The CUDA launcher's own Python cost per request, measured without a GPU (issue: capacity).

A stand-in ``cupy`` whose runtime calls are C builtins (a few tens of ns) replaces the real one,
so what remains is the harness's Python: the dispatch loop, the ``Request``, making the lane's
stream current, the bookkeeping around the body.  The real event records (about 1.7 us each on
an H200 host, docs/validation.md) come on top.  Three loops issue the same requests (an empty
body, 64 lanes, every request already due, so nothing sleeps):

- ``bare``: the closed bare loop's shape (make the stream current, body, one event record);
- ``harness``: ``run_open_loop`` on ``backends.cuda.Backend`` (escape checks and all);
- the difference is the harness's Python per request, the part a change to the launcher can cut.

With ``--gpu`` (a CUDA machine) the real CuPy is used and the body is the capacity issue's copy
body (64 KB H2D + kernel + D2H, ``copyload.CopyWork``): the harness's closed rate (every request due
at once) against the closed bare loop's, which bounds what ``gpuslo capacity`` can find.  Set
``GPUSLO_SRC`` to another checkout's root to measure its launcher instead (before/after).

Usage: python benchmarks/launch_overhead.py [--requests N] [--repeats R] [--gpu]
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
import time
import types
from typing import Any

import numpy as np


def _paths() -> None:
    """The launcher to measure (``$GPUSLO_SRC`` or this checkout) and ``copyload`` beside us: set
    when run as a script only (tests load ``fake_cupy`` from here and must not see sys.path move:
    a repository root on it made pytest's assertion rewriting warn in nested pytest runs)."""
    sys.path.insert(0, os.environ.get("GPUSLO_SRC") or os.path.join(os.path.dirname(__file__), ".."))
    sys.path.insert(1, os.path.dirname(__file__))


def fake_cupy() -> types.ModuleType:
    """Just enough of CuPy for ``backends.cuda.Backend`` with telemetry off: C builtins where the
    hot path calls the runtime, so their cost is that of a call, not of a driver."""
    counter = itertools.count(1000)
    # Events keep the host time they were recorded at, so the times a run records are real ones
    # (the driver refuses a run whose requests end before their arrival): one dict store a record.
    stamps: dict[int, int] = {}
    clock = time.perf_counter_ns
    rt = types.SimpleNamespace(
        eventCreate=counter.__next__, eventRecord=lambda ev, stream: stamps.__setitem__(ev, clock()),
        eventQuery=(0).__mul__,
        eventElapsedTime=lambda a, b: (stamps.get(b, 0) - stamps.get(a, 0)) / 1e6,
        eventSynchronize=abs, eventDestroy=abs,
        streamLegacy=1, streamPerThread=2, memGetInfo=lambda: (1, 1),
        getDeviceProperties=lambda d: {"name": b"fake", "multiProcessorCount": 1},
        runtimeGetVersion=lambda: 0, getDeviceCount=lambda: 1)
    local = types.SimpleNamespace(stream=None)

    class Stream:
        null: Any = None

        def __init__(self, non_blocking: bool = False) -> None:
            self.ptr = next(counter)

        def use(self) -> "Stream":
            local.stream = self
            return self

    Stream.null = Stream()

    class Event:
        def __init__(self, disable_timing: bool = False) -> None:
            self.ptr = next(counter)

        def record(self, stream: Any = None) -> None:
            stamps[self.ptr] = clock()

        def synchronize(self) -> None:
            pass

    class Device:
        def __init__(self, i: int = 0) -> None:
            self.id = i
            self.pci_bus_id = "0000:00:00.0"
            self.compute_capability = "90"

        def use(self) -> None:
            pass

    pool = types.SimpleNamespace(free_all_blocks=lambda: None)
    cuda = types.SimpleNamespace(runtime=rt, Stream=Stream, Event=Event, Device=Device,
                                 get_current_stream=lambda: local.stream,
                                 nvtx=types.SimpleNamespace(RangePush=abs, RangePop=lambda: None))
    mod = types.ModuleType("cupy")
    mod.cuda = cuda  # type: ignore[attr-defined]
    mod.__version__ = "fake"  # type: ignore[attr-defined]
    mod.get_default_memory_pool = lambda: pool  # type: ignore[attr-defined]
    mod.get_default_pinned_memory_pool = lambda: pool  # type: ignore[attr-defined]
    return mod


def bare(n: int, lanes: int, cp: Any) -> float:
    """ns per request of the closed bare loop's shape on the stand-in."""
    streams = [cp.cuda.Stream(non_blocking=True) for _ in range(lanes)]
    ptrs = [s.ptr for s in streams]
    events = [cp.cuda.runtime.eventCreate() for _ in range(n)]
    record = cp.cuda.runtime.eventRecord

    def body(i: int) -> None:
        pass

    t = time.perf_counter_ns()
    for i in range(n):
        lane = i % lanes
        streams[lane].use()
        body(i)
        record(events[i], ptrs[lane])
    return (time.perf_counter_ns() - t) / n


def harness(n: int, lanes: int, work: Any = None) -> float:
    """ns per request of ``run_open_loop`` on the CUDA backend, every request due at once."""
    from pytest_gpuslo.backends import cuda
    from pytest_gpuslo.measurement import run_open_loop

    backend = cuda.Backend(telemetry=False)
    if work is None:
        backend.describe = lambda: {}  # type: ignore[method-assign]

    def body(req: Any) -> None:
        if work is not None:
            work(req.index)

    schedule = np.zeros(n, dtype=np.int64)
    data, _ = run_open_loop(schedule, backend, body, lanes=lanes, timeout_s=60.0, prime=False)
    sent = data.dispatch_ns if hasattr(data, "dispatch_ns") else None
    if sent is not None and len(sent) > 1:
        stamps: list[int] = sorted(int(s) for s in sent)
        return (stamps[-1] - stamps[0]) / (len(stamps) - 1)
    raise RuntimeError("no dispatch stamps")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--requests", type=int, default=100_000)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--lanes", type=int, default=64)
    p.add_argument("--gpu", action="store_true", help="real CuPy and the copy body (a CUDA machine)")
    p.add_argument("--body", choices=("copy", "kernel"), default="copy", help="with --gpu: the body")
    a = p.parse_args()
    _paths()
    if a.gpu:
        gpu(a)
        return
    sys.modules["cupy"] = fake_cupy()
    cp = sys.modules["cupy"]
    b = [bare(a.requests, a.lanes, cp) for _ in range(a.repeats)]
    h = [harness(a.requests, a.lanes) for _ in range(a.repeats)]
    mb, mh = statistics.median(b), statistics.median(h)
    print(f"| loop | ns per request: median (least) of {a.repeats} | all |\n|---|---|---|")
    print(f"| bare (stream current, body, end record) | {mb:.0f} ({min(b):.0f}) | {', '.join(f'{x:.0f}' for x in b)} |")
    print(f"| harness (run_open_loop, cuda.Backend) | {mh:.0f} ({min(h):.0f}) | {', '.join(f'{x:.0f}' for x in h)} |")
    print(f"| harness's own Python | {mh - mb:.0f} ({min(h) - min(b):.0f}) | |")
    print(f"\nPython {sys.version.split()[0]}; runtime calls are C builtins here (on an H200 host the two timed "
          f"event records add 1.3-2.5 us a request: docs/validation.md, session 8).")


def gpu(a: argparse.Namespace) -> None:
    """Closed rates on a GPU, the loops interleaved (the host's speed drifts): the bare loop, the
    bare loop with the harness's two event records (timed, and with timing disabled), and the
    harness, so the launcher's cost splits into the records' and its Python's."""
    import time

    import cupy as cp
    from copyload import CopyWork

    import pytest_gpuslo

    rt = cp.cuda.runtime
    work = CopyWork(lanes=a.lanes)
    copies = a.body == "copy"
    streams = [work.streams[i % a.lanes] for i in range(a.lanes)]
    ptrs = [int(s.ptr) for s in streams]

    def events(flags: int) -> list[int]:
        return [int(rt.eventCreateWithFlags(flags)) for _ in range(2 * a.requests)]

    timed, untimed = events(0), events(2)  # 2: cudaEventDisableTiming

    def bare(evs: list[int] | None) -> float:
        record = rt.eventRecord
        for i in range(300):
            work(i, streams[i % a.lanes], copies=copies)
        cp.cuda.Device().synchronize()
        t = time.perf_counter_ns()
        for i in range(a.requests):
            lane = i % a.lanes
            if evs is not None:
                record(evs[2 * i], ptrs[lane])
            work(i, streams[lane], copies=copies)
            if evs is not None:
                record(evs[2 * i + 1], ptrs[lane])
        cp.cuda.Device().synchronize()
        return (time.perf_counter_ns() - t) / a.requests

    def ours() -> float:
        return harness(a.requests, a.lanes, lambda i: work(i, copies=copies))

    loops = {"bare closed loop": lambda: bare(None),
             "bare + start and end event (timed)": lambda: bare(timed),
             "bare + start and end event (timing disabled)": lambda: bare(untimed),
             "harness, every request due": ours}
    got: dict[str, list[float]] = {k: [] for k in loops}
    for _ in range(a.repeats):
        for name, run in loops.items():
            got[name].append(run())
    for ev in timed + untimed:
        rt.eventDestroy(ev)
    med = {k: statistics.median(v) for k, v in got.items()}
    base = med["bare closed loop"]
    print(f"launcher from {os.path.dirname(pytest_gpuslo.__file__)}")
    print(f"| loop ({a.body} body, {a.lanes} streams, {a.requests:,} requests) | us per request, median of "
          f"{a.repeats} (all) | rate | bare / it |\n|---|---|---|---|")
    for name, v in got.items():
        print(f"| {name} | {med[name] / 1e3:.2f} ({', '.join(f'{x / 1e3:.2f}' for x in v)}) | "
              f"{1e9 / med[name]:,.0f}/s | {base / med[name]:.2f} |")


if __name__ == "__main__":
    main()

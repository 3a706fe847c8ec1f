"""Where the CUDA launcher's host time goes, and whether it keeps up with a bare loop (issue: capacity).

Prints four tables (each section guarded: an error in one is printed and the next runs):
1. per-operation host cost (us) of what a request's launch does: event records (object and raw),
   event queries, making a stream current (context manager, ``use()``, PyTorch's ``set_stream``),
   building a Request, NVTX, and the bodies themselves;
2. the harness's per-request host time split into dispatcher, submit overhead and body, against the
   bare loop's per-request issue time, at a rate the harness sustains;
3. a quick capacity sweep (one run per rate) of the harness against the bare loop paced to the same
   schedule, for an empty body, a kernel-only body and the 64 KB copy body, 64 streams;
4. the timing gap: for isolated 200 us spin kernels, the service time from events against the
   kernel's own %globaltimer duration, in the harness and in cupyx.profiler.benchmark.

Usage: python3 benchmarks/gpu_launch_profile.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

import cupy as cp
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))

from copyload import SCALE, CopyWork  # noqa: E402

from pytest_gpuslo import arrivals  # noqa: E402
from pytest_gpuslo.backends import cuda  # noqa: E402
from pytest_gpuslo.capacity import paced_loop  # noqa: E402
from pytest_gpuslo.measurement import run_open_loop  # noqa: E402
from pytest_gpuslo.recorder import Recorder, Request  # noqa: E402

STAMP = cp.RawKernel(r"""
extern "C" __global__ void spin_stamp(long long ns, unsigned long long* out) {
    unsigned long long start, now;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(start));
    do { asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(now)); } while (now - start < (unsigned long long)ns);
    out[0] = start; out[1] = now;
}""", "spin_stamp")


def section(title: str) -> Callable[[Callable[[argparse.Namespace], None]], Callable[[argparse.Namespace], None]]:
    def wrap(fn: Callable[[argparse.Namespace], None]) -> Callable[[argparse.Namespace], None]:
        def run(a: argparse.Namespace) -> None:
            print(f"\n## {title}", flush=True)
            t = time.perf_counter()
            try:
                fn(a)
            except Exception:  # noqa: BLE001 - one broken section must not hide the others
                traceback.print_exc()
            print(f"({time.perf_counter() - t:.1f} s)", flush=True)
        return run
    return wrap


def per_op(fn: Callable[[], Any], n: int = 20000) -> float:
    for _ in range(200):
        fn()
    t = time.perf_counter_ns()
    for _ in range(n):
        fn()
    return (time.perf_counter_ns() - t) / n / 1e3


@section("1. host cost per operation (us)")
def op_costs(a: argparse.Namespace) -> None:
    rt = cp.cuda.runtime
    s = cp.cuda.Stream(non_blocking=True)
    sp = int(s.ptr)
    ev_obj = cp.cuda.Event()
    ev_raw = int(rt.eventCreate())
    rows: list[tuple[str, float]] = []
    rows.append(("Event().record(stream) (object)", per_op(lambda: ev_obj.record(s))))
    rows.append(("runtime.eventRecord(raw, ptr)", per_op(lambda: rt.eventRecord(ev_raw, sp))))
    s.synchronize()
    rows.append(("runtime.eventQuery(raw), done", per_op(lambda: rt.eventQuery(ev_raw))))

    def ctx() -> None:
        with s:
            pass
    rows.append(("with stream: (enter+exit)", per_op(ctx)))
    rows.append(("stream.use()", per_op(s.use)))
    rec = Recorder(10)
    rows.append(("Request(...)", per_op(lambda: Request(1, 1.0, None, rec))))
    nv = cp.cuda.nvtx

    def nvtx() -> None:
        nv.RangePush("gpuslo request 1 lane 1")
        nv.RangePop()
    rows.append(("NVTX push+pop", per_op(nvtx)))
    work = CopyWork(lanes=64, n_floats=16384)
    rows.append(("copy body (H2D + kernel + D2H)", per_op(lambda: work(3), 5000)))
    rows.append(("kernel-only body", per_op(lambda: work(3, copies=False), 5000)))
    try:
        import torch

        ts = torch.cuda.ExternalStream(sp)
        rows.append(("torch.cuda.set_stream(external)", per_op(lambda: torch.cuda.set_stream(ts))))
        x = torch.ones(64, device="cuda")
        rows.append(("torch small op (x.add_(1))", per_op(lambda: x.add_(1), 5000)))
        torch.cuda.set_stream(torch.cuda.default_stream())
    except Exception as exc:  # noqa: BLE001
        rows.append((f"torch unavailable: {exc}", float("nan")))
    cp.cuda.Device().synchronize()
    s.use()
    cp.cuda.Stream.null.use()
    for name, us in rows:
        print(f"| {name} | {us:.2f} |")


class Timed(cuda.Backend):
    """The CUDA backend with its submit timed (host ns per request)."""

    def open(self, lanes: int, body: Any, recorder: Any) -> None:
        super().open(lanes, body, recorder)
        inner = self.submit
        self.host_ns = np.zeros(recorder.n, np.int64)
        clock = time.perf_counter_ns

        def timed(req: Any) -> None:
            t = clock()
            inner(req)
            self.host_ns[req.index] = clock() - t
        self.submit = timed  # type: ignore[method-assign]


@section("2. where a request's host time goes (us), copy body, 64 streams")
def split(a: argparse.Namespace) -> None:
    work = CopyWork(lanes=64, n_floats=16384)
    bare, issue = work.closed_loop(5000 if a.quick else 20000, warm=500)
    body_ns: list[int] = []
    clock = time.perf_counter_ns

    def body(r: Any) -> None:
        t = clock()
        work(r.index)
        body_ns.append(clock() - t)

    rate = 0.5 * bare
    n = 10000 if a.quick else 30000
    sched = arrivals.Constant(rate).schedule(n=n)
    backend = Timed(telemetry=False)
    data, _ = run_open_loop(sched, backend, body, lanes=64, timeout_s=30)
    b = np.asarray(body_ns[64:], float) / 1e3   # skip priming calls
    sub = backend.host_ns[n // 10:] / 1e3
    lag = (data.dispatch_ns - data.scheduled_ns)[n // 10:] / 1e3
    print(f"bare loop: closed {bare:.0f}/s ({1e6 / bare:.1f} us per request), issue-only {issue:.0f}/s "
          f"({1e6 / issue:.1f} us)")
    print(f"harness at {rate:.0f}/s (0.5x): submit p50 {np.median(sub):.1f} p99 {np.quantile(sub, .99):.1f} us; "
          f"body p50 {np.median(b):.1f} p99 {np.quantile(b, .99):.1f} us; submit overhead p50 "
          f"{np.median(sub) - np.median(b):.1f} us; lag p50 {np.median(lag):.1f} p99 {np.quantile(lag, .99):.1f} "
          f"max {lag.max():.0f} us")


@section("3. capacity sweep: lag p99 (us) by rate, harness vs bare paced loop, 64 streams")
def sweep(a: argparse.Namespace) -> None:
    work = CopyWork(lanes=64, n_floats=16384)
    bodies = {"empty": (lambda r: None, lambda i: None),
              "kernel": (lambda r: work(r.index, copies=False), lambda i: work(i, work.streams[i % 64], copies=False)),
              "copy": (lambda r: work(r.index), lambda i: work(i, work.streams[i % 64]))}
    bare, _ = work.closed_loop(5000 if a.quick else 20000, warm=500)
    print(f"bare closed loop (copy body): {bare:.0f}/s")
    for name, (body, bare_body) in bodies.items():
        cells = []
        for frac in (0.4, 0.6, 0.8, 1.0, 1.2):
            rate = frac * bare
            n = int(max(4000, rate * (0.4 if a.quick else 0.8)))
            sched = arrivals.Constant(rate).schedule(n=n)
            paced = _paced(sched, bare_body)
            data, _ = run_open_loop(sched, cuda.Backend(telemetry=False), body, lanes=64, timeout_s=30)
            lag = (data.dispatch_ns - data.scheduled_ns)[n // 10:] / 1e3
            cells.append(f"{frac:.1f}x: {np.quantile(lag, .99):.0f} ({np.quantile(paced[n // 10:], .99):.0f})")
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)


def _paced(schedule_ns: np.ndarray, body: Callable[[int], None]) -> np.ndarray:
    return paced_loop(body, cp.cuda.Device().synchronize)(schedule_ns)


@section("4. timing gap: 200 us spin kernel, events vs the kernel's own duration")
def gap(a: argparse.Namespace) -> None:
    out = cp.zeros(2 * 400, cp.uint64)
    ns = cp.int64(200_000)

    def body(r: Any) -> None:
        k = max(r.index, 0)
        STAMP((1,), (1,), (ns, out[2 * k:]))

    for label, rate in (("200/s (idle between requests)", 200.0), ("4000/s (back to back)", 4000.0)):
        out.fill(0)
        data, _ = run_open_loop(arrivals.Constant(rate).schedule(n=400), cuda.Backend(telemetry=False),
                                body, lanes=1, timeout_s=30)
        stamps = out.get().reshape(-1, 2).astype(np.int64)
        kern = (stamps[:, 1] - stamps[:, 0]) / 1e3
        svc = (data.end_ns - data.start_ns) / 1e3
        idle = np.r_[True, data.start_ns[1:] > data.end_ns[:-1] + 500]
        print(f"| harness {label} | service p50 {np.median(svc[50:]):.1f} us | kernel p50 {np.median(kern[50:]):.1f} us "
              f"| idle-stream requests {idle[50:].mean():.0%} | service on idle {np.median(svc[50:][idle[50:]]):.1f} us |")
    import cupyx.profiler

    s = cp.cuda.Stream(non_blocking=True)
    with s:
        perf = cupyx.profiler.benchmark(lambda: STAMP((1,), (1,), (ns, out)), n_repeat=300, n_warmup=20)
    print(f"| cupyx.profiler.benchmark | gpu time p50 {np.median(perf.gpu_times) * 1e6:.1f} us | | | |")


class Variant(cuda.Backend):
    """The harness with its start-event rule pinned: always (gap 0) or never (gap huge)."""

    def __init__(self, gap_ns: int) -> None:
        super().__init__(telemetry=False, escape_checks=False)
        self.precise_gap_ns = gap_ns


@section("5. where stalls come from: lag p99 / max (us) per run, copy body, 64 streams, 3 runs a cell")
def variants(a: argparse.Namespace) -> None:
    rt = cp.cuda.runtime
    work = CopyWork(lanes=64, n_floats=16384)
    bare, _ = work.closed_loop(5000 if a.quick else 20000, warm=500)
    n_max = int(0.8 * bare * 0.6)
    fresh_end = [int(rt.eventCreate()) for _ in range(n_max)]
    fresh_start = [int(rt.eventCreate()) for _ in range(n_max)]
    ring = [int(rt.eventCreate()) for _ in range(64)]
    last = [0] * 64

    def end_fresh(i: int, s: Any) -> None:
        rt.eventRecord(fresh_end[i], int(s.ptr))

    def end_ring(i: int, s: Any) -> None:
        rt.eventRecord(ring[i % 64], int(s.ptr))

    def start_query(i: int, s: Any) -> None:
        p = last[i % 64]
        if not p or rt.eventQuery(p) != 600:
            rt.eventRecord(fresh_start[i], int(s.ptr))

    def end_track(i: int, s: Any) -> None:
        rt.eventRecord(fresh_end[i], int(s.ptr))
        last[i % 64] = fresh_end[i]

    cases: list[tuple[str, Callable[[np.ndarray], np.ndarray]]] = [
        ("bare paced", lambda sch: work.paced(sch)),
        ("bare + end event (fresh)", lambda sch: work.paced(sch, after=end_fresh)),
        ("bare + end event (ring of 64)", lambda sch: work.paced(sch, after=end_ring)),
        ("bare + query, start and end events", lambda sch: work.paced(sch, before=start_query, after=end_track)),
        ("harness, start event on slack (default)", lambda sch: _harness(sch, work, cuda.Backend(telemetry=False))),
        ("harness, start event always", lambda sch: _harness(sch, work, Variant(0))),
        ("harness, no start event", lambda sch: _harness(sch, work, Variant(10**12))),
    ]
    for frac in (0.5, 0.7):
        rate = frac * bare
        n = int(rate * 0.6)
        sched = arrivals.Constant(rate).schedule(n=n)
        for label, fn in cases:
            cells = []
            for _ in range(3):
                lag = fn(sched)[n // 10:]
                cells.append(f"{np.quantile(lag, .99):.0f}/{lag.max():.0f}")
            print(f"| {frac:.1f}x {rate:.0f}/s | {label} | " + " | ".join(cells) + " |", flush=True)


def _harness(sched: np.ndarray, work: CopyWork, backend: cuda.Backend) -> np.ndarray:
    data, _ = run_open_loop(sched, backend, lambda r: work(r.index), lanes=64, timeout_s=30)
    return (data.dispatch_ns - data.scheduled_ns) / 1e3


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", default="12345")
    a = ap.parse_args()
    props = cp.cuda.runtime.getDeviceProperties(0)
    print(f"device: {props['name'].decode()}, CuPy {cp.__version__}", flush=True)
    for key, fn in (("1", op_costs), ("2", split), ("3", sweep), ("4", gap), ("5", variants)):
        if key in a.only:
            fn(a)
    SCALE  # noqa: B018 - compiled with the copy workload


if __name__ == "__main__":
    main()

"""Where do the Lindley residual and the capacity stalls come from?  One command, two parts.

A. The queueing ground truth of gpu_validation.py (one stream, 200 us spin kernel, Poisson at 60%)
   with the residual split by cause: requests that started on an idle stream (schedule lag, then
   the time from dispatch to the start event on the GPU) against requests that queued behind
   another; and the residual a two-anchor clock map would have given, against the map with the
   anchors taken during the run.
B. The capacity case (64 KB H2D + kernel + D2H over 64 streams), paced open loop at fractions of
   the bare closed-loop rate, for a bare paced loop with no events, the same with an end event,
   with start and end events, and the harness: is the stall the harness's or the host's?

Usage: python benchmarks/gpu_residual_diag.py [--part AB]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import cupy as cp
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from pytest_gpuslo import arrivals  # noqa: E402
from pytest_gpuslo.backends import cuda  # noqa: E402
from pytest_gpuslo.measurement import run_open_loop  # noqa: E402
from pytest_gpuslo.testing import spin_kernel  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
from copyload import CopyWork  # noqa: E402

SPIN = spin_kernel()


def q(a: np.ndarray, p: float) -> float:
    return float(np.quantile(a, p)) if a.size else float("nan")


def lindley(arr: np.ndarray, svc: np.ndarray) -> np.ndarray:
    w = np.zeros(arr.size)
    for i in range(1, arr.size):
        w[i] = max(0.0, w[i - 1] + svc[i - 1] - (arr[i] - arr[i - 1]))
    return w + svc


def part_a(n: int) -> None:
    rate = 0.6 / 200e-6
    sched = arrivals.Poisson(rate).schedule(n=n, rng=arrivals.make_rngs(2026)["arrivals"])
    backend = cuda.Backend(telemetry=False)
    entered = np.full(n, -1, np.int64)  # host clock when the body starts: the start event is issued

    def body(r: object) -> None:
        i = r.index  # type: ignore[attr-defined]
        if i >= 0:
            entered[i] = time.perf_counter_ns()
        SPIN((1,), (1,), (cp.int64(200_000),))

    data, _ = run_open_loop(sched, backend, body, lanes=1, timeout_s=30)
    cm = backend.clock_map
    assert cm is not None
    sc = data.scheduled_ns.astype(float)
    st, en, di = (data.start_ns.astype(float), data.end_ns.astype(float), data.dispatch_ns.astype(float))
    svc = en - st
    res = (en - sc) - lindley(sc, svc)
    # What the straight line through the outer anchors would have put there instead.
    y0, e_of = cm.start.mid_ns, (en - cm.start.mid_ns) / cm.scale
    line = y0 + e_of * cm.scale
    res2 = res - (en - line)
    warm = n // 10
    idle = np.r_[True, st[1:] > en[:-1] + 500]  # the start event fired after the previous end
    w = np.arange(n) >= warm
    print(f"A. clock map: {cm.anchors} anchors, error bound +-{cm.error_ns / 1e3:.1f} us, mean drift "
          f"{cm.drift_ppm:.1f} ppm, bend (largest distance of a middle anchor from the straight line) "
          f"{cm.bend_ns / 1e3:.1f} us")
    for label, r in (("residual, anchors during the run", res), ("residual, two anchors only", res2)):
        a = np.abs(r[w]) / 1e3
        print(f"   {label:<34}: mean {a.mean():6.2f} p50 {q(a, .5):6.2f} p99 {q(a, .99):7.2f} max {a.max():7.1f} us")
    for label, mask in (("idle-start requests", idle & w), ("queued requests", ~idle & w)):
        a = np.abs(res[mask])
        lag = (di - sc)[mask] / 1e3
        issue = (st - di)[mask] / 1e3
        # data's times are relative to the run's start: align on the fastest dispatch-to-body step
        rel = (entered - di)
        host = (rel - rel[w].min())[mask] / 1e3
        print(f"   {label:<20} n={mask.sum():5d}: |residual| p50 {q(a, .5) / 1e3:6.2f} p99 {q(a, .99) / 1e3:7.2f} us; "
              f"lag p50 {q(lag, .5):6.2f} p99 {q(lag, .99):7.2f}; dispatch->GPU start p50 {q(issue, .5):6.2f} "
              f"p99 {q(issue, .99):7.2f} us, host (dispatch->event issued, above its fastest) p50 {q(host, .5):5.2f} "
              f"p99 {q(host, .99):6.2f} us")
    a = np.abs(res[w]) / 1e3
    top = np.argsort(a)[-5:] + warm
    for i in top:
        print(f"     worst #{i}: residual {res[i] / 1e3:7.1f} us, idle={idle[i]}, lag {(di[i] - sc[i]) / 1e3:6.1f} us, "
              f"dispatch->start {(st[i] - di[i]) / 1e3:6.1f} us, gap to previous arrival {(sc[i] - sc[i - 1]) / 1e3:6.1f} us")


def part_b(fracs: list[float], events_only: bool = False) -> None:
    work = CopyWork()

    def paced(rate: float, n: int, events: int, ring: int = 0, timing: bool = True) -> np.ndarray:
        """The bare paced loop, with an end event (events=1) or start and end events (2)."""
        m = ring or n
        ev_s = [cp.cuda.Event(disable_timing=not timing) for _ in range(m)] if events > 1 else []
        ev_e = [cp.cuda.Event(disable_timing=not timing) for _ in range(m)] if events > 0 else []
        lag = work.paced(arrivals.Constant(rate).schedule(n=n),
                         before=(lambda i, s: ev_s[i % m].record(s)) if events > 1 else None,
                         after=(lambda i, s: ev_e[i % m].record(s)) if events > 0 else None)
        return lag[n // 10:]

    bare = work.closed_loop(20000)[0]
    if events_only:
        print(f"D. bare closed loop: {bare:.0f}/s; which property of the end events slows the copy path?")
        for rep in range(2):
            for frac in fracs:
                rate = frac * bare
                n = int(max(3000, rate * 1.5))
                for label, kw in (("bare paced", {"events": 0}), ("end events, n distinct", {"events": 1}),
                                  ("end events, ring of 512", {"events": 1, "ring": 512}),
                                  ("end events, no timing", {"events": 1, "timing": False})):
                    lag = paced(rate, n, **kw)
                    print(f"   rep {rep} {frac:.2f}x {rate:7.0f}/s {label:<24}: lag p50 {q(lag, .5):8.1f} p99 "
                          f"{q(lag, .99):9.1f} max {lag.max():9.1f} us; >1 ms: {np.sum(lag > 1000)}", flush=True)
        return
    print(f"B. bare closed loop: {bare:.0f}/s (issue and completion of 20,000 requests)")
    for frac in fracs:
        rate = frac * bare
        n = int(max(3000, rate * 1.5))
        for label in ("bare paced", "bare + end event", "bare + start/end", "harness"):
            if label == "harness":
                data, _ = run_open_loop(arrivals.Constant(rate).schedule(n=n), cuda.Backend(telemetry=False),
                                        lambda r: work(r.index), lanes=work.lanes, timeout_s=30)
                lag = (data.dispatch_ns - data.scheduled_ns)[n // 10:] / 1e3
            else:
                lag = paced(rate, n, {"bare paced": 0, "bare + end event": 1, "bare + start/end": 2}[label])
            big = np.flatnonzero(lag > 1000)
            print(f"   {frac:.2f}x {rate:7.0f}/s {label:<17}: lag p50 {q(lag, .5):8.1f} p99 {q(lag, .99):9.1f} "
                  f"max {lag.max():9.1f} us; >1 ms: {big.size}", flush=True)
    print(f"   bare closed loop again: {work.closed_loop(20000)[0]:.0f}/s")


class _AlwaysStart(cuda.Backend):
    """The harness without the per-request event query: a start event on every request."""

    def submit(self, req):  # type: ignore[no-untyped-def]
        i = req.index
        lane = i % self.lanes
        stream = self.streams[lane]
        req._lane = lane
        req._stage = self._stage
        with stream:
            self.ev_start[i].record(stream)
            self.start_ref[i] = self.ev_start[i]
            self.body(req)
            self.ev_end[i].record(stream)
        self.last_end[lane] = self.ev_end[i]


def part_e(fracs: list[float], reps: int = 3) -> None:
    """Which step of the harness makes the copy path stall more often than a bare paced loop?"""
    work = CopyWork()
    bare = work.closed_loop(20000)[0]
    print(f"E. bare closed loop {bare:.0f}/s; lag p99 us of {reps} runs per variant")
    for frac in fracs:
        rate = frac * bare
        n = int(max(3000, rate))
        sched = arrivals.Constant(rate).schedule(n=n)
        res: dict[str, list[float]] = {"bare paced": [], "harness": [], "harness, no query": [],
                                       "harness, explicit stream": []}
        for _ in range(reps):
            res["bare paced"].append(q(work.paced(sched)[n // 10:], .99))
            for label, backend, body in (
                    ("harness", cuda.Backend(telemetry=False), lambda r: work(r.index)),
                    ("harness, no query", _AlwaysStart(telemetry=False), lambda r: work(r.index)),
                    ("harness, explicit stream", cuda.Backend(telemetry=False),
                     lambda r: work(r.index, work.streams[r.index % work.lanes]))):
                data, _ = run_open_loop(sched, backend, body, lanes=work.lanes, timeout_s=30)
                res[label].append(q((data.dispatch_ns - data.scheduled_ns)[n // 10:] / 1e3, .99))
        for label, v in res.items():
            print(f"   {frac:.2f}x {rate:7.0f}/s {label:<25}: " + "  ".join(f"{x:9.1f}" for x in v), flush=True)


def part_c() -> None:
    """Copy bandwidth from pinned memory, and what nvidia-smi says of the link and CC mode."""
    import subprocess

    nbytes = 256 << 20
    h = cp.cuda.alloc_pinned_memory(nbytes)
    d = cp.cuda.alloc(nbytes)
    s = cp.cuda.Stream(non_blocking=True)
    for label, fn in (("H2D", lambda: d.copy_from_host_async(h.ptr, nbytes, s)),
                      ("D2H", lambda: d.copy_to_host_async(h.ptr, nbytes, s))):
        fn()
        s.synchronize()
        t0 = time.perf_counter()
        for _ in range(8):
            fn()
        s.synchronize()
        print(f"C. pinned {label} 256 MiB: {8 * nbytes / (time.perf_counter() - t0) / 1e9:.1f} GB/s")
    for cmd in (["nvidia-smi", "conf-compute", "-f"],
                ["nvidia-smi", "--query-gpu=pcie.link.gen.current,pcie.link.width.current,persistence_mode,"
                 "clocks.sm,clocks.max.sm", "--format=csv"]):
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
            print("   " + " ".join(cmd[1:3]) + ": " + (out.stdout.strip() or out.stderr.strip()).replace("\n", " | "))
        except Exception as exc:  # noqa: BLE001
            print(f"   {cmd}: {exc}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", default="ABC")
    ap.add_argument("--n", type=int, default=10000)
    ap.add_argument("--fracs", default="0.5,0.7,0.85")
    a = ap.parse_args()
    props = cp.cuda.runtime.getDeviceProperties(0)
    print(f"device: {props['name'].decode()}, CuPy {cp.__version__}", flush=True)
    if "A" in a.part:
        part_a(a.n)
    if "B" in a.part:
        part_b([float(f) for f in a.fracs.split(",")])
    if "E" in a.part:
        part_e([float(f) for f in a.fracs.split(",")])
    if "D" in a.part:
        part_b([float(f) for f in a.fracs.split(",")], events_only=True)
    if "C" in a.part:
        part_c()


if __name__ == "__main__":
    main()

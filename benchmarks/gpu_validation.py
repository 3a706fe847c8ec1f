"""Prove the CUDA backend on a real GPU and print one table (docs/validation.md).

1. Queueing ground truth: one stream, a clock-spin kernel of about 200 us, Poisson arrivals at 60%
   utilisation; measured latencies against the Lindley recursion over the same schedule and the
   measured service times (goal: p99 absolute error <= 20 us).
2. Timing agreement: the isolated service time against cupyx.profiler.benchmark (goal: within 2%).
3. Harness capacity: the highest constant open-loop rate with schedule-lag p99 under 50 us for a
   small request (64 KB H2D, a short kernel, D2H) over 64 streams, as a ratio to a bare CuPy loop
   issuing the same work from one thread in the same run (goal >= 0.8): both against the bare
   loop's closed-loop rate and against the same bare loop paced to the same schedule, three runs a
   rate alternating, judged on the median (stalls come and go on these hosts for either).
4. Overlap: pageable host memory on one stream against pinned memory on 16 streams.
5. CUDA-graph replay (slo_graph): a 20-kernel body eagerly against replayed from a graph per lane.
6. slo_pinned called inside the body (a per-lane ring, buffers.LaneBuffers) with the copy body at
   20,000/s over 64 streams (goal: lag p99 < 50 us; it was 826 ms when each call pinned afresh).

Usage: python benchmarks/gpu_validation.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import cupy as cp
import cupyx.profiler
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from pytest_gpuslo import arrivals  # noqa: E402
from pytest_gpuslo.backends import cuda  # noqa: E402
from pytest_gpuslo.measurement import run_open_loop  # noqa: E402
from pytest_gpuslo.pipeline import Pipeline  # noqa: E402
from pytest_gpuslo.testing import spin_kernel  # noqa: E402
from pytest_gpuslo.timeline import overlap  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
from copyload import SCALE, CopyWork  # noqa: E402

SPIN = spin_kernel()  # waits on %globaltimer: its duration does not depend on the SM clock

ROWS: list[tuple[str, str, str, str]] = []


def row(check: str, value: str, goal: str, ok: bool | None) -> None:
    ROWS.append((check, value, goal, "-" if ok is None else ("met" if ok else "MISSED")))
    print(f"  {check}: {value} (goal {goal})", flush=True)


def calibrate_cycles(target_us: float) -> int:
    """The spin argument for a kernel of target_us (nanoseconds of the global timer)."""
    s = cp.cuda.Stream(non_blocking=True)
    for _ in range(3):
        SPIN((1,), (1,), (cp.int64(1000),), stream=s)
    s.synchronize()
    return int(target_us * 1000)


SPIN_NS = 200_000


def lindley(arr_ns: np.ndarray, svc_ns: np.ndarray) -> np.ndarray:
    w = np.zeros(arr_ns.size)
    for i in range(1, arr_ns.size):
        w[i] = max(0.0, w[i - 1] + svc_ns[i - 1] - (arr_ns[i] - arr_ns[i - 1]))
    return w + svc_ns


def ground_truth(cycles: int, n: int) -> dict:
    rate = 0.6 / 200e-6
    sched = arrivals.Poisson(rate).schedule(n=n, rng=arrivals.make_rngs(2026)["arrivals"])
    backend = cuda.Backend(telemetry=False, spin_ns=SPIN_NS)
    data, _ = run_open_loop(sched, backend, lambda r: SPIN((1,), (1,), (cp.int64(cycles),)),
                            lanes=1, timeout_s=30)
    warm = n // 10
    svc = (data.end_ns - data.start_ns).astype(float)
    pred = lindley(data.scheduled_ns.astype(float), svc)
    lat = (data.end_ns - data.scheduled_ns).astype(float)
    err = np.abs(lat - pred)[warm:] / 1e3
    lag = (data.dispatch_ns - data.scheduled_ns)[warm:] / 1e3
    # Requests that found their stream idle start a busy period, and their residual carries over
    # to every request queued behind them: split it into the dispatcher's lag (the harness) and the
    # time from dispatch to the start event firing on the GPU (host launch path, driver, device).
    st, en = data.start_ns[warm:], data.end_ns[warm:]
    idle = np.r_[True, st[1:] > en[:-1] + 500]
    issue = (data.start_ns - data.dispatch_ns)[warm:][idle] / 1e3
    return {"idle_lag_p99_us": float(np.quantile(lag[idle], 0.99)),
            "idle_issue_p50_us": float(np.median(issue)), "idle_issue_p99_us": float(np.quantile(issue, 0.99)),
            "idle_share": float(idle.mean()), "anchors": backend.clock_map.anchors,
            "bend_us": backend.clock_map.bend_ns / 1e3,
            "mean_err_us": float(err.mean()), "p99_err_us": float(np.quantile(err, 0.99)),
            "max_err_us": float(err.max()), "lat_p50_us": float(np.median(lat[warm:]) / 1e3),
            "lat_p99_us": float(np.quantile(lat[warm:], 0.99) / 1e3), "svc_p50_us": float(np.median(svc) / 1e3),
            "lag_p99_us": float(np.quantile(lag, 0.99)), "clock_error_us": backend.clock_map.error_ns / 1e3,
            "drift_ppm": backend.clock_map.drift_ppm, "rate": rate}


def timing_agreement(cycles: int) -> dict:
    """Isolated requests (200/s) through the harness against two event timers of the same kernel:
    cupyx.profiler.benchmark (back to back: the GPU never idles) and the same event pair at the
    harness's own spacing (the GPU idles 4.8 ms between kernels, as it does for the harness)."""
    sched = arrivals.Constant(200).schedule(n=400)
    data, _ = run_open_loop(sched, cuda.Backend(telemetry=False, spin_ns=SPIN_NS),
                            lambda r: SPIN((1,), (1,), (cp.int64(cycles),)), lanes=1, timeout_s=30)
    ours = float(np.median((data.end_ns - data.start_ns)[50:]) / 1e3)
    s = cp.cuda.Stream(non_blocking=True)
    with s:
        perf = cupyx.profiler.benchmark(lambda: SPIN((1,), (1,), (cp.int64(cycles),)), n_repeat=400, n_warmup=20)
    ref = float(np.median(perf.gpu_times) * 1e6)
    e0, e1 = cp.cuda.Event(), cp.cuda.Event()
    spaced = []
    t_next = time.perf_counter()
    with s:
        for _ in range(400):
            t_next += 0.005
            while time.perf_counter() < t_next:
                pass
            e0.record(s)
            SPIN((1,), (1,), (cp.int64(cycles),))
            e1.record(s)
            e1.synchronize()
            spaced.append(cp.cuda.get_elapsed_time(e0, e1) * 1e3)
    same = float(np.median(spaced[50:]))
    return {"ours_us": ours, "cupyx_us": ref, "ratio": ours / ref, "spaced_us": same, "ratio_spaced": ours / same}


def capacity(quick: bool) -> dict:
    work = CopyWork(lanes=64, n_floats=16384)  # 64 KB of float32 each way
    lanes = work.lanes
    bare, bare_issue = work.closed_loop(5000 if quick else 20000, warm=500)  # sustained, issue-only

    # Stalls of milliseconds come and go on these hosts for any paced issuer, bare or not
    # (docs/validation.md, "where the capacity stalls come from"), so one run per rate decides
    # nothing: each rate runs `reps` times, the bare paced loop and the harness alternating, and a
    # rate counts as sustained when the median of its runs' lag p99 is under 50 us.
    reps = 1 if quick else 3
    results = []
    best = best_bare = 0.0
    for frac in ((0.4, 0.6, 0.8) if quick else (0.5, 0.6, 0.7, 0.8, 0.9)):
        rate = frac * bare
        n = int(max(3000, rate * (0.5 if quick else 1.0)))
        sched = arrivals.Constant(rate).schedule(n=n)
        p99s, p99s_bare = [], []
        for _ in range(reps):
            p99s_bare.append(float(np.quantile(work.paced(sched)[n // 10:], 0.99)))
            data, _ = run_open_loop(sched, cuda.Backend(telemetry=False, spin_ns=SPIN_NS),
                                    lambda r: work(r.index), lanes=lanes, timeout_s=30)
            p99s.append(float(np.quantile((data.dispatch_ns - data.scheduled_ns)[n // 10:] / 1e3, 0.99)))
        p99, p99_bare = float(np.median(p99s)), float(np.median(p99s_bare))
        results.append((frac, rate, p99, p99_bare, sum(p < 50 for p in p99s), sum(p < 50 for p in p99s_bare)))
        if p99 < 50:
            best = max(best, rate)
        if p99_bare < 50:
            best_bare = max(best_bare, rate)
    return {"bare_hz": bare, "bare_issue_hz": bare_issue, "best_hz": best, "ratio": best / bare,
            "bare_paced_best_hz": best_bare, "ratio_paced": best / best_bare if best_bare else float("nan"),
            "sweep": results}


def overlap_case(pinned: bool, lanes: int, cycles: int, n: int, rate: float) -> dict:
    ops = cuda.DeviceOps()
    n_floats = 262144  # 1 MiB each way

    def compute(d_in: cp.ndarray, d_out: cp.ndarray) -> None:
        SCALE(((n_floats + 255) // 256,), (256,), (d_in, d_out, np.int32(n_floats)))
        SPIN((1,), (1,), (cp.int64(cycles),))

    pipe = Pipeline(ops, compute, (n_floats,), (n_floats,), np.float32, lanes, pinned=pinned)
    sched = arrivals.Poisson(rate).schedule(n=n, rng=arrivals.make_rngs(7)["arrivals"])
    data, _ = run_open_loop(sched, cuda.Backend(telemetry=False, spin_ns=SPIN_NS), lambda r: pipe(r, None),
                            lanes=lanes, timeout_s=30)
    warm = n // 10
    iv = [np.column_stack([data.stages[k].begin_ns[warm:], data.stages[k].end_ns[warm:]])
          for k in ("h2d", "compute", "d2h")]
    ov = overlap(*iv)
    lat = (data.end_ns - data.scheduled_ns)[warm:] / 1e6
    lag = (data.dispatch_ns - data.scheduled_ns)[warm:] / 1e3
    return {"pinned": pipe.host_buffers_pinned, "overlap_pct": ov.percent, "p50_ms": float(np.median(lat)),
            "p95_ms": float(np.quantile(lat, 0.95)), "lag_p99_us": float(np.quantile(lag, 0.99)),
            "h2d_ms_total": ov.h2d_ms}


def graph_case(quick: bool) -> dict:
    """A 20-kernel body on 8 streams, eager against replayed as a CUDA graph (cuda.GraphReplay)."""
    lanes, n = 8, (2000 if quick else 6000)
    xs = [cp.ones(4096, cp.float32) for _ in range(lanes)]

    def fn(lane: int) -> None:
        x = xs[lane]
        for _ in range(20):
            cp.multiply(x, 1.0001, out=x)

    replay = cuda.GraphReplay(fn, lanes)
    out = {}
    for label, body in (("eager", lambda r: fn(r.lane)), ("graph", replay)):
        data, _ = run_open_loop(arrivals.Poisson(3000).schedule(n=n, rng=arrivals.make_rngs(11)["arrivals"]),
                                cuda.Backend(telemetry=False, spin_ns=SPIN_NS), body, lanes=lanes, timeout_s=30)
        warm = n // 10
        lat = (data.end_ns - data.scheduled_ns)[warm:] / 1e3
        lag = (data.dispatch_ns - data.scheduled_ns)[warm:] / 1e3
        streams = cuda.streams(lanes)
        cp.cuda.Device().synchronize()
        t0 = time.perf_counter()
        for i in range(1000):
            with streams[i % lanes]:
                body(type("R", (), {"lane": i % lanes})())
        host_us = (time.perf_counter() - t0) / 1000 * 1e6
        cp.cuda.Device().synchronize()
        out[label] = {"p50_us": float(np.median(lat)), "p95_us": float(np.quantile(lat, 0.95)),
                      "lag_p99_us": float(np.quantile(lag, 0.99)), "host_us": host_us}
    return out


def pinned_in_body(quick: bool) -> dict:
    from pytest_gpuslo.buffers import LaneBuffers

    ops = cuda.DeviceOps()
    pool = LaneBuffers(lambda shape, dtype, like: ops.host(shape, dtype, pinned=True, like=like))
    work = CopyWork(lanes=64, n_floats=16384)

    def body(r: object) -> None:
        h_in = pool.get((16384,), "float32")
        h_out = pool.get((16384,), "float32")
        d_in, d_out, _, _ = work.slots[r.index % 64]  # type: ignore[attr-defined]
        d_in.set(h_in)
        SCALE(work.grid, work.block, (d_in, d_out, np.int32(work.n)))
        d_out.get(out=h_out, blocking=False)

    out = {}
    for rate in (10_000.0, 20_000.0):
        n = int(rate * (0.5 if quick else 1.5))
        data, _ = run_open_loop(arrivals.Constant(rate).schedule(n=n), cuda.Backend(telemetry=False, spin_ns=SPIN_NS),
                                body, lanes=64, timeout_s=30)
        lag = (data.dispatch_ns - data.scheduled_ns)[n // 10:] / 1e3
        out[int(rate)] = {"lag_p99_us": float(np.quantile(lag, 0.99)), "allocated": pool.allocated_in_run,
                          "waited": pool.waited_in_run}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json", default=None)
    ap.add_argument("--spin-us", type=float, default=5000.0,
                    help="dispatcher spin window before each deadline (the backend's default: 5000)")
    ap.add_argument("--only", default="123456", help="which checks to run, e.g. 13")
    a = ap.parse_args()
    global SPIN_NS
    SPIN_NS = int(a.spin_us * 1000)
    dev = cp.cuda.Device()
    props = cp.cuda.runtime.getDeviceProperties(dev.id)
    print(f"device: {props['name'].decode()}, CuPy {cp.__version__}, CUDA runtime {cp.cuda.runtime.runtimeGetVersion()}", flush=True)
    cycles200 = calibrate_cycles(200.0)
    print(f"spin calibration: {cycles200} cycles for 200 us", flush=True)
    out: dict = {}

    print(f"dispatcher spin window: {a.spin_us:g} us", flush=True)
    if "1" in a.only:
        g = out["ground_truth"] = ground_truth(cycles200, 3000 if a.quick else 10000)
        row("1 Lindley |error| mean / p99", f"{g['mean_err_us']:.2f} / {g['p99_err_us']:.2f} us "
            f"(max {g['max_err_us']:.1f}; latency p50 {g['lat_p50_us']:.0f} p99 {g['lat_p99_us']:.0f} us, "
            f"service {g['svc_p50_us']:.1f} us, lag p99 {g['lag_p99_us']:.1f} us, clock map +-{g['clock_error_us']:.1f} us, "
            f"drift {g['drift_ppm']:.1f} ppm over {g['anchors']} anchors, bend {g['bend_us']:.1f} us)",
            "p99 <= 20 us", g["p99_err_us"] <= 20)
        row("1 where it comes from: requests that found the stream idle", f"{100 * g['idle_share']:.0f}% "
            f"of requests; their lag p99 {g['idle_lag_p99_us']:.1f} us (harness), dispatch to start event "
            f"on the GPU p50 {g['idle_issue_p50_us']:.1f} p99 {g['idle_issue_p99_us']:.1f} us (launch path)",
            "-", None)
    if "2" in a.only:
        t = out["timing"] = timing_agreement(cycles200)
        row("2 service time vs cupyx.profiler.benchmark (back to back)", f"{t['ours_us']:.2f} vs "
            f"{t['cupyx_us']:.2f} us (ratio {t['ratio']:.4f})", "within 2%", abs(t["ratio"] - 1) <= 0.02)
        row("2 service time vs the same event pair at the harness's spacing (200/s)",
            f"{t['ours_us']:.2f} vs {t['spaced_us']:.2f} us (ratio {t['ratio_spaced']:.4f})", "within 2%",
            abs(t["ratio_spaced"] - 1) <= 0.02)
    if "3" in a.only:
        c = out["capacity"] = capacity(a.quick)
        sweep = ", ".join(f"{f:.1f}x: {p:.0f} [{k}] ({pb:.0f} [{kb}])" for f, _, p, pb, k, kb in c["sweep"])
        row("3 harness capacity (lag p99 < 50 us, 64 streams, 64 KB), against the bare loop closed",
            f"{c['best_hz']:.0f}/s of bare {c['bare_hz']:.0f}/s = {c['ratio']:.2f} (bare issue-only "
            f"{c['bare_issue_hz']:.0f}/s; median lag p99 us by rate [runs under 50 us], harness (bare "
            f"paced): {sweep})", ">= 0.8", c["ratio"] >= 0.8)
        row("3 harness capacity against the bare loop paced to the same schedule, same criterion",
            f"{c['best_hz']:.0f}/s of {c['bare_paced_best_hz']:.0f}/s = {c['ratio_paced']:.2f}", ">= 0.8",
            c["ratio_paced"] >= 0.8)
    if "4" in a.only:
        cyc100 = cycles200 // 2
        pg = out["overlap_pageable"] = overlap_case(False, 1, cyc100, 2000 if a.quick else 4000, 2000)
        pn = out["overlap_pinned"] = overlap_case(True, 16, cyc100, 2000 if a.quick else 4000, 2000)
        hi = out["overlap_pinned_6k"] = overlap_case(True, 16, cyc100, 4000 if a.quick else 12000, 6000)
        for label, r in (("4 pageable, 1 stream, 2000/s", pg), ("4 pinned, 16 streams, 2000/s", pn),
                         ("4 pinned, 16 streams, 6000/s", hi)):
            row(label, f"overlap {r['overlap_pct']:.1f}% of copy time, p50 {r['p50_ms']:.3f} ms, "
                f"p95 {r['p95_ms']:.3f} ms, lag p99 {r['lag_p99_us']:.0f} us, pinned={r['pinned']}",
                "pinned hides copies", None)

    if "5" in a.only:
        gr = out["graph"] = graph_case(a.quick)
        for label in ("eager", "graph"):
            r = gr[label]
            row(f"5 20-kernel body, 8 streams, Poisson 3000/s, {label}", f"host {r['host_us']:.1f} us per "
                f"request; latency p50 {r['p50_us']:.0f} p95 {r['p95_us']:.0f} us; lag p99 {r['lag_p99_us']:.0f} us",
                "graph cuts host time", None)

    if "6" in a.only:
        pb = out["pinned_in_body"] = pinned_in_body(a.quick)
        for rate, r in pb.items():
            row(f"6 slo_pinned inside the body, copy body, 64 streams, {rate}/s",
                f"lag p99 {r['lag_p99_us']:.1f} us; pinned in the run {r['allocated']}, waits {r['waited']}",
                "lag p99 < 50 us", r["lag_p99_us"] < 50 if rate == 20000 else None)

    print()
    print("| check | measured | goal | verdict |")
    print("|---|---|---|---|")
    for check, value, goal, verdict in ROWS:
        print(f"| {check} | {value} | {goal} | {verdict} |")
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(out, fh, indent=1, default=float)


if __name__ == "__main__":
    main()

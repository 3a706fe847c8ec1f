"""How fast can this machine's harness issue requests on time? (``gpuslo capacity``; layer 3.)

A load generator that falls behind measures itself, not the service.  For each available backend
and each of its reference bodies (empty, a short kernel or busy loop, a copy), this finds the
highest constant open-loop rate at which the harness keeps schedule lag p99 under a threshold,
beside a bare loop doing the same work with no harness (paced to the same schedule), and the bare
loop's closed-loop rate.  A user sizes ``rate_hz`` from it and knows the floor under a budget.

The bodies come from each backend module's optional ``capacity_bodies(lanes)`` (GPU work stays in
``backends/``); a rate "holds" when the median lag p99 of ``runs`` alternating runs is under the
threshold (single runs on shared hosts stall now and then, bare loops too).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from pytest_gpuslo import arrivals, backends
from pytest_gpuslo.measurement import run_open_loop

#: No Python dispatcher issues more than this on time: the ladder of an empty body stops here.
MAX_REFERENCE_HZ = 200_000.0


@dataclass(frozen=True, slots=True)
class Workload:
    """A reference body: how the harness runs it, and how a bare loop issues the same work."""

    name: str
    #: the harness's body, ``body(request)``.
    body: Callable[[Any], Any]
    #: ``paced(schedule_ns) -> lag_us``: a bare loop issuing the same work at each deadline.
    paced: Callable[[np.ndarray], np.ndarray]
    #: ``closed(n) -> requests/s``: the bare loop as fast as it can.
    closed: Callable[[int], float]


@dataclass(frozen=True, slots=True)
class Row:
    backend: str
    workload: str
    closed_hz: float
    bare_paced_hz: float
    harness_hz: float
    #: rate -> (harness median lag p99 us, bare median lag p99 us)
    sweep: tuple[tuple[float, float, float], ...]

    @property
    def vs_closed(self) -> float:
        return self.harness_hz / self.closed_hz if self.closed_hz else float("nan")

    @property
    def vs_paced(self) -> float:
        return self.harness_hz / self.bare_paced_hz if self.bare_paced_hz else float("nan")


def lag_p99_us(lag_us: np.ndarray) -> float:
    """Lag p99 after the first tenth (start-up transients are not what a test sees)."""
    return float(np.quantile(lag_us[lag_us.size // 10:], 0.99))


def measure(backend_name: str, workload: Workload, *, lanes: int, lag_us: float = 50.0,
            fractions: Sequence[float] = (0.2, 0.4, 0.6, 0.7, 0.8, 0.9, 1.0, 1.2), runs: int = 3,
            seconds: float = 0.5, closed_n: int = 20000) -> Row:
    """Sweep constant rates (fractions of the bare closed loop, capped at ``MAX_REFERENCE_HZ``: an
    empty body's closed loop runs at millions a second) for one body on one backend."""
    closed = workload.closed(closed_n)
    reference = min(closed, MAX_REFERENCE_HZ)
    best = best_bare = 0.0
    sweep = []
    for frac in fractions:
        rate = frac * reference
        n = int(max(2000, rate * seconds))
        sched = arrivals.Constant(rate).schedule(n=n)
        ours, bare = [], []
        for _ in range(runs):
            bare.append(lag_p99_us(workload.paced(sched)))
            data, _ = run_open_loop(sched, backends.load(backend_name), workload.body, lanes=lanes,
                                    timeout_s=30)
            ours.append(lag_p99_us((data.dispatch_ns - data.scheduled_ns) / 1e3))
        h, b = float(np.median(ours)), float(np.median(bare))
        sweep.append((rate, h, b))
        best = rate if h < lag_us else best
        best_bare = rate if b < lag_us else best_bare
        if h >= 10 * lag_us and b >= 10 * lag_us:
            break  # both far behind: higher rates say nothing more
    return Row(backend_name, workload.name, closed, best_bare, best, tuple(sweep))


def paced_loop(issue: Callable[[int], Any], finish: Callable[[], Any] = lambda: None) -> Callable[[np.ndarray], np.ndarray]:
    """A bare loop that spins to each deadline of a schedule and issues request i there."""
    def run(schedule_ns: np.ndarray) -> np.ndarray:
        clock = time.perf_counter_ns
        due = (clock() + 2_000_000 + np.asarray(schedule_ns)).tolist()
        lag = [0] * len(due)
        for i, d in enumerate(due):
            while clock() < d:
                pass
            lag[i] = clock() - d
            issue(i)
        finish()
        return np.asarray(lag, dtype=np.float64) / 1e3
    return run


def closed_loop(issue: Callable[[int], Any], finish: Callable[[], Any] = lambda: None,
                warm: int = 300) -> Callable[[int], float]:
    """The bare loop as fast as it can: requests per second over ``n`` issues, completion included."""
    def run(n: int) -> float:
        for i in range(warm):
            issue(i)
        finish()
        t = time.perf_counter()
        for i in range(n):
            issue(i)
        finish()
        return n / (time.perf_counter() - t)
    return run


def workloads(backend_name: str, lanes: int) -> Iterator[Workload]:
    """The reference bodies a backend provides (none: it is skipped)."""
    provide = getattr(backends.module(backend_name), "capacity_bodies", None)
    if provide is not None:
        yield from provide(lanes)


def _ratio(value: float, harness_at_top: bool, paced_at_top: bool) -> str:
    """A ratio of rates, ``>=`` where the harness held the ladder's top rung (it could do more),
    ``<=`` where only the bare loop did; ``-`` where there is nothing to divide by."""
    if not np.isfinite(value):
        return "-"
    if harness_at_top and paced_at_top:
        return "both top"
    return (">=" if harness_at_top else "<=" if paced_at_top else "") + f"{value:.2f}"


def table(rows: Sequence[Row], lag_us: float) -> list[str]:
    """The markdown table ``gpuslo capacity`` prints, with a note for each ratio that is only a bound."""
    out = [f"highest constant rate with schedule lag p99 < {lag_us:g} us (median of alternating runs)",
           "| backend | body | bare closed loop | bare loop paced | harness | harness / closed | harness / paced |",
           "|---|---|---|---|---|---|---|"]
    notes: set[str] = set()
    for r in rows:
        top = max((rate for rate, _, _ in r.sweep), default=0.0)
        h_top, b_top = r.harness_hz >= top > 0, r.bare_paced_hz >= top > 0
        if r.closed_hz > MAX_REFERENCE_HZ:
            vs_closed = "-"
            notes.add(f"-: the bare closed loop runs faster than the ladder goes ({MAX_REFERENCE_HZ:,.0f}/s x "
                      f"1.2 at most): no ratio to it.")
        else:
            vs_closed = _ratio(r.vs_closed, h_top, False)
        if h_top or b_top:
            notes.add(">= / <= / both top: the harness, the bare loop or both held the ladder's top rung "
                      "(1.2x the reference rate), so it could do more: the ratio is a bound.")
        out.append(f"| {r.backend} | {r.workload} | {r.closed_hz:,.0f}/s | {r.bare_paced_hz:,.0f}/s | "
                   f"{r.harness_hz:,.0f}/s | {vs_closed} | {_ratio(r.vs_paced, h_top, b_top)} |")
    return out + sorted(notes)

"""A test's arrival schedule: seeded, warm-up first, integer nanoseconds (layer 1, numpy).

The schedule is drawn once per test from its spec alone, so the baseline lookup (by the
schedule's fingerprint) and the run see the same one, and a baseline recorded on main and a
candidate on a pull request replay identical arrivals.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from pytest_gpuslo.arrivals.registry import parse

if TYPE_CHECKING:
    from pytest_gpuslo.arrivals.processes import ArrivalProcess
    from pytest_gpuslo.spec import SloSpec


def make_rngs(seed: int, names: tuple[str, ...] = ("arrivals",)) -> dict[str, np.random.Generator]:
    """One independent generator per component, so adding a component never shifts another
    (child ``k`` of a ``SeedSequence`` does not depend on how many children are spawned)."""
    children = np.random.SeedSequence(seed).spawn(len(names))
    return {n: np.random.Generator(np.random.PCG64(c)) for n, c in zip(names, children)}


def fingerprint(schedule_ns: npt.NDArray[np.int64]) -> str:
    """A short digest of a schedule: equal digests mean a baseline and a candidate saw the same load."""
    data = np.ascontiguousarray(schedule_ns, dtype="<i8").tobytes()
    return hashlib.sha256(data).hexdigest()[:16]


def build_schedule(
    process: "ArrivalProcess",
    *,
    seed: int,
    requests: int | None,
    duration_s: float | None,
    warmup_requests: int | None,
    warmup_s: float | None,
) -> tuple[npt.NDArray[np.int64], int]:
    """The full schedule (warm-up first) and how many leading requests are warm-up."""
    rng = make_rngs(seed)["arrivals"]
    if requests is not None:
        if warmup_s:
            warm_part = process.schedule(duration_s=warmup_s, rng=rng)
            body = int(round(warmup_s * 1e9)) + process.schedule(n=requests, rng=rng)
            return np.concatenate([warm_part, body]), int(warm_part.size)
        warm = int(warmup_requests or 0)
        return process.schedule(n=warm + requests, rng=rng), warm
    assert duration_s is not None
    if warmup_requests:
        head = process.schedule(n=warmup_requests, rng=rng)
        start = int(head[-1]) + 1 if head.size else 0
        tail = process.schedule(duration_s=duration_s, rng=rng)
        return np.concatenate([head, start + tail]), int(head.size)
    total = float(warmup_s or 0.0) + duration_s
    sched = process.schedule(duration_s=total, rng=rng)
    warm = int(np.searchsorted(sched, int(round(float(warmup_s or 0.0) * 1e9)), side="left"))
    return sched, warm


def plan(spec: "SloSpec") -> tuple[npt.NDArray[np.int64], int]:
    """The test's whole schedule (warm-up first) and its warm-up count, from its spec alone."""
    process = parse(spec.arrivals, rate_hz=spec.rate_hz)
    assert process is not None
    return build_schedule(process, seed=spec.seed, requests=spec.requests, duration_s=spec.duration_s,
                          warmup_requests=spec.warmup_requests, warmup_s=spec.warmup_s)

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

from pytest_gpuslo import limits
from pytest_gpuslo.arrivals.registry import parse
from pytest_gpuslo.errors import GpuSloError, InvalidArgument, brief

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


def drawn(process: "ArrivalProcess", *, n: int | None = None, duration_s: float | None = None,
          rng: np.random.Generator) -> npt.NDArray[np.int64]:
    """``process.schedule`` checked: every process, a plugin's too, goes through here, because an
    unsorted or negative schedule otherwise reaches the gate as the code's latency (an independent
    extension check's reversed schedule FAILed its test at p95 4.3 s) and offsets past int64 sleep
    for a century inside the host-wide lane."""
    where = f"arrival process {brief(process)}"
    try:
        out = process.schedule(n=n, duration_s=duration_s, rng=rng)
    except GpuSloError:
        raise
    except Exception as e:  # a plugin's process: the project's error, naming it and the cause
        raise InvalidArgument(f"{where}: schedule() raised {type(e).__name__}: {e}; fix the process's "
                              f"schedule/_draw (it must return integer nanosecond offsets).") from e
    arr = np.asarray(out) if isinstance(out, (np.ndarray, list, tuple)) else None
    if arr is None or arr.ndim != 1 or not (arr.size == 0 or np.issubdtype(arr.dtype, np.integer)):
        got = (f"a {type(out).__name__}" if arr is None else
               f"an array of shape {arr.shape} and dtype {arr.dtype}")
        raise InvalidArgument(f"{where}: schedule() returned {got}; it must return a 1-D array of integer "
                              f"nanosecond offsets (seconds convert with pytest_gpuslo.arrivals.to_ns).")
    arr = arr.astype(np.int64, copy=False)
    horizon = int(limits.MAX_HORIZON_S * 1e9)
    problem = ""
    if n is not None and arr.size != n:
        problem = f"{arr.size:,} offsets for n={n:,}"
    elif arr.size > limits.MAX_REQUESTS:
        problem = f"{arr.size:,} offsets, over the {limits.MAX_REQUESTS:,}-request limit (limits.MAX_REQUESTS)"
    elif arr.size and int(arr.min()) < 0:
        problem = f"a negative offset ({int(arr.min())} ns at index {int(arr.argmin())})"
    elif arr.size > 1 and bool((np.diff(arr) < 0).any()):
        i = int(np.flatnonzero(np.diff(arr) < 0)[0])
        problem = f"offsets out of order ({int(arr[i])} ns then {int(arr[i + 1])} ns at index {i + 1})"
    elif arr.size and int(arr.max()) > horizon:
        problem = (f"an offset {int(arr.max()) / 1e9:.3g} s in, past the {limits.MAX_HORIZON_S:g}-s horizon "
                   f"(limits.MAX_HORIZON_S)")
    elif duration_s is not None and arr.size and int(arr.max()) > duration_s * 1e9:
        problem = f"an offset {int(arr.max()) / 1e9:.6g} s in, past duration_s={duration_s:g}"
    if problem:
        raise InvalidArgument(f"{where}: schedule() returned {problem}; it must return non-decreasing integer "
                              f"nanosecond offsets from 0, exactly n of them or all before duration_s.")
    off = _off_its_rate(arr, process)
    if off:
        raise InvalidArgument(f"{where}: schedule() returned {off}; its offsets must offer about the mean rate "
                              f"it declares (the marker's rate_hz), or the load is not the one promised.")
    return arr


#: A plugin's schedule spanning more than this many times what its declared mean rate implies,
#: or less than its inverse from ``RATE_CHECK_MIN`` arrivals on, is refused: all at once (or 1 us
#: apart) FAILed the code, and one offset an hour out of 300 at 200/s slept for that hour holding
#: the host-wide lane (review36, review37).  The built-in processes are not held to it: gamma with
#: cv 50 puts 500 arrivals within a nanosecond, and Pareto gaps with alpha 1.1 can span 4,000x.
RATE_SLACK = 1000.0
RATE_CHECK_MIN = 500


def _off_its_rate(arr: npt.NDArray[np.int64], process: object) -> str:
    """'' when ``arr``'s span is one ``process.mean_rate_hz`` can give (or the process is built in),
    else what it offers."""
    if type(process).__module__.startswith("pytest_gpuslo."):
        return ""
    try:
        rate = float(process.mean_rate_hz)  # type: ignore[attr-defined]
    except (AttributeError, TypeError, ValueError):
        return ""
    if arr.size < 50 or not (rate > 0 and np.isfinite(rate)):
        return ""
    expected = (arr.size - 1) / rate
    span = float(arr[-1] - arr[0]) / 1e9
    if span > RATE_SLACK * expected or (arr.size >= RATE_CHECK_MIN and span * RATE_SLACK < expected):
        offered = f"{(arr.size - 1) / span:.4g}/s" if span > 0 else "all at once"
        return (f"{arr.size:,} offsets over {span:.3g} s ({offered}), while its mean_rate_hz {rate:g} implies "
                f"about {expected:.3g} s")
    return ""


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
            warm_part = drawn(process, duration_s=warmup_s, rng=rng)
            body = int(round(warmup_s * 1e9)) + drawn(process, n=requests, rng=rng)
            return np.concatenate([warm_part, body]), int(warm_part.size)
        warm = int(warmup_requests or 0)
        return drawn(process, n=warm + requests, rng=rng), warm
    assert duration_s is not None
    if warmup_requests:
        head = drawn(process, n=warmup_requests, rng=rng)
        start = int(head[-1]) + 1 if head.size else 0
        tail = drawn(process, duration_s=duration_s, rng=rng)
        return np.concatenate([head, start + tail]), int(head.size)
    total = float(warmup_s or 0.0) + duration_s
    sched = drawn(process, duration_s=total, rng=rng)
    warm = int(np.searchsorted(sched, int(round(float(warmup_s or 0.0) * 1e9)), side="left"))
    return sched, warm


def plan(spec: "SloSpec") -> tuple[npt.NDArray[np.int64], int]:
    """The test's whole schedule (warm-up first) and its warm-up count, from its spec alone."""
    process = parse(spec.arrivals, rate_hz=spec.rate_hz)
    assert process is not None
    return build_schedule(process, seed=spec.seed, requests=spec.requests, duration_s=spec.duration_s,
                          warmup_requests=spec.warmup_requests, warmup_s=spec.warmup_s)

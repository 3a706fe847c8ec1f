"""Recorded traffic as an arrival process, and ``describe`` for turning a trace into a test.

Layer 1 (numpy only).  A trace file holds arrival timestamps or inter-arrival times, one number
per line (CSV: the first column; one header line without digits is allowed), a JSON list (or an
object with "timestamps" or "intervals"), or a 1-D ``.npy`` array.  Every bad input names the file,
the line and the fix.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from pytest_gpuslo.arrivals.processes import Process, _check_rate, to_ns
from pytest_gpuslo.errors import InvalidArgument

UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}
KINDS = ("timestamps", "intervals")
#: Refuse traces larger than this (values / bytes): a test schedule is generated in memory.
MAX_VALUES = 20_000_000
MAX_BYTES = 512 * 2**20


def _bad(path: str, what: str, fix: str, line: int | None = None) -> InvalidArgument:
    where = f"{path}, line {line}" if line is not None else path
    return InvalidArgument(f"trace {where}: {what}; {fix}")


def _read_text_values(path: str, column: int) -> tuple[npt.NDArray[np.float64], list[int]]:
    values: list[float] = []
    lines: list[int] = []
    with open(path, encoding="utf-8", errors="replace") as fh:
        for lineno, raw in enumerate(fh, start=1):
            text = raw.strip()
            if not text or text.startswith("#"):
                continue
            cells = [c.strip() for c in text.replace(";", ",").replace("\t", ",").split(",")]
            if column >= len(cells):
                raise _bad(path, f"has no column {column} ({len(cells)} found)", "set column= to an existing one", lineno)
            cell = cells[column]
            try:
                values.append(float(cell))
            except ValueError:
                if not values and not any(ch.isdigit() for ch in text):
                    continue  # one header line
                raise _bad(path, f"{cell!r} is not a number", "remove the line or fix the value", lineno) from None
            lines.append(lineno)
    return np.asarray(values, dtype=np.float64), lines


def _read_json_values(path: str) -> tuple[npt.NDArray[np.float64], str | None, str | None]:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except json.JSONDecodeError as exc:
        raise _bad(path, f"is not valid JSON ({exc.msg})", "fix the file", exc.lineno) from None
    kind = unit = None
    if isinstance(data, dict):
        unit = data.get("unit")
        for k in KINDS:
            if k in data:
                kind, data = k, data[k]
                break
        else:
            raise _bad(path, "is a JSON object without \"timestamps\" or \"intervals\"", "add one of them")
    if not isinstance(data, list):
        raise _bad(path, "must hold a JSON list of numbers", "write e.g. [0.0, 0.013, 0.021]")
    for i, v in enumerate(data):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise _bad(path, f"item {i} is {v!r}, not a number", "fix that item")
    return np.asarray(data, dtype=np.float64), kind, unit


@lru_cache(maxsize=16)
def _load(path: str, mtime: float, kind: str, unit: str, column: int) -> npt.NDArray[np.float64]:
    """Arrival times in seconds from 0, validated (cached per file version)."""
    if unit not in UNITS:
        raise _bad(path, f"unit {unit!r} is unknown", f"use one of {', '.join(UNITS)}")
    if kind not in KINDS:
        raise _bad(path, f"kind {kind!r} is unknown", f"use one of {', '.join(KINDS)}")
    size = os.path.getsize(path)
    if size > MAX_BYTES:
        raise _bad(path, f"is {size:,} bytes, over the {MAX_BYTES:,}-byte limit", "cut it into a shorter window")
    lines: list[int] | None = None
    if path.endswith(".npy"):
        try:
            arr = np.load(path, allow_pickle=False)
        except (ValueError, OSError) as exc:
            raise _bad(path, f"is not a readable .npy array ({exc})", "save it with numpy.save") from None
        if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.number):
            raise _bad(path, f"holds a {arr.ndim}-D {arr.dtype} array", "save a 1-D numeric array")
        values = arr.astype(np.float64)
    elif path.endswith(".json"):
        values, jkind, junit = _read_json_values(path)
        kind = jkind or kind
        if junit is not None:
            if junit not in UNITS:
                raise _bad(path, f"unit {junit!r} is unknown", f"use one of {', '.join(UNITS)}")
            unit = junit
    else:
        values, lines = _read_text_values(path, column)

    def line_of(i: int) -> int | None:
        return lines[i] if lines is not None else None

    if values.size == 0:
        raise _bad(path, "holds no values", "record at least two arrivals")
    if values.size > MAX_VALUES:
        raise _bad(path, f"holds {values.size:,} values, over {MAX_VALUES:,}", "use a shorter window")
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise _bad(path, f"value {float(values[bad[0]])!r} is not finite", "remove NaN/inf entries", line_of(int(bad[0])))
    neg = np.flatnonzero(values < 0)
    if neg.size:
        raise _bad(path, f"value {float(values[neg[0]])!r} is negative", "times and gaps must be >= 0", line_of(int(neg[0])))
    values = values * UNITS[unit]
    if kind == "timestamps":
        down = np.flatnonzero(np.diff(values) < 0)
        if down.size:
            i = int(down[0]) + 1
            raise _bad(path, f"timestamps go backwards ({float(values[i - 1] / UNITS[unit])!r} then "
                       f"{float(values[i] / UNITS[unit])!r})", "sort the file, or pass kind='intervals' if "
                       "it holds gaps", line_of(i))
        times = values - values[0]
    else:
        times = np.cumsum(values)
    if times.size < 2 or times[-1] <= 0:
        raise _bad(path, "spans no time", "record at least two arrivals at different times")
    return times


@dataclass(frozen=True, slots=True)
class Trace(Process):
    """Replay recorded arrivals, rescaled to ``rate_hz`` (None keeps the recorded rate).

    ``loop`` repeats the trace to fill the requested size; ``loop=False`` truncates at its end.
    The first arrival is at offset 0; with ``rate_hz=None`` and no looping the schedule equals
    the recorded times exactly (to the nanosecond).
    """

    path: str
    rate_hz: float | None = None
    unit: str = "s"
    kind: str = "timestamps"
    loop: bool = True
    column: int = 0
    name: ClassVar[str] = "trace"

    def __post_init__(self) -> None:
        if self.rate_hz is not None:
            _check_rate(self.rate_hz, "trace")
        if not os.path.exists(self.path):
            raise InvalidArgument(f"trace {self.path}: no such file; give a path relative to the "
                                  f"directory pytest runs in, or an absolute one.")
        self.times()  # validate now: bad files fail at collection

    def times(self) -> npt.NDArray[np.float64]:
        return _load(str(self.path), os.path.getmtime(self.path), self.kind, self.unit, self.column)

    @property
    def native_rate_hz(self) -> float:
        t = self.times()
        return float((t.size - 1) / t[-1])

    @property
    def mean_rate_hz(self) -> float:
        return float(self.rate_hz) if self.rate_hz is not None else self.native_rate_hz

    def _scaled(self) -> tuple[npt.NDArray[np.float64], float]:
        t = self.times()
        scale = self.native_rate_hz / self.rate_hz if self.rate_hz is not None else 1.0
        period = t[-1] + (t[-1] / (t.size - 1))  # one mean gap after the last arrival before looping
        return t * scale, period * scale

    def _draw(self, n: int | None, duration_s: float | None,
              rng: np.random.Generator) -> npt.NDArray[np.int64]:
        t, period = self._scaled()
        if n is not None:
            reps = math.ceil(n / t.size) if self.loop else 1
            out = (t[None, :] + period * np.arange(reps)[:, None]).ravel()[: int(n)]
        else:
            assert duration_s is not None
            reps = max(1, math.ceil(duration_s / period)) if self.loop else 1
            out = (t[None, :] + period * np.arange(reps)[:, None]).ravel()
            out = out[out < duration_s]
        return to_ns(out)


def _idc(times: npt.NDArray[np.float64], window: float) -> float | None:
    bins = int(times[-1] // window)
    if bins < 10:
        return None
    counts = np.histogram(times, bins=bins, range=(0.0, bins * window))[0]
    mean = counts.mean()
    return float(counts.var(ddof=1) / mean) if mean > 0 else None


def describe(path: str, *, unit: str = "s", kind: str = "timestamps", column: int = 0) -> dict[str, Any]:
    """Rate, burstiness and the closest parametric process of a recorded trace."""
    times = _load(str(path), os.path.getmtime(path), kind, unit, column)
    gaps = np.diff(times)
    rate = float((times.size - 1) / times[-1])
    cv = float(gaps.std(ddof=1) / gaps.mean()) if gaps.size > 1 else math.nan
    mean_gap = 1.0 / rate
    windows = [w for w in (10 * mean_gap, 100 * mean_gap, 1000 * mean_gap) if times[-1] / w >= 10]
    idc = {f"{w:.4g}s": _idc(times, w) for w in windows}
    # Burst episodes: 1-second-scale windows (100 mean gaps) with more than twice the mean count.
    w = 100 * mean_gap
    bursts: list[tuple[float, float]] = []
    if times[-1] / w >= 4:
        counts = np.histogram(times, bins=int(times[-1] // w), range=(0.0, int(times[-1] // w) * w))[0]
        hot = counts > 2 * counts.mean()
        edges = np.flatnonzero(np.diff(np.concatenate([[0], hot.astype(int), [0]])))
        bursts = [(float(a * w), float(b * w)) for a, b in zip(edges[::2], edges[1::2])]
    xs = np.sort(gaps)[::-1]
    k = max(2, int(0.05 * xs.size))
    tail = float(1.0 / np.mean(np.log(xs[:k] / xs[k]))) if xs.size > 40 and xs[k] > 0 else math.nan
    idc_vals = [v for v in idc.values() if v is not None]
    growing = len(idc_vals) >= 2 and idc_vals[-1] > 1.5 * max(idc_vals[0], 1.0)
    if not math.isnan(tail) and tail < 1.9 and cv > 1.5:
        fit = f"pareto(rate_hz={rate:.4g}, alpha={max(tail, 1.05):.3g})"
    elif growing and bursts:
        share = sum(b - a for a, b in bursts) / times[-1]
        burst_s = max(w, sum(b - a for a, b in bursts) / len(bursts))
        calm_s = burst_s * (1 - share) / max(share, 1e-9)
        in_burst = sum(((times >= a) & (times < b)).sum() for a, b in bursts) / times.size
        peak = min((in_burst / max(share, 1e-9)), (burst_s + calm_s) / burst_s)
        fit = (f"mmpp2(rate_hz={rate:.4g}, peak_to_mean={peak:.3g}, burst_s={burst_s:.3g}, "
               f"calm_s={calm_s:.3g})")
    elif abs(cv - 1.0) < 0.1:
        fit = f"poisson(rate_hz={rate:.4g})"
    else:
        fit = f"gamma(rate_hz={rate:.4g}, cv={cv:.3g})"
    return {"path": str(path), "arrivals": int(times.size), "span_s": float(times[-1]),
            "rate_hz": rate, "cv": cv, "idc": idc, "hill_tail_index": tail, "bursts": bursts,
            "closest": fit, "marker": f'@pytest.mark.slo(rate_hz={rate:.4g}, arrivals="{fit}", ...)'}


__all__ = ["Trace", "describe"]

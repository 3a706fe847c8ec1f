"""Open-loop arrival processes (layer 1: numpy only, no pytest, no GPU library).

Each process is a small frozen object with ``mean_rate_hz`` and
``schedule(n=None, duration_s=None, rng=...)`` returning sorted ``int64`` nanosecond offsets from
the run's start.  The whole schedule is generated before the run, so the dispatch loop only compares
clocks (load-and-batching.md §2.1).  A string form parses to the same objects:
``parse("poisson")``, ``parse("constant(rate_hz=100)")``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar, Final, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from pytest_gpuslo import limits
from pytest_gpuslo.errors import InvalidArgument

NS_PER_S = 1_000_000_000


@runtime_checkable
class ArrivalProcess(Protocol):
    """What the runner needs from an arrival process.

    Optional: ``steady`` (a class attribute, True for a stationary process) and ``caution`` (a
    property: a sentence on why its arrivals may not stand for the traffic, warned of before a
    run; ``Trace``'s rounded stamps).
    """

    @property
    def mean_rate_hz(self) -> float: ...

    def schedule(
        self,
        n: int | None = None,
        duration_s: float | None = None,
        rng: np.random.Generator | None = None,
    ) -> npt.NDArray[np.int64]: ...


def _check_rate(rate_hz: Any, process: str) -> float:
    if isinstance(rate_hz, bool) or not isinstance(rate_hz, (int, float)) or not np.isfinite(rate_hz):
        raise InvalidArgument(f"{process}: rate_hz={rate_hz!r} must be a finite number > 0.")
    if rate_hz <= 0:
        raise InvalidArgument(f"{process}: rate_hz={rate_hz!r} must be > 0 (requests per second).")
    return float(rate_hz)


def _check_size(n: int | None, duration_s: float | None) -> None:
    if (n is None) == (duration_s is None):
        raise InvalidArgument("schedule() needs exactly one of n (a count) or duration_s (a horizon).")
    if n is not None and (isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0):
        raise InvalidArgument(f"schedule(): n={n!r} must be a whole number >= 0.")
    if duration_s is not None and not (np.isfinite(duration_s) and duration_s >= 0):
        raise InvalidArgument(f"schedule(): duration_s={duration_s!r} must be a finite number >= 0.")


def to_ns(offsets_s: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Seconds (float) to integer nanoseconds, rounded; an offset past ``limits.MAX_HORIZON_S`` (or
    not finite) is refused rather than wrapped around int64."""
    seconds = np.asarray(offsets_s, dtype=np.float64)
    if seconds.size and not (np.isfinite(seconds).all() and np.abs(seconds).max() <= limits.MAX_HORIZON_S):
        worst = float(np.nanmax(np.abs(np.where(np.isfinite(seconds), seconds, np.inf))))
        raise InvalidArgument(
            f"the arrival schedule reaches {worst:.3g} s, past the {limits.MAX_HORIZON_S:g}-s horizon "
            f"(limits.MAX_HORIZON_S); raise rate_hz or ask for fewer requests or a shorter duration_s.")
    return np.rint(seconds * NS_PER_S).astype(np.int64)


class Process:
    """Shared behaviour of the built-in processes: argument checks and the default generator.

    A subclass sets ``name``, validates its fields in ``__post_init__`` and draws arrivals in
    ``_draw``; ``schedule`` checks the size arguments once for all of them.
    """

    __slots__ = ()
    name: ClassVar[str] = ""
    #: Stationary: every long window offers ``mean_rate_hz``, so a run's measured window is held to
    #: it (``registry.steady_load``).  Each built-in says; a user's process opts in, as only it
    #: knows whether it shapes its rate over time.
    steady: ClassVar[bool] = False

    @property
    def mean_rate_hz(self) -> float:
        return float(self.rate_hz)  # type: ignore[attr-defined]

    def schedule(self, n: int | None = None, duration_s: float | None = None,
                 rng: np.random.Generator | None = None) -> npt.NDArray[np.int64]:
        """Arrival offsets in integer nanoseconds: exactly ``n`` of them, or all before ``duration_s``."""
        _check_size(n, duration_s)
        expected = n if n is not None else self.mean_rate_hz * float(duration_s or 0.0)
        if expected > limits.MAX_REQUESTS:
            raise InvalidArgument(
                f"{self.name}: a schedule of {expected:.3g} arrivals is over the "
                f"{limits.MAX_REQUESTS:,}-request limit (limits.MAX_REQUESTS, about "
                f"{limits.request_memory_bytes(limits.MAX_REQUESTS) / 1e9:.0f} GB); ask for fewer.")
        return self._draw(None if n is None else int(n), duration_s,
                          rng if rng is not None else np.random.default_rng())

    def _draw(self, n: int | None, duration_s: float | None,
              rng: np.random.Generator) -> npt.NDArray[np.int64]:
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class Constant(Process):
    """Evenly spaced arrivals, ``1/rate_hz`` apart, the first at offset 0 (wrk2's pacing)."""

    rate_hz: float
    name: ClassVar[str] = "constant"
    steady: ClassVar[bool] = True

    def __post_init__(self) -> None:
        _check_rate(self.rate_hz, "constant")

    def _draw(self, n: int | None, duration_s: float | None,
              rng: np.random.Generator) -> npt.NDArray[np.int64]:
        period_ns = NS_PER_S / self.rate_hz
        if n is None:
            assert duration_s is not None
            n = int(np.ceil(duration_s * self.rate_hz - 1e-9))
        # Index times period, rounded once: no accumulated drift over long schedules.
        return np.rint(np.arange(n, dtype=np.float64) * period_ns).astype(np.int64)


@dataclass(frozen=True, slots=True)
class Poisson(Process):
    """Memoryless arrivals: exponential inter-arrivals with mean ``1/rate_hz`` (MLPerf Server)."""

    rate_hz: float
    name: ClassVar[str] = "poisson"
    steady: ClassVar[bool] = True

    def __post_init__(self) -> None:
        _check_rate(self.rate_hz, "poisson")

    def _draw(self, n: int | None, duration_s: float | None,
              rng: np.random.Generator) -> npt.NDArray[np.int64]:
        if n is not None:
            gaps = rng.exponential(1.0 / self.rate_hz, size=int(n))
            return to_ns(np.cumsum(gaps))
        assert duration_s is not None
        # Fixed horizon: a Poisson count of sorted uniforms is exact (order-statistics property).
        count = rng.poisson(self.rate_hz * duration_s)
        return to_ns(np.sort(rng.uniform(0.0, duration_s, size=count)))


def _renewal(gap: Any, mean_gap: float, n: int | None, duration_s: float | None,
             rng: np.random.Generator) -> npt.NDArray[np.int64]:
    """Cumulative sums of i.i.d. gaps ``gap(rng, k)``: exactly n arrivals or all within the horizon."""
    if n is not None:
        return to_ns(np.cumsum(gap(rng, int(n))))
    assert duration_s is not None
    chunks, t = [np.empty(0)], 0.0
    while t < duration_s:
        k = max(16, int((duration_s - t) / mean_gap * 1.1) + 16)
        part = t + np.cumsum(gap(rng, k))
        chunks.append(part)
        t = float(part[-1])
    arr = np.concatenate(chunks)
    return to_ns(arr[arr < duration_s])


def _by_horizon(make: Any, n: int | None, duration_s: float | None,
                rng: np.random.Generator) -> npt.NDArray[np.int64]:
    """For processes sampled on a horizon: all arrivals before ``duration_s``, or the first ``n``.

    ``make(horizon, n, rng)`` draws up to the horizon, or, with ``n``, on until n arrivals have come.
    Drawing on a guessed horizon and drawing again when too few fitted kept only the draws that
    had come fast: an onoff schedule of 1,050 requests at 150/s offered a median 165/s and never
    its slow fifth (83/s and below).
    """
    if duration_s is not None:
        return to_ns(make(duration_s, None, rng))
    assert n is not None
    return to_ns(make(math.inf, n, rng)[:n])


def _positive(name: str, value: Any, process: str, *, strictly: bool = True) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and np.isfinite(value)
    if not ok or value < 0 or (strictly and value == 0):
        bound = "> 0" if strictly else ">= 0"
        raise InvalidArgument(f"{process}: {name}={value!r} must be a finite number {bound}.")
    return float(value)


def _span(name: str, value: Any, process: str) -> float:
    """A time span in seconds (a burst, a calm spell, a period), from a microsecond to
    ``limits.MAX_HORIZON_S``: review197 F3, onoff(burst_s=1e-300, calm_s=1e300) passed the marker
    check, then hung or crashed in the draw ("fix the process's _draw")."""
    span = _positive(name, value, process)
    if not 1e-6 <= span <= limits.MAX_HORIZON_S:
        raise InvalidArgument(f"{process}: {name}={value!r} is a time span in seconds, which must lie between 1e-06 "
                              f"(a microsecond) and {limits.MAX_HORIZON_S:g} (a day).")
    return span


def _cycle(what: str, cycle_s: float, process: str, rate_hz: float) -> None:
    """A modulation whose cycle is shorter than the mean gap between requests modulates nothing,
    and drawing it takes a Python step per cycle: at least one request a cycle on average."""
    if cycle_s * rate_hz < 1.0:
        raise InvalidArgument(f"{process}: {what} of {cycle_s:g} s is shorter than the mean gap between requests "
                              f"(1/rate_hz = {1.0 / rate_hz:g} s), so it shapes no burst; make it at least "
                              f"{1.0 / rate_hz:g} s, or use poisson.")


#: The smoothest gamma process taken (shape = 1/cv**2 at most 1e12); past it the draw overflows:
#: use ``constant`` for evenly spaced arrivals (review197 F3: cv=1e-300 divided by zero in the draw).
GAMMA_MIN_CV: Final = 1e-6

#: The burstiest gamma process taken: at cv = 20, 94% of the gaps are zero and a 40-s run at
#: 100/s spans 16-52 s; at cv = 1000 every request arrives at once.
GAMMA_MAX_CV: Final = 20.0


@dataclass(frozen=True, slots=True)
class Gamma(Process):
    """Renewal process with Gamma inter-arrivals: burstiness as a coefficient of variation.

    ``cv`` = 1 is Poisson, above 1 bursty, below 1 smoother; or give ``shape`` = 1/cv**2 (vLLM's
    ``burstiness``).
    """

    rate_hz: float
    cv: float | None = None
    shape: float | None = None
    name: ClassVar[str] = "gamma"
    steady: ClassVar[bool] = True

    def __post_init__(self) -> None:
        _check_rate(self.rate_hz, "gamma")
        if (self.cv is None) == (self.shape is None):
            raise InvalidArgument("gamma: give exactly one of cv (e.g. cv=3) or shape (= 1/cv**2).")
        if self.cv is not None:
            _positive("cv", self.cv, "gamma")
        if self.shape is not None:
            _positive("shape", self.shape, "gamma")
        if (self.cv is not None and self.cv < GAMMA_MIN_CV) or (
                self.shape is not None and self.shape > 1.0 / GAMMA_MIN_CV ** 2):
            given = f"cv={self.cv!r}" if self.cv is not None else f"shape={self.shape!r}"
            raise InvalidArgument(f"gamma: {given} is smoother than cv={GAMMA_MIN_CV:g} (shape "
                                  f"{1.0 / GAMMA_MIN_CV ** 2:g}); for evenly spaced arrivals use constant.")
        if (self.cv is not None and self.cv > GAMMA_MAX_CV) or (
                self.shape is not None and self.shape < 1.0 / GAMMA_MAX_CV ** 2):
            # review95 #5: cv=1e308 passed the marker check, then failed as "fix the process's _draw"
            given = f"cv={self.cv!r}" if self.cv is not None else f"shape={self.shape!r}"
            raise InvalidArgument(
                f"gamma: {given} is burstier than cv={GAMMA_MAX_CV:g} (shape {1.0 / GAMMA_MAX_CV ** 2:g}): past it "
                f"nearly every gap is zero and a few gaps hold the whole run, so no run of practical length "
                f"offers rate_hz; give cv <= {GAMMA_MAX_CV:g}, or bursts of a set shape with onoff or mmpp.")

    @property
    def k(self) -> float:
        return float(self.shape) if self.shape is not None else 1.0 / float(self.cv) ** 2  # type: ignore[arg-type]

    def _draw(self, n: int | None, duration_s: float | None,
              rng: np.random.Generator) -> npt.NDArray[np.int64]:
        k, scale = self.k, 1.0 / (self.rate_hz * self.k)
        return _renewal(lambda r, m: r.gamma(k, scale, m), 1.0 / self.rate_hz, n, duration_s, rng)


def _mmpp_check(name: str, rate_hz: float, peak_to_mean: float, burst_s: float, calm_s: float,
                start: str | None) -> None:
    _check_rate(rate_hz, name)
    _span("burst_s", burst_s, name)
    _span("calm_s", calm_s, name)
    _cycle("a burst and a calm spell (burst_s + calm_s)", burst_s + calm_s, name, rate_hz)
    if isinstance(peak_to_mean, bool) or not isinstance(peak_to_mean, (int, float)) or peak_to_mean < 1.0:
        raise InvalidArgument(f"{name}: peak_to_mean={peak_to_mean!r} must be a number >= 1.")
    top = (burst_s + calm_s) / burst_s
    if peak_to_mean > top * (1 + 1e-12):
        raise InvalidArgument(
            f"{name}: peak_to_mean={peak_to_mean!r} with burst_s={burst_s!r} and calm_s={calm_s!r} "
            f"needs a negative calm rate; it can be at most {top:.4g} here (then calm periods are "
            f"silent: an on-off process).")
    if start not in (None, "calm", "burst"):
        raise InvalidArgument(f"{name}: start={start!r} must be 'calm', 'burst' or None.")


@dataclass(frozen=True, slots=True)
class MMPP2(Process):
    """Two-state Markov-modulated Poisson process: calm and burst rates with mean sojourn times.

    Parameterised for people: the mean ``rate_hz``, ``peak_to_mean`` (burst rate over the mean) and
    the mean durations ``burst_s`` and ``calm_s``; the calm rate follows from the mean.  ``start``
    pins the first state ("calm" or "burst") for deterministic tests, else it is drawn from the
    stationary law.
    """

    rate_hz: float
    peak_to_mean: float = 4.0
    burst_s: float = 0.5
    calm_s: float = 2.0
    start: str | None = None
    name: ClassVar[str] = "mmpp2"
    steady: ClassVar[bool] = True

    @property
    def cycle_s(self) -> float:
        """One burst and one calm spell on average: a window spanning few of them may sit in one."""
        return float(self.burst_s + self.calm_s)

    def __post_init__(self) -> None:
        _mmpp_check("mmpp2", self.rate_hz, self.peak_to_mean, self.burst_s, self.calm_s, self.start)
        if self.burst_rate_hz > limits.MAX_RATE_HZ:
            raise InvalidArgument(
                f"mmpp2: peak_to_mean={self.peak_to_mean!r} at rate_hz={self.rate_hz!r} makes bursts of "
                f"{self.burst_rate_hz:.3g} requests/s, past the {limits.MAX_RATE_HZ:,.0f} any lane issues; give a "
                f"lower peak_to_mean.")

    @property
    def burst_rate_hz(self) -> float:
        return float(self.peak_to_mean * self.rate_hz)

    @property
    def calm_rate_hz(self) -> float:
        total = self.burst_s + self.calm_s
        return max(0.0, float((self.rate_hz * total - self.burst_rate_hz * self.burst_s) / self.calm_s))

    def idc(self, window_s: float) -> float:
        """Index of dispersion of counts in windows of ``window_s`` (Fischer & Meier-Hellstern 1993)."""
        return _mmpp_idc(self.calm_rate_hz, self.burst_rate_hz, self.calm_s, self.burst_s, window_s)

    def _draw(self, n: int | None, duration_s: float | None,
              rng: np.random.Generator) -> npt.NDArray[np.int64]:
        make = lambda h, k, r: _mmpp_make(self.calm_rate_hz, self.burst_rate_hz, self.calm_s,  # noqa: E731
                                          self.burst_s, self.start, h, k, r)
        return _by_horizon(make, n, duration_s, rng)


def _mmpp_idc(l0: float, l1: float, d0: float, d1: float, w: float) -> float:
    r0, r1 = 1.0 / d0, 1.0 / d1
    s = r0 + r1
    mean = (l0 * r1 + l1 * r0) / s
    return float(1.0 + 2.0 * (l0 - l1) ** 2 * r0 * r1 / (s * s * s * mean)
                 * (1.0 - (1.0 - np.exp(-s * w)) / (s * w)))


def _mmpp_make(l0: float, l1: float, d0: float, d1: float, start: str | None, horizon: float,
               n: int | None, rng: np.random.Generator) -> npt.NDArray[np.float64]:
    """Sojourns in turn up to ``horizon``, or (``n`` given) until n arrivals have come."""
    rates, means = (l0, l1), (d0, d1)
    state = int(rng.random() < d1 / (d0 + d1)) if start is None else int(start == "burst")
    t, chunks, count = 0.0, [], 0
    while (count < n) if n is not None else (t < horizon):
        end = min(t + rng.exponential(means[state]), horizon)
        m = int(rng.poisson(rates[state] * (end - t)))
        chunks.append(np.sort(rng.uniform(t, end, m)))
        t, state, count = end, 1 - state, count + m
    return np.concatenate(chunks) if chunks else np.empty(0)


@dataclass(frozen=True, slots=True)
class OnOff(Process):
    """Interrupted Poisson process: bursts at one rate separated by silences (an MMPP-2 whose calm
    rate is 0).  The burst rate is rate_hz * (burst_s + calm_s) / burst_s."""

    rate_hz: float
    burst_s: float = 0.2
    calm_s: float = 0.8
    start: str | None = None
    name: ClassVar[str] = "onoff"
    steady: ClassVar[bool] = True

    @property
    def cycle_s(self) -> float:
        """One burst and one calm spell on average: a window spanning few of them may sit in one."""
        return float(self.burst_s + self.calm_s)

    def __post_init__(self) -> None:
        _mmpp_check("onoff", self.rate_hz, 1.0, self.burst_s, self.calm_s, self.start)
        if self.burst_rate_hz > limits.MAX_RATE_HZ:
            # review200 F4: burst_s=0.001, calm_s=86000 passed, and the run FAILed "raise rate_hz"
            raise InvalidArgument(
                f"onoff: burst_s={self.burst_s!r} with calm_s={self.calm_s!r} packs every request into bursts at "
                f"{self.burst_rate_hz:.3g} requests/s (rate_hz x (burst_s + calm_s) / burst_s), past the "
                f"{limits.MAX_RATE_HZ:,.0f} any lane issues; lengthen burst_s or shorten calm_s.")

    @property
    def burst_rate_hz(self) -> float:
        return float(self.rate_hz * (self.burst_s + self.calm_s) / self.burst_s)

    def idc(self, window_s: float) -> float:
        return _mmpp_idc(0.0, self.burst_rate_hz, self.calm_s, self.burst_s, window_s)

    def _draw(self, n: int | None, duration_s: float | None,
              rng: np.random.Generator) -> npt.NDArray[np.int64]:
        make = lambda h, k, r: _mmpp_make(0.0, self.burst_rate_hz, self.calm_s, self.burst_s,  # noqa: E731
                                          self.start, h, k, r)
        return _by_horizon(make, n, duration_s, rng)


@dataclass(frozen=True, slots=True)
class Pareto(Process):
    """Heavy-tailed renewal: classical Pareto (Type I) inter-arrivals with tail index ``alpha``.

    numpy's ``pareto`` draws Lomax (Pareto II); adding 1 and scaling gives the true Pareto.  The
    mean gap is ``1/rate_hz`` for alpha > 1.  ``cap_s`` truncates single gaps at that many seconds,
    and the scale is then chosen so that the truncated mean gap is still ``1/rate_hz`` (the cap
    must exceed it): truncating alone offered 1,252/s for rate_hz=200 at alpha 1.1 with a cap
    below the mean gap (review44), now refused.  alpha <= 1 has no finite mean and is refused
    unless ``allow_infinite_mean=True``, when the scale is ``1/rate_hz`` instead (or, with a cap,
    the one that meets the rate).
    """

    rate_hz: float
    alpha: float = 1.5
    cap_s: float | None = None
    allow_infinite_mean: bool = False
    name: ClassVar[str] = "pareto"
    steady: ClassVar[bool] = True

    def __post_init__(self) -> None:
        _check_rate(self.rate_hz, "pareto")
        _positive("alpha", self.alpha, "pareto")
        if self.alpha <= 1.0 and not self.allow_infinite_mean:
            raise InvalidArgument(
                f"pareto: alpha={self.alpha!r} has no finite mean gap, so rate_hz cannot be met; "
                f"use alpha > 1 (1 < alpha <= 2 already has infinite variance), or pass "
                f"allow_infinite_mean=True to use 1/rate_hz as the scale.")
        if self.cap_s is not None:
            _positive("cap_s", self.cap_s, "pareto")
            if self.cap_s * self.rate_hz <= 1.0 + 1e-9:
                raise InvalidArgument(
                    f"pareto: cap_s={self.cap_s!r} is not above the mean gap 1/rate_hz = {1.0 / self.rate_hz:g} s, "
                    f"so no capped gaps can average it; give cap_s well above {1.0 / self.rate_hz:g} s.")

    @property
    def xm(self) -> float:
        if self.cap_s is not None:
            return _capped_pareto_scale(self.alpha, self.cap_s, 1.0 / self.rate_hz)
        if self.alpha <= 1.0:
            return 1.0 / self.rate_hz
        return (self.alpha - 1.0) / (self.alpha * self.rate_hz)

    def _draw(self, n: int | None, duration_s: float | None,
              rng: np.random.Generator) -> npt.NDArray[np.int64]:
        xm, a, cap = self.xm, self.alpha, self.cap_s

        def gap(r: np.random.Generator, m: int) -> npt.NDArray[np.float64]:
            g = xm * (1.0 + r.pareto(a, m))
            return np.minimum(g, cap) if cap is not None else g

        return _renewal(gap, 1.0 / self.rate_hz, n, duration_s, rng)


def _capped_pareto_mean(xm: float, a: float, cap: float) -> float:
    """E[min(X, cap)] for X ~ Pareto(xm, a), xm < cap: xm + the integral of (xm/x)^a from xm to cap."""
    if abs(a - 1.0) < 1e-12:
        return xm * (1.0 + math.log(cap / xm))
    return xm + xm**a * (cap ** (1.0 - a) - xm ** (1.0 - a)) / (1.0 - a)


def _capped_pareto_scale(a: float, cap: float, mean: float) -> float:
    """The scale xm whose gaps, capped at ``cap``, average ``mean`` (< cap): the capped mean rises
    from 0 to cap as xm goes from 0 to cap, so a bisection on the log scale finds it."""
    lo, hi = mean * 1e-12, min(mean, cap)
    for _ in range(200):
        mid = math.sqrt(lo * hi)
        if _capped_pareto_mean(mid, a, cap) < mean:
            lo = mid
        else:
            hi = mid
    return math.sqrt(lo * hi)


def _thinning(lam: Any, lam_max: float, horizon: float, n: int | None,
              rng: np.random.Generator) -> npt.NDArray[np.float64]:
    """Lewis-Shedler thinning: exact for any rate function bounded by lam_max.  With ``n``, on in
    spans of 1,024 candidates on average until n are kept (a Poisson process's spans are
    independent; spans that do not depend on n keep a longer draw's start the shorter one)."""
    if n is None:
        count = rng.poisson(lam_max * horizon)
        cand = np.sort(rng.uniform(0.0, horizon, count))
        return cand[rng.random(cand.size) * lam_max < lam(cand)]
    step, t0, kept, count = 1024.0 / lam_max, 0.0, [], 0
    while count < n:
        cand = np.sort(rng.uniform(t0, t0 + step, rng.poisson(lam_max * step)))
        kept.append(cand[rng.random(cand.size) * lam_max < lam(cand)])
        t0, count = t0 + step, count + kept[-1].size
    return np.concatenate(kept) if kept else np.empty(0)


@dataclass(frozen=True, slots=True)
class Diurnal(Process):
    """Non-homogeneous Poisson with a sinusoidal rate rate_hz * (1 + amplitude sin(2 pi t / period_s + phase)).

    Sampled exactly by thinning.  A daily pattern compressed into a test: period_s=60 runs a
    "day" per minute.
    """

    rate_hz: float
    amplitude: float = 0.5
    period_s: float = 60.0
    phase: float = 0.0
    name: ClassVar[str] = "diurnal"

    def __post_init__(self) -> None:
        _check_rate(self.rate_hz, "diurnal")
        _span("period_s", self.period_s, "diurnal")
        _cycle("a period (period_s)", self.period_s, "diurnal", self.rate_hz)
        if isinstance(self.amplitude, bool) or not isinstance(self.amplitude, (int, float)) \
                or not 0.0 <= self.amplitude < 1.0:
            raise InvalidArgument(f"diurnal: amplitude={self.amplitude!r} must lie in [0, 1).")

    def rate_at(self, t: npt.ArrayLike) -> npt.NDArray[np.float64]:
        tt = np.asarray(t, dtype=np.float64)
        return self.rate_hz * (1.0 + self.amplitude * np.sin(2 * np.pi * tt / self.period_s + self.phase))

    def _draw(self, n: int | None, duration_s: float | None,
              rng: np.random.Generator) -> npt.NDArray[np.int64]:
        top = self.rate_hz * (1.0 + self.amplitude)
        return _by_horizon(lambda h, k, r: _thinning(self.rate_at, top, h, k, r), n, duration_s, rng)


@dataclass(frozen=True, slots=True)
class Ramp(Process):
    """Piecewise-linear rate through ``points`` [(t_s, rate_hz), ...] from t=0, held at the last
    rate afterwards.  Sampled exactly by time rescaling: the integrated rate is inverted per
    segment in closed form."""

    points: tuple[tuple[float, float], ...]
    name: ClassVar[str] = "ramp"

    def __post_init__(self) -> None:
        try:
            pts = tuple((float(t), float(r)) for t, r in self.points)
        except (TypeError, ValueError):
            raise InvalidArgument(f"ramp: points={self.points!r} must be a list of (t_s, rate_hz) "
                                  f"pairs, e.g. [(0, 100), (10, 800)].") from None
        if not pts or pts[0][0] != 0.0:
            raise InvalidArgument(f"ramp: points={self.points!r} must start at t_s=0.")
        if any(b[0] <= a[0] for a, b in zip(pts, pts[1:])):
            raise InvalidArgument(f"ramp: the times in points={self.points!r} must increase.")
        if any(r < 0 or not np.isfinite(r) for _, r in pts):
            raise InvalidArgument(f"ramp: rates in points={self.points!r} must be >= 0.")
        if pts[-1][1] <= 0:
            raise InvalidArgument("ramp: the last rate must be > 0 (it is held after the last point).")
        object.__setattr__(self, "points", pts)

    @property
    def mean_rate_hz(self) -> float:
        """Mean over the ramp's span (the rate itself when there is a single point)."""
        if len(self.points) == 1:
            return self.points[0][1]
        span = self.points[-1][0]
        return self.cumulative(span) / span

    def rate_at(self, t: npt.ArrayLike) -> npt.NDArray[np.float64]:
        return np.interp(np.asarray(t, dtype=np.float64), [p[0] for p in self.points],
                         [p[1] for p in self.points])

    def _edges(self) -> list[float]:
        edges = [0.0]
        for (t0, r0), (t1, r1) in zip(self.points, self.points[1:]):
            edges.append(edges[-1] + (r0 + r1) / 2.0 * (t1 - t0))
        return edges

    def cumulative(self, t: float) -> float:
        """The integrated rate from 0 to t (expected arrivals)."""
        total, pts = 0.0, self.points
        for (t0, r0), (t1, r1) in zip(pts, pts[1:]):
            if t <= t0:
                break
            e = min(t, t1)
            re = r0 + (r1 - r0) * (e - t0) / (t1 - t0)
            total += (r0 + re) / 2.0 * (e - t0)
        if t > pts[-1][0]:
            total += pts[-1][1] * (t - pts[-1][0])
        return total

    def _invert(self, s: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        out = np.empty_like(s)
        pts, edges = self.points, self._edges()
        seg = np.searchsorted(edges, s, side="right") - 1
        for j in np.unique(seg):
            m = seg == j
            rem = s[m] - edges[j]
            if j >= len(pts) - 1:
                out[m] = pts[-1][0] + rem / pts[-1][1]
                continue
            (t0, r0), (t1, r1) = pts[j], pts[j + 1]
            slope = (r1 - r0) / (t1 - t0)
            if abs(slope) < 1e-12:
                out[m] = t0 + rem / r0
            else:  # r0 x + slope x^2 / 2 = rem
                out[m] = t0 + (-r0 + np.sqrt(np.maximum(r0 * r0 + 2.0 * slope * rem, 0.0))) / slope
        return out

    def _draw(self, n: int | None, duration_s: float | None,
              rng: np.random.Generator) -> npt.NDArray[np.int64]:
        if n is not None:
            return to_ns(self._invert(np.cumsum(rng.exponential(1.0, int(n)))))
        assert duration_s is not None
        total = self.cumulative(duration_s)
        s = np.sort(rng.uniform(0.0, total, rng.poisson(total)))
        return to_ns(self._invert(s))


@dataclass(frozen=True, slots=True)
class Superpose(Process):
    """Several tenants merged: the union of each part's arrivals, each part with its own stream."""

    parts: tuple[Any, ...]
    name: ClassVar[str] = "superpose"

    def __post_init__(self) -> None:
        items = tuple(self.parts) if isinstance(self.parts, (list, tuple)) else ()
        if not items or not all(isinstance(p, ArrivalProcess) and not isinstance(p, str) for p in items):
            raise InvalidArgument(f"superpose: parts={self.parts!r} must be a non-empty list of "
                                  f"processes, e.g. parts=[poisson(rate_hz=100), gamma(rate_hz=50, cv=3)].")
        object.__setattr__(self, "parts", items)

    @property
    def mean_rate_hz(self) -> float:
        return float(sum(p.mean_rate_hz for p in self.parts))

    @property
    def steady(self) -> bool:  # type: ignore[override]
        return all(getattr(p, "steady", False) is True for p in self.parts)

    @property
    def caution(self) -> str | None:
        """Its parts' cautions (a trace of rounded stamps among the tenants), or None."""
        said = [c for c in (getattr(p, "caution", None) for p in self.parts) if isinstance(c, str) and c]
        return "; ".join(said) or None

    @property
    def cycle_s(self) -> float | None:
        """The slowest modulation of its parts (None: none is modulated)."""
        cycles = [float(c) for c in (getattr(p, "cycle_s", None) for p in self.parts) if c is not None]
        return max(cycles) if cycles else None

    def _make(self, horizon: float, n: int | None, rng: np.random.Generator) -> npt.NDArray[np.float64]:
        """Every part up to the horizon; or, with ``n``, of each part's first arrivals (its share of
        n and more) the union before the earliest part's last one, where all are complete.  Short
        of n, every part is drawn again, longer, from its same seed: a part drawn by count
        continues its own draw (the built-ins do), so the longer draws keep the shorter ones."""
        seeds = np.random.SeedSequence(int(rng.integers(2**63))).spawn(len(self.parts))
        if n is None:
            return np.sort(np.concatenate([p.schedule(duration_s=horizon, rng=np.random.Generator(np.random.PCG64(sd)))
                                           for p, sd in zip(self.parts, seeds)]) / 1e9, kind="stable")
        total, grow = self.mean_rate_hz, 1.25
        while True:
            arrays = [p.schedule(n=int(grow * n * p.mean_rate_hz / total) + 16,
                                 rng=np.random.Generator(np.random.PCG64(sd))) / 1e9
                      for p, sd in zip(self.parts, seeds)]
            merged = np.sort(np.concatenate(arrays), kind="stable")
            merged = merged[merged <= min(a[-1] for a in arrays)]
            if merged.size >= n:
                return merged
            grow *= 2.0

    def _draw(self, n: int | None, duration_s: float | None,
              rng: np.random.Generator) -> npt.NDArray[np.int64]:
        return _by_horizon(self._make, n, duration_s, rng)

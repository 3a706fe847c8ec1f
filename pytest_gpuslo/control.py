"""The machine control: a short fixed workload timed before and after every run.

A stored baseline can only say "the code got slower" if the machine did not.  Per-run machine
noise shows in the stored runs' spread, but a candidate run on a day when the machine is unusually
slow (a throttled CPU, another VM on the host, a GPU at lower clocks) looks exactly like a
regression, and near saturation a 2% slower machine moves a p95 by 20% or more.  So every run also
times a fixed workload (a pure-Python CPU loop; the backend's own, e.g. a fixed-work kernel on the
GPU; ``Backend.control``), and the gate holds back a REGRESSED when this run's control lies outside the stored runs'
controls in the slower direction (an IMPROVED when faster): ``machine_shift``.  Pure Python and
numpy (layer 1): a backend adds its own part in ``control()``.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from scipy import stats as st

#: Untimed work before each control reading (ns): long enough for an idle core to reach its clock.
WARM_NS = 30_000_000
#: Repetitions of each control per measurement (before the run and after it: twice this many).
REPS = 7
#: The stored runs' controls make a prediction interval at this level: a control outside it says
#: the machine moved.  A false "moved" only turns a REGRESSED into INCONCLUSIVE, so it is loose.
ALPHA_CONTROL = 0.05
#: Floor on the stored controls' log spread: identical stored values must not make every later
#: reading "outside" (timer resolution, and a real loop never repeats to better than this).
MIN_LOG_SD = 0.002
#: Stored runs with a control needed before a shift can be judged outside their spread.
MIN_RUNS = 3
#: Each control's name in words.
NAMES = {"cpu_ms": "CPU loop", "gpu_ms": "GPU kernel"}
#: Which control decides when a run has several: the device's own first (``deciding``).
PRECEDENCE = ("gpu_ms", "cpu_ms")
#: Stored controls spread at least this much (sd of logs): the report says the machine drifts
#: (CPU loops on the cloud hosts measured: 8-17%; a GPU kernel: 0.02%).
DRIFTING = 0.05
#: A shift smaller than this (and inside the spread) is left out of the evidence line.
REPORT_MIN = 0.01
#: A stored reading more than this factor from the stored readings' median is a broken reading,
#: not a machine state, and is left out of their spread: one wild value (1e9 ms in an independent
#: check) otherwise widened the interval until no shift was ever outside it.  The widest real
#: spread measured is a CPU loop jumping between 0.48 and 0.66 ms (1.4x).
BROKEN_FACTOR = 2.0

_DATA = list(range(2000, 0, -1))


def cpu_workload() -> int:
    """About a millisecond of the interpreter's everyday work: arithmetic, a sort, a dict, a
    string join.  Fixed, so its time tracks the CPU's speed (clocks, a busy neighbour on the
    host), not the code under test."""
    acc = 0
    for i in range(6000):
        acc += (i * i) % 7
    ordered = sorted(_DATA)
    table = {k: k + 1 for k in ordered[:1500]}
    text = ",".join(str(v) for v in table.values())
    return acc + len(text)


def time_ms(work: Callable[[], object], reps: int = REPS,
            clock: Callable[[], int] = time.perf_counter_ns, warm_ns: int = WARM_NS) -> list[float]:
    """``reps`` timings of ``work`` in milliseconds, after running it untimed for ``warm_ns``: a
    core that idled drops its clock, and the first milliseconds of work measure the governor
    (on an idle H200 host one warm-up call left the loop's readings 8% apart, 22% at worst)."""
    until = clock() + warm_ns
    work()
    while clock() < until:
        work()
    out = []
    for _ in range(reps):
        t = clock()
        work()
        out.append((clock() - t) / 1e6)
    return out


def cpu_control() -> dict[str, list[float]]:
    """The CPU loop's reading (every backend's default control, ``BaseBackend.control``)."""
    return {"cpu_ms": time_ms(cpu_workload)}


def combine(*readings: Mapping[str, Sequence[float]]) -> dict[str, float]:
    """The run's control values: the median of every sample of each key (before and after)."""
    keys: dict[str, list[float]] = {}
    for r in readings:
        for key, values in r.items():
            keys.setdefault(key, []).extend(float(v) for v in values if math.isfinite(v) and v > 0)
    return {k: round(statistics.median(v), 6) for k, v in keys.items() if v}


@dataclass(frozen=True, slots=True)
class Shift:
    """How this run's control compares with the stored runs' controls, for one key."""

    key: str
    #: this run's control over the stored runs' (geometric mean): 1.04 = the machine 4% slower.
    ratio: float
    #: stored runs that carried this control.
    runs: int
    #: outside the stored controls' prediction interval (None: too few stored runs to tell).
    outside: bool | None
    #: sd of the stored controls' logs (nan below two runs): a machine whose speed drifts.
    spread: float = math.nan
    #: stored readings left out as broken (``BROKEN_FACTOR``): said, so "2 stored runs" of a
    #: store holding 3 does not read like a miscount (review32).
    dropped: int = 0

    @property
    def what(self) -> str:
        return NAMES.get(self.key, self.key)

    @property
    def words(self) -> str:
        way = "slower" if self.ratio > 1 else "faster"
        # review100 F4: "slower than in 5 stored run(s)" where one of them was slower still: the
        # change is against their (geometric) mean
        runs = "the stored run" if self.runs == 1 else f"the mean of {self.runs} stored runs"
        if self.dropped:
            runs += (f" ({self.dropped} more left out: {'its' if self.dropped == 1 else 'their'} reading lay over "
                     f"{BROKEN_FACTOR:g}x from the others' median)")
        return f"{self.what} {abs(self.ratio - 1):.1%} {way} than {'in ' if self.runs == 1 else ''}{runs}"


def machine_shift(cand: Mapping[str, float] | None,
                  stored: Sequence[Mapping[str, float] | None]) -> list[Shift]:
    """Every control key this run shares with the stored runs, and whether it moved.

    On the log scale, the stored values give a mean and a spread (at least ``MIN_LOG_SD``); this
    run's value is outside when it leaves their (1 - ``ALPHA_CONTROL``) prediction interval,
    t with r - 1 degrees of freedom, judged from ``MIN_RUNS`` stored runs on.  Stored readings
    more than ``BROKEN_FACTOR`` from their median are left out first.
    """
    if not cand:
        return []
    out = []
    for key, value in sorted(cand.items()):
        if not (isinstance(value, (int, float)) and value > 0 and math.isfinite(value)):
            continue
        logs = [math.log(float(s[key])) for s in stored
                if s and isinstance(s.get(key), (int, float)) and s[key] > 0 and math.isfinite(s[key])]
        if not logs:
            continue
        mid = statistics.median(logs)
        kept = [v for v in logs if abs(v - mid) <= math.log(BROKEN_FACTOR)] or logs
        dropped, logs = len(logs) - len(kept), kept
        mean = statistics.fmean(logs)
        d = math.log(float(value)) - mean
        outside: bool | None = None
        r = len(logs)
        spread = statistics.stdev(logs) if r >= 2 else math.nan
        if r >= MIN_RUNS:
            sd = max(spread, MIN_LOG_SD)
            half = float(st.t.ppf(1.0 - ALPHA_CONTROL / 2.0, r - 1)) * sd * math.sqrt(1.0 + 1.0 / r)
            outside = abs(d) > half
        out.append(Shift(key, math.exp(d), r, outside, spread, dropped))
    return out


def most(s: Shift) -> float:
    """The furthest from 1 the machine's factor may be, given this control's reading: its ratio
    times the half-width of the stored controls' prediction interval (``machine_shift``), the way
    it moved.  The reading is one draw of a noisy loop (a CPU loop on a shared VM read 0.90, 1.32,
    1.12 and 1.00 ms on alternate runs); below ``MIN_RUNS`` stored runs the spread is taken as
    ``DRIFTING`` with t at one degree of freedom.  ``gate.compare`` asks whether even a machine
    this far off explains a REGRESSED."""
    r = max(s.runs, 1)
    sd = max(s.spread, MIN_LOG_SD) if r >= MIN_RUNS and math.isfinite(s.spread) else DRIFTING
    half = float(st.t.ppf(1.0 - ALPHA_CONTROL / 2.0, max(r - 1, 1))) * sd * math.sqrt(1.0 + 1.0 / r)
    return s.ratio * math.exp(half if s.ratio >= 1.0 else -half)


def deciding(shifts: Sequence[Shift]) -> Shift | None:
    """The one control that may hold a verdict back: the device's own when the run has one
    (``PRECEDENCE``), else the CPU loop.  On an H200 host the CPU loop jumped 29% between readings
    while the GPU kernel stayed within 0.05%, and held back a real 2% kernel slowdown; a GPU test's
    service is GPU time."""
    for key in PRECEDENCE:
        for s in shifts:
            if s.key == key:
                return s
    return shifts[0] if shifts else None


def explains(shifts: Sequence[Shift], outcome: str) -> Shift | None:
    """The deciding control (``deciding``) when it moved outside the stored spread the way that
    could have produced ``outcome`` (a slower machine for REGRESSED, a faster one for IMPROVED);
    None otherwise."""
    if outcome not in ("REGRESSED", "IMPROVED"):
        return None
    s = deciding(shifts)
    if s is None or not s.outside or (s.ratio > 1) != (outcome == "REGRESSED"):
        return None
    return s


#: What the CPU loop's words add on a machine that busy neighbours shared during the run.
BLIND_TO_NEIGHBOURS = "a loop shorter than a scheduler slice: busy neighbours do not slow it; they are measured apart"


def summary(shifts: Sequence[Shift], busy: bool = False) -> str:
    """The controls in words for the evidence line ('' when none was comparable), and a machine
    whose speed drifts between runs (its stored controls spread by ``DRIFTING`` or more).
    ``busy``: other processes kept the CPUs busy during the run, which the CPU loop, shorter than a
    scheduler slice, times the core through (review63: "9% faster" beside a +400% p95)."""
    shown = []
    decides = deciding(shifts)
    for s in shifts:
        if s.outside or abs(s.ratio - 1) >= REPORT_MIN:
            note = ""
            if s.outside:
                note = " (outside their spread)" if s is decides else " (not the deciding control here)"
            if busy and s.key == "cpu_ms":
                note += f" ({BLIND_TO_NEIGHBOURS})"
            shown.append(s.words + note)
        if s.spread >= DRIFTING and s is decides:
            shown.append(f"this machine's speed drifts: the stored runs' {s.what} readings spread by "
                         f"{s.spread:.0%} (sd), so only a shift beyond that is seen; compare interleaved "
                         f"(gpuslo ab)")
    return "; ".join(shown)

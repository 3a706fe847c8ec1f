"""Device-to-host clock mapping and interval arithmetic (layer 2, pure: numpy only).

CUDA events give device times relative to one another; the arrival schedule lives on the host's
``perf_counter_ns``.  ``ClockMap`` fits the mapping from anchors (one before and one after a
run, and any taken during it), each bracketed by host reads; ``overlap`` computes how much copy
time was hidden behind compute from stage intervals.  Kept free of CuPy so both are tested on synthetic timestamps.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True, slots=True)
class Bracket:
    """A device event recorded and waited for between two host reads ``h0 <= h1``.

    The event's device time lies, on the host clock, inside ``[h0, h1]``; the midpoint is the
    estimate and half the width the error bound.
    """

    h0_ns: int
    h1_ns: int

    @property
    def mid_ns(self) -> float:
        return (self.h0_ns + self.h1_ns) / 2.0

    @property
    def half_width_ns(self) -> float:
        return (self.h1_ns - self.h0_ns) / 2.0


@dataclass(frozen=True, slots=True)
class ClockMap:
    """host_ns of a device time, by linear interpolation between bracketed anchors.

    Device times are given as ns elapsed since the first anchor.  With two anchors (one before and
    one after the run) this is an offset plus a drift ``scale``; with anchors taken during the run
    as well (the dispatcher takes one whenever it has slack, ``backends/cuda.py``) it is piecewise
    linear, so a drift that changes during the run (the host clock slewed by NTP, the GPU timer
    re-synchronised by the driver) is followed instead of averaged.  ``error_ns`` bounds the error
    at any point between anchors: the largest bracket half-width (interpolation keeps it there).
    ``bend_ns`` is how far the middle anchors lie from the straight line through the first and the
    last: what a two-anchor map would have got wrong.
    """

    start: Bracket
    scale: float = 1.0
    error_ns: float = 0.0
    knots_elapsed: tuple[float, ...] = ()
    knots_host: tuple[float, ...] = ()
    bend_ns: float = 0.0

    @classmethod
    def fit(cls, start: Bracket, end: Bracket | None = None, elapsed_ns: float | None = None) -> "ClockMap":
        """Fit from the start anchor and, optionally, an end anchor ``elapsed_ns`` device-ns later."""
        if end is None or elapsed_ns is None or elapsed_ns <= 0:
            return cls(start, 1.0, start.half_width_ns)
        return cls.fit_many(start, [(float(elapsed_ns), end)])

    @classmethod
    def fit_many(cls, start: Bracket, later: "Sequence[tuple[float, Bracket]]") -> "ClockMap":
        """Fit from the start anchor and later anchors given as ``(elapsed_ns, bracket)``.

        Anchors out of order, or implying a drift beyond 0.1% against their neighbours (not a
        clock drift but a broken measurement: a bracket that caught a descheduled thread), are
        dropped.
        """
        xs, ys, half = [0.0], [start.mid_ns], [start.half_width_ns]
        for e, b in sorted(later, key=lambda t: t[0]):
            if e <= xs[-1]:
                continue
            slope = (b.mid_ns - ys[-1]) / (e - xs[-1])
            if not 0.999 < slope < 1.001:
                continue
            xs.append(float(e))
            ys.append(b.mid_ns)
            half.append(b.half_width_ns)
        if len(xs) == 1:
            return cls(start, 1.0, start.half_width_ns)
        scale = (ys[-1] - ys[0]) / (xs[-1] - xs[0])
        line = ys[0] + (np.asarray(xs) - xs[0]) * scale
        bend = float(np.abs(np.asarray(ys) - line).max())
        return cls(start, scale, max(half), tuple(xs), tuple(ys), bend)

    @property
    def drift_ppm(self) -> float:
        """The mean drift between the first and the last anchor."""
        return (self.scale - 1.0) * 1e6

    @property
    def anchors(self) -> int:
        return max(1, len(self.knots_elapsed))

    def to_host(self, elapsed_ns: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """Host ``perf_counter_ns`` of device times given as ns elapsed since the start anchor."""
        e = np.asarray(elapsed_ns, dtype=np.float64)
        if len(self.knots_elapsed) < 3:
            return np.rint(self.start.mid_ns + e * self.scale).astype(np.int64)
        xs, ys = np.asarray(self.knots_elapsed), np.asarray(self.knots_host)
        inside = np.interp(e, xs, ys)
        # Beyond the outer anchors: extend the outer segments (np.interp would clamp).
        lo = ys[0] + (e - xs[0]) * (ys[1] - ys[0]) / (xs[1] - xs[0])
        hi = ys[-1] + (e - xs[-1]) * (ys[-1] - ys[-2]) / (xs[-1] - xs[-2])
        out = np.where(e < xs[0], lo, np.where(e > xs[-1], hi, inside))
        return np.rint(out).astype(np.int64)


def union(intervals: Sequence[tuple[float, float]] | npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Merge intervals into a sorted list of disjoint ``[start, end)`` rows."""
    iv = np.asarray(intervals, dtype=np.float64).reshape(-1, 2)
    iv = iv[iv[:, 1] > iv[:, 0]]
    if iv.size == 0:
        return np.empty((0, 2))
    iv = iv[np.argsort(iv[:, 0], kind="stable")]
    out = [list(iv[0])]
    for a, b in iv[1:]:
        if a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return np.asarray(out)


def length(u: npt.NDArray[np.float64]) -> float:
    """Total length of a union."""
    return float((u[:, 1] - u[:, 0]).sum()) if u.size else 0.0


def intersection(u: npt.NDArray[np.float64], v: npt.NDArray[np.float64]) -> float:
    """Total overlap of two unions (each sorted and disjoint)."""
    i = j = 0
    total = 0.0
    while i < len(u) and j < len(v):
        lo, hi = max(u[i, 0], v[j, 0]), min(u[i, 1], v[j, 1])
        total += max(0.0, hi - lo)
        if u[i, 1] < v[j, 1]:
            i += 1
        else:
            j += 1
    return total


@dataclass(frozen=True, slots=True)
class Overlap:
    """How much of the copy time ran while compute was running."""

    copy_ms: float
    compute_ms: float
    overlapped_ms: float
    h2d_ms: float
    d2h_ms: float
    span_ms: float

    @property
    def percent(self) -> float:
        """Share of copy time hidden behind compute (100 = fully hidden); NaN without copies."""
        return 100.0 * self.overlapped_ms / self.copy_ms if self.copy_ms > 0 else float("nan")

    @property
    def busy_percent(self) -> float:
        """Share of the span in which copies or compute ran."""
        return 100.0 * (self.copy_ms + self.compute_ms - self.overlapped_ms) / self.span_ms if self.span_ms else float("nan")


def overlap(h2d: npt.ArrayLike, compute: npt.ArrayLike, d2h: npt.ArrayLike) -> Overlap:
    """Overlap of copies with compute from ``(n, 2)`` arrays of stage intervals in ns.

    Rows with a negative start (stage not entered) are ignored.
    """
    def rows(a: npt.ArrayLike) -> npt.NDArray[np.float64]:
        arr = np.asarray(a, dtype=np.float64).reshape(-1, 2)
        return arr[(arr[:, 0] >= 0) & (arr[:, 1] >= 0)]

    h, c, d = rows(h2d), rows(compute), rows(d2h)
    copy_u = union(np.vstack([h, d]))
    comp_u = union(c)
    allrows = np.vstack([h, c, d])
    span = float(allrows[:, 1].max() - allrows[:, 0].min()) if allrows.size else 0.0
    return Overlap(length(copy_u) / 1e6, length(comp_u) / 1e6, intersection(copy_u, comp_u) / 1e6,
                   length(union(h)) / 1e6, length(union(d)) / 1e6, span / 1e6)


#: Lag above which the dispatcher cannot have waited for a request's deadline: it went straight on
#: from the previous body (an on-time dispatch lands within a microsecond or two of its deadline).
BACK_TO_BACK_NS = 20_000


def launcher_hold(scheduled_ns: npt.NDArray[np.int64], dispatch_ns: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """How long the dispatcher was kept by each request sent while the next was already overdue:
    the time from its dispatch to the next one's.  On a backend that runs bodies on the
    dispatcher's own thread (CUDA: the body enqueues its GPU work there) that is the body's own
    host time plus the harness's few microseconds: the figure that says whether the bodies, not
    the machine, made the generator fall behind.  Requests followed by an on-time one are left out
    (their gap includes waiting for the deadline)."""
    d = np.asarray(dispatch_ns, np.int64)
    s = np.asarray(scheduled_ns, np.int64)
    if d.size < 2:
        return np.zeros(0, np.int64)
    nxt = d[1:]
    back_to_back = (d[:-1] >= 0) & (nxt >= 0) & (nxt - s[1:] > BACK_TO_BACK_NS)
    return (nxt - d[:-1])[back_to_back]


def body_host_ns(dispatch_ns: npt.NDArray[np.int64], returned_ns: npt.NDArray[np.int64],
                 harness_ns: int = 0) -> npt.NDArray[np.int64]:
    """Each body's own host time on the launching thread (ns): from its dispatch to its return,
    less ``harness_ns``, the harness's own part of that (``Backend.submit_ns``).  A body that never
    returned (a hang given up on) held the thread to the end: -1 there, read as unbounded."""
    d = np.asarray(dispatch_ns, np.int64)
    r = np.asarray(returned_ns, np.int64)
    return np.where((d >= 0) & (r >= d), np.clip(r - d - int(harness_ns), 0, None), -1)


def own_dispatch(scheduled_ns: npt.NDArray[np.int64], dispatch_ns: npt.NDArray[np.int64],
                 host_ns: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """When a launcher that lost no time but each body's own host time (``host_ns``, per request)
    would have sent each request: D_i = max(t_i, D_prev + h_prev) over the requests sent, in
    order (Lindley on the launching thread: the queue the bodies' own host time builds there).  A
    request never sent keeps its scheduled arrival; a body that never returned holds the thread
    to the end."""
    t = np.asarray(scheduled_ns, np.int64)
    sent = np.flatnonzero(np.asarray(dispatch_ns, np.int64) >= 0)
    out = t.copy()
    if sent.size:
        h = np.asarray(host_ns, np.int64)[sent]
        h = np.where(h < 0, np.iinfo(np.int64).max // 4, h)
        c = np.concatenate(([0], np.cumsum(h[:-1])))
        out[sent] = c + np.maximum.accumulate(t[sent] - c)
    return out


def stall_delay(scheduled_ns: npt.NDArray[np.int64], dispatch_ns: npt.NDArray[np.int64],
                start_ns: npt.NDArray[np.int64], end_ns: npt.NDArray[np.int64],
                lane: npt.NDArray[np.integer], returned_ns: npt.NDArray[np.int64] | None, *,
                harness_ns: int = 0, shared: bool | None = None) -> npt.NDArray[np.int64]:
    """On a backend that runs bodies on the launching thread: how much later each request
    completed than under a launcher that lost no time but the bodies' own measured host time
    (``body_host_ns``, ``own_dispatch``): the lateness that is not the code's (the thread stalled
    between bodies, the harness).  ``start_delay`` measured from that launcher's dispatch instead
    of the schedule.  Bodies whose host time cannot keep up with the offered rate are the code's
    cost (a server's launching thread pays it too): holding their budget FAIL back as the
    generator's let a p95 of 1755 ms against 40 ms pass (the session-10 second check).  Without
    the return times every lateness counts as the generator's (``start_delay``)."""
    if returned_ns is None:
        return start_delay(scheduled_ns, dispatch_ns, start_ns, end_ns, lane, shared=shared)
    own = own_dispatch(scheduled_ns, dispatch_ns, body_host_ns(dispatch_ns, returned_ns, harness_ns))
    return start_delay(own, dispatch_ns, start_ns, end_ns, lane, shared=shared)


def spread_over(begin_ns: npt.NDArray[np.int64], end_ns: npt.NDArray[np.int64], amount_ns: npt.NDArray[np.int64],
                a_ns: npt.NDArray[np.int64], b_ns: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    """For each window [a, b): the ``amount`` of every interval [begin, end) that overlaps it, each
    spread evenly over its own interval (a body's wait for a CPU, known only as its total).
    Intervals with a negative stamp or amount count nothing."""
    ok = (begin_ns >= 0) & (end_ns > begin_ns) & (amount_ns > 0)
    b0, e0 = begin_ns[ok].astype(np.float64), end_ns[ok].astype(np.float64)
    rate = amount_ns[ok].astype(np.float64) / (e0 - b0)
    at = np.concatenate([b0, e0])
    order = np.argsort(at, kind="stable")
    at, slope = at[order], np.concatenate([rate, -rate])[order]
    after = np.cumsum(slope)  # the total rate from each event on
    total = np.concatenate(([0.0], np.cumsum(after[:-1] * np.diff(at)))) if at.size else at

    def integral(t: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        if not at.size:
            return np.zeros(t.size)
        k = np.searchsorted(at, t, side="right") - 1
        inside = k >= 0
        kk = np.clip(k, 0, None)
        return np.where(inside, total[kk] + after[kk] * (t - at[kk]), 0.0)

    return integral(np.asarray(b_ns, np.float64)) - integral(np.asarray(a_ns, np.float64))


#: The CPU dispatcher's own precision, counted as the generator's with its waits for a CPU: a
#: sleep's wake-up and the GIL handed back after it (lag p99 116 us beside sleeping bodies on a
#: quiet 2-core VM, docs/validation.md "CPU dispatch"), so that a tight budget's verdict still
#: says when the harness's own lateness is a sizeable share of it.
DISPATCH_PRECISION_NS = 200_000


#: A thread waiting for the GIL wakes every switch interval to ask for it again (CPython's timed
#: wait), and each wake-up is a time on a CPU that schedstat counts; a frozen process (a SIGSTOP,
#: a paused VM, hypervisor steal) neither runs, nor waits for a CPU, nor wakes.  A span the
#: dispatcher spent off a CPU beyond what it planned to sleep, less this much per wake-up (4x the
#: 0.5-ms interval it runs under: 19 wake-ups in 10 ms of a ``PyDLL`` usleep holding the GIL on a
#: 2-core VM) and ``FROZEN_SLACK_NS``, is counted as frozen: the machine's, not the bodies'.
FROZEN_WAKE_NS = 2_000_000
#: ... and this much of any span is never counted frozen (a timer's or a lock's own latency).
FROZEN_SLACK_NS = 5_000_000


def frozen_ns(span_ns: int, planned_ns: int, ran_ns: int, waited_ns: int, wakes: int,
              wake_ns: int = FROZEN_WAKE_NS) -> int:
    """Of a span between two readings of the dispatcher's schedstat, the part it was frozen (ns):
    neither on a CPU (``ran_ns``), nor runnable (``waited_ns``), nor asleep as planned (a deadline
    ``planned_ns`` ahead), nor waking up to ask for the GIL (``wakes``, each credited ``wake_ns``).
    Process CPU time cannot tell a freeze from a body holding the GIL in a blocking call (review149:
    a ``PyDLL`` usleep); the waiter's wake-ups can."""
    if min(ran_ns, waited_ns, wakes) < 0:
        return 0
    off = span_ns - ran_ns - waited_ns - max(planned_ns, 0) - wakes * wake_ns - FROZEN_SLACK_NS
    return max(int(off), 0)


def frozen_since(scheduled_ns: npt.NDArray[np.int64], dispatch_ns: npt.NDArray[np.int64],
                 spans_ns: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """How long the dispatcher was frozen between each request's deadline and its dispatch (ns):
    the frozen spans (``RunData.dispatch_frozen_ns``, each ending at its dispatch) that ended
    after the deadline, up to this dispatch (the first may have begun before it: capped by the
    lateness where it is used)."""
    t, d = np.asarray(scheduled_ns, np.int64), np.asarray(dispatch_ns, np.int64)
    f = np.clip(np.asarray(spans_ns, np.int64), 0, None)
    out = np.zeros(t.size, np.int64)
    sent = np.flatnonzero(d >= 0)  # dispatched in index order, so their times are sorted
    if not sent.size or not f[sent].any():
        return out
    cum = np.cumsum(f[sent])
    first = np.searchsorted(d[sent], t[sent], side="right")  # the first span ending after the deadline
    before = np.where(first > 0, cum[np.clip(first - 1, 0, None)], 0)
    out[sent] = np.clip(cum - before, 0, None)
    return out


def frozen_service(start_ns: npt.NDArray[np.int64], end_ns: npt.NDArray[np.int64],
                   dispatch_ns: npt.NDArray[np.int64], spans_ns: npt.NDArray[np.int64],
                   cpu_ns: npt.NDArray[np.int64] | None = None,
                   runq_ns: npt.NDArray[np.int64] | None = None) -> npt.NDArray[np.int64]:
    """Of each body's service (ns), the part the process was frozen: its overlap with the spans
    the dispatcher was found stopped in (each ending at the dispatch whose reading found it: a
    freeze stops every thread), no more than the body spent neither on a CPU nor waiting for one
    where that is known (``cpu_ns``, ``runq_ns``).  A freeze that lands inside a body lengthened
    its service: the machine's, and so is the queue it held up (``start_delay``'s ``excused_ns``)."""
    s, e = np.asarray(start_ns, np.int64), np.asarray(end_ns, np.int64)
    out = np.zeros(s.size, np.int64)
    f, d = np.asarray(spans_ns, np.int64), np.asarray(dispatch_ns, np.int64)
    hit = np.flatnonzero((f > 0) & (d >= 0))
    ran = (s >= 0) & (e > s)
    if not hit.size or not ran.any():
        return out
    # The frozen windows [dispatch - span, dispatch] lie each inside its own span between two
    # readings, so they are disjoint and in order: a body's overlap is the frozen time before its
    # end less that before its start (one search a body, however many windows).
    lo, hi = (d[hit] - f[hit]).astype(np.float64), d[hit].astype(np.float64)
    before = np.concatenate(([0.0], np.cumsum(hi - lo)))

    def covered(x: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        k = np.searchsorted(lo, x, side="right") - 1
        kk = np.clip(k, 0, None)
        return np.where(k >= 0, before[kk] + np.clip(x - lo[kk], 0.0, hi[kk] - lo[kk]), 0.0)

    out = np.where(ran, np.round(covered(e) - covered(s)), 0).astype(np.int64)
    if cpu_ns is not None and runq_ns is not None:
        c, q = np.asarray(cpu_ns, np.int64), np.asarray(runq_ns, np.int64)
        known = (c >= 0) & (q >= 0)
        off = np.clip(e - s - c - q, 0, None)
        out = np.where(known, np.minimum(out, off), out)
    return out


#: Other processes using fewer CPUs than this, in the load window around a dispatch, leave the
#: machine quiet: a wait for a CPU then is this process's own threads' (an idle 2-core VM reads
#: 0.00-0.03).
OTHERS_QUIET_CPUS = 0.1


def quiet_at(at_ns: npt.NDArray[np.int64],
             windows: Sequence[tuple[int, int, float]] | None) -> npt.NDArray[np.bool_] | None:
    """For each time: inside a load window in which other processes used under
    ``OTHERS_QUIET_CPUS``; None where no windows were measured (not quiet anywhere then)."""
    if not windows:
        return None
    w = np.asarray(windows, dtype=np.float64).reshape(-1, 3)
    t = np.asarray(at_ns, np.float64)
    k = np.searchsorted(w[:, 0], t, side="right") - 1
    kk = np.clip(k, 0, None)
    return (k >= 0) & (t < w[kk, 1]) & (w[kk, 2] < OTHERS_QUIET_CPUS)


def load_over(windows: Sequence[tuple[int, int, float]] | None, start_ns: int, end_ns: int,
              least_covered: float = 0.9) -> float | None:
    """The CPUs other processes used on average over [start, end] from the load windows that
    overlap it (``quiet_at``'s), or None where they cover under ``least_covered`` of it."""
    if not windows or end_ns <= start_ns:
        return None
    w = np.asarray(windows, dtype=np.float64).reshape(-1, 3)
    overlap = np.clip(np.minimum(w[:, 1], end_ns) - np.maximum(w[:, 0], start_ns), 0.0, None)
    covered = float(overlap.sum())
    if covered < least_covered * (end_ns - start_ns):
        return None
    return float((overlap * w[:, 2]).sum()) / covered


def machine_late(scheduled_ns: npt.NDArray[np.int64], dispatch_ns: npt.NDArray[np.int64],
                 dispatch_runq_ns: npt.NDArray[np.int64], start_ns: npt.NDArray[np.int64] | None = None,
                 end_ns: npt.NDArray[np.int64] | None = None,
                 body_runq_ns: npt.NDArray[np.int64] | None = None,
                 precision_ns: int = DISPATCH_PRECISION_NS,
                 quiet: npt.NDArray[np.bool_] | None = None,
                 frozen: npt.NDArray[np.int64] | None = None) -> npt.NDArray[np.int64]:
    """Of each request's lateness (dispatch - scheduled), the part that is not the code's (ns):
    the dispatcher's own wait for a CPU meanwhile, plus the lanes' (a lane preempted while it held
    the GIL keeps the dispatcher waiting for it), plus the dispatcher's own precision, at most the
    lateness; all of it where not known (-1).  The rest the dispatcher spent waiting for the GIL
    the bodies held: the code's, as a server's accept loop would wait for it (review57: an 8-ms
    call holding the GIL every 100th request made its candidate 27 ms late, read "rerun on a
    quiet machine").  ``quiet``: requests dispatched while other processes kept the machine
    quiet; there a wait for a CPU is the code's own threads' too (the GIL handed back wakes its
    waiter behind the holder on its CPU: 2-3 ms of a 5-ms hold on an idle 2-core VM, review58).
    ``frozen``: how long the dispatcher was stopped meanwhile (``frozen_ns``), the machine's
    on a quiet machine too (review148 F1: a 2-s SIGSTOP read as the code's)."""
    lag = np.clip(np.asarray(dispatch_ns, np.int64) - np.asarray(scheduled_ns, np.int64), 0, None)
    own = np.asarray(dispatch_runq_ns, np.int64)
    if quiet is not None:
        own = np.where(quiet & (own >= 0), 0, own)
    cpu = np.where(own >= 0, own + precision_ns, lag).astype(np.float64)
    if frozen is not None:
        cpu += np.clip(np.asarray(frozen, np.int64), 0, None)
    if start_ns is not None and end_ns is not None and body_runq_ns is not None:
        late = (own >= 0) & (lag > 0)
        if quiet is not None:
            late &= ~quiet
        if late.any():
            lanes = spread_over(np.asarray(start_ns, np.int64), np.asarray(end_ns, np.int64),
                                np.asarray(body_runq_ns, np.int64), np.asarray(scheduled_ns, np.int64)[late],
                                np.asarray(dispatch_ns, np.int64)[late])
            cpu[late] += lanes
    return np.minimum(lag, np.round(cpu).astype(np.int64))


def fifo_starts(start_ns: npt.NDArray[np.int64], end_ns: npt.NDArray[np.int64],
                dispatch_ns: npt.NDArray[np.int64], lanes: int) -> npt.NDArray[np.int64]:
    """When each request really started on its lane (request i on lane i mod lanes, FIFO).

    ``start_ns`` is the host time of each request's start event: on a stream that was idle when
    the event was recorded it fires at once, just before the request's work; on a busy stream it
    fires a few microseconds after the previous request's end event (the front end moving on).
    Counting those microseconds as nobody's service made the measured service times fall short of
    what a FIFO server charges, and the shortfall added up along busy periods (the Lindley check
    on an H200 missed by 15-20 us at p99).  So a request whose lane had not finished the previous
    request when it was dispatched starts at that previous end; otherwise at its own start event.
    ``-1`` marks a request that never ran (its start stays ``-1``).
    """
    out = np.array(start_ns, dtype=np.int64, copy=True)
    last = np.full(lanes, -1, dtype=np.int64)
    for i in range(out.size):
        lane = i % lanes
        prev = last[lane]
        if end_ns[i] < 0:
            continue
        if prev >= 0 and prev > dispatch_ns[i]:
            out[i] = prev
        last[lane] = end_ns[i]
    return out


#: A lane whose replay at the measured dispatch misses a measured end by more than this (ns) was not
#: a FIFO server (a batcher runs several requests at once): there only a request's own lag counts.
REPLAY_TOL_NS = 1_000


def start_delay(scheduled_ns: npt.NDArray[np.int64], dispatch_ns: npt.NDArray[np.int64],
                start_ns: npt.NDArray[np.int64], end_ns: npt.NDArray[np.int64],
                lane: npt.NDArray[np.integer], *, shared: bool | None = None,
                excused_ns: npt.NDArray[np.int64] | None = None) -> npt.NDArray[np.int64]:
    """How much later each request completed than it would have under a punctual generator: its
    end minus its end in a replay of its lane (FIFO, the measured service times and hand-off gaps)
    with every request dispatched at its scheduled arrival.

    A request dispatched late onto a lane still busy with requests that started on time would have
    waited anyway: 0, its latency charged from the schedule is what a punctual generator gives.
    One dispatched late onto a free lane: the lag that found the lane free,
    max(0, dispatch - max(scheduled, previous end)).  And the requests queued behind it carry the
    knock-on (a generator stall of 30 ms sends the overdue requests in a burst; they wait for each
    other only because the first one started late): the plain "free lane" rule charged that queue
    to the code, so a stall could turn a run red.  A request that never started or ended, or whose
    lane is unknown, keeps its whole lag; a lane that is not FIFO (``REPLAY_TOL_NS``) falls back to
    the free-lane rule.

    Lanes that share one queue (the CPU backend's threads: the first free lane takes the oldest
    request) are replayed as that queue (``_shared_queue_delay``): in a punctual run the requests
    of a stall's burst would have gone to whichever lane was free, not to the lanes the burst gave
    them, and replaying each on its own lane charged part of the knock-on to the code (on the
    validity grid's 4-server queues, 20% false REGRESSED under stalls as long as the p95).  Lanes
    that take requests in turn (request i on lane i mod lanes: CUDA streams) are replayed each
    on its own.  ``shared``: which of the two; None: taken from the lanes the requests ran on.
    ``excused_ns``: the part of each service that was not the code's (a frozen process,
    ``frozen_service``), left out of the punctual replay only: the body that held it and the queue
    behind it are delayed by it.
    """
    t = np.asarray(scheduled_ns, np.int64)
    d = np.asarray(dispatch_ns, np.int64)
    lag = np.maximum(d - t, 0)
    out = lag.copy()
    s, e, ln = np.asarray(start_ns, np.int64), np.asarray(end_ns, np.int64), np.asarray(lane)
    ran = (s >= 0) & (e >= s) & (ln >= 0)
    if ran.any():
        lanes = int(ln[ran].max()) + 1
        if shared if shared is not None else lanes > 1 and np.any(ln[ran] != np.flatnonzero(ran) % lanes):
            out[ran] = _shared_queue_delay(t[ran], d[ran], s[ran], e[ran], ln[ran], lanes,
                                           None if excused_ns is None else np.asarray(excused_ns, np.int64)[ran])
            return _within_wait(out, ran, t, s, excused_ns)
    for k in np.unique(ln[ran]):
        idx = np.flatnonzero(ran & (ln == k))
        idx = idx[np.argsort(s[idx], kind="stable")]
        ls, le, ld, lt = s[idx], e[idx], d[idx], t[idx]
        prev_end = np.concatenate(([np.iinfo(np.int64).min], le[:-1]))
        free_rule = np.clip(ld - np.maximum(lt, prev_end), 0, None)
        if excused_ns is not None:  # a frozen body's own delay, and the lane it kept busy (review152 F3)
            x = np.clip(np.asarray(excused_ns, np.int64)[idx], 0, None)
            unfrozen_end = np.concatenate(([np.iinfo(np.int64).min], (le - x)[:-1]))
            free_rule = np.clip(ld - np.maximum(lt, unfrozen_end), 0, None) + x
        # c_i = max(d_i, c_prev) + gap_i + s_i, solved as in replay.completions (integers: exact).
        gap = np.clip(ls - np.maximum(ld, prev_end), 0, None)
        w = gap + (le - ls)
        cum = np.cumsum(w)
        if np.any(np.abs(cum + np.maximum.accumulate(ld - (cum - w)) - le) > REPLAY_TOL_NS):
            out[idx] = free_rule
            continue
        if excused_ns is not None:  # an unfrozen machine's services
            w = np.clip(w - np.clip(np.asarray(excused_ns, np.int64)[idx], 0, None), 0, None)
            cum = np.cumsum(w)
        punctual = cum + np.maximum.accumulate(lt - (cum - w))
        out[idx] = np.clip(le - punctual, 0, None)
    return _within_wait(out, ran, t, s, excused_ns)


def _within_wait(delay: npt.NDArray[np.int64], ran: npt.NDArray[np.bool_], t: npt.NDArray[np.int64],
                 s: npt.NDArray[np.int64], excused_ns: npt.NDArray[np.int64] | None) -> npt.NDArray[np.int64]:
    """``delay`` no longer than each request's wait from its scheduled arrival to its start (and the
    frozen part of its service, ``excused_ns``): a punctual generator cannot have ended a request
    before its own service, however the replayed queue differs from the measured one.  review163
    F3: a shared queue's replay, off by a thread's wake-up order, gave one request of 4,000 a delay
    0.6 ms longer than its latency; its latency from the dispatch read negative, and the A/B's
    reading without lateness turned INCONCLUSIVE ("non-positive latencies") under a +86% change."""
    cap = np.clip(s - t, 0, None)
    if excused_ns is not None:
        cap = cap + np.clip(np.asarray(excused_ns, np.int64), 0, None)
    delay[ran] = np.minimum(delay[ran], cap[ran])
    return delay


def _shared_queue_delay(t: npt.NDArray[np.int64], d: npt.NDArray[np.int64], s: npt.NDArray[np.int64],
                        e: npt.NDArray[np.int64], ln: npt.NDArray[np.integer], lanes: int,
                        excused: npt.NDArray[np.int64] | None = None) -> npt.NDArray[np.int64]:
    """``start_delay`` for lanes serving one FIFO queue, in schedule order: the queue replayed
    (Kiefer-Wolfowitz: each request to the lane that frees first, after its measured hand-off gap,
    for its measured service) once with the measured dispatch times and once with the scheduled
    ones; a request's delay is the difference.  Both replays share the model's errors (a thread's
    wake-up order), so their difference is the lateness's effect alone.  ``excused``: service
    left out of the punctual replay (``start_delay``)."""
    gap = np.empty_like(s)
    for k in np.unique(ln):
        idx = np.flatnonzero(ln == k)
        idx = idx[np.argsort(s[idx], kind="stable")]
        prev = np.concatenate(([np.iinfo(np.int64).min], e[idx][:-1]))
        gap[idx] = np.clip(s[idx] - np.maximum(d[idx], prev), 0, None)
    work = (gap + (e - s)).tolist()

    def replay(arrive: list[int]) -> list[int]:
        free = [0] * lanes
        done = []
        for a, w in zip(arrive, work):
            c = max(a, free[0]) + w
            heapq.heapreplace(free, c)
            done.append(c)
        return done

    late = replay(d.tolist())
    if excused is not None:
        work = np.clip(np.asarray(work, np.int64) - np.clip(excused, 0, None), 0, None).tolist()
    punctual = replay(t.tolist())
    return np.clip(np.asarray(late, np.int64) - np.asarray(punctual, np.int64), 0, None)

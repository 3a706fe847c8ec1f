"""Every decision rule, and the one decision function ``decide`` (layer 2, pure).

The marker, ``slo_run`` results and the command line all call ``decide``; nothing else turns
numbers into PASS, FAIL or INCONCLUSIVE.  An INCONCLUSIVE always carries its reason.  The rules
around it live here too, so each is tested without pytest: what a stored baseline contributes
(``baseline_input`` and ``compare``: every stored run, and how many sessions they span), the alpha of each
sequential look (``look_plan``), whether a run may become a baseline (``save_refusal``) and the
suite-wide Holm adjustment (``suite_holm``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from pytest_gpuslo import control, stats
from pytest_gpuslo.errors import error_line
from pytest_gpuslo.spec import SloSpec, percentile_label, replays_trace

PASS, FAIL, INCONCLUSIVE = "PASS", "FAIL", "INCONCLUSIVE"

#: Schedule lag p99 above this fraction of the tightest budget means the load generator could not
#: keep up (load-and-batching.md §4.4), and the run says nothing reliable about the workload.
MAX_LAG_FRACTION = 0.05
#: Lag allowance for a test with no latency budget (perf_analyzer treats <= 1 ms as on time).
MAX_LAG_NO_BUDGET_MS = 1.0


@dataclass(frozen=True, slots=True)
class Policy:
    """Run policy: set by ini or command line, never by a marker (a test may not loosen the gate)."""

    #: one-sided error rate per claim.
    alpha: float = 0.01
    max_lag_fraction: float = MAX_LAG_FRACTION
    #: "warn" or "fail": what an INCONCLUSIVE verdict does to the test.
    inconclusive: str = "warn"
    #: decide even when the GPU was throttled or shared during the run.
    allow_disturbances: bool = False
    #: significance of the first-half/second-half drift test (statistics.md §2.1).
    stationarity_alpha: float = 0.001

    def noise_floor(self, p: float) -> tuple[float, float]:
        """(delta, Delta) for percentile p: the change REGRESSED must exceed, and the largest
        regression an OK may hide (statistics.md §2.2: 2%/5% for p95, 3%/10% from p99 up)."""
        return (0.03, 0.10) if p >= 0.99 else (0.02, 0.05)


@dataclass(frozen=True, slots=True)
class BaselineInput:
    """A stored baseline as the gate needs it: every stored run, oldest first."""

    runs: tuple[npt.NDArray[np.float64], ...]
    #: identical arrival schedule (same fingerprint and length): compare request by request.
    paired: bool
    #: how many sessions (boots, days) the stored runs come from: a machine shift between sessions
    #: shows in their spread only when there are several.
    sessions: int = 1
    #: the session of each stored run (same order as ``runs``; empty: one session each, unknown).
    session_of: tuple[str, ...] = ()
    #: fingerprint keys that differ from this machine; non-empty means "not comparable".
    differing: tuple[str, ...] = ()
    where: str = ""
    date: str = ""
    commit: str | None = None
    #: each stored run's machine control (``control.combine``; None where a run has none).
    controls: tuple[Mapping[str, float] | None, ...] = ()
    #: each stored run's replay scale per percentile label (``replay.scale``; None where a run has none).
    scales: tuple[Mapping[str, float] | None, ...] = ()
    #: each stored run's latency as a punctual generator would have left it (``from_dispatch``;
    #: empty: not known, the runs as stored), for the check of a late candidate's REGRESSED.
    dispatched: tuple[npt.NDArray[np.float64], ...] = ()
    #: each stored run's median launcher hold in ms (``Measurements.launcher_hold_ms``; None: none).
    holds: tuple[float | None, ...] = ()
    #: each stored run's launcher wait for a CPU (``Measurements.launcher_wait``; None: not known).
    waits: tuple[float | None, ...] = ()
    #: every stored run measured its bodies' host time (``Measurements.body_host_ms``): false for
    #: runs stored before session 11, whose start delay counts the bodies' own queue too.
    hosts_measured: bool = True
    #: each stored run's bodies' mean host time in ms (``Measurements.body_host_ms``; None: none).
    body_hosts: tuple[float | None, ...] = ()
    #: each stored run's replayed statistic per percentile label (``Measurements.shuffled``; None: none).
    shuffled: tuple[Mapping[str, float] | None, ...] = ()
    #: why each stored run keeps none (``Measurements.shuffled_off``; '' where not known).
    shuffled_off: tuple[str, ...] = ()
    #: each stored run's mean own time in ms (``Measurements.own_mean_ms``; None: not known).
    owns: tuple[float | None, ...] = ()
    #: the part of every stored request's delay that is the dispatcher's own precision (Python-thread
    #: lanes: ``timeline.DISPATCH_PRECISION_NS``), not a late generator to rerecord for (review69).
    late_floor_ms: float = 0.0
    #: load-shaping marker fields that differ from this run (``spec.load_changes``): non-empty
    #: means "not comparable", another load, not another schedule of the same one.
    changed: tuple[str, ...] = ()
    #: how many requests of each stored run raised (None or empty: not known): the rest of its
    #: stand-ins never completed, which the words say ("base timed out", review107 F6).
    raised_counts: tuple[int | None, ...] = ()

    @property
    def latency_ms(self) -> npt.NDArray[np.float64]:
        """The latest stored run (what the HTML report draws beside the candidate)."""
        return self.runs[-1]


@dataclass(frozen=True, slots=True)
class ABInput:
    """Same-machine A/B: the base revision's runs and the candidate's, interleaved on one machine
    over one schedule (``gpuslo ab``); the candidate's latest run is the one ``decide`` is given."""

    base_runs: tuple[npt.NDArray[np.float64], ...]
    cand_runs: tuple[npt.NDArray[np.float64], ...]
    #: what the base is, for messages ("base 1a2b3c4").
    label: str = "base"
    #: what made the two sides' loads differ (a marker changed between them): not comparable.
    differing: tuple[str, ...] = ()
    #: why the generator fell behind in a candidate run (``generator_behind``; "" if it never did).
    late: str = ""
    #: the candidate runs' latencies counted from the dispatch (``from_dispatch``), where ``late``.
    cand_from_dispatch: tuple[npt.NDArray[np.float64], ...] = ()
    #: the base runs' too: a late candidate is compared without lateness on both sides.
    base_from_dispatch: tuple[npt.NDArray[np.float64], ...] = ()
    #: each side's runs' median launcher hold in ms (None: none recorded).
    base_holds: tuple[float | None, ...] = ()
    cand_holds: tuple[float | None, ...] = ()
    #: each side's runs' launcher wait for a CPU (``Measurements.launcher_wait``; None: not known).
    base_waits: tuple[float | None, ...] = ()
    cand_waits: tuple[float | None, ...] = ()
    #: each side's runs' bodies' mean host time in ms (``Measurements.body_host_ms``; None: none).
    base_hosts: tuple[float | None, ...] = ()
    cand_hosts: tuple[float | None, ...] = ()
    #: each side's runs' replayed statistic per percentile label (``Measurements.shuffled``; None: none).
    base_shuffled: tuple[Mapping[str, float] | None, ...] = ()
    cand_shuffled: tuple[Mapping[str, float] | None, ...] = ()
    #: why each side's runs keep none (``Measurements.shuffled_off``; '' where not known).
    base_shuffled_off: tuple[str, ...] = ()
    cand_shuffled_off: tuple[str, ...] = ()
    #: the candidate's earlier runs' budget verdicts, oldest first, each decided on its own samples
    #: (``budget_outcomes``, ``ab_other_runs``).
    cand_budgets: tuple[Mapping[str, "RunBudget"], ...] = ()
    #: as ``BaselineInput.late_floor_ms``: the dispatcher's own precision in every delay.
    late_floor_ms: float = 0.0
    #: as ``BaselineInput.raised_counts``, of the base runs and of the candidate runs.
    base_raised_counts: tuple[int | None, ...] = ()
    cand_raised_counts: tuple[int | None, ...] = ()
    #: each candidate run's hung bodies (``Measurements.hung``), oldest first: a hang in an earlier
    #: run is the code's as surely as one in the latest (review113 F3).
    cand_hung: tuple[int, ...] = ()
    #: each side's runs' ``Stall`` (None where the generator kept up), oldest first: an undecided
    #: claim names them (review122 F7).
    base_behind: tuple["Stall | None", ...] = ()
    cand_behind: tuple["Stall | None", ...] = ()
    #: the runs ``set_aside`` took out of the comparison: (side, the run's number, of how many
    #: runs that side ran, its ``Stall``); every per-run field above holds the other runs only.
    aside: tuple[tuple[str, int, int, "Stall"], ...] = ()

    def numbers(self, side: str) -> tuple[list[int], int]:
        """The session's numbers of ``side``'s runs still compared ("base" or "candidate"), and how
        many runs it ran: run 2 of 3 stays run 2 when run 1 is set aside."""
        gone = {k for s, k, _, _ in self.aside if s == side}
        total = len(self.base_runs if side == "base" else self.cand_runs) + len(gone)
        return [k for k in range(1, total + 1) if k not in gone], total


class SpedUp(Protocol):
    """``Measurements.sped_up``: per percentile label, how far a run's level would fall on a machine
    ``factor`` times faster (``replay.sped_up``); ``punctual``: of its latencies as a punctual
    generator would have left them (``from_dispatch``)."""

    def __call__(self, factor: float, punctual: bool = False) -> Mapping[str, float] | None: ...


@dataclass(frozen=True, slots=True)
class Measurements:
    """What the gate needs from a run, all in scheduled order over the measured window."""

    #: end-to-end latency from the scheduled arrival; failed and timed-out requests hold a value at
    #: or above the timeout, so they count as exceedances of every budget.
    latency_ms: npt.NDArray[np.float64]
    lag_ms: npt.NDArray[np.float64]
    #: how much later each request completed than under a punctual generator (``timeline.start_delay``:
    #: lag onto a lane busy with on-time work changed nothing; a stall's knock-on queue counts).
    #: None: not known, the whole lag counts.
    start_delay_ms: npt.NDArray[np.float64] | None = None
    failed: int = 0
    timed_out: int = 0
    achieved_hz: float = math.nan
    offered_hz: float = math.nan
    first_error: str | None = None
    #: reasons the machine misbehaved during the run (throttling, a foreign process on the GPU).
    disturbances: tuple[str, ...] = ()
    #: GPU work of the body that ran outside the request's stream and finished after its end
    #: event: the latencies did not wait for it.
    escapes: tuple[str, ...] = ()
    #: schedule index of the first measured request that ran past timeout_s (None: none did).
    first_timed_out: int | None = None
    #: scheduled arrivals (ms from the run's start) of the measured requests: paired comparisons
    #: cut their batches where the system was empty.
    scheduled_ms: npt.NDArray[np.float64] | None = None
    #: service time rose with the requests in service (``stats.load_dependence``): only then can a
    #: late dispatcher flatter the latencies.  None: not known (treated as if it could).
    load_dependent: bool | None = None
    #: other processes kept the CPUs busy during a CPU-backend run (``cpu_contention``), in words.
    contention: str = ""
    #: the most those processes can have slowed a request's own service (``contention_slowdown``).
    contention_slowdown: float = 2.0
    #: the CPUs other processes used on average while the measured arrivals were offered (steal
    #: included; ``SloResult.window_neighbour_cpus``): the most CPU time they can have taken from
    #: the service then (``_beyond_neighbours``).  None: not known.
    neighbour_cpus: float | None = None
    #: a Python tracer or profiler active during the run (``runner.tracer_in_use``: coverage, a
    #: debugger), '' where none: it slows Python code, not a sleep on a timer.
    traced: str = ""
    #: measured requests completed, late ones included, by the end of the time their arrivals were
    #: offered in, per second of it (``SloResult.completed_hz``): the service's pace while it kept a queue.
    completed_hz: float = math.nan
    #: CPUs this process's own threads outside the lanes, the dispatcher and the plugin's pools kept
    #: busy on average (a BLAS or OpenMP pool, a worker of the code's: telemetry ``own_threads_cpus``),
    #: 0.0 where none or not measured: the code's work, named where neighbours hold a FAIL back.
    own_threads_cpus: float = 0.0
    #: the longest the dispatcher was found stopped (ms; ``timeline.frozen_ns``: a SIGSTOP, a
    #: paused VM), 0 where none or not read: a stall that is the machine's, named where it is said.
    frozen_ms: float = 0.0
    #: this process's own threads' run time over their time on a CPU during the run
    #: (``backends.cpu.run_queue_stretch``), None where not measured: how long they waited for CPUs.
    run_queue_stretch: float | None = None
    #: each measured request's own service time (ms; NaN where it never ended): a floor under its
    #: latency, so a FAIL on it divided by ``contention_slowdown`` is not the neighbours' doing.
    service_ms: npt.NDArray[np.float64] | None = None
    #: each measured request's own time (ms): the service on one lane, the time on a CPU plus
    #: asleep on several (``SloResult.own_times``); 0 where not known.  No queue adds to it, so a
    #: slow stretch of it is the body's (``slow_own``).  None: not known.
    own_ms: npt.NDArray[np.float64] | None = None
    #: of each ``own_ms``, the time asleep on a timer, which busy neighbours do not stretch.
    own_asleep_ms: npt.NDArray[np.float64] | None = None
    #: the mean own time of the requests whose own time is known, top 0.1% left out (kept with every
    #: stored run, where ``own_ms`` is kept only when a rule reads it); None: not known.
    own_mean_ms: float | None = None
    #: of each request's ``service_ms``, the time its thread spent asleep on a timer (0 where
    #: never seen asleep; ``SloResult.asleep_ms``): busy neighbours do not stretch a sleep.
    #: None: not known, all of the service counts as stretchable.
    asleep_ms: npt.NDArray[np.float64] | None = None
    #: of each request's ``service_ms``, its time on a CPU or waiting for one on its lane's thread
    #: (NaN where not known; None: not measured; ``SloResult.cpu_ms``).  With the sleep, all of a
    #: service busy neighbours can be shown to stretch at most K times: the rest, a wait on another
    #: thread or a queue in front of one, a slowed machine can lengthen without bound (review109 F4,
    #: F6: an executor's queue grew from 3 ms to 1.1 s beside two busy loops, and "even 4x faster"
    #: FAILed a budget met on a quiet machine).
    cpu_ms: npt.NDArray[np.float64] | None = None
    #: shares of the bodies' time on a CPU, runnable, asleep on a timer and waiting on anything
    #: else ("cpu", "runq", "asleep", "other"); None: not known.
    time_split: Mapping[str, float] | None = None
    #: the bodies called a ``pytest_gpuslo.batching`` batcher or pool (its stages were recorded).
    batching: bool = False
    #: bodies still running when the run gave up on them, having run past ``timeout_s`` (a hang),
    #: warm-up requests included: a body that hangs from the first request hangs the measured ones.
    hung: int = 0
    #: (request index, lane) of the first of them; None where none hung or not known.
    first_hung: tuple[int, int] | None = None
    #: one of ``hung`` is the untimed priming call, still running past timeout_s when the run started.
    prime_hung: bool = False
    #: measured requests the hangs kept from a lane: from the first hung request of its look on,
    #: the hung ones and those that never started (``RunData.hang_backlog``; None: not known, as in
    #: runs stored before it was kept: all of ``timed_out`` then).
    hang_backlog: int | None = None
    #: lanes of the run's last look hung at its end; every lane (``SloSpec.streams``) is a
    #: service that stopped answering.
    lanes_hung: int = 0
    #: this run's machine control (``control.combine``): a stored-baseline verdict the machine's own
    #: move could explain is held back.  None: not measured.
    control: Mapping[str, float] | None = None
    #: on a backend that runs bodies on the dispatcher's thread, how long each body kept it where
    #: the next request was already overdue (``timeline.launcher_hold``); None on other backends.
    launcher_hold_ms: npt.NDArray[np.float64] | None = None
    #: on such a backend, the time the launching thread spent runnable but waiting for a CPU, over
    #: the schedule's span (Linux schedstat: preempted by other work), None where not known.
    launcher_wait: float | None = None
    #: on such a backend, the mean host time a body kept that thread (ms; measured from its
    #: dispatch to its return), None where not measured.
    body_host_ms: float | None = None
    #: this run's statistic per percentile label with its service times dealt in random order over
    #: the same schedule and lanes (``replay.shuffled``): what the regression tests compare when every
    #: run on both sides has one.  None: not known (a batcher, a failed request, an older store).
    shuffled: Mapping[str, float] | None = None
    #: why this run keeps no replayed statistic, in words ('' where it keeps one, or not known).
    shuffled_off: str = ""
    #: on host lanes, the latencies (ms) had the dispatcher been punctual and every service as long
    #: as with every lane busy (``replay.punctual_at_full_load``): a PASS the lateness may have
    #: flattered stands where this PASSes too.  None: not known (the PASS is then held).
    punctual_ms: npt.NDArray[np.float64] | None = None
    #: on host lanes beside busy neighbours, the latencies (ms) had the dispatcher been punctual and
    #: every service ``contention_slowdown`` times shorter (``replay.punctual_queue``): a FAIL this
    #: still FAILs is an overload of the code's own, which no neighbour explains.  None: not known.
    uncontended_ms: npt.NDArray[np.float64] | None = None
    #: on host lanes beside busy neighbours, where the bodies call a ``Stage.pool`` or a batcher:
    #: floors under the queue in front of it that no order of its queue and no neighbour
    #: shortens (``PoolWait``, from its workers and each call's sleep on a timer).  Empty: none.
    pool_waits: tuple[PoolWait, ...] = field(default=(), compare=False, repr=False)
    #: (stage, max_size, max_wait_ms, each measured request's wait) of each fixed batcher, its
    #: policy replayed on the schedule with no time spent anywhere (``replay.batch_timer_floor``)
    batch_timers: tuple[tuple[str, int, float, npt.NDArray[np.float64]], ...] = field(
        default=(), compare=False, repr=False)
    #: how far this run's level would fall on a machine f times faster, per percentile label
    #: (``replay.sped_up``; asked for only where a machine control moved: a replay of every lane);
    #: None (or returning None): not known (a batcher, a failed request): a moved control holds.
    sped_up: SpedUp | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, eq=False)
class PoolWait:
    """``Measurements.pool_waits``: the floors of one pool's or batcher's queue and what they stand on."""

    #: the stage's name (a batcher called without one: "batch")
    name: str
    workers: int
    #: each measured request's floor under its wait from its scheduled arrival to its start on a
    #: lane (ms; ``replay.pool_start_floor``)
    wait_ms: npt.NDArray[np.float64]
    #: each measured request's floor under the worker time its call needs (ms; 0 where it skips
    #: it; a batch's shared by as many calls as the batcher takes at a time)
    work_ms: npt.NDArray[np.float64]
    #: how many calls a worker takes at a time (1: a pool; a batcher's ``max_size``)
    batch: int = 1
    #: latencies (ms) the run's own, sorted, are at least, element by element, whatever the lanes
    #: (``replay.pool_done_floor``); None: not known
    done_ms: npt.NDArray[np.float64] | None = None


#: Bodies that keep the launching thread this share of its time at the offered rate are named as
#: why the generator fell behind: bursts then queue on the launcher itself.
LAUNCHER_SHARE = 0.5


def launcher_note(m: Measurements) -> str:
    """Why an inline-body backend's generator fell behind, when its bodies did it: their own host
    time at the offered rate ('' when it was short, so the machine or the GIL is the suspect)."""
    hold = m.launcher_hold_ms
    if hold is None or not math.isfinite(m.offered_hz) or m.offered_hz <= 0:
        return ""
    if m.body_host_ms is not None and math.isfinite(m.body_host_ms):
        # Measured on every body, and a mean: the thread's share is one (a median of skewed host
        # times read 81% of the thread for bodies taking 120%, the session-11 check).
        held, how = m.body_host_ms, "on average, measured from dispatch to return"
    elif hold.size >= 20:
        held, how = float(np.median(hold)), f"median of {hold.size} sent back to back"
    else:
        return ""
    share = held * m.offered_hz / 1000.0
    if share < LAUNCHER_SHARE:
        return ""
    return (f"each body kept the launching thread {held:.3g} ms ({how}), "
            f"{share:.0%} of its time at {m.offered_hz:.4g}/s: the bodies run on it, so their own host "
            f"work (eager launches, or a hidden sync such as .item() or .cpu()) queues the later "
            f"requests there, a queue that counts as the code's; capture the body in a CUDA graph (slo_graph), or use backend='cuda-sync' "
            f"(one thread per lane)")


def busy_cpus(cpus: int) -> float:
    """Other processes' CPUs that make a run contended: half a CPU, and a quarter of the machine."""
    return max(0.5, cpus / 4)


def figure(x: object) -> float | None:
    """A telemetry figure of a report as a float, None where it is none (a hand-edited report's
    text or bool is none either): the rows, the A/B and the plugin read ``run_queue_stretch`` so."""
    return float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) else None


def cpu_contention(other_cpu_load: float | None, cpus: int | None, mean: float | None = None,
                   steal: float | None = None) -> str:
    """Other processes' CPU use during a run, in words, when it could have slowed a CPU workload
    ('' when the machine was quiet or nobody measured): at least half a CPU, and a quarter of the
    machine.  A FAIL measured then may be the neighbours' doing, not the code's.  ``steal``: the
    CPUs the hypervisor took on average (other machines on this VM's CPUs); where it is most of
    the others' average, the words say so, since no process inside the VM shows it."""
    if other_cpu_load is None or not cpus:
        return ""
    if other_cpu_load < busy_cpus(cpus):
        return ""
    average = mean if mean is not None else other_cpu_load
    if steal is not None and steal >= 0.25 and steal >= 0.5 * average:
        return (f"the hypervisor took {steal:.1f} of this VM's {cpus} CPUs on average during the run (steal "
                f"time: other machines share its CPUs; no process inside the VM shows it), up to "
                f"{other_cpu_load:.1f} CPUs with any other processes")
    if mean is not None and other_cpu_load - mean >= 0.25:  # the busiest window, not the average
        return (f"other processes kept up to {other_cpu_load:.1f} of {cpus} CPUs busy during the run "
                f"({mean:.1f} on average)")
    return f"other processes kept {other_cpu_load:.1f} of {cpus} CPUs busy during the run"


def contention_slowdown(other_cpu_load: float | None, cpus: int | None,
                        stretch: float | None = None) -> float:
    """The most that other processes using ``other_cpu_load`` of ``cpus`` CPUs are taken to slow a
    request's own service: their share of the machine over what they leave (c / (c - L), with at
    least half a CPU left), never less than 2x (a busy hyperthread sibling alone costs that), and
    never less than the slowdown measured on this process's own threads (``stretch``: run time
    over CPU time, ``backends.cpu.run_queue_stretch``), which sees a machine oversubscribed by
    more runnable threads than it has CPUs, where CPU use alone reads "only" c - ours busy."""
    k = 2.0 if stretch is None else max(2.0, float(stretch))
    if other_cpu_load is None or not cpus:
        return k
    return max(k, cpus / max(cpus - other_cpu_load, 0.5))


def _binom_sf(k: int, n: int, q: float) -> float:
    """P(X >= k) for X ~ Binomial(n, q)."""
    from scipy import stats as _st

    return float(_st.binom.sf(k - 1, n, q))


#: What a raised request's service counts as in the neighbours' test: over every budget (the
#: budget test takes finite values only).
RAISED_SERVICE_MS = 1e9


def _raised_beyond(m: Measurements, p: float, alpha: float) -> str:
    """Why the raised requests alone are the code's: more of them than the ``p`` budget allows
    (binomial, at ``alpha``).  Neighbours do not make code raise.  '' when they are not."""
    n = int(np.asarray(m.latency_ms).size)
    if m.failed and n and m.failed / n > 1.0 - p and _binom_sf(m.failed, n, 1.0 - p) < alpha:
        return (f"{m.failed} of {n} requests raised, more than the {1.0 - p:.0%} the budget allows: "
                f"no busy neighbour makes code raise")
    return ""


def _hang_beyond(m: Measurements, p: float) -> bool:
    """A body hung and the requests it kept from a lane (``_backlog``) are more than the ``p`` budget
    allows: the hang's backlog breaks the claim.  Not every exceedance counts: a slow last body
    still running at the give-up beside a queue over budget on its own is no hang's doing
    (review51: a 2.5-s last request beside 30-ms bodies on 4.5% of requests FAILed, and lifted the
    busy-neighbour hold)."""
    n = int(np.asarray(m.latency_ms).size)
    return bool(m.hung and n and _backlog(m) > (1.0 - p) * n)


def _backlog(m: Measurements) -> int:
    """The requests a hang kept from a lane (``RunData.hang_backlog``: from the first hung request of
    its look on, the hung ones and those that never started); for runs stored before that was kept,
    every request past ``timeout_s``.  Requests late before the hang, or that got a lane, are not
    its doing (review52: two 1.0-s bodies left 26 requests past timeout_s 0.5 and a 2.0-s last
    request FAILed them all "by a hang"; review53: slow bodies on free lanes did the same)."""
    return m.timed_out if m.hang_backlog is None else m.hang_backlog


def _hang_explains(m: Measurements, target: float) -> bool:
    """The requests a hang kept from a lane, had they completed, would have met the throughput
    promise: the shortfall is the hang's (review53: a slow body near the end, beside busy
    neighbours, turned a shortfall they may have made into a FAIL)."""
    n = int(np.asarray(m.latency_ms).size)
    if not m.hung or not n or not math.isfinite(m.offered_hz):
        return False
    return m.achieved_hz + _backlog(m) * m.offered_hz / n >= target


def _deadlock_words(m: Measurements, spec: SloSpec) -> str:
    """Why a run whose every lane hung fails every latency claim, or '' when some lane still served."""
    if not m.lanes_hung or m.lanes_hung < spec.streams:
        return ""
    return (f"every lane ({m.lanes_hung} of {spec.streams}) was hung when the run ended, "
            f"{_hung_words(m, spec)[len('a hang: '):]}: the service stopped answering, and no latency "
            f"promise holds of a service that stopped, however few requests it left waiting")


def _unshown_words(m: Measurements, spec: SloSpec) -> str:
    """Why a PASS beside a hang is INCONCLUSIVE: a lane that never came back served no more, so the
    run does not show the promise at its streams (review53: three of four lanes hung at the end,
    and the claim PASSed)."""
    return f"{_hung_words(m, spec)}: a lane that never came back does not show the promise kept at {spec.streams} streams"


def _hung_words(m: Measurements, spec: SloSpec) -> str:
    """'a hang: 2 bodies had run past timeout_s=1 ... (request 260 first, on lane 1)'."""
    where = "" if m.first_hung is None else f" (request {m.first_hung[0]} first, on lane {m.first_hung[1]})"
    if m.prime_hung:
        # (review108 F3: "and(request 0 first", the bracket kept)
        where = (f" (the priming call before the run, and {where[2:]}" if where
                 else " (the priming call, the body's first and untimed one, before the run)")
    bodies = "1 body" if m.hung == 1 else f"{m.hung} bodies"
    return (f"a hang: {bodies} had run past timeout_s={spec.timeout_s:g} and {'was' if m.hung == 1 else 'were'} "
            f"still running when the run gave up{where}")


def _hang_fails(m: Measurements, spec: SloSpec, p: float) -> str:
    """Why a hang fails a claim the sample size left undecided, or '' when it does not.

    A hung lane does not come back: every request behind it runs past ``timeout_s``, so the
    exceedances after a hang are one event, not many, and the design effect reads hundreds.  A
    claim whose requests the hang kept from a lane are more than it allows is failed by the hang itself,
    whatever the effective sample (review47: 750 of 1,000 past ``timeout_s`` under a p50 budget
    read INCONCLUSIVE for n; a hang in the second half of a run did so at p95 and p99 too)."""
    if not _hang_beyond(m, p):
        return ""
    n = int(np.asarray(m.latency_ms).size)
    return (f"{_hung_words(m, spec)}, and it kept {_backlog(m)} of {n} requests from a lane (hung, or never "
            f"started), more than the {1.0 - p:.0%} the budget allows; a hung body does not come back, so no "
            f"number of requests would clear this")


#: What to do about a hang, said wherever one is named.
HANG_ADVICE = ("fix the blocking call where the hung lane was stuck (its stack is printed with the "
               "test's result and kept in the JSON report's 'stuck', or 'prime_stuck' for the priming call; a lock, an event, a wait that never "
               "ends), or raise timeout_s if a body that slow is legitimate (a first call that compiles: "
               "give it warm-up requests)")


def _ended_service(service_ms: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The service times of the requests that ended; a raised one held at ``RAISED_SERVICE_MS``
    (+inf in the measurements: over every budget, as in the latencies; NaN: never ended)."""
    done = service_ms[~np.isnan(service_ms)]
    return np.where(np.isposinf(done), RAISED_SERVICE_MS, done)


def slow_own(m: Measurements, budget: float, p: float, alpha: float, slowdown: float = 1.0) -> tuple[str, float]:
    """Why the bodies' own times alone fail the budget by a lasting slow stretch
    (``stats.slow_stretch``), with the rule's p-value; ('', 1.0) when they do not.  ``slowdown``:
    read with the time on a CPU that many times shorter (busy neighbours' most), a sleep
    ``SLEEP_SLOWDOWN``.  Latency is never below the own time and no queue, lateness or heavier
    load adds to it, so such a FAIL is the code's."""
    if m.own_ms is None or not np.asarray(m.own_ms).size:
        return "", 1.0
    own = np.asarray(m.own_ms, dtype=np.float64)
    if slowdown > 1.0:
        asleep = np.zeros_like(own) if m.own_asleep_ms is None or np.shape(m.own_asleep_ms) != own.shape \
            else np.clip(np.asarray(m.own_asleep_ms, dtype=np.float64), 0.0, own)
        own = (own - asleep) / slowdown + asleep / SLEEP_SLOWDOWN
        if m.cpu_ms is not None and np.shape(m.cpu_ms) == own.shape:
            # one lane's own time is its service: a wait on another thread in it is no own time
            cpu = np.asarray(m.cpu_ms, dtype=np.float64)
            own = np.where(np.isfinite(cpu), np.minimum(own, np.clip(np.nan_to_num(cpu), 0.0, None) / slowdown
                                                        + asleep / SLEEP_SLOWDOWN), own)
    tail, bad, k, first = stats.slow_stretch(own, budget, p)
    if tail > alpha / 50.0 or first is None or not stats.quantile(own, p) > budget:
        return "", 1.0
    m_k = own.size // k
    where = (f"the last {1.0 - first / own.size:.0%} of the run" if first + bad * m_k >= own.size
             else f"the first from {first / own.size:.0%} of the run on")
    return (f"the bodies themselves got slow: in {bad} of {k} stretches of {m_k} requests ({where}) most "
            f"requests' own time was over the budget "
            f"(its time on a CPU or asleep, or its whole service on a single lane: no queue adds to it; "
            f"{percentile_label(p)} {stats.quantile(own, p):.3g} ms; block binomial p {tail:.2g})"), min(1.0, tail * 50.0)


def _beyond_load(m: Measurements, budget: float, p: float, alpha: float) -> bool:
    """A FAIL that no heavier load explains: a hang, more raised requests than the budget allows,
    or bodies whose own time alone fails the budget (latency is never below the service;
    review49: 30-ms bodies against a 20-ms p95 were held on a window at 1.69x the rate)."""
    if _hang_beyond(m, p) or _raised_beyond(m, p, alpha):
        return True
    if slow_own(m, budget, p, alpha)[0]:
        return True
    if m.service_ms is None:
        return False
    service = _ended_service(m.service_ms)
    return bool(service.size) and stats.budget_test(service, budget, p, alpha=alpha).outcome == FAIL


def _under(value: float, limit: float) -> str:
    """``value`` with as many digits as show it under ``limit`` (review112 F3: "at most 200
    requests/s, under the promised 200/s")."""
    for digits in range(3, 8):
        text = f"{value:.{digits}g}"
        if float(text) < limit:
            return text
    return f"{value:.8g}"


#: The trailing parts of a run the lanes-full rule reads (1/2, 1/4, 1/8): the second half keeps a
#: warm-up's slow services out; the last quarter and eighth see a slowdown that began late, whose
#: slow services a half mixes with the fast ones before it (review90 #1, review84 #2: services 2.1x
#: slower over the last 15% of a run, 600 of 4,000 requests over budget, stayed INCONCLUSIVE).
#: Fixed parts, not a part chosen from the data, each at alpha / (50 * 3).
LANES_FULL_PARTS = ((2, "second half"), (4, "last quarter"), (8, "last eighth"))
#: How the lanes-full rule's reason begins.
LANES_FULL_WORDS = "the lanes are over capacity"


def lanes_full(m: Measurements, spec: SloSpec, alpha: float, slowdown: float = 1.0,
               claim: tuple[float, float] | None = None) -> str:
    """Why the lanes cannot keep up with the promised rate, or '' when they may: by Little's law a
    lane completes at most one request per mean time it is held, so ``streams`` lanes complete at
    most streams / mean service a second; where that, from the lower bound (at ``alpha`` / 50, as
    the other shape rules, shared by the parts) of a trailing part's mean service
    (``LANES_FULL_PARTS``), is under ``rate_hz``, the queue grows with any run at that rate and
    every budget breaks in a long enough one, however few effective samples the latencies hold
    (review82 #4: 2,474 of 4,000 over budget read "a FAIL needs ~5,600").  ``claim`` (percentile,
    budget): a part is read only where its latencies are over that budget too.  ``slowdown``: the
    time on a CPU read that many times shorter (busy neighbours' most), a sleep ``SLEEP_SLOWDOWN``."""
    if m.service_ms is None or not spec.rate_hz > 0:
        return ""
    lat = np.asarray(m.latency_ms, dtype=np.float64)
    each = alpha / (50.0 * len(LANES_FULL_PARTS))
    for share, part in LANES_FULL_PARTS:
        start = m.service_ms.size - m.service_ms.size // share
        if claim is not None and lat.size == m.service_ms.size and \
                not stats.quantile(lat[start:], claim[0]) > claim[1]:
            continue
        service = np.asarray(m.service_ms, dtype=np.float64)[start:]
        kept = np.isfinite(service)  # raised (+inf) and never ended (NaN) left out: both held a lane longer
        if slowdown > 1.0:
            service = neighbour_floor(m, slowdown, slice(start, None))  # type: ignore[assignment]
        mean, low = stats.batch_mean_bound(service[kept], each)
        capacity = 1000.0 * spec.streams / low if low > 0 else math.inf
        if not capacity < spec.rate_hz:
            continue
        # review139: "held its lane 18.3 ms on average" of a 20-ms sleep read as measured; it is the
        # time made as short as busy neighbours can have stretched it
        held = (f"with its time on a CPU {slowdown:.2g}x shorter and a sleep {SLEEP_SLOWDOWN:g}x, a request would "
                f"have held its lane" if slowdown > 1.0 else "a request held its lane")
        return (f"{LANES_FULL_WORDS}: in the run's {part} {held} {mean:.3g} ms on "
                f"average (at least {low:.3g} ms at {stats.confidence(each)}), so {spec.streams} "
                f"lane{'s complete' if spec.streams > 1 else ' completes'} at most "
                f"{_under(capacity, spec.rate_hz)} requests/s, "
                f"under the promised {spec.rate_hz:g}/s: the queue grows with any run at this rate, and its "
                f"latency with it")
    return ""


#: The trailing parts ``late_step`` reads (share of the run, its name): shorter than the lanes-full
#: rule's, as it says a step the run was too short to suffer, not a queue it showed.
LATE_STEP_PARTS = ((20, "last twentieth"), (8, "last eighth"), (4, "last quarter"))
#: How ``late_step``'s note begins (a PASS shows its reasons only where they begin so).
LATE_STEP_WORDS = "the bodies' own times rose late in the run"
#: The least rise, and the least load it brings the lanes to, that ``late_step`` names.
LATE_STEP_RISE, LATE_STEP_LOAD = 1.10, 0.8


def late_step(m: Measurements, spec: SloSpec, alpha: float) -> str:
    """A note for a PASS whose bodies got slower in a trailing part of the run (its mean service
    ``LATE_STEP_RISE`` x the first half's or more, and its lower bound over the first half's upper
    bound, at ``alpha`` shared by the parts: a note, not a verdict) to a level that loads the lanes
    to ``LATE_STEP_LOAD`` or more of their capacity:
    the run PASSed on the level before the step, and a queue at the new level had no time to build
    (review97 #2: a step over the last 5% to 0.95 of capacity PASSed 2.5% of runs without a word,
    where the new level's p95 was 5x the budget).  '' where none."""
    if m.service_ms is None or not spec.rate_hz > 0:
        return ""
    service = np.asarray(m.service_ms, dtype=np.float64)
    early = service[: service.size // 2]
    early = early[np.isfinite(early)]
    each = alpha / len(LATE_STEP_PARTS)
    low_neg = stats.batch_mean_bound(-early, each)[1]  # the first half's mean at its upper bound
    if not math.isfinite(low_neg):
        return ""
    before, ceiling = float(early.mean()), -low_neg
    for share, part in LATE_STEP_PARTS:
        late = service[service.size - service.size // share:]
        mean, low = stats.batch_mean_bound(late[np.isfinite(late)], each)
        load = spec.rate_hz * mean / (1000.0 * spec.streams)
        if low > ceiling and mean >= LATE_STEP_RISE * before and load >= LATE_STEP_LOAD:
            return (f"{LATE_STEP_WORDS}: in its {part} a request held its lane {mean:.3g} ms on average, against "
                    f"{before:.3g} ms in the first half (at least {low / ceiling - 1:.0%} more at "
                    f"{stats.confidence(each)}), which loads the lanes to {load:.0%} of their capacity at "
                    f"{spec.rate_hz:g}/s; the PASS stands on the level before, and a run where the new level "
                    f"lasts builds a longer queue than this one had time to")
    return ""


def _not_contention(m: Measurements, spec: SloSpec, budget: float, p: float, alpha: float) -> str:
    """Why a FAIL measured beside busy neighbours is still the code's, or '' when it may be theirs.
    A hang is not a neighbour's doing; nor is a service that, made ``contention_slowdown`` times
    faster, still fails the budget on its own (latency is never below the service)."""
    if _hang_beyond(m, p):
        return f"{_hung_words(m, spec)}: no busy neighbour explains that"
    raised = _raised_beyond(m, p, alpha)
    if raised:
        return raised
    if slow_own(m, budget, p, alpha, slowdown=m.contention_slowdown)[0]:
        # Said once: the unscaled rule's words are the claim's reason already (review56: twice).
        sleep = m.own_asleep_ms is not None and bool(np.any(np.asarray(m.own_asleep_ms) > 0))
        return (f"the bodies' own times fail the budget even with their time on a CPU "
                f"{m.contention_slowdown:.2g}x shorter" + (f" and a sleep {SLEEP_SLOWDOWN:g}x" if sleep else "")
                + ", more than busy neighbours slow a process")
    if m.service_ms is not None:
        ended = ~np.isnan(m.service_ms)
        service = _ended_service(m.service_ms)
        k = m.contention_slowdown
        floor = neighbour_floor(m, k, ended)
        if floor is not None and service.size:
            floor = np.where(np.isposinf(floor), RAISED_SERVICE_MS, floor)
        if floor is not None and service.size and stats.budget_test(floor, budget, p, alpha=alpha).outcome == FAIL:
            asleep = _asleep(m, ended)
            share = float(asleep.sum() / service.sum()) if asleep is not None and service.sum() > 0 else 0.0
            dropped = m.cpu_ms is not None and bool(np.any(np.isfinite(np.asarray(m.cpu_ms)[ended])))
            waits = " and any wait on another thread left out" if dropped else ""
            if share > 0:
                return (f"the body's own time alone fails the budget even with its time on or waiting for "
                        f"a CPU {k:.2g}x faster{waits}: {share:.0%} of it was asleep on a timer (a sleep), which "
                        f"busy neighbours do not stretch")
            return (f"the body's own time alone fails the budget even {k:.2g}x faster "
                    f"than measured{waits}, more than busy neighbours slow a process")
    full = lanes_full(m, spec, alpha, slowdown=m.contention_slowdown, claim=(p, budget))
    if full:
        return full
    timer = _batch_timer_over(m, budget, p, alpha)
    if timer:
        return timer
    pooled = _pool_over(m, spec, budget, p, alpha)
    if pooled:
        return pooled
    beyond = _beyond_neighbours(m, spec)
    if beyond:
        return beyond
    quiet = m.uncontended_ms
    if quiet is not None and quiet.size == np.size(m.latency_ms) and \
            stats.budget_test(quiet, budget, p, alpha=alpha).outcome == FAIL:
        # review65: a load of 137% of one interpreter queued to p95 821 ms of a 10-ms budget and
        # was held as "the FAIL may be theirs" beside one busy loop.
        # (review110 F2: "every service 4.3x shorter" where 91% of it, a sleep, was shortened 1.25x)
        sleep = m.asleep_ms is not None and bool(np.any(np.nan_to_num(np.asarray(m.asleep_ms)) > 0))
        return (f"even with every service's time on or waiting for a CPU {m.contention_slowdown:.2g}x shorter "
                f"than measured, more than busy neighbours slow a process"
                + (f" (its sleep on a timer {SLEEP_SLOWDOWN:g}x, any other wait left out)" if sleep else
                   " (any other wait left out)" if m.cpu_ms is not None else "")
                + f", and the generator punctual, the lanes' own queue fails the budget "
                f"({percentile_label(p)} {stats.quantile(quiet, p):.3g} ms then): an overload of the code's own")
    return ""


#: How many seconds of a service's busiest part each CPU-second busy neighbours used is taken to
#: have cost it: one where they ran on its CPU instead, less where they shared a core's other
#: hyperthread; twice that covers their caches and memory traffic (``_beyond_neighbours``).
NEIGHBOUR_COST = 2.0


def _beyond_neighbours(m: Measurements, spec: SloSpec) -> str:
    """Why a service that completed too few requests is over capacity whatever its neighbours
    did, or '' (review178 F1: a one-thread HTTP server sleeping 20 ms a request, offered twice its
    capacity, p95 10.9 s against 100 ms, was held back beside neighbours that used 0.2 CPUs on
    average, 1.9 at their busiest).  A service that keeps up completes requests at the offered rate
    whenever it holds a queue; neighbours that used C CPU-seconds while the arrivals were offered
    took at most C seconds from whatever part of it was busiest (a thread, a pool, the GIL), which
    ``NEIGHBOUR_COST`` x C covers.  By the end of the offered time it has therefore started at
    least min over s of (arrivals by s + rate x (end - s)), the schedule's own bursts counted, less
    rate x ``NEIGHBOUR_COST`` x C, and completed all of those but the ones still in service, at most
    one a lane (review185 F1: 2.5-s bodies at 100/s on 250 lanes and more are in service 250 at a
    time), less what chance leaves in a queue at capacity (3 x sqrt(n) x the larger of the services'
    coefficient of variation and 1).  Fewer completions, late ones counted, are an overload of the
    code's own."""
    load, done_hz, offered = m.neighbour_cpus, m.completed_hz, m.offered_hz
    t = None if m.scheduled_ms is None else np.sort(np.asarray(m.scheduled_ms, dtype=np.float64))
    n = 0 if t is None else int(t.size)
    if load is None or t is None or n < 2 or not (math.isfinite(done_hz) and math.isfinite(offered) and offered > 0):
        return ""
    span_s = n / offered  # the offered window, as ``completed_hz`` and ``offered_hz`` count over it
    rel = (t - t[0]) / 1e3
    fluid = min(float(n), float(np.min(np.arange(n) + offered * (span_s - rel))))
    service = None if m.service_ms is None else _ended_service(m.service_ms)
    cv = float(service.std() / service.mean()) if service is not None and service.size > 1 and service.mean() > 0 \
        else 1.0
    lost = offered * NEIGHBOUR_COST * load * span_s
    least = fluid - lost - spec.streams - 3.0 * math.sqrt(n) * max(cv, 1.0)
    done = done_hz * span_s
    if not done < least:
        return ""
    return (f"it completed {done:,.0f} of the {n:,} requests offered by the end of the offered time (late completions "
            f"counted), while other processes used {load:.2g} CPUs on average then: a service that keeps up at "
            f"{offered:.4g}/s, had each CPU-second of theirs cost its busiest part {NEIGHBOUR_COST:g} s, would have "
            f"completed {least:,.0f} or more, the schedule's bursts, one request in service a lane and chance allowed "
            f"for: an overload of the code's own")


def _beyond_tracer(m: Measurements, spec: SloSpec, budget: float, p: float, alpha: float) -> str:
    """Why a FAIL measured under a Python tracer (and nothing else that disturbed the run) is the
    code's, or '': a tracer slows Python code, not a sleep on a timer, and makes nothing raise
    (review181 F4: a body sleeping 20 ms against a 5-ms p95 read INCONCLUSIVE under --cov, and
    every clear violation of a suite with addopts = --cov went green).  Its time on a CPU counts as
    nothing here; its sleep ``SLEEP_SLOWDOWN`` x shorter; so do a pool's or a batcher's workers'
    sleeps (``_pool_over``) and a fixed batcher's own timer (review186 F2: a batcher sleeping 6 ms a
    batch of 4 at 1000/s, 1.5x its capacity, read INCONCLUSIVE under --cov)."""
    if not m.traced or len(m.disturbances) != 1 or m.escapes:
        return ""
    raised = _raised_beyond(m, p, alpha)
    if raised:
        return f"a Python tracer was active, but {raised}: a tracer makes nothing raise"
    if slow_own(m, budget, p, alpha, slowdown=TRACED_SLOWDOWN)[0]:
        return (f"a Python tracer was active, but the bodies' own sleep on a timer alone, {SLEEP_SLOWDOWN:g}x "
                f"shorter, fails the budget (their time on a CPU counted as nothing): a tracer slows Python "
                f"code, not a sleep")
    untraced = replace(m, contention_slowdown=TRACED_SLOWDOWN)  # time on a CPU as nothing in their floors
    queued = _batch_timer_over(m, budget, p, alpha) or _pool_over(untraced, spec, budget, p, alpha)
    if queued:
        return f"a Python tracer was active, but {queued}: a tracer slows Python code, not a timer or a sleep"
    return ""


#: How many times a Python tracer is taken to have slowed the bodies' time on a CPU: without
#: bound (a pure-Python tracer costs tens of times), so only their sleep counts (``_beyond_tracer``).
TRACED_SLOWDOWN = 1e9


def _batch_timer_over(m: Measurements, budget: float, p: float, alpha: float) -> str:
    """Why a fixed batcher's own policy fails the budget whatever busy neighbours did, or '': on
    the promised schedule, with no time spent anywhere, the waits its size and timer give the
    requests (``Measurements.batch_timers``, a floor under each latency) fail the budget test
    (review173 F1: max_wait_ms=150 under a 60-ms p95, p95 406-479 ms, held back as theirs)."""
    n = np.size(m.latency_ms)
    for name, size, wait_ms, floor in m.batch_timers:
        if floor.size != n or stats.budget_test(floor, budget, p, alpha=alpha).outcome != FAIL:
            continue
        return (f"batcher {name!r}, which ships a batch at {size} requests or {wait_ms:g} ms after its first, alone "
                f"puts the {percentile_label(p)} of its waits at {stats.quantile(floor, p):.3g} ms on the promised "
                f"arrivals with no time spent anywhere, over the budget: no busy neighbour makes a batcher wait "
                f"for its timer; give it a shorter max_wait_ms or a smaller max_size")
    return ""


def _pool_over(m: Measurements, spec: SloSpec, budget: float, p: float, alpha: float) -> str:
    """Why the queue in front of a ``Stage.pool`` or a batcher fails the budget whatever busy
    neighbours did, or '' (review109 F1: an overloaded pool of sleeping workers, p50 2.8 s against
    50 ms, was held back as the neighbours' doing, since a wait in a queue counts as nothing beside
    them).  Each call's work is at least its worker's sleep on a timer while serving it, which
    neighbours stretch ``SLEEP_SLOWDOWN`` x at most (``Measurements.pool_waits``).  Three readings,
    none needing the order the pool serves in: its capacity (``workers`` complete at most workers /
    mean work calls a second; under the promised rate in a trailing part of the run, at the
    lanes-full rule's confidence, where that part's latencies are over the budget too: the queue
    grows without bound, however few effective samples it holds); each request's wait for a lane (lanes
    taken in order) plus its own service as short as neighbours can have made it; and the sorted
    latency floor of its bursts (``PoolWait.done_ms``), each failing the budget test."""
    for pool in m.pool_waits:
        why = _one_pool_over(m, pool, spec, budget, p, alpha)
        if why:
            return why
    return ""


def _one_pool_over(m: Measurements, pool: PoolWait, spec: SloSpec, budget: float, p: float, alpha: float) -> str:
    """``_pool_over`` of one pool or batcher."""
    n = np.size(m.latency_ms)
    if pool.wait_ms.size != n or pool.work_ms.size != n or not float(pool.work_ms.mean()) > 0:
        return ""
    own = neighbour_floor(m, m.contention_slowdown)
    floor = pool.wait_ms + (0.0 if own is None or own.size != n else np.nan_to_num(own, nan=0.0, posinf=0.0))
    what = (f"pool {pool.name!r}" if pool.batch == 1 else
            f"batcher {pool.name!r} (up to {pool.batch} calls a batch)")
    workers = f"{pool.workers} worker{'s' if pool.workers > 1 else ''}"
    mean = float(pool.work_ms.mean()) * SLEEP_SLOWDOWN * pool.batch
    slept = (f"its {workers} slept on a timer at least {mean:.3g} ms a {'request' if pool.batch == 1 else 'batch'} "
             f"on average while serving (one wake-up's sleep a call counts: a poll's count is the polled "
             f"work's), counted {SLEEP_SLOWDOWN:g}x shorter, more than busy neighbours stretch a sleep")
    each = alpha / (50.0 * len(LANES_FULL_PARTS))
    lat = np.asarray(m.latency_ms, dtype=np.float64)
    for share, part in LANES_FULL_PARTS if spec.rate_hz > 0 else ():
        start = n - n // share
        # as the lanes-full rule: a part whose latencies are over the budget (review112 F1: the
        # floor there, 63 requests' work less on 64 lanes, kept a batcher at 1.29x its capacity
        # from this reading)
        if not stats.quantile(lat[start:], p) > budget:
            continue
        _, low = stats.batch_mean_bound(pool.work_ms[start:], each)
        capacity = 1000.0 * pool.workers / low if low > 0 else math.inf
        if capacity < spec.rate_hz:
            return (f"{what} is over capacity: in the run's {part} {slept} (counted, at least "
                    f"{low * pool.batch:.3g} ms at {stats.confidence(each)}), so it completes at most "
                    f"{_under(capacity, spec.rate_hz)} requests/s in any order, under the promised "
                    f"{spec.rate_hz:g}/s: its queue "
                    f"grows with any run at this rate, and its latency with it")
    if stats.budget_test(floor, budget, p, alpha=alpha).outcome == FAIL:
        return (f"the queue in front of {what} fails the budget on any machine: {slept}, so with "
                f"{spec.streams} lane{'s' if spec.streams > 1 else ''} taken in order the requests cannot start "
                f"sooner, in any order of its queue, than {percentile_label(p)} "
                f"{stats.quantile(floor, p):.3g} ms after their arrival with their own service: an overload of "
                f"the code's own")
    done = pool.done_ms
    if done is not None and done.size == n and stats.budget_test(done, budget, p, alpha=alpha).outcome == FAIL:
        return (f"the queue in front of {what} fails the budget on any machine: {slept}, so however many lanes "
                f"and in any order of its queue, the requests that arrive together cannot all end sooner than "
                f"that work allows: {percentile_label(p)} at least {stats.quantile(done, p):.3g} ms: an overload "
                f"of the code's own in its bursts")
    return ""


#: What a sleep on a timer is allowed to have been stretched by beside busy neighbours: none
#: was measured (benchmarks/neighbour_sleep.py: a sleep's time off the CPU 1.013x its quiet self
#: at most at p99 beside three busy loops on two cores; the wake-up's wait for a CPU is counted
#: as the CPU's); the margin, over seven times that, covers wake-ups a machine delays otherwise.
#: Where a hypervisor took CPUs (steal), no sleep is credited at all (``result.STEAL_NO_SLEEP``).
#: It was 1.25 (review123 F7: bodies asleep 100% of their time, 30 ms against a 25-ms p95 on 55%
#: of the requests, were held back as busy neighbours' doing).
SLEEP_SLOWDOWN = 1.1


def _asleep(m: Measurements, ended: npt.NDArray[np.bool_]) -> npt.NDArray[np.float64] | None:
    """The requests' time asleep on a timer, aligned with their ended service times (None: not known)."""
    if m.asleep_ms is None or m.service_ms is None or m.asleep_ms.shape != m.service_ms.shape:
        return None
    asleep = np.nan_to_num(np.asarray(m.asleep_ms, dtype=np.float64)[ended], nan=0.0, posinf=0.0)
    return np.clip(asleep, 0.0, None) if bool(np.any(asleep > 0)) else None


def neighbour_floor(m: Measurements, k: float, which: slice | npt.NDArray[np.bool_] | None = None
                    ) -> npt.NDArray[np.float64] | None:
    """Each request's service (``which`` of them; NaN where it never ended, +inf where it raised)
    as short as busy neighbours can have made it: its time on or waiting for a CPU ``k`` times
    shorter, its sleep on a timer ``SLEEP_SLOWDOWN`` times, and any other wait (on another thread, a
    queue in front of one: a slowed thread's queue grows without bound) none at all, where its
    thread times are known (``Measurements.cpu_ms``); else all but the sleep ``k`` times shorter.
    None: no service times."""
    if m.service_ms is None:
        return None
    sel = slice(None) if which is None else which
    service = np.asarray(m.service_ms, dtype=np.float64)[sel]
    asleep = np.zeros(service.size) if m.asleep_ms is None or np.shape(m.asleep_ms) != np.shape(m.service_ms) \
        else np.clip(np.nan_to_num(np.asarray(m.asleep_ms, dtype=np.float64)[sel], posinf=0.0), 0.0, None)
    finite = np.isfinite(service)
    asleep = np.minimum(asleep, np.where(finite, service, 0.0))
    floor = np.where(finite, (service - asleep) / k + asleep / SLEEP_SLOWDOWN, service)
    if m.cpu_ms is not None and np.shape(m.cpu_ms) == np.shape(m.service_ms):
        cpu = np.asarray(m.cpu_ms, dtype=np.float64)[sel]
        known = finite & np.isfinite(cpu)
        mine = np.minimum(np.clip(np.nan_to_num(cpu), 0.0, None) / k + asleep / SLEEP_SLOWDOWN, floor)
        floor = np.where(known, mine, floor)
    return floor


#: The bodies' own time on a CPU, at the offered rate, that loads one CPU this much is named
#: beside a FAIL held back for busy neighbours (``interpreter_words``).
INTERPRETER_LOAD = 0.8


def interpreter_words(m: Measurements) -> str:
    """Where the bodies' own time on a CPU alone loads one CPU to ``INTERPRETER_LOAD`` or more at the
    offered rate, words that say so, for a FAIL held back as busy neighbours' ('' otherwise).
    Waiting for a CPU does not lengthen that time, and bodies that hold the GIL (pure Python) share
    one interpreter whatever the lanes, so the load may queue on a quiet machine too (review141 F5:
    2.43 ms a request at 400/s, 0.97 of one CPU, "the FAIL may be theirs" and nothing more).  A
    hint, not a verdict: this process cannot tell a body that holds the GIL from one that releases
    it (numpy) when neighbours leave it one CPU either way."""
    split = m.time_split
    if not split or m.service_ms is None or not (math.isfinite(m.offered_hz) and m.offered_hz > 0):
        return ""
    service = np.asarray(m.service_ms, dtype=np.float64)
    service = service[np.isfinite(service)]
    if not service.size:
        return ""
    on = float(split.get("cpu", 0.0)) * float(service.mean())
    load = m.offered_hz * on / 1000.0
    if load < INTERPRETER_LOAD:
        return ""
    # Both readings: a numpy team read the first alone as said of their code (review145 F1)
    return (f"; the bodies' own time on a CPU alone, {on:.3g} ms a request on average (waiting for a CPU "
            f"does not lengthen it), comes to {load:.2f} of one CPU at the offered {m.offered_hz:.4g}/s: if they "
            f"hold the GIL (pure Python), the lanes share one interpreter and this load queues on a quiet machine "
            f"too; if they release it (numpy, I/O), the machine's other CPUs may keep it, which this run, beside "
            f"busy neighbours, cannot tell")


#: CPUs the code's own threads outside the lanes must keep busy on average for a FAIL held back for
#: busy neighbours to name them (``own_threads_words``): under it, bookkeeping.
OWN_THREADS_CPUS = 0.2


def own_threads_words(m: Measurements) -> str:
    """Where the process's own threads outside the lanes kept ``OWN_THREADS_CPUS`` or more busy,
    words that say so beside a FAIL held back for busy neighbours ('' otherwise).  A native pool
    (numpy's BLAS) works on threads of its own, so the lanes' time on a CPU leaves it out, and the
    bodies read as "waiting on something else" (review188 F1: 4 lanes x 2 OpenBLAS threads on 2
    CPUs, 15 CPU-seconds on those threads, and the words named locks, sockets and other processes).
    A hint, not a verdict: on a quiet machine the same threads may fit."""
    if m.own_threads_cpus < OWN_THREADS_CPUS:
        return ""
    return (f"; this process's own threads outside the lanes (a native pool such as numpy's BLAS or OpenMP "
            f"threads, or a worker of the code's) kept {m.own_threads_cpus:.2f} of a CPU busy on average: the "
            f"code's work, competing with the neighbours and the lanes for the CPUs (OPENBLAS_NUM_THREADS=1, "
            f"OMP_NUM_THREADS=1 or threadpoolctl cap a native pool; a quiet run shows whether it fits)")


def _capacity_words(pool: PoolWait, offered_hz: float) -> str:
    """What a pool's sleep read beside busy neighbours says of its capacity, where it did not prove
    the pool over it (review176 F1: "neither puts it over capacity" of two workers found asleep
    11.4 ms a call at 199/s, which a reader works out at 175/s)."""
    capacity = 1000.0 * pool.workers / float(pool.work_ms.mean())
    if math.isfinite(offered_hz) and offered_hz > 0 and capacity < offered_hz:
        return (f"would let its {pool.workers} worker{'s' if pool.workers > 1 else ''} complete about "
                f"{capacity:.3g} requests/s, under the {offered_hz:.4g}/s offered, but not surely so at the "
                f"confidence a FAIL needs (a sleep's reading varies from call to call), nor does it fail the "
                f"budget alone")
    return "neither puts it over capacity nor fails the budget alone"


def _contended_words(m: Measurements, what: str = "FAIL") -> str:
    """Why a FAIL (or a regression: ``what``) beside busy neighbours is held back, with where the
    bodies spent their time."""
    split = time_split_words(m.time_split)
    text = m.contention + f": the {what} may be theirs, not the code's"
    if split and m.time_split and m.time_split.get("other", 0.0) >= 0.5 and m.batching:
        # (review109 F3: these words named "a lock, the GIL, a remote service" for a wait in the
        # plugin's own pool queue)
        slept = [w for w in m.pool_waits if w.work_ms.size and float(w.work_ms.mean()) > 0]
        # (review112 F1: "a worker that computes" for a batcher whose worker only slept)
        checked = "".join(
            f"; {'pool' if w.batch == 1 else 'batcher'} {w.name!r}'s workers were found asleep on a timer "
            f"{float(w.work_ms.mean()) * SLEEP_SLOWDOWN * w.batch:.3g} ms a {'call' if w.batch == 1 else 'batch'} "
            f"on average (one wake-up's sleep a call counts: a sleep cut up by polls, or by waits for the "
            f"interpreter, counts less), which, counted {SLEEP_SLOWDOWN:g}x shorter, "
            f"{_capacity_words(w, m.offered_hz)}" for w in slept)
        return text + (f" ({split}: the bodies wait on the service's own batcher or pool, in its queue or "
                       f"on a worker that computes, which busy neighbours slow and whose queue they can lengthen "
                       f"without bound{checked}); rerun on a quiet machine (--gpuslo-allow-throttle decides anyway)")
    if split and m.time_split and m.time_split.get("other", 0.0) >= 0.5:
        # (the GIL's holder, or a lock's, may itself be waiting for a CPU: pure-Python lanes starved of
        # CPUs read as waiting on something else, since only one of them is runnable at a time)
        return text + (f" ({split}: a lock or the GIL, whose holder may itself be waiting for a CPU, a socket, a "
                       f"pipe, an event loop or another process, which neighbours slow too where it runs on this "
                       f"machine){interpreter_words(m)}{own_threads_words(m)}; if what the "
                       "bodies wait for does not run here "
                       "(a remote service), --gpuslo-allow-throttle decides on this run, else rerun on a "
                       "quiet machine")
    uncredited = ""
    found = (m.time_split or {}).get("asleep", 0.0)
    if found >= 0.3 and _credited_share(m) < 0.5 * found:
        uncredited = ("; the sleep is not counted as the code's own time: it may poll work that busy "
                      "neighbours slow too (this process's other threads or its child processes worked "
                      "meanwhile, or a hypervisor took CPUs)")
    return text + (f" ({split})" if split else "") + uncredited + interpreter_words(m) + own_threads_words(m) + (
        "; rerun on a quiet machine (--gpuslo-allow-throttle decides anyway)")


def _credited_share(m: Measurements) -> float:
    """The share of the bodies' time counted as asleep on a timer by the neighbours' rule."""
    if m.asleep_ms is None or m.service_ms is None or m.asleep_ms.shape != m.service_ms.shape:
        return 0.0
    ok = np.isfinite(m.service_ms) & np.isfinite(m.asleep_ms)
    total = float(m.service_ms[ok].sum())
    return float(m.asleep_ms[ok].sum()) / total if total > 0 else 0.0


def time_split_words(split: Mapping[str, float] | None) -> str:
    """Where the bodies spent their time, in words ('' when not known)."""
    if not split:
        return ""
    parts = [f"{split.get('cpu', 0.0):.0%} on a CPU", f"{split.get('runq', 0.0):.0%} waiting for one"]
    if split.get("asleep", 0.0) >= 0.005:
        parts.append(f"{split['asleep']:.0%} asleep on a timer")
    parts.append(f"{split.get('other', 0.0):.0%} waiting on something else")
    return "the bodies spent " + ", ".join(parts[:-1]) + " and " + parts[-1]


@dataclass(frozen=True, slots=True)
class Check:
    """One claim of a test (a budget or the throughput) and its outcome."""

    name: str
    outcome: str
    #: one line: estimate, bounds, n and the like.
    detail: str
    reason: str = ""
    budget: stats.BudgetTest | None = None
    #: the outcome the claim would have had, where a condition held it back (``held_from``:
    #: "FAIL" for a FAIL held back as INCONCLUSIVE beside busy neighbours); reports name it.
    held_from: str = ""
    #: a claim without a budget test (the throughput): 0 for a FAIL, which is a measured shortfall
    #: of the run's completions, not an estimate; 1 otherwise.  The suite's Holm view counts it.
    p_fail: float | None = None
    #: where latencies are the raised requests' stand-in (``stats.raised_span``): a bound or
    #: estimate there is no latency; the JSON gives null for it (review99 #2).
    raised_span: tuple[float, float] = (math.inf, math.inf)

    def _raised(self, x: float) -> bool:
        return self.raised_span[0] < x <= self.raised_span[1]

    @property
    def upper_raised(self) -> bool:
        """The upper bound is a raised request's stand-in latency (the timeout), not a measured one:
        it bounds nothing, so no headroom is read off it (review84: a PASS read "headroom 0.01x")."""
        return self.budget is not None and self._raised(self.budget.upper)

    @property
    def estimate_raised(self) -> bool:
        return self.budget is not None and self._raised(self.budget.estimate)

    @property
    def headroom(self) -> float:
        """The budget over the upper bound, NaN where no upper bound is known or where the claim is
        undecided with room the run cannot show (review50: "headroom 1.32x" beside an INCONCLUSIVE
        whose bounds take a design effect from too few effective exceedances as right)."""
        b = self.budget
        if self.upper_raised:
            return 0.0 if self.outcome == FAIL else math.nan  # a FAIL with no measured upper end: 0
        if b is None or (self.outcome == INCONCLUSIVE and not 0.0 < b.headroom <= 1.0):
            return math.nan
        if self.outcome == FAIL and b.outcome != FAIL:
            return math.nan  # FAILed by another run (``ab_other_runs``): this run's room says nothing (review83)  # 0: no upper end at all (review51: JSON read 0.0 beside an undecided claim)
        return b.headroom

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "outcome": self.outcome, "detail": self.detail,
                               "reason": self.reason}
        if self.held_from:
            out["held_from"] = self.held_from
        b = self.budget
        if b is None and self.p_fail is not None:
            out["p_fail"] = self.p_fail
        if self.upper_raised:
            out["upper_raised"] = True
        if self.estimate_raised:
            out["estimate_raised"] = True
        if b is not None:
            out.update(p=b.p, budget_ms=b.budget, n=b.n, exceed=b.exceed,
                       **{f"{k}_ms": None if self._raised(v) else _num(v)
                          for k, v in (("estimate", b.estimate), ("lower", b.lower), ("upper", b.upper))},
                       design_effect=b.design_effect,
                       n_eff=b.n_eff, p_fail=b.p_fail, p_pass=b.p_pass, headroom=_num(self.headroom),
                       needed_n=b.needed_n)
            if b.length_only and b.needed_n:
                out["length_only"] = True
            if b.on_blocks and self.outcome == PASS:
                out["on_blocks"] = True
        return out


def _num(x: float) -> float | None:
    return None if (isinstance(x, float) and (math.isnan(x) or math.isinf(x))) else x


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of a test and every claim behind it."""

    outcome: str
    checks: tuple[Check, ...] = ()
    #: why the outcome is INCONCLUSIVE or FAIL, in words a user can act on.
    reasons: tuple[str, ...] = field(default_factory=tuple)
    #: comparisons against the stored baseline (REGRESSED, OK, IMPROVED, INCONCLUSIVE,
    #: NOT COMPARABLE); empty when there is no baseline.
    baseline: tuple["BaselineCheck", ...] = ()
    #: what went wrong with the run itself, as codes: "generator_late", "disturbed",
    #: "nonstationary" (the reasons say it in words; code reads these).
    conditions: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return self.outcome == PASS

    @property
    def shown(self) -> str:
        """The outcome as every table names it: a FAIL that only a baseline claim made (its budgets
        held) is REGRESSED; the JSON carries it as ``shown`` beside pytest's ``outcome`` (review100
        restart F1: the reports said REGRESSED, the JSON and the HTML's test badge FAIL)."""
        if self.outcome == FAIL and not any(c.outcome == FAIL for c in self.checks) and \
                any(b.outcome == "REGRESSED" for b in self.baseline):
            return "REGRESSED"
        return self.outcome

    def as_dict(self) -> dict[str, Any]:
        return {"outcome": self.outcome, "shown": self.shown, "reasons": list(self.reasons),
                "checks": [c.as_dict() for c in self.checks],
                "baseline": [b.as_dict() for b in self.baseline],
                "conditions": list(self.conditions)}


@dataclass(frozen=True, slots=True)
class BaselineCheck:
    """One percentile compared against the baseline."""

    name: str
    outcome: str
    detail: str
    reason: str = ""
    test: stats.RegressionTest | None = None
    #: the test compared the runs' replayed levels (``replay.shuffled``): reports mark it.
    replayed: bool = False
    #: (stored runs, sessions they come from) on the stored path, for a CI step that reads the JSON
    #: (review66: the count was only in the free-text detail).
    history: tuple[int, int] | None = None
    #: this run's percentile (or level) lies among its raised requests' stand-in latency: no number.
    raised: bool = False
    #: the other side's (stored runs', base's) percentile or level does: no number (review104).
    base_raised: bool = False
    #: where ``raised`` or ``base_raised``: what stood in for the number, in the tables' words
    #: ("raised", "timed out", "hung", "base timed out"; review107 F6, read from the detail before).
    stand_in: str = ""

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "outcome": self.outcome, "detail": self.detail,
                               "reason": self.reason}
        if self.replayed:
            out["replayed"] = True
        if self.raised:
            out["raised"] = True
        if self.base_raised:
            out["base_raised"] = True
        if self.stand_in:
            out["stand_in"] = self.stand_in
        if self.history is not None:
            out["stored_runs"], out["sessions"] = self.history
        t = self.test
        if t is not None:
            out.update(p=t.p, ratio=_num(t.ratio), ci=[_num(t.ci_low), _num(t.ci_high)],
                       p_regress=t.p_regress, p_ok=t.p_ok, alpha=_num(t.alpha), paired=t.paired, mde=_num(t.mde),
                       needed_n=t.needed_n, n_base=t.n_base, n_cand=t.n_cand)
            if t.runs_advised is not None:
                out["runs_advised"] = t.runs_advised
        return out


def _fmt_ms(x: float) -> str:
    if math.isinf(x):
        return "unbounded"
    if math.isnan(x):
        return "n/a"
    return f"{x:.3g}ms" if x < 100 else f"{x:.0f}ms"


#: Stored runs needed before a regression verdict can rest on their spread.
MIN_RUNS_FOR_SPREAD = 3
#: Sessions (boots, days) the stored runs must span before a shift since then can show in them.
MIN_SESSIONS = 3
#: Past this ratio an interval's upper end carries no information (review82: "55449809.086").
WIDEST_RATIO = 11.0


def _check(name: str, t: stats.RegressionTest, detail: str, replayed: bool = False) -> BaselineCheck:
    # A lower end of 0 is "no lower bound" (the stored runs' spread reaches past zero on the scale
    # used), not "the ratio could be 0" (review69).
    low = "no lower bound" if t.ci_low <= 0 else f"{t.ci_low:.3f}"
    high = ("no upper bound" if not math.isfinite(t.ci_high)
            else f"over {WIDEST_RATIO:g}" if t.ci_high > WIDEST_RATIO else f"{t.ci_high:.3f}")
    ci = ("" if math.isnan(t.ci_low) else f" [both ends over {WIDEST_RATIO:g}]" if t.ci_low > WIDEST_RATIO
          else f" [{low}, {high}]")
    if replayed:
        detail, t = detail + SHUFFLED_WORDS, replace(t, reason=f"{t.reason} ({SHUFFLED_REASON})")
    return BaselineCheck(name, t.outcome, f"{percentile_label(t.p)} level ratio {t.ratio:.3f}{ci} ({detail})",
                         t.reason, t, replayed)


#: What narrows an undecided stored-baseline comparison (the prediction interval's width is the
#: stored runs' own spread, so only more of them, or runs that cancel the machine, help).
ANOTHER_DAY = "a run saved on another day (--gpuslo-save) narrows it"
WIDER_HISTORY = f"{ANOTHER_DAY}, or compare interleaved on one machine (gpuslo ab BASE --max-runs 8)"


#: The interval's scale comes from the median replay lambda of the latest this many stored runs:
#: one run's lambda is a noisy second derivative; the median of three is steadier.
SCALE_RUNS = 3


def interval_scale(scales: Sequence[Mapping[str, float] | None], p: float, *,
                   replayed: bool = False) -> tuple[float, str]:
    """The Box-Cox scale of the stored-baseline interval at percentile ``p`` and how to say it.

    1/q (``stats.DEFAULT_SCALE``), or a steeper scale when the median ``replay.scale`` of the
    latest ``SCALE_RUNS`` stored runs says the queue bends more than one server near saturation
    (many servers near saturation: lambda -2 to -3, where 1/q gave 2-3% false alarms).  Never a
    flatter one: the replay is a model, one run's lambda is noisy, and 1/q is the scale measured to
    hold alpha everywhere else (statistics.md §2, "The scale, from a replay").  A run that carries
    no lambda (a light queue, lanes that cannot be replayed, a file from before the replay) counts
    as 1/q in that median: review69's four CPU runs, one at q^-1.81 and three light, were judged
    on that one run's scale alone, whose interval reached past zero and held a 4x p95 back."""
    key = percentile_label(p)

    def one(x: Mapping[str, float] | None) -> float | None:
        v = x.get(key) if x else None
        return float(v) if isinstance(v, (int, float)) and math.isfinite(v) else None

    found = [one(x) for x in scales]
    if not any(v is not None for v in found):
        # saved without one, a queue whose latency moved less than its service (replay.MIN_ELASTICITY),
        # or lanes a replay could not give back (a batcher)
        # (``replayed``: the levels compared were replays of these lanes, so not the last)
        why = ("their queue is light, or they were stored before the scale was kept" if replayed
               else "a light queue, or lanes that cannot be replayed")
        return stats.DEFAULT_SCALE, f"on 1/q (no machine-speed scale from the stored runs: {why})"
    latest = found[-SCALE_RUNS:]
    carried = [v for v in latest if v is not None]
    # To the two decimals it is printed with: q^-1.004 is 1/q, not "bends more than 1/q".
    lam = round(float(np.median([stats.DEFAULT_SCALE if v is None else v for v in latest])), 2)
    if lam >= stats.DEFAULT_SCALE:
        if not carried:
            return stats.DEFAULT_SCALE, (f"on 1/q (the latest {len(latest)} stored runs' replays found no "
                                         "machine-speed scale: a light queue, or lanes that cannot be replayed)")
        steep = [v for v in carried if round(v, 2) < stats.DEFAULT_SCALE]
        if len(carried) < len(latest) and steep:
            shown = ", ".join(f"q^{v:.2f}" for v in steep)
            return stats.DEFAULT_SCALE, (f"on 1/q (of the latest {len(latest)} stored runs only {len(steep)} "
                                         f"bent more than 1/q ({shown}); the others found no steeper scale or "
                                         "a light queue)")
        return stats.DEFAULT_SCALE, f"on 1/q (the stored runs' replay, q^{lam:.2f}, is no steeper)"
    return lam, f"on q^{lam:.2f} (the stored runs' replay: their queue bends more than 1/q)"


#: The bodies' own times (mean) moved by this factor or more while this machine's control moved
#: under ``CONTROL_STEADY``: the code's doing, whatever the sessions of the stored runs.
OWN_MOVED = 1.5
CONTROL_STEADY = 0.05
#: ... and a held reason names the own times where they moved its way by this factor or more.
OWN_MOVED_SAID = 1.1


def _own_need(outcome: str) -> str:
    """``OWN_MOVED`` as the change it asks of the own times, in words ("+50%", "-33%")."""
    return f"{OWN_MOVED - 1:+.0%}" if outcome == "REGRESSED" else f"{1 / OWN_MOVED - 1:+.0%}"


def _own_moved(m: Measurements, base: BaselineInput, shifts: Sequence[control.Shift],
               outcome: str) -> tuple[str, str]:
    """(why a REGRESSED (IMPROVED) against stored runs of one session stands, why the bodies' own
    times could not decide it); both '' where they moved too little or are not known.

    It stands where the bodies' own times (their mean; on CPU lanes time on a CPU plus asleep: no
    queue, no wait for the GIL or a CPU) grew (shrank) by ``OWN_MOVED`` or more against every
    stored run beyond what the machine's control moved (a control under ``CONTROL_STEADY`` counts as
    steady; a slower (faster) machine divides the own times' move by its ratio), and no other
    process was busy (review60: three busy loops stretched a one-lane body's time +78% while the
    control's short loop dodged them).  A machine shift scales the own times as it scales the
    control, with no queue to amplify it; on the grid's 15 families with a per-day factor of sd 2%,
    an unchanged body's mean moved 1.5x past three stored runs' in 0 of 2,000 draws from 600
    requests on (``benchmarks/validity/own_mean.py``).  review59: a body 4.6x slower read "a shift
    of the machine since then is invisible" and exited 0."""
    if outcome not in ("REGRESSED", "IMPROVED") or not m.own_mean_ms or not base.owns:
        return "", ""
    stored = [x for x in base.owns if x is not None and x > 0]
    if len(stored) != len(base.owns):
        return "", ""
    now = float(m.own_mean_ms)
    was = max(stored) if outcome == "REGRESSED" else min(stored)
    seen = f"the bodies' own times moved from {was:.3g} to {now:.3g} ms (mean, {now / was - 1:+.0%})"
    # Said only where they moved its way by a tenth or more (review60: +39% went unmentioned;
    # review61: "+0%, short of the +50%" beside busy neighbours, the real blocker unnamed).
    if not (now >= OWN_MOVED_SAID * was if outcome == "REGRESSED" else now * OWN_MOVED_SAID <= was):
        return "", ""
    if m.contention:
        return "", f"{seen}, but other processes were busy during this run, which stretches them too"
    if not (now >= OWN_MOVED * was if outcome == "REGRESSED" else now * OWN_MOVED <= was):
        return "", (f"{seen}, short of the {_own_need(outcome)} against every stored run that no shift of the "
                    f"machine explains")
    if len(stored) < MIN_RUNS_FOR_SPREAD:  # review61: say what one-session runs would need
        return "", (f"{seen}: against {MIN_RUNS_FOR_SPREAD} or more stored runs, even of one session, that "
                    f"decides on a quiet machine whose control did not move")
    ctl = control.deciding(shifts)
    if ctl is None:
        return "", f"{seen}, but this run has no machine control to say the machine did not move"
    # Only a machine that moved the same way can explain it (review60: a control 6% faster held
    # back a body 2x slower), and only by as much as it moved: a machine c times slower makes the
    # own times c times longer, no queue amplifying it, so the own times are judged against the
    # control's move (review67: own times +98% beside a control +13.4% were held back as "moved too").
    against = ctl.ratio >= 1.0 + CONTROL_STEADY if outcome == "REGRESSED" else ctl.ratio <= 1.0 - CONTROL_STEADY
    beyond = now / (was * ctl.ratio) if against else now / was
    if not (beyond >= OWN_MOVED if outcome == "REGRESSED" else beyond * OWN_MOVED <= 1.0):
        return "", (f"{seen}, but this machine's control moved {ctl.ratio - 1:+.1%} too: beyond that move the "
                    f"own times moved {beyond - 1:+.0%}, short of the {_own_need(outcome)} no shift of the machine "
                    f"explains")
    return (f"{seen} while this machine's control ({control.NAMES.get(ctl.key, ctl.key)}) moved "
            f"{ctl.ratio - 1:+.1%}: no shift of the machine explains that, so neither the stored runs' "
            f"sessions nor the control's move hold it back"), ""


#: Why a run cannot be replayed on another machine's speed: its file keeps no request stamps ...
NO_STAMPS = "the file this run was read from keeps no request stamps; only last-run records, .gpuslo/.last/, keep them"
#: ... or the replay (``replay.sped_up``) cannot stand for it (review144 F2: "a request failed, a
#: batcher ran" of a run where neither happened, whose lanes' service grew when they were busy).
NO_REPLAY = ("the run's own lanes replayed as FIFO servers do not reproduce its percentile (a service that grows "
             "when the lanes are busy, such as bodies contending for the GIL, or a batcher), or a request failed")


def _beyond_machine(m: Measurements, base: BaselineInput, p: float, moved: control.Shift,
                    lv: Sequence[float] | None, alpha: float, delta: float, big: float,
                    lam: float) -> tuple[str, str]:
    """(why a REGRESSED stands although this machine's control read it slower, or '' where the
    machine may explain it; words on how far a faster machine brings the change back, or '').

    A control outside the stored spread held back every REGRESSED, however small its move against
    the change (review67: a CPU loop 45% slower on a shared VM held back a p95 +397%; near
    saturation, though, 5% moves a p95 by 2x).  So this run is replayed on a machine as much faster
    as the control's reading allows at most (``control.most``: its own noise counted;
    ``Measurements.sped_up``: its service and hand-offs divided, its queue rebuilt), and the prediction
    interval asks again: a REGRESSED that still stands is the code's.  No replay (a batcher, a
    failed request): held, as before."""
    if moved.ratio <= 1.0:
        return "", ""
    if m.sped_up is None:
        # review69: the held reason gave no replay figure and no word why
        return "", f" (no replay on a faster machine can tell here: {NO_STAMPS})"
    factor = control.most(moved)
    fall = (m.sped_up(factor) or {}).get(percentile_label(p))
    if fall is None or not math.isfinite(fall):
        return "", f" (no replay on a faster machine can tell here: {NO_REPLAY})"
    lat = np.asarray(m.latency_ms, dtype=np.float64)
    if lv is not None:  # the stored runs' replayed statistics, then this run's (``shuffled_levels``)
        stored, level = list(lv[:-1]), float(lv[-1])
    else:
        n = min(lat.size, *(x.size for x in base.runs))
        stored = [stats.run_statistic(np.asarray(x, dtype=np.float64)[:n], p) for x in base.runs]
        level = stats.run_statistic(lat[:n], p)
    again = stats.prediction_test(base.runs, lat, p, alpha=alpha, delta=delta, Delta=big,
                                  groups=base.session_of or None, scale=lam, levels=(stored, level + fall))
    said = f"replayed on a machine {factor:.3g}x faster (the most its reading allows), {percentile_label(p)} is"
    if again.outcome == "REGRESSED":
        return (f"this machine's control moved ({moved.words}), but {said} still {again.ratio - 1:+.1%} "
                f"(REGRESSED): no shift of the machine that control can read explains that"), ""
    return "", f" ({said} {again.ratio - 1:+.1%})" if math.isfinite(again.ratio) else ""


def _ok_on_a_faster_machine(t: stats.RegressionTest, m: Measurements, shifts: Sequence[control.Shift],
                            big: float) -> stats.RegressionTest:
    """An OK against stored runs where this machine's control read it faster than when they were
    recorded: a slower build may hide in a faster machine (review142 F4: +20% work read "p95
    -15.6% OK ... no regression of 5% or more" beside a CPU loop 16.5% faster than in the one
    stored run).  This run is replayed on a machine as slow as the stored runs' (``replay.sped_up``
    at the control's ratio, or, from ``control.MIN_RUNS`` stored controls on, where it moved outside
    their spread, at the slowest its reading allows, ``control.most``), its interval's upper end
    moved by the rise; the OK stands where that end stays under ``big`` (the largest regression an
    OK may hide), else it is INCONCLUSIVE with the reason.  No replay (``NO_REPLAY``: GIL-bound
    lanes, a batcher, a failed request; ``NO_STAMPS``): held."""
    if t.outcome != "OK":
        return t
    s = control.deciding(shifts)
    # Under ``control.MIN_RUNS`` stored controls, no spread says what a reading's noise is: one
    # within ``control.REPORT_MIN`` is taken as the machine unmoved, as the evidence line takes it
    # (a GPU kernel's 0.01% read "GPU kernel 0.0% faster").
    if s is None or not s.ratio < 1.0 or (not s.outside if s.runs >= control.MIN_RUNS
                                           else s.ratio > 1.0 - control.REPORT_MIN):
        return t
    factor = control.most(s) if s.runs >= control.MIN_RUNS else s.ratio
    label = percentile_label(t.p)
    rise = (m.sped_up(factor) or {}).get(label) if m.sped_up is not None else None
    said = f"this machine's control read it faster than then ({s.words})"
    if rise is None or not math.isfinite(rise):
        why = f"no replay on a machine as slow as then can tell here ({NO_REPLAY if m.sped_up is not None else NO_STAMPS})"
        return replace(t, outcome=INCONCLUSIVE, reason=f"{label} {t.ratio - 1:+.1%} (it would read OK on these runs "
                       f"alone), but {said}, and a slower build may hide in a faster machine: {why}; rerun when "
                       f"the machine is as it was, or compare interleaved on one machine (gpuslo ab)")
    high = t.ci_high * math.exp(max(rise, 0.0))
    replayed = (f"replayed on a machine {1.0 / factor:.3g}x slower (as slow as then{', the most its reading allows' if s.runs >= control.MIN_RUNS else ''}), "
                f"its upper bound reads {high - 1:+.1%}")
    if high < 1.0 + big:
        return replace(t, reason=f"{t.reason}; {said}, but {replayed}: the OK stands")
    return replace(t, outcome=INCONCLUSIVE, reason=f"{label} {t.ratio - 1:+.1%} (it would read OK on these runs "
                   f"alone), but {said}, and {replayed}, past the +{big:.0%} an OK rules out: a slower build may "
                   f"hide in a faster machine; rerun when the machine is as it was, or compare interleaved on one "
                   f"machine (gpuslo ab)")


def _held_back(t: stats.RegressionTest, why: str) -> stats.RegressionTest:
    """A REGRESSED or IMPROVED the evidence cannot carry, turned INCONCLUSIVE with the reason."""
    if t.outcome not in ("REGRESSED", "IMPROVED"):
        return t
    return replace(t, outcome=INCONCLUSIVE,
                   # review74: "(improved within the runs)" of identical code read as a real improvement
                   reason=f"{percentile_label(t.p)} {t.ratio - 1:+.1%} (it would read {t.outcome} on these runs "
                          f"alone), but {why}")


#: The most a run's replayed statistic may differ from its own (ln units: a factor e) to be used.
SHUFFLED_SPAN = 1.0
#: How a regression check's detail marks that it compared the replayed statistic (``replay.shuffled``);
#: the reason says what that is (``-v`` prints both on one line: said once).
SHUFFLED_WORDS = "; replayed levels"
#: What a claim on replayed levels adds to its reason (the markdown report lists reasons).
SHUFFLED_REASON = ("on each run's level averaged over 16 replays of its service times in random orders: the "
                   "change is of those levels, not of the measured percentile itself")


def shuffled_levels(maps: Sequence[Mapping[str, float] | None], runs: Sequence[npt.NDArray[np.float64]],
                    p: float) -> list[float] | None:
    """Every run's replayed statistic at ``p`` (``Measurements.shuffled``), or None unless every run
    has one and all runs are as long (the statistics were taken over whole runs, which the tests
    otherwise cut to a common length).  Given both sides' runs at once: one run without it, and the
    sides compare the latencies."""
    key = percentile_label(p)
    if not runs or len(maps) != len(runs) or len({r.size for r in runs}) != 1:
        return None
    found = [m.get(key) if m else None for m in maps]
    if any(not isinstance(x, (int, float)) or not math.isfinite(x) for x in found):
        return None
    # A replay deals the run's own service times: its level stays within a factor e of the run's
    # own (luck of order moved it by 4-14% on the grid).  Further is not this run's replay (an
    # edited file, a run stored under another percentile's key): the latencies decide.
    own = [stats.run_statistic(r, p) if r.size >= 2 * stats.RUN_STAT_BATCHES and np.all(r > 0) else math.nan
           for r in runs]
    if not all(abs(float(x) - o) <= SHUFFLED_SPAN for x, o in zip(found, own)):  # type: ignore[arg-type]
        return None
    return [float(x) for x in found]  # type: ignore[arg-type]


def measured_why(p: float, *sides: tuple[str, int, Sequence[Mapping[str, float] | None], Sequence[str]],
                 numbers: Sequence[Sequence[int]] = ()) -> str:
    """Why a comparison took the measured levels rather than the replayed ones, for its detail:
    the first run without a replayed level, named, with the reason it recorded (a GPU's kernels
    that run longer after an idle stream, a batcher, a Python body slowed by its neighbours); ''
    where no run kept one (nothing to explain) or none says why.  ``sides``: (what a run is
    called, how many runs, their levels, their reasons), either sequence empty where not known;
    ``numbers``: each side's runs' numbers where some were set aside (``ABInput.numbers``)."""
    key = percentile_label(p)
    runs = [(f"{what} {numbers[i][k] if numbers else k + 1}" if count > 1 or numbers else what,
             bool(maps) and bool(maps[k]) and key in maps[k],  # type: ignore[operator]
             offs[k] if offs else "") for i, (what, count, maps, offs) in enumerate(sides) for k in range(count)]
    if not any(have or off for _, have, off in runs):
        return ""
    for name, have, off in runs:
        if not have:
            return f"{name}: {off}" if off else f"{name} carries none (recorded before replayed levels, or of another percentile)"
    return "the replayed levels are of runs of other lengths, or far from their runs' own"


def differ_words(keys: Sequence[str]) -> str:
    """"cpu differs", "cpu, cpu_count differ"."""
    return f"{', '.join(keys)} {'differs' if len(keys) == 1 else 'differ'}"


@dataclass(frozen=True, slots=True)
class Stall:
    """A run of an A/B session whose load generator fell behind or stalled (``stalls``): its lag
    p99, and the neighbours' load where one was measured (``Measurements.contention``)."""

    lag_p99_ms: float
    contention: str = ""
    #: its lag p99 is over the lag limit and ``STALL_OUTLIER`` times the session's median run's
    #: (``median_ms``): a stall far beyond the other runs' (``set_aside``).
    outlier: bool = False
    median_ms: float = 0.0
    #: the longest its process was found stopped (``Measurements.frozen_ms``).
    frozen_ms: float = 0.0
    #: its threads' wait for CPUs (``Measurements.run_queue_stretch``).
    stretch: float | None = None

    @property
    def stopped(self) -> str:
        """``stopped_words`` of its run (review151 F2: a set-aside run frozen by a SIGSTOP read only
        "stalled far beyond the other runs")."""
        return stopped_words(self.frozen_ms, busy=bool(self.contention), stretch=self.stretch)

    @property
    def words(self) -> str:
        return f"lag p99 {_fmt_ms(self.lag_p99_ms).replace('ms', ' ms')}" + "".join(
            f"; {w}" for w in (self.stopped, self.contention) if w)


#: A stop of the process shorter than this (ms) is not named: a few milliseconds beyond
#: ``timeline.FROZEN_SLACK_NS`` are hypervisor steal or noise, still counted as the machine's
#: (review152 F2: "stopped for up to 1.29 ms" of a run nobody stopped).
FROZEN_NAMED_MS = 10.0


#: A run whose own threads waited this many times their CPU time for CPUs (``run_queue_stretch``)
#: names no stop for sure: a thread the dispatcher waits on (the GIL's holder, a lock's) kept that
#: long from a CPU leaves it off every CPU without waiting for one, as a stop does (review153 F4:
#: "stopped for up to 132 ms ... a SIGSTOP" beside three busy loops at a stretch of 141, nothing
#: stopped; a 0.4-s SIGSTOP beside the test suite's other worker: 1.4-1.6).  It is said as either
#: (benchmarks/validity/stop_naming.py: real 400-ms SIGSTOPs of a run niced beside three busy
#: loops, stretch 11-13, were named nowhere when such a run named none).
STARVED_STRETCH = 4.0
#: ... nor does one under this (ms) beside busy neighbours or steal (``cpu_contention``): a holder's
#: wait of a few time slices.
BUSY_NAMED_MS = 100.0


#: How a stop named for sure begins (``stopped_words``).
STOPPED = "the process was stopped for up to"


def stopped_words(frozen_ms: float | None, *, busy: bool = False, stretch: float | None = None) -> str:
    """'' or "the process was stopped for up to N ms": the one wording of a stop (``FROZEN_NAMED_MS``
    or longer) that the rows, the A/B notes and a refused save share.  Where the process's threads
    were starved (``stretch`` at ``STARVED_STRETCH`` or more) it may have been a wait on a thread
    kept from a CPU, and is said as either; none is named under ``BUSY_NAMED_MS`` beside busy
    neighbours (``busy``) or starved: the neighbours' words say why.  The time still counts as the
    machine's, whichever it was."""
    if not isinstance(frozen_ms, (int, float)) or not frozen_ms >= FROZEN_NAMED_MS:
        return ""
    starved = stretch is not None and stretch >= STARVED_STRETCH
    if (busy or starved) and frozen_ms < BUSY_NAMED_MS:
        return ""
    ms = _fmt_ms(float(frozen_ms)).replace('ms', ' ms')
    if starved:
        return (f"the process was off every CPU for up to {ms} (a stop, or a wait on a thread kept from a CPU: "
                f"its threads waited {stretch:.0f}x their CPU time for one)")
    return f"{STOPPED} {ms}"


def with_cause(stop: str, cause: str) -> str:
    """``stopped_words``' words, with what stops a whole process after a stop named for sure (the
    words of one that may have been a wait say their own causes)."""
    return f"{stop} ({cause})" if stop.startswith(STOPPED) else stop


#: A run whose lag p99 is over the lag limit and this many times the median run's, in one A/B
#: session, stalled, even where its lateness added little to its completions (``stalls``).
STALL_OUTLIER = 10.0
#: ... or this many times, where its neighbours were busy (``Measurements.contention``: other
#: processes or hypervisor steal) and most of the session's runs had quiet ones: its lateness is the
#: machine's by what the machine showed, not by the run's level (review152 F2: steal in one base
#: run, lag p99 12.6 ms against 2.4-3.4 ms and p95 37.8 ms against 5.1-5.3, held a +57% change at
#: INCONCLUSIVE).  Measured: benchmarks/validity/ab_stalls.py, "one busy".
CONTENDED_OUTLIER = 3.0


def stalls(spec: SloSpec, runs: Sequence[Measurements], policy: Policy = Policy()) -> list[Stall | None]:
    """Each of an A/B session's runs' ``Stall`` (both sides' runs, in any order), None where its
    generator kept up: it fell behind (``generator_behind``), or its lag p99 is over the lag limit
    and ``STALL_OUTLIER`` times the median run's (``CONTENDED_OUTLIER`` times beside busy neighbours
    most runs did not have).  The second: a freeze of the whole process (a
    VM paused, a SIGSTOP) stops the lanes too, so the generator's lateness delays few completions
    beyond the freeze itself, yet the run's tail holds it (review124 N4: a run 930 ms late at p99
    was not named, and the claim advised 19 runs a side)."""
    lag99 = [float(np.quantile(np.asarray(m.lag_ms, dtype=np.float64), 0.99)) if np.asarray(m.lag_ms).size
             else 0.0 for m in runs]
    limit = lag_limit_ms(spec, policy)
    typical = float(np.median(lag99)) if lag99 else 0.0
    alone = 2 * sum(bool(m.contention) for m in runs) < len(runs)  # most runs' neighbours quiet
    far = [lag > limit and (lag >= STALL_OUTLIER * typical
                            or (bool(m.contention) and alone and lag >= CONTENDED_OUTLIER * typical))
           for m, lag in zip(runs, lag99)]
    return [Stall(lag, m.contention, beyond, typical, m.frozen_ms, m.run_queue_stretch)
            if beyond or generator_behind(spec, m, policy) else None for m, lag, beyond in zip(runs, lag99, far)]


#: The way out of an A/B a busy or stalled machine left undecided, said once in a reason.
RERUN_AB = "rerun gpuslo ab when the machine is quieter"
#: ... and of one that ran once a side, which no machine decides (review158 F1: the row sent a
#: ``--runs 1`` session to a quieter machine, where it stays undecided).
RERUN_AB_MORE = "rerun gpuslo ab with --runs 3 or more: one run a side cannot show run-to-run noise"


def rerun_ab(base_runs: int, cand_runs: int) -> str:
    """The way out of an A/B left undecided beside stalls: a quieter machine, unless a side ran
    once and both together cannot show a run's spread (``stats.ab_test``: no degree of freedom)."""
    return RERUN_AB_MORE if base_runs + cand_runs < 3 else RERUN_AB


def _stalls(ab: ABInput) -> tuple[str, str]:
    """(words for a candidate's spread that its runs' stalls explain, '' where none of its runs
    fell behind; a note naming every run on either side whose generator fell behind, '' where
    none).  Beside busy neighbours the way out is a rerun on a quieter machine."""
    named = [(side, k, count, x) for side, runs, (ks, count) in (("base", ab.base_behind, ab.numbers("base")),
                                                                  ("candidate", ab.cand_behind, ab.numbers("candidate")))
             if len(runs) == len(ks) for k, x in zip(ks, runs) if x is not None]
    if not named:
        return "", ""
    # (one run a side: ``stats.ab_test`` says "use --runs 3 or more", which no quieter machine replaces)
    once = rerun_ab(len(ab.base_runs), len(ab.cand_runs)) != RERUN_AB
    cure = f"; {RERUN_AB}" if not once and any(x.contention for *_, x in named) else ""
    runs = "; ".join(f"{side} run {k} of {count} ({x.words})" for side, k, count, x in named)
    note = (f"the load generator fell behind in {runs}: a stall can move a run's level, and it widens the spread "
            f"the figures above come from{cure}")
    far = [f"{side} run {k}" for side, k, _, x in named if x.outlier]
    if far:  # review148: two of three base runs stalled far, none set aside, and no word of why
        note += (f"; {' and '.join(far)} stalled far beyond the other runs, yet {'was' if len(far) == 1 else 'were'} "
                 f"kept: a run is set aside only where {MIN_AB_RUNS} runs a side remain and its requests "
                 f"neither raised nor hung")
    cand = [f"its run {k} of {count} had a load generator that fell behind ({x.words})"
            for side, k, count, x in named if side == "candidate"]
    spread = "; ".join(cand) + ", so that run's tail holds the stall" + cure if cand else ""
    return spread, note


#: A/B runs a side that ``set_aside`` leaves at least (the fewest ``stats.ab_test`` judges on).
MIN_AB_RUNS = 2


def set_aside(ab: ABInput) -> ABInput:
    """The A/B input without the runs whose load generator stalled far beyond the session's other
    runs (``Stall.outlier``), where the stalls reached too many requests to leave out of every run
    (``untouched`` is None) and at least ``MIN_AB_RUNS`` runs a side remain; else ``ab`` itself.

    Review142 F3: one base run stalled by busy neighbours (lag p99 70 ms against 2.5 ms, p95 384 ms
    against 3.3-3.6) held a +60% build at "+93% [-57%, +777%]", every other candidate run 2x
    every other base run.  A stall is the machine's, not the code's, on whichever side it falls,
    so either side's runs are set aside by one rule, and the runs left on both sides are the
    session's unstalled ones alike (measured: benchmarks/validity/ab_stalls.py, "one huge").  A
    candidate run that raised or hung is kept (its failure is the code's, and may be its stall's
    cause); one set aside holds an OK or IMPROVED back (``_aside_words``)."""
    if ab.aside or untouched(ab) is not None:
        return ab
    sides = (("base", ab.base_runs, ab.base_behind, ab.base_raised_counts, ()),
             ("candidate", ab.cand_runs, ab.cand_behind, ab.cand_raised_counts, ab.cand_hung))
    gone: dict[str, set[int]] = {}
    for side, runs, behind, raised, hung in sides:
        failed = [bool(raised[k]) if len(raised) == len(runs) else False for k in range(len(runs))]
        failed = [f or (len(hung) == len(runs) and hung[k] > 0) for k, f in enumerate(failed)]
        gone[side] = {k for k, x in enumerate(behind) if len(behind) == len(runs) and x is not None and x.outlier
                      and not failed[k]}
        if len(runs) - len(gone[side]) < MIN_AB_RUNS:
            return ab
    if not any(gone.values()):
        return ab

    def kept(side: str, xs: tuple[Any, ...], n: int) -> tuple[Any, ...]:
        return xs if len(xs) != n else tuple(x for k, x in enumerate(xs) if k not in gone[side])

    nb, nc = len(ab.base_runs), len(ab.cand_runs)
    fields: dict[str, Any] = {f: kept("base", getattr(ab, f), nb) for f in (
        "base_runs", "base_from_dispatch", "base_holds", "base_waits", "base_hosts", "base_shuffled",
        "base_shuffled_off", "base_raised_counts", "base_behind")}
    fields |= {f: kept("candidate", getattr(ab, f), nc) for f in (
        "cand_runs", "cand_from_dispatch", "cand_holds", "cand_waits", "cand_hosts", "cand_shuffled",
        "cand_shuffled_off", "cand_raised_counts", "cand_behind")}
    aside = tuple((side, k + 1, len(runs), x) for side, runs, behind, _, _ in sides
                  for k in sorted(gone[side]) for x in [behind[k]] if x is not None)
    return replace(ab, **fields, aside=aside)


def _aside_words(ab: ABInput, t: stats.RegressionTest) -> stats.RegressionTest:
    """A claim decided without the runs ``set_aside`` took out, saying which and why; an OK or
    IMPROVED held back where a candidate run was among them: its stall may be the candidate's own
    (a body holding the interpreter, a pause it causes), and leaving it out favours the candidate."""
    if not ab.aside:
        return t
    runs = "; ".join(f"{side} run {k} of {n} (lag p99 {_fmt_ms(x.lag_p99_ms).replace('ms', ' ms')} against the "
                     f"runs' median {_fmt_ms(x.median_ms).replace('ms', ' ms')}{'; ' + x.stopped if x.stopped else ''})"
                     for side, k, n, x in ab.aside)
    note = (f"set aside: {runs}, whose load generator stalled far beyond the session's other runs (over "
            f"{STALL_OUTLIER:g}x their median lag p99, or {CONTENDED_OUTLIER:g}x beside busy neighbours most runs "
            f"did not have), and too long to leave its requests out of every run: "
            f"such a stall moves a run's level by itself; decided on the other {len(ab.base_runs)}+"
            f"{len(ab.cand_runs)} runs")
    if t.outcome in ("OK", "IMPROVED") and any(side == "candidate" for side, *_ in ab.aside):
        return replace(t, outcome=INCONCLUSIVE, reason=f"{percentile_label(t.p)} {t.ratio - 1:+.1%} (it would "
                       f"read {t.outcome} on the runs left), but {note}; a candidate run's stall may be the "
                       f"candidate's own, so an {t.outcome} needs every candidate run: rerun gpuslo ab")
    if t.outcome == INCONCLUSIVE:
        # review153 F5: "+2% would take over 50 runs a side" came first, as the way out, where a
        # stalled run is why the session decided on fewer: the row, the JSON and the markdown lead
        # with the runs set aside and the rerun, then what the runs left can show
        note = note.replace("decided on the other", "judged on the other")  # (review155 F4: not decided)
        return replace(t, reason=f"{note}; {RERUN_AB}. On the runs left: {t.reason}")
    return replace(t, reason=f"{t.reason}; {note}")


def compare_ab(spec: SloSpec, ab: ABInput, policy: Policy) -> tuple[BaselineCheck, ...]:
    """The regression claims of interleaved A/B runs (one per budgeted percentile)."""
    if ab.differing:
        why = (f"the two sides offered different loads ({'; '.join(ab.differing)}): a latency change "
               f"then says nothing about the code; compare with the same marker on both sides")
        return tuple(BaselineCheck(f"{percentile_label(p)} vs {ab.label}", "NOT COMPARABLE", why, why)
                     for p in list(spec.budgets_ms) or [0.95])
    out = []
    for p in list(spec.budgets_ms) or [0.95]:
        delta, big = policy.noise_floor(p)
        ra = len(ab.base_runs)
        lv = shuffled_levels(ab.base_shuffled + ab.cand_shuffled, ab.base_runs + ab.cand_runs, p)
        spread, stalled = _stalls(ab)
        t = stats.ab_test(list(ab.base_runs), list(ab.cand_runs), p, alpha=policy.alpha, delta=delta, Delta=big,
                          levels=None if lv is None else (lv[:ra], lv[ra:]), stalled=spread)
        t = _aside_words(ab, t)
        if t.outcome == INCONCLUSIVE and stalled and not (spread and t.unstable):  # (said there once)
            if RERUN_AB in t.reason:  # the set-aside words lead with it (review155 F4: said twice)
                stalled = stalled.replace(f"; {RERUN_AB}", "")
            t = replace(t, reason=f"{t.reason}; {stalled}")
        why = "" if lv is not None else measured_why(
            p, ("base run", ra, ab.base_shuffled, ab.base_shuffled_off),
            ("candidate run", len(ab.cand_runs), ab.cand_shuffled, ab.cand_shuffled_off),
            numbers=(ab.numbers("base")[0], ab.numbers("candidate")[0]) if ab.aside else ())
        out.append(_check(f"{percentile_label(p)} vs {ab.label}", t,
                          f"against {ab.label}, A/B, {ra}+{len(ab.cand_runs)} interleaved runs; n {t.n_base} per run"
                          + (f"; measured levels, not replayed ({why})" if why else ""),
                          replayed=lv is not None))
    return tuple(out)


def compare(spec: SloSpec, m: Measurements, base: BaselineInput | ABInput,
            policy: Policy) -> tuple[BaselineCheck, ...]:
    """The regression claims of a run against its baseline (one per budgeted percentile).

    Three or more stored runs of the same schedule from three or more sessions: a prediction
    interval from their own spread (every run-level noise counted once, power rising with the runs),
    at alpha x ``stats.PI_ALPHA_FACTOR``.  Fewer runs or sessions, or another schedule: the paired
    (or unpaired) test within the two runs may say OK, but a REGRESSED or IMPROVED it finds is held
    back as INCONCLUSIVE with the reason, because a machine factor constant within a run, or a
    shift since the stored runs' session, is invisible to it, and near saturation a 5% slower
    machine moves a p95 by 2x or more (an independent check found 5% false REGRESSED at
    utilisation 0.95 when a 2x shift in every block still decided).  A/B runs go to ``compare_ab``.
    """
    if isinstance(base, ABInput):
        return compare_ab(spec, base, policy)
    percentiles = list(spec.budgets_ms) or [0.95]
    apart = (f"baseline from a different machine ({differ_words(base.differing)}); the absolute budget is still "
             f"checked. {RECORD_HINT}" if base.differing else
             f"the stored runs measured another load ({'; '.join(base.changed)}): a latency change then says "
             f"nothing about the code; the absolute budget is still checked. {LOAD_HINT}" if base.changed else "")
    if apart:
        return tuple(BaselineCheck(f"{percentile_label(p)} vs baseline", "NOT COMPARABLE", apart, apart)
                     for p in percentiles)
    lat = np.asarray(m.latency_ms, dtype=np.float64)
    r = len(base.runs)
    shifts = control.machine_shift(m.control, base.controls)
    said = control.summary(shifts, busy=bool(m.contention))
    ctl_note = f"; machine control: {said}" if said else ""
    out = []
    for p in percentiles:
        delta, big = policy.noise_floor(p)
        name = f"{percentile_label(p)} vs baseline"
        if base.paired and r >= MIN_RUNS_FOR_SPREAD:
            lv = shuffled_levels(base.shuffled + (m.shuffled,), base.runs + (lat,), p)
            lam, on = interval_scale(base.scales, p, replayed=lv is not None)
            t = stats.prediction_test(base.runs, lat, p, alpha=policy.alpha * stats.PI_ALPHA_FACTOR,
                                      delta=delta, Delta=big, groups=base.session_of or None, scale=lam,
                                      levels=None if lv is None else (lv[:-1], lv[-1]))
            if t.outcome == INCONCLUSIVE:
                # review81: "compare interleaved with gpuslo ab" twice in one reason
                wider = WIDER_HISTORY if "gpuslo ab" not in t.reason else ANOTHER_DAY
                t = replace(t, reason=f"{t.reason}; {wider}")
            own_moved, own_seen = _own_moved(m, base, shifts, t.outcome) if base.sessions < MIN_SESSIONS else ("", "")
            if own_moved:
                t = replace(t, reason=f"{t.reason}; {own_moved}")
            elif base.sessions < MIN_SESSIONS:
                few = (f"{r} stored runs come from {base.sessions} session(s) (runs that share a UTC day or a "
                       f"$GPUSLO_SESSION label count once)")
                if t.outcome == INCONCLUSIVE:
                    # review66: "can detect >= 4% with 8 stored runs" from one session, where any
                    # REGRESSED would be held back.
                    t = replace(t, reason=f"{t.reason}; and a REGRESSED needs runs from {MIN_SESSIONS} sessions: "
                                          f"these {few}")
                t = _held_back(t, f"all {few}, so a shift of the machine since then is invisible to their spread"
                               + (f" ({own_seen})" if own_seen else "")
                               + "; record runs on other days (under no GPUSLO_SESSION label they share), "
                                 "or compare interleaved on one machine (gpuslo ab)")
            moved = control.explains(shifts, t.outcome)
            if moved is not None:
                stands, faster = _beyond_machine(m, base, p, moved, lv, policy.alpha * stats.PI_ALPHA_FACTOR,
                                                 delta, big, lam)
                # Or the bodies' own times (no queue in them) moved half again beyond the control's
                # move on a quiet machine: the session rule's evidence, whatever the sessions
                # (review69: own times +110% beside a CPU loop +18% were held back, and gpuslo
                # compare, which cannot replay, always held).
                own = own_moved or _own_moved(m, base, shifts, t.outcome)[0]
                if stands:
                    t = replace(t, reason=f"{t.reason}; {stands}")
                elif own:
                    if not own_moved:
                        t = replace(t, reason=f"{t.reason}; {own}")
                else:
                    t = _held_back(t, f"this machine's control moved: {moved.words}, outside their spread, so "
                                   f"the machine may explain the change{faster}; rerun when it is as it was, or "
                                   f"compare interleaved on one machine (gpuslo ab)")
            t = _ok_on_a_faster_machine(t, m, shifts, big)
            why = "" if lv is not None else measured_why(
                p, ("stored run", r, base.shuffled, base.shuffled_off), ("this run", 1, (m.shuffled,), (m.shuffled_off,)))
            out.append(_check(name, t, f"prediction interval from {r} stored runs {on}, "
                              f"{base.sessions} session(s), at alpha {policy.alpha * stats.PI_ALPHA_FACTOR:g}; "
                              f"n {t.n_base} -> {t.n_cand}{ctl_note}"
                              + (f"; measured levels, not replayed ({why})" if why else ""), replayed=lv is not None))
            out[-1] = replace(out[-1], history=(r, base.sessions))
            continue
        t = stats.regression_test(base.latency_ms, lat, p, alpha=policy.alpha, delta=delta, Delta=big,
                                  paired=base.paired, schedule_ms=m.scheduled_ms if base.paired else None)
        own_seen = _own_moved(m, base, shifts, t.outcome)[1] if base.paired else ""
        why = (f"{'only ' + str(r) + ' stored run(s)' if base.paired else 'the stored runs replayed another schedule'}: "
               f"run-to-run noise is unknown" + (f" ({own_seen})" if own_seen else "")
               + f"; record {MIN_RUNS_FOR_SPREAD} or more runs on {MIN_SESSIONS} or more "
               f"days with --gpuslo-save, or compare interleaved on one machine (gpuslo ab)")
        # An undecided comparison says what would decide it; a decided one is held back with why.
        t = replace(t, reason=f"{t.reason}; {why}") if t.outcome == INCONCLUSIVE else _held_back(t, why)
        t = _ok_on_a_faster_machine(t, m, shifts, big)
        kind = "paired within the runs" if base.paired else "unpaired"
        out.append(replace(_check(name, t, f"{kind}, {r} stored run(s); n {t.n_base} -> {t.n_cand}{ctl_note}"),
                           history=(r, base.sessions)))
    return tuple(out)


FELL_BEHIND = "the load generator fell behind"


def lag_limit_ms(spec: SloSpec, policy: Policy = Policy()) -> float:
    """The lag over which a run's generator fell behind (``generator_behind``): ``max_lag_fraction``
    of the tightest budget, or ``MAX_LAG_NO_BUDGET_MS`` without one."""
    tight = spec.tightest_budget_ms
    return tight * policy.max_lag_fraction if tight else MAX_LAG_NO_BUDGET_MS


def generator_behind(spec: SloSpec, m: Measurements, policy: Policy = Policy()) -> str:
    """Why the load generator fell behind in this run, in words; "" when it kept up.

    Only lag that delayed a completion can move a latency (a request sent late to a lane busy with
    on-time work would have waited for it anyway): a body holding the GIL on one lane no longer holds back every verdict
    and baseline (a user's 4 ms Python body at 40/s)."""
    lag = np.asarray(m.lag_ms, dtype=np.float64)
    if not lag.size:
        return ""
    lag_p99 = float(np.quantile(lag, 0.99))
    tight = spec.tightest_budget_ms
    limit = lag_limit_ms(spec, policy)
    delay = m.start_delay_ms
    delay_p99 = float(np.quantile(delay, 0.99)) if delay is not None and delay.size == lag.size else lag_p99
    if not (lag_p99 > limit and delay_p99 > limit):
        return ""
    held = launcher_note(m)
    if held and abs(delay_p99 - lag_p99) > 1e-9:
        # The lag holds the bodies' own queue (the code's) and the lateness beyond it (a stall of
        # the thread, a preemption): say which figure is which (the session-11 check read the
        # delay as the whole lag's).
        what = (f"beyond the bodies' own queue on the launching thread, its lateness delayed completions "
                f"by {delay_p99:.3g} ms at p99 (schedule lag p99 {lag_p99:.3g} ms with that queue), more than")
    elif abs(delay_p99 - lag_p99) > 1e-9:
        what = f"schedule lag p99 {lag_p99:.3g} ms (it delayed completions by {delay_p99:.3g} ms at p99) exceeds"
    else:
        what = f"schedule lag p99 {lag_p99:.3g} ms exceeds"
    note = (f"{FELL_BEHIND}: {what} "
            f"{limit:.3g} ms"
            + (f" ({policy.max_lag_fraction:.0%} of the tightest budget)" if tight else "")
            + "; the lanes did not get the promised arrivals (late ones come smoothed, though the average rate "
              "can match) (docs/architecture.md, 'The GIL and dispatch precision')")
    # the stop where one made it late: the reasons, the warning and the JSON say it, as the row does
    # (review153 F1: only the row named a 1.5-s SIGSTOP)
    stop = stopped_words(m.frozen_ms, busy=bool(m.contention), stretch=m.run_queue_stretch)
    if stop:
        note += f"; {with_cause(stop, 'a SIGSTOP, a paused VM')}: the machine's lateness, not the code's; rerun"
    return note + "; " + held if held else note


def _lag_flattered(spec: SloSpec, m: Measurements, budget: float, p: float, policy: Policy,
                   generator_note: str) -> tuple[str, str] | None:
    """Whether a PASS of ``budget`` at ``p`` may owe something to a late dispatch: (why it is held,
    '') or ('', why it stands), None where lateness has no say.

    Latency is charged from the schedule, so on lanes whose service does not depend on load a late
    dispatch can only make a PASS harder.  Where it may (service grew with the requests in flight),
    a late, smoothed dispatch may have flattered it.  On host lanes the run is replayed punctual
    with every service as long as with every lane busy (``punctual_ms``) whenever the lag passed
    the limit, the bodies' own GIL hold included (it smooths the arrivals as well), and whatever the
    load-dependence check read (review64: a rare slow path under overlap read "not dependent", and a
    late dispatch whose delay to completions looked small: both PASSed at the true p95); the PASS
    stands where that replay PASSes (review63: p95 3.5 ms of a 20-ms budget was held for 1.8 ms of
    lag).  Elsewhere: held where the generator fell behind and the service may depend on load."""
    punctual = m.punctual_ms
    lag = np.asarray(m.lag_ms, dtype=np.float64)
    limit = lag_limit_ms(spec, policy)
    if punctual is not None and punctual.size == lag.size and lag.size and float(np.quantile(lag, 0.99)) > limit:
        replayed = stats.budget_test(punctual, budget, p, alpha=policy.alpha)
        then = f"{percentile_label(p)} {stats.quantile(punctual, p):.3g} ms then"
        if replayed.outcome == PASS:
            return "", (f"{generator_note}; it PASSes even had the generator been punctual with every service as "
                        f"long as with every lane busy ({then}), so the lateness did not flatter it"
                        if generator_note else "")
        late = generator_note or (f"the load generator was late (schedule lag p99 {float(np.quantile(lag, 0.99)):.3g} "
                                  f"ms, over the {limit:.3g}-ms lag limit; the bodies' own hold of the thread or "
                                  f"the GIL counts in it)")
        # review74: "would not PASS (p95 9.13 ms then)" beside a 20-ms budget read as a contradiction
        said = replayed.outcome + (f": {replayed.reason}" if replayed.reason else "")
        return (f"{late}; had it been punctual, with every service as long as with every lane busy, the run would "
                f"not PASS ({then}, {said}): a late, smoothed dispatch may have flattered it"), ""
    if generator_note and m.load_dependent is not False:
        return generator_note, ""
    return None


def from_dispatch(m: Measurements) -> npt.NDArray[np.float64]:
    """Latency as a punctual generator would have left it: what the lateness added to each
    completion taken off (``timeline.start_delay``; lag onto a lane busy with on-time work is kept:
    taking it off would forgive the queue the code itself built)."""
    lat = np.asarray(m.latency_ms, dtype=np.float64)
    delay = m.start_delay_ms
    late = delay if delay is not None and delay.size == lat.size else np.asarray(m.lag_ms, dtype=np.float64)
    if late.size != lat.size:
        return lat
    out = lat - np.clip(late, 0.0, None)
    # A run recorded before ``timeline.start_delay`` kept each delay within the request's wait may
    # hold one longer than its latency (review163 F3): no credit there, not a negative latency.
    return np.where(out > 0.0, out, lat)


def lateness(spec: SloSpec, m: Measurements, policy: Policy = Policy()) -> str:
    """Why a change of this run's level may be the generator's, in words; "" when it was never late.

    Over the lag limit: ``generator_behind``.  Under it, lateness still adds to latency charged
    from the schedule, and the limit is a share of the budget, not of the run's own level: a
    budget 70x the p95 let 9 ms stalls read as +150% REGRESSED (the session-10 independent check).
    So any delay to completions is named, and a regression must hold without it."""
    note = generator_behind(spec, m, policy)
    if note:
        return note
    lag = np.asarray(m.lag_ms, dtype=np.float64)
    delay = m.start_delay_ms if m.start_delay_ms is not None and m.start_delay_ms.size == lag.size else lag
    if not delay.size or not float(np.max(delay)) > 0.0:
        return ""
    return (f"the load generator was late: it delayed completions by up to {float(np.max(delay)):.3g} ms "
            f"({float(np.quantile(delay, 0.99)):.3g} ms at p99), under the lag limit for the budget")


def median_hold(hold: npt.NDArray[np.float64] | None) -> float | None:
    """A run's median launcher hold (ms), None where it has none (not inline, or never overdue)."""
    return None if hold is None or not np.asarray(hold).size else float(np.median(hold))


#: The candidate's bodies keep the launching thread longer than the base's by this share of its
#: time at the offered rate (median back-to-back hold): their own host time grew, the code's.
HOLD_GROWTH_SHARE = 0.10


def _bodies_late(m: Measurements, base: BaselineInput | ABInput) -> str:
    """On a backend that runs bodies on the dispatcher's thread: why the lateness is the bodies'
    own host time (the code's cost, and the same harness on both sides), or "" when it may be the
    machine's.  Where the base has a figure: the growth of the bodies' median hold over the base's
    takes ``HOLD_GROWTH_SHARE`` of the thread's time or more at the offered rate (a 2x host time on
    1 ms bodies at 200/s: 20%; small preemptions lifting the median of the back-to-back holds:
    3-8%, the session-10 third and fourth checks).  Without one: the bodies take half the thread
    or more (``launcher_note``)."""
    if m.launcher_hold_ms is None:
        return ""
    if isinstance(base, ABInput):
        cand = [h for h in base.cand_holds if h is not None]
        held = [h for h in base.base_holds if h is not None]
    else:
        cand = [h for h in (median_hold(m.launcher_hold_ms),) if h is not None]
        held = [h for h in base.holds if h is not None]
    c = float(np.median(cand)) if cand else None
    b = float(np.median(held)) if held else None
    if c is not None and b is not None:
        rate = m.offered_hz if math.isfinite(m.offered_hz) and m.offered_hz > 0 else 0.0
        grown = (c - b) * rate / 1000.0
        if grown >= HOLD_GROWTH_SHARE:
            return (f"the lateness is the bodies' own host time on the launching thread: it grew from {b:.3g} "
                    f"to {c:.3g} ms a body (median), {grown:.0%} more of the thread at {rate:.4g}/s: the code's "
                    f"cost (capture the body in a CUDA graph, slo_graph, to take it off the thread)")
        return ""
    note = launcher_note(m)
    return f"the lateness is the bodies' own host time: {note}" if note else ""


def _base_late(base: BaselineInput | ABInput) -> str:
    """Why the stored (or A/B base) runs' own lateness may move the comparison; "" when they were
    on time or it is not known.  Late stored runs make an on-time candidate look faster: a 20%
    slower service read +0.7% and unchanged code -16% IMPROVED (the session-10 third check)."""
    if isinstance(base, ABInput):
        pairs = list(zip(base.base_runs, base.base_from_dispatch)) if len(base.base_from_dispatch) == len(
            base.base_runs) else []
        who, again = "the base runs", "rerun gpuslo ab on a quiet machine"
    else:
        pairs = list(zip(base.runs, base.dispatched)) if len(base.dispatched) == len(base.runs) else []
        who, again = "the stored runs", "record them again on a quiet machine"
    pairs = [(r, d) for r, d in pairs if r.size == d.size and r.size]
    worst = max((float(np.max(r - d)) for r, d in pairs), default=0.0)
    if not worst > base.late_floor_ms:
        return ""
    # Rerecording helps only where the lateness reached more requests than a comparison sets aside
    # (``MAX_TOUCHED``; review69: the advice for one request 0.4 ms late on a quiet CPU run).
    touched = max(float(np.mean((r - d) - base.late_floor_ms > TOUCH_SHARE * float(np.median(r)))) for r, d in pairs)
    return (f"{who} were late too (their load generator, or on CUDA their bodies' host time): it delayed "
            f"their completions by up to {worst:.3g} ms" + (f"; {again}" if touched > MAX_TOUCHED else ""))


#: The launching thread waited for a CPU this much more of the dispatch than the base's did (at
#: most): preemptions, which lengthen the bodies' measured host time exactly as more host work of
#: their own would.  Near saturation less matters: ``wait_limit``.
WAIT_SHARE = 0.01
#: ... and never less than this (schedstat's own noise on a quiet host: 0.00% on an H200 host).
WAIT_FLOOR = 0.001


def wait_limit(share: float) -> float:
    """The extra wait for a CPU that may move a latency percentile by the noise floor, for bodies
    taking ``share`` of the thread: a queue's delay goes as 1 / (1 - share), so a share moved by
    d moves it by about d / (1 - share); 2% of that headroom, at most ``WAIT_SHARE``, at least
    ``WAIT_FLOOR`` (a 0.8% wait beside bodies taking 91% of the thread moved p95 by +6%: the
    session-11 second check)."""
    return max(WAIT_FLOOR, min(WAIT_SHARE, 0.02 * max(0.0, 1.0 - share)))


@dataclass(frozen=True, slots=True)
class ThreadShares:
    """The launching thread on each side: its wait for a CPU and the bodies' share of it (both as
    shares of the run; base figures None where not known)."""

    wait: float
    share: float
    base_wait: float | None = None
    base_share: float | None = None


def thread_shares(m: Measurements, base: BaselineInput | ABInput | None = None) -> ThreadShares | None:
    """The candidate's (median over its A/B runs) and the base's launching-thread figures, or None
    where the candidate's wait is not known (not Linux, not an inline backend)."""
    rate = m.offered_hz if math.isfinite(m.offered_hz) and m.offered_hz > 0 else 0.0

    def med(xs: Sequence[float | None]) -> float | None:
        known = [x for x in xs if x is not None]
        return float(np.median(known)) if known else None

    if isinstance(base, ABInput):
        wait, host = med(base.cand_waits), med(base.cand_hosts)
        bw, bh = med(base.base_waits), med(base.base_hosts)
    else:
        wait, host = m.launcher_wait, m.body_host_ms
        bw = med(base.waits) if base is not None else None
        bh = med(base.body_hosts) if base is not None else None
    if wait is None:
        return None
    return ThreadShares(wait, (host or 0.0) * rate / 1000.0, bw, None if bh is None else bh * rate / 1000.0)


def _preempted(m: Measurements, base: BaselineInput | ABInput | None = None) -> str:
    """Why the bodies' host time on the launching thread may be the machine's, or '' when it is
    not known to be: the thread waited for a CPU (preempted by other work) more of the run than in
    the base's runs: any measurable extra (``WAIT_FLOOR``) against a base, since preemptions of a
    few ms move a percentile by several times the wait (0.35% beside bodies at 60% of the thread:
    +3.6% REGRESSED, the session-11 third check); ``wait_limit`` against a budget, whose FAIL a
    preemption can only lift a little (``_preemption_margin``).  Preemptions of every other body
    read as the code's own host time (false REGRESSED in 85-100% of A/B runs near saturation,
    ``benchmarks/validity/launcher_grid.py``)."""
    t = thread_shares(m, base)
    limit = WAIT_FLOOR if base is not None else wait_limit(t.share) if t is not None else 0.0
    if t is None or t.wait - (t.base_wait or 0.0) < limit:
        return ""
    return (f"the launching thread waited for a CPU {t.wait:.1%} of the run"
            + (f" ({t.base_wait:.1%} in the base's runs)" if t.base_wait is not None else "")
            + ": other work preempted it, which lengthens the bodies' host time just as their own work would; "
            "rerun on a quiet machine")


#: The bodies' share of the launching thread grew by this much more than its wait for a CPU: the
#: host time is measured directly, and preemptions add to it at most what the thread waited, so
#: what grew beyond that is the code's (10 points held back a +10% host time at 80% of the thread
#: beside a 0.5% wait: the session-11 third check).
PREEMPT_GROWTH_SHARE = 0.02


def _preemption_margin(m: Measurements) -> float:
    """The most a preempted thread is taken to have lifted a latency: a queue's delay goes as
    1 / (1 - share), so a wait W moves it by W / (1 - share), and preemptions of a few ms move it
    about 5x that (measured at 60% of the thread, the session-11 third check)."""
    t = thread_shares(m)
    if t is None:
        return 1.0
    return 1.0 + 5.0 * t.wait / max(1.0 - t.share, 0.01)


def _beyond_preemption(m: Measurements, base: BaselineInput | ABInput | None = None) -> str:
    """Why the bodies' host time is the code's even though the thread was preempted, or '': with
    no base, the bodies take the whole thread even less all of the wait (an overload of their
    own); against a base, their share grew by ``PREEMPT_GROWTH_SHARE`` more than the wait did."""
    t = thread_shares(m, base)
    if t is None:
        return ""
    extra = t.wait - (t.base_wait or 0.0)
    if base is None:
        if t.share - t.wait >= 1.0:
            return (f"the bodies take {t.share:.0%} of the launching thread, more than all of it even less the "
                    f"{t.wait:.1%} it waited for a CPU: an overload of their own")
        return ""
    if t.base_share is not None and t.share - t.base_share - max(extra, 0.0) >= PREEMPT_GROWTH_SHARE:
        return (f"the bodies' share of the launching thread grew from {t.base_share:.0%} to {t.share:.0%}, "
                f"more than its {extra:+.1%} wait for a CPU can explain: the code's own host time grew")
    return ""


def _base_preempted(m: Measurements, base: BaselineInput | ABInput) -> str:
    """Why the base's launching thread may have flattered the comparison: it waited for a CPU
    ``wait_limit`` more than the candidate's (a slower base hides a regression: OK -0.6% for a
    4.4% longer host time beside a base that waited 4%, the session-11 second check)."""
    t = thread_shares(m, base)
    if t is None or t.base_wait is None:
        return ""
    if t.base_wait - t.wait < wait_limit(t.base_share if t.base_share is not None else t.share):
        return ""
    return (f"the base's launching thread waited for a CPU {t.base_wait:.1%} of its runs ({t.wait:.1%} in this "
            f"one): preempted base runs can hide a regression; record the base again on a quiet machine")


#: Why CUDA runs stored before session 11 compare only as measured (``_late_checks``).
OLD_FORMAT = ("the stored runs were recorded before each body's host time was measured: their start delay "
              "counts their bodies' own queue on the launching thread; record them again")


#: How a claim names the comparison without lateness on both sides (``_late_checks``).
WITHOUT_LATENESS = "without that lateness on either side"


#: A request a late generator delayed by more than this share of its run's median latency was
#: touched by the lateness (``untouched``); a smaller delay moves no level by a noise floor's worth.
TOUCH_SHARE = 0.01
#: Over this share of requests touched in some run, the lateness is not a few stalls to set aside.
MAX_TOUCHED = 0.10


def untouched(ab: ABInput) -> npt.NDArray[np.bool_] | None:
    """The requests that no lateness reached in any run on either side of an A/B session (a mask
    over the schedule), or None where too many were reached (``MAX_TOUCHED``) or the runs' lateness
    is not known.  Every run replays one schedule, so the same requests are left out of every run:
    which ones depends on when the generator stalled, never on the code's speed, and the replay
    (``timeline.start_delay``) is used only to say *which* requests a stall delayed, not by how
    much.  Judging the rest needs no model of what a punctual run would have measured (session
    20's GPU check: one 5.5-ms stall in one base run of six turned a 2% slower kernel's REGRESSED
    +4.7% into "neither reading stands")."""
    return untouched_of(ab.base_runs + ab.cand_runs, ab.base_from_dispatch + ab.cand_from_dispatch)


def untouched_of(runs: Sequence[npt.NDArray[np.float64]],
                 dispatched: Sequence[npt.NDArray[np.float64]]) -> npt.NDArray[np.bool_] | None:
    """``untouched`` over any runs of one schedule and their latencies from the dispatch."""
    if not runs or len(dispatched) != len(runs):
        return None
    n = runs[0].size
    if n == 0 or any(r.size != n for r in runs) or any(d.size != n for d in dispatched):
        return None
    touched = np.zeros(n, dtype=bool)
    for r, d in zip(runs, dispatched):
        touched |= (r - d) > TOUCH_SHARE * float(np.median(r))
    return None if touched.mean() > MAX_TOUCHED else ~touched


def _untouched_checks(spec: SloSpec, ab: ABInput, keep: npt.NDArray[np.bool_],
                      policy: Policy) -> tuple[BaselineCheck, ...]:
    """The A/B claims judged on the requests no lateness reached (``untouched``): the measured
    levels (the replayed statistics replay whole runs, stalls included)."""
    # (the stalls' requests are left out: no run's level holds them any more)
    clean = replace(ab, base_runs=tuple(r[keep] for r in ab.base_runs), cand_runs=tuple(r[keep] for r in ab.cand_runs),
                    base_shuffled=(), cand_shuffled=(), base_shuffled_off=(), cand_shuffled_off=(),
                    base_behind=(), cand_behind=())
    n, dropped = keep.size, int(keep.size - keep.sum())
    note = (f"decided on the requests no lateness reached: the {dropped} of {n} ({dropped / n:.1%}) that a late "
            f"generator delayed by over {TOUCH_SHARE:.0%} of a run's median, in any of the {len(ab.base_runs)}+"
            f"{len(ab.cand_runs)} runs, left out of every run on both sides" if dropped else
            # review145 F8: "the 0 of 4000 ... left out" read as decided on no request
            f"decided on every request's measured latency: the generator's lateness delayed none by over "
            f"{TOUCH_SHARE:.0%} of a run's median in any of the {len(ab.base_runs)}+{len(ab.cand_runs)} runs")
    return tuple(replace(c, reason=f"{c.reason}; {note}") for c in compare_ab(spec, clean, policy))


def _untouched_stored(spec: SloSpec, m: Measurements, base: BaselineInput, keep: npt.NDArray[np.bool_],
                      policy: Policy) -> tuple[BaselineCheck, ...]:
    """The stored-baseline claims judged on the requests no lateness reached in the candidate or
    any stored run (``untouched_of``): measured levels, and no schedule for idle points (a request
    left out may still have been in the system)."""
    n, dropped = keep.size, int(keep.size - keep.sum())
    lat = np.asarray(m.latency_ms, dtype=np.float64)[keep]
    # (a machine control's replay: of the whole run as a punctual generator would have left it,
    # whose requests these are)
    cand = replace(m, latency_ms=lat, lag_ms=np.asarray(m.lag_ms, dtype=np.float64)[keep], start_delay_ms=None,
                   scheduled_ms=None, shuffled=None, shuffled_off="",
                   sped_up=None if m.sped_up is None else partial(m.sped_up, punctual=True))
    stored = replace(base, runs=tuple(r[keep] for r in base.runs), dispatched=(), shuffled=(), shuffled_off=())
    note = (f"decided on the requests no lateness reached: the {dropped} of {n} ({dropped / n:.1%}) that a late "
            f"generator delayed by over {TOUCH_SHARE:.0%} of a run's median, in this run or any of the "
            f"{len(base.runs)} stored, left out of every one" if dropped else
            f"decided on every request's measured latency: the generator's lateness delayed none by over "
            f"{TOUCH_SHARE:.0%} of a run's median in this run or any of the {len(base.runs)} stored")
    return tuple(replace(c, reason=f"{c.reason}; {note}") for c in compare(spec, cand, stored, policy))


def _lifts(ab: ABInput, p: float) -> tuple[float, float] | None:
    """How much the lateness lifted each side's ``p`` level, the statistic the claim compares
    (``stats.run_statistic``, on the log scale): the mean over its runs of the level as charged
    from the schedule less the level without the lateness, (base, candidate); None where the runs
    without lateness are not known on both sides.  Not the whole run's quantile: stalls in an
    on-off queue's quiet stretches moved no run's p95 yet lifted its level 2.2x (the batches they
    fell in), and "lifted alike, by 0%" let 7.5% of A/A sessions with stalls in the candidate's
    runs alone stand REGRESSED (ab_stalls.py, "cand", on-off bimodal)."""
    pairs = ((ab.base_runs, ab.base_from_dispatch), (ab.cand_runs, ab.cand_from_dispatch))
    if any(len(a) != len(b) or not a for a, b in pairs):
        return None
    out = []
    for runs, punctual in pairs:
        logs = [stats.run_statistic(r, p) - stats.run_statistic(u, p) for r, u in zip(runs, punctual)
                if r.size >= 2 * stats.RUN_STAT_BATCHES and r.size == u.size and np.all(u > 0)]
        if len(logs) != len(runs):
            return None
        out.append(float(np.mean(logs)))
    return out[0], out[1]


def _late_checks(spec: SloSpec, m: Measurements, base: BaselineInput | ABInput, policy: Policy,
                 checks: tuple[BaselineCheck, ...], late: str) -> tuple[tuple[BaselineCheck, ...], set[str]]:
    """The claims, and the names of those the lateness decided (held back or contradicted).

    Where either side's generator was late, a decided claim stands only if the comparison
    without the lateness, on both sides (``from_dispatch``), says the same: latency charged from
    the schedule carries the generator's lateness, which is the harness's, not the code's.  A
    REGRESSED or IMPROVED it does not confirm, or an OK it contradicts, is INCONCLUSIVE with why.
    (The candidate's lateness alone, taken off it alone, let a base as late as it hide a 20%
    slower service; a late base made an on-time candidate read IMPROVED.)

    Or, on a backend whose bodies run on the dispatcher's thread, a REGRESSED stands where the
    lateness is the bodies' own host time (``_bodies_late``): eager launches or a hidden sync
    that grew are the code's cost (excusing them let bodies 3x slower on the host read
    INCONCLUSIVE), a stall of the thread with the bodies unchanged is not."""
    keep = untouched(base) if isinstance(base, ABInput) else None
    if isinstance(base, ABInput) and keep is not None:
        # A few stalls: judge the requests they did not reach, in every run alike.
        return _untouched_checks(spec, base, keep, policy), set()
    unlike = (m.body_host_ms is not None and isinstance(base, BaselineInput) and not base.hosts_measured
              and m.launcher_hold_ms is not None)
    if isinstance(base, BaselineInput) and base.paired and not unlike:
        lat = np.asarray(m.latency_ms, dtype=np.float64)
        keep = untouched_of(base.runs + (lat,), base.dispatched + (from_dispatch(m),))
        if keep is not None:
            return _untouched_stored(spec, m, base, keep, policy), set()
    # The replayed statistics keep each run's dispatch times, lateness included: without the
    # lateness the runs compare their latencies.
    if isinstance(base, ABInput):
        again = compare_ab(spec, replace(base, cand_runs=base.cand_from_dispatch or base.cand_runs,
                                         base_runs=base.base_from_dispatch or base.base_runs,
                                         base_shuffled=(), cand_shuffled=(),
                                         base_shuffled_off=(), cand_shuffled_off=()), policy)
    else:
        stored = replace(base, runs=base.dispatched) if len(base.dispatched) == len(base.runs) else base
        # (a machine control's replay of this run, then, of its punctual latencies too)
        punctual = None if m.sped_up is None else partial(m.sped_up, punctual=True)
        again = compare(spec, replace(m, latency_ms=from_dispatch(m), shuffled=None, shuffled_off="",
                                      sped_up=punctual),
                        replace(stored, shuffled=(), shuffled_off=()), policy)
    # Runs that measured their bodies' host time already count only the lateness beyond it
    # (``timeline.stall_delay``); for runs stored before, the median-hold rule.
    bodies = _bodies_late(m, base) if m.body_host_ms is None else ""
    # (``unlike``: a candidate that counts only the lateness beyond its bodies' host time, against
    # stored runs that count all of theirs: the two "without lateness" readings are not alike.)
    own_late = lateness(spec, m, policy) if unlike else ""
    over_limit = FELL_BEHIND in late  # over the lag limit: say the regression holds without it
    out = []
    moved: set[str] = set()
    for b, a in zip(checks, again):
        without = f"{WITHOUT_LATENESS}: {a.outcome}" + (
            f" {a.test.ratio - 1:+.1%}" if a.test is not None and math.isfinite(a.test.ratio) else "")
        if unlike and b.outcome == "REGRESSED" and not own_late:
            # An on-time candidate against them: both sides' latency holds their bodies' queue, and
            # a late stored run only makes the candidate look better (the session-11 third check:
            # +28% to +395% had all been held back).
            out.append(replace(b, reason=f"{b.reason}; {OLD_FORMAT}"))
        elif unlike and b.outcome in ("REGRESSED", "IMPROVED"):
            why = "; ".join(x for x in (own_late, OLD_FORMAT + ", so the comparison without lateness on "
                                        "either side is not like with like") if x)
            held = b.test if b.test is None else _held_back(b.test, why)
            out.append(replace(b, outcome=INCONCLUSIVE, reason=held.reason if held else why, test=held))
            moved.add(b.name)
        elif b.outcome == a.outcome:
            out.append(replace(b, reason=f"{b.reason}; it regresses even on latency counted from the late dispatch")
                       if b.outcome == "REGRESSED" and over_limit else b)
        elif b.outcome == "REGRESSED" and bodies:
            out.append(replace(b, reason=f"{b.reason}; {bodies}"))
        elif b.outcome == "REGRESSED" and isinstance(base, ABInput) and b.test is not None and (
                lifted := _lifts(base, b.test.p)) is not None and lifted[1] <= lifted[0]:
            # The lateness lifted the base's level at least as much as the candidate's, so it made
            # the candidate look better, not worse: the regression stands on latency charged from
            # the schedule (benchmarks/validity/ab_lag_both.py: A/A at most 0.5% in every cell,
            # where the measured reading alone reached 6% with neighbours busier on the candidate).
            label = percentile_label(b.test.p)
            said = late.replace("; rerun gpuslo ab on a quiet machine", "")  # nothing to rerun for
            out.append(replace(b, reason=f"{b.reason}; {said}; the lateness lifted the base's runs' {label} level by "
                                         f"{math.expm1(lifted[0]):+.1%} and the candidate's by "
                                         f"{math.expm1(lifted[1]):+.1%} (mean of the runs): it flattered the "
                                         f"candidate, so the regression stands ({without})"))
        elif b.outcome in ("REGRESSED", "IMPROVED"):
            # the interval and, in an A/B, what would decide it (review105: a 25% slower formatter
            # read only "without that lateness on either side: INCONCLUSIVE"; rerun on a quiet machine)
            band = (f" [{a.test.ci_low - 1:+.1%}, {a.test.ci_high - 1:+.1%}]" if a.test is not None
                    and 0 < a.test.ci_low and a.test.ci_high <= WIDEST_RATIO else "")
            more = ("; or more interleaved runs may decide it without the lateness (gpuslo ab BASE --max-runs 8)"
                    if isinstance(base, ABInput) and a.outcome == INCONCLUSIVE else "")
            held = b.test if b.test is None else _held_back(b.test, f"{late}; {without}{band}{more}")
            out.append(replace(b, outcome=INCONCLUSIVE, reason=held.reason if held else late, test=held))
            moved.add(b.name)
        elif a.outcome == "REGRESSED":
            # Not the measured claim's own words ("no regression of 5% or more"): the lateness
            # moved it, and the reader needs both readings side by side.
            measured = f"{b.outcome} {b.test.ratio - 1:+.1%}" if b.test is not None and math.isfinite(
                b.test.ratio) else b.outcome
            if b.reason:
                # review76: +20.0% as measured beside +21.1% without 0.15 ms of lag read as the
                # lateness's doing; what leaves the measured reading undecided is said too
                measured += f" ({b.reason})"
            # The reading without lateness last would leave "REGRESSED" as the last word of an
            # INCONCLUSIVE claim (review32): say what the two readings together mean.
            # review71 read "neither reading stands" as backwards and found no next step: say why
            # the reading without lateness alone does not decide, and what would.
            # (one way out: review148 read "--runs 4" in the measured reading's words, then "--max-runs 8")
            more = ("" if "gpuslo ab --runs" in measured else
                    "; more interleaved runs decide it (gpuslo ab BASE --max-runs 8)" if isinstance(base, ABInput)
                    else f"; {WIDER_HISTORY}")
            out.append(replace(b, outcome=INCONCLUSIVE,
                               reason=f"{late}; {without}, as measured {measured}: the lateness may "
                                      f"hide a regression, but a REGRESSED must show both with and without it, "
                                      f"so neither reading stands{more}"))
            moved.add(b.name)
        else:
            out.append(b)
    return tuple(out), moved


#: The ways out of NOT COMPARABLE (another machine, another load: review92, the machine was the
#: same), and what they read once the run has taken them (``saved``).
RECORD_HINT = "Record a baseline on this machine with --gpuslo-save"
LOAD_HINT = "Record a baseline of this load with --gpuslo-save"


def saved(verdict: Verdict, where: str) -> Verdict:
    """The verdict of a run --gpuslo-save just stored as this machine's baseline: its NOT
    COMPARABLE no longer advises the save it took (review44)."""
    now = f"This run is now this machine's baseline ({where})"

    def taken(text: str) -> str:
        return text.replace(RECORD_HINT, now).replace(LOAD_HINT, f"This run is now its baseline ({where})")

    return replace(verdict, baseline=tuple(replace(b, detail=taken(b.detail), reason=taken(b.reason))
                                           if b.outcome == "NOT COMPARABLE" else b for b in verdict.baseline))


#: How far (either way, as a ratio) the measured window of a stationary schedule may offer from
#: its promised rate before its verdict stops speaking for the promised load.  A Poisson window of
#: 400 requests stays within it by 4.5 standard deviations; a bursty one of 1,000 can offer 0.55x
#: to 1.8x (onoff at 150/s, review46), which says little of the load the test promises.
OFFERED_SPAN = 1.25
#: A window spanning fewer of its process's burst-and-calm cycles than this is held to its rate
#: within chance for steady arrivals (3/sqrt(n)): its own spread cannot show that it sat in a calm
#: spell.  review48: mmpp2(peak_to_mean=1.5, burst_s=5, calm_s=20) at 4,000 requests (0.8 cycles)
#: PASSed 34% of budgets equal to its true p95, every one from a window at 0.8-0.9x the rate, with a
#: design effect of 2-4; statistics.md, "The load a window offered".
MIN_CYCLES = 20.0


#: Completions under this share of the offered rate, in a run that got slower: over capacity.
OVER_CAPACITY = 0.9


def off_pace(spec: SloSpec, m: Measurements) -> tuple[float, str]:
    """(offered / promised, words) when the measured window of a stationary schedule offered
    another load than the promised one: outside ``OFFERED_SPAN``, or, over fewer than ``MIN_CYCLES``
    of a modulated process's cycles, beyond what chance moves steady arrivals (3/sqrt(n)).
    (ratio, '') otherwise.  A lighter window cannot show a PASS at the promised load, nor a heavier
    one a FAIL; the seed fixes the draw, so the words name the way out."""
    from pytest_gpuslo import arrivals

    rate, cycle = arrivals.steady_load(spec.arrivals, spec.rate_hz)
    if not (math.isfinite(rate) and rate > 0 and math.isfinite(m.offered_hz) and m.offered_hz > 0):
        return 1.0, ""
    ratio = m.offered_hz / rate
    n = int(np.asarray(m.latency_ms).size)
    # At the promised rate, so that the requests named below span them however the window came in
    # (counted at its own rate, a busy window of that many spanned fewer: review49).
    cycles = n / rate / cycle if cycle else math.inf
    chance = 3.0 / math.sqrt(max(n, 1))
    offered = (f"this schedule's {n:,} measured requests offered {m.offered_hz:.4g}/s, {ratio:.2f}x the "
               f"promised {rate:.4g}/s")
    if cycles < MIN_CYCLES and abs(ratio - 1.0) > chance:
        need = math.ceil(MIN_CYCLES * cycle * rate) if cycle else 0
        return ratio, (f"{offered}, over only {cycles:.2g} of its {cycle:g}-s burst-and-calm cycles: further from "
                       f"it than chance moves {n:,} steady arrivals ({chance:.1%}), so the window sat in a "
                       f"{'calm' if ratio < 1 else 'busy'} spell, which its own spread cannot show; about "
                       f"{need:,} requests span {MIN_CYCLES:g} cycles (or give the marker another seed)")
    if 1.0 / OFFERED_SPAN <= ratio <= OFFERED_SPAN:
        return ratio, ""
    return ratio, (f"{offered} (a bursty draw is as uneven as its bursts fall); more requests (or another "
                   f"seed) bring the draw nearer its rate, unless the process draws another rate than it "
                   f"declares (a process of your own: check its mean_rate_hz against its draws)")


@dataclass(frozen=True, slots=True)
class RunBudget:
    """One budget claim as one run decided it (``budget_outcomes``): for ``ab_other_runs``."""

    outcome: str
    #: the percentile's estimate in ms (None: not measured).
    estimate: float | None
    #: the budget test's p-value of "the budget holds" (small: FAIL supported).
    p_fail: float
    #: a FAIL held back as INCONCLUSIVE (busy neighbours, a preempted thread).
    held: bool = False
    #: the estimate lies among the run's raised requests' stand-in: over the budget, by no number.
    raised: bool = False
    #: what the stand-in is, in the tables' word (``stats.stand_in_words``): "raised", "timed out".
    stand_in: str = "raised"


def budget_outcomes(verdict: Verdict, stand_in: str = "raised") -> dict[str, RunBudget]:
    """Each budget claim of a verdict, by its name (``p95<=5ms``); ``stand_in``: the run's word for
    its stand-ins (review154: "(p95 raised)" of a starved run where nothing raised)."""
    return {c.name: RunBudget(c.outcome, None if c.estimate_raised else c.budget.estimate, c.budget.p_fail,
                              c.held_from == FAIL, c.estimate_raised, stand_in)
            for c in verdict.checks if c.budget is not None}


def ab_other_runs(check: Check, earlier: Sequence[Mapping[str, RunBudget]], alpha: float) -> Check:
    """A budget claim of an A/B, judged on the candidate's latest run, beside its earlier runs.

    An earlier run whose FAIL holds at alpha/R (R: the candidate's runs; Bonferroni over them)
    FAILs the claim: a run that broke the promise on every request is no less broken for being
    followed by a quick one (review82).  An earlier run that FAILed at alpha only, had its FAIL
    held back for busy neighbours, or read over the budget keeps the latest's PASS from standing,
    and is named beside an undecided claim (review81: p95 2.78 ms read against a 5 ms budget where
    the two earlier runs read 10.4 and 48.9 ms): a PASS that the run order decides is no PASS."""
    if check.outcome == FAIL or check.budget is None:
        return check
    label, budget, runs_n = percentile_label(check.budget.p), check.budget.budget, len(earlier) + 1
    seen = [(k, run[check.name]) for k, run in enumerate(earlier, 1) if check.name in run]

    def named(which: Sequence[tuple[int, RunBudget]]) -> str:
        # review104: "run 1 (p95 500ms)", the timeout raised requests hold
        return ", ".join(f"run {k}" + (f" ({label} {r.stand_in})" if r.raised else f" ({label} {_fmt_ms(r.estimate)})"
                                       if r.estimate is not None else "") for k, r in which)

    strong = [(k, r) for k, r in seen if r.outcome == FAIL and r.p_fail <= alpha / runs_n]
    if strong:
        p_fail = min(1.0, runs_n * min(r.p_fail for _, r in strong))  # Bonferroni-adjusted, for Holm
        return replace(check, outcome=FAIL, budget=replace(check.budget, p_fail=p_fail),
                       detail=f"{check.detail}; the latest run's, but the claim FAILed in the candidate's {named(strong)}",
                       reason=f"the candidate's {named(strong)} of {runs_n} FAILed it beyond what chance over "
                              f"{runs_n} runs explains (p <= alpha/{runs_n} each), though the latest did not")
    failed = [(k, r) for k, r in seen if r.outcome == FAIL]
    held = [(k, r) for k, r in seen if r.held and r.outcome != FAIL]
    over = [(k, r) for k, r in seen if r.outcome != FAIL and not r.held
            and (r.raised or (r.estimate is not None and r.estimate > budget))]
    if not (failed or held or over):
        return check
    # "earlier": "run 1 of 2 read over the budget" read as if the latest had not (review132 D6);
    # review141 F4: "run 1, run 2 of 3 FAILed it" of runs whose FAIL busy neighbours held back read
    # as FAILs the claim had ignored
    said = [x for x in (
        f"{named(failed)} FAILed it at alpha {alpha:g}, not beyond chance over {runs_n} runs (alpha/{runs_n})"
        if failed else "",
        f"{named(held)} would have FAILed it but {'was' if len(held) == 1 else 'were'} held back (busy neighbours "
        f"or a preempted thread may explain such a FAIL)" if held else "",
        f"{named(over)} read over the budget" if over else "") if x]
    note = f"of the candidate's {runs_n} runs, the earlier {'; '.join(said)}; the budget is judged on the latest run"
    if check.outcome == PASS:
        return replace(check, outcome=INCONCLUSIVE, reason=f"{note}: a PASS must not hang on which run came last")
    return replace(check, reason=f"{check.reason}; {note}" if check.reason else note)


def decide(spec: SloSpec, m: Measurements, policy: Policy = Policy(),
           baseline: BaselineInput | ABInput | None = None) -> Verdict:
    """Turn one run's measurements into a verdict.

    Order of precedence: a generator that fell behind makes every latency claim INCONCLUSIVE (the
    arrivals it offered were not the promised ones); otherwise any FAIL fails the test; otherwise
    any INCONCLUSIVE makes it inconclusive; otherwise PASS.
    """
    checks: list[Check] = []
    reasons: list[str] = []
    lat = np.asarray(m.latency_ms, dtype=np.float64)
    conf = 1.0 - policy.alpha

    generator_note = generator_behind(spec, m, policy)
    # the runs compared: an A/B session's without a stall far beyond its other runs' (the budgets
    # and the words of the latest run keep every run)
    compared = set_aside(baseline) if isinstance(baseline, ABInput) else baseline

    disturbed = "" if policy.allow_disturbances or not m.disturbances else (
        "; ".join(m.disturbances) + " (the run does not represent the workload; "
        "--gpuslo-allow-throttle decides anyway)")
    if m.escapes:
        # Not waived by --gpuslo-allow-throttle: the numbers themselves are wrong, not the machine.
        escaped = ("GPU work escaped the request's stream, so its completion was not timed: "
                   + "; ".join(m.escapes) + ". Put the work on the current stream (CuPy and PyTorch "
                   "are switched to it), or use backend='cuda-sync', which waits for the device")
        disturbed = escaped + ("; " + disturbed if disturbed else "")
    # On a backend whose bodies run on the dispatcher's thread, a thread preempted by other work
    # lengthens every body's measured host time, which counts as the code's.
    preempted = "" if policy.allow_disturbances or m.launcher_hold_ms is None else _preempted(m)
    contended = "" if policy.allow_disturbances or not m.contention else _contended_words(m)
    pace_ratio, pace = off_pace(spec, m)
    # Every lane hung at the end: the service stopped; it fails every claim (review53).
    stopped = "" if disturbed else _deadlock_words(m, spec)

    # A raised request holds the timeout as its latency: a bound or estimate there is no measurement.
    # So does an estimate between the slowest measured latency and it, interpolated toward the
    # raised requests (review85: "p50 5005 ms is too close to the budget 50", no request's latency).
    # A hang's requests that never completed hold it too (review104 F6: "p95 500 ms", "+208.0%").
    gone = unfinished(m, lat, spec.timeout_s)
    span = stats.raised_span(lat, spec.timeout_s, m.failed + gone)
    word = stats.stand_in_words(m.failed, gone)[0]

    def is_raised(x: float) -> bool:  # as budget_test reads the span
        return span[0] < x <= span[1]

    def shown(x: float) -> str:
        return word if is_raised(x) else _fmt_ms(x)

    for p, budget in spec.budgets_ms.items():
        bt = stats.budget_test(lat, budget, p, alpha=policy.alpha, raised=m.failed,
                               raised_span=span, unfinished=gone)
        label = percentile_label(p)
        detail = (f"{label}={shown(bt.estimate)} [{shown(bt.lower)}, {shown(bt.upper)}] "
                  f"({100 * conf:.3g}% bounds) vs budget {budget:g}ms; n={bt.n}, "
                  f"over budget {bt.exceed}, design effect {bt.design_effect:.1f}")
        outcome, reason = bt.outcome, bt.reason
        raw_outcome = outcome
        slow, slow_p = slow_own(m, budget, p, policy.alpha) if outcome == INCONCLUSIVE else ("", 1.0)
        cold = stats.warm_up_end(np.asarray(m.own_ms, dtype=np.float64), budget, p) if slow and m.own_ms is not None \
            else None
        if cold is not None:
            # Slow from the start and within budget at the end: a warm-up too short (review56),
            # the row's words too, not the design effect's count (review58: "needs ~68,000");
            # unless requests raised there (review104).
            slow, reason = "", stats.warm_up_words(cold, lat.size, stats.within_span(lat[:cold], span),
                                                   busy=m.contention if contended else "")
            bt = replace(bt, reason=reason, needed_n=None)
        onset = stats.trailing_stretch(np.asarray(m.own_ms, dtype=np.float64), budget, margin=1.0) \
            if outcome == INCONCLUSIVE and not slow and cold is None and m.own_ms is not None else None
        need_own = stats.slow_run_needed(onset, p, policy.alpha) if onset is not None else None
        if onset is not None and need_own is not None and (bt.needed_n is None or need_own < bt.needed_n):
            # The own times FAIL a lasting slowdown sooner than the latencies can (review56: "about
            # 1,439" where 760 FAILed).
            reason = (f"{reason}; on the bodies' own times (over the budget in the last {lat.size - onset} "
                      f"requests) a run of about {stats.about(need_own)} requests FAILs it if that lasts")
            bt = replace(bt, needed_n=need_own, reason=reason, length_only=False)
        if bt.needed_n is not None and outcome == INCONCLUSIVE and contended and "FAILs" in reason:
            # The next run's FAIL may be held for them too (review56: "924 FAILs", held at 924).
            reason += "; on a quiet machine: beside busy neighbours, as in this run, such a FAIL may be held back"
            bt = replace(bt, reason=reason)
        if slow:
            # A step the effective-sample rule reads as one long cluster (review55).
            outcome, reason = FAIL, slow
            bt = replace(bt, outcome=FAIL, reason=slow, p_fail=min(bt.p_fail, slow_p), needed_n=None)
        full = lanes_full(m, spec, policy.alpha, claim=(p, budget)) \
            if outcome == INCONCLUSIVE and cold is None and bt.estimate > budget else ""
        if full:
            # A queue that grows, however few effective samples its one long cluster holds.
            outcome, reason = FAIL, full
            bt = replace(bt, outcome=FAIL, reason=full, p_fail=min(bt.p_fail, policy.alpha / 50.0), needed_n=None)
        if outcome == INCONCLUSIVE and "fix what raised" not in reason and m.failed and \
                _raised_beyond(m, p, policy.alpha):
            # Undecided on the statistics (one stretch of errors is one episode: docs/statistics.md),
            # but what raised wants fixing before any longer run (review167 F2: the last 40 of 200
            # raised and the row read only "needs at least ~560 requests").
            reason = (f"{reason}; " if reason else "") + (
                f"{m.failed:,} of {lat.size:,} requests raised, more than the {1.0 - p:.0%} the budget allows: "
                f"fix what raised first (a longer run shows only whether errors recur)")
            bt = replace(bt, reason=reason)
        by_lag = _lag_flattered(spec, m, budget, p, policy, generator_note) if outcome == PASS else None
        if by_lag is not None:
            outcome, reason = (INCONCLUSIVE, by_lag[0]) if by_lag[0] else (PASS, by_lag[1] or reason)
        if generator_note and outcome == FAIL:
            # Lateness inflates latency charged from the schedule.  A FAIL stands only if it also
            # holds on latency charged from the (late) dispatch, which the lag cannot explain.
            # Only what the lag added to completions is the generator's (lag onto a lane busy with
            # on-time work changed nothing: subtracting it would forgive the queue the code built).
            if slow:
                reason += "; no lateness of the generator adds to a body's own time"
            elif full:
                reason += "; no lateness of the generator lengthens the time a request holds its lane"
            elif stats.budget_test(from_dispatch(m), budget, p, alpha=policy.alpha).outcome != FAIL:
                outcome, reason = INCONCLUSIVE, generator_note
            else:
                reason = (reason + "; " if reason else "") + (
                    "it fails even on latency counted from the late dispatch")
        if disturbed and outcome == FAIL and (beyond := _beyond_tracer(m, spec, budget, p, policy.alpha)):
            reason = (f"{reason}; " if reason else "") + beyond
        elif disturbed and outcome != INCONCLUSIVE:
            outcome, reason = INCONCLUSIVE, disturbed
        elif pace and ((outcome == PASS and pace_ratio < 1.0) or (
                outcome == FAIL and pace_ratio > 1.0 and not _beyond_load(m, budget, p, policy.alpha))):
            # A hang, raised requests (review47) or a service over budget alone are the code's at any load.
            outcome, reason = INCONCLUSIVE, pace + ("; a PASS at a lighter load does not show the promised one"
                                                    if outcome == PASS else
                                                    "; a FAIL at a heavier load does not show the promise broken")
        elif preempted and outcome == FAIL and not (slow or _hang_beyond(m, p) or _raised_beyond(m, p, policy.alpha)):
            # Preemptions lengthen the bodies, and with them the queue on the launching thread
            # that counts as the code's: the FAIL stands only counted from each request's own
            # dispatch, which no wait of the thread before it can move.
            own = np.asarray(m.latency_ms, dtype=np.float64) - np.clip(np.asarray(m.lag_ms, dtype=np.float64), 0, None)
            overload = _beyond_preemption(m)
            margin = _preemption_margin(m)
            if overload:
                reason = (reason + "; " if reason else "") + f"the launching thread was preempted, but {overload}"
            elif stats.budget_test(from_dispatch(m) / margin, budget, p, alpha=policy.alpha).outcome == FAIL:
                # without the generator's own lateness (a stall between bodies) first: the grid's
                # stalls beside preemptions read 27% false FAIL on the latency as measured
                reason = (reason + "; " if reason else "") + (
                    f"the launching thread was preempted, but it fails even with every latency {margin:.2g}x "
                    f"shorter (less any lateness of the generator), more than its wait for a CPU can have "
                    f"lengthened it")
            elif own.size == lat.size and stats.budget_test(own, budget, p, alpha=policy.alpha).outcome == FAIL:
                reason = (reason + "; " if reason else "") + (
                    "the launching thread was preempted, but it fails even on latency counted from each "
                    "request's own dispatch")
            else:
                outcome, reason = INCONCLUSIVE, preempted
        elif contended and outcome == FAIL:
            # Contention only slows a CPU workload, so a PASS stands; a FAIL may be the neighbours',
            # unless it is a hang or the service alone fails beyond what they can slow it.
            beyond = _not_contention(m, spec, budget, p, policy.alpha)
            if beyond and full and beyond.startswith(LANES_FULL_WORDS):
                # said once, as the busy neighbours leave it (it read "the lanes are over capacity
                # ...; <contention>, but the lanes are over capacity ..." twice over)
                reason = f"{beyond}; {m.contention}"
            elif beyond:
                reason = (reason + "; " if reason else "") + f"{m.contention}, but {beyond}"
            else:
                outcome, reason = INCONCLUSIVE, contended
        elif contended and outcome == raw_outcome == INCONCLUSIVE and bt.estimate > budget and bt.exceed \
                and m.contention not in reason:
            # Undecided on the statistics, over the budget, beside busy neighbours: they may have made
            # the bursts that leave too few effective samples (review186 F3: 1,648 of 4,000 over,
            # "too few effective samples", and the reasons never named the machine 1.6 CPUs busy).
            reason = (f"{reason}; " if reason else "") + (
                f"{m.contention}: its bursts over the budget may be theirs; a quieter machine may decide it "
                f"sooner than more requests")
            bt = replace(bt, reason=reason)
        hang = "" if disturbed or outcome == FAIL else (stopped or (
            _hang_fails(m, spec, p) if outcome == INCONCLUSIVE else ""))
        if not hang and m.hung and outcome == PASS and not disturbed:
            outcome, reason = INCONCLUSIVE, _unshown_words(m, spec)
        if hang:
            # Not a chance event: the suite's Holm adjustment reads p 0, not the binomial's
            # "could be chance" on a run the hang left with a design effect of hundreds (review51).
            outcome, reason, bt = FAIL, hang, replace(bt, outcome=FAIL, reason=hang, p_fail=0.0)
        if outcome == FAIL and raw_outcome != FAIL and (slow or full or hang):
            # Not the bounds: a rule for a queue that a design effect of hundreds leaves the binomial
            # unable to bound (review99 #3: "[3.19ms, unbounded]" beside 30% of requests over budget).
            rule = ("a hang" if hang else "the lanes over capacity" if full else "the bodies' own times over budget")
            detail = (f"{label}={shown(bt.estimate)} vs budget {budget:g}ms; n={bt.n}, over budget {bt.exceed}; "
                      f"FAILed by {rule}, not by the {100 * conf:.3g}% bounds [{shown(bt.lower)}, {shown(bt.upper)}], "
                      f"which a design effect of {bt.design_effect:.1f} leaves too wide to decide")
        if outcome == INCONCLUSIVE and math.isfinite(bt.upper) and bt.upper <= budget and not is_raised(bt.upper):
            # bounds wholly under the budget beside INCONCLUSIVE read as a PASS at 99% in the -v line
            # and the JSON; the table marks the upper end "?" (review131 F7)
            detail = detail.replace(f"({100 * conf:.3g}% bounds)", f"({100 * conf:.3g}% bounds; the upper end is not "
                                    f"one the run stands behind, as the reason says)", 1)
        held_from = FAIL if outcome == INCONCLUSIVE and reason and reason in (contended, preempted) else ""
        checks.append(Check(f"{label}<={budget:g}ms", outcome, detail, reason, bt, held_from,
                            raised_span=span))

    if isinstance(baseline, ABInput) and baseline.cand_budgets:
        checks = [ab_other_runs(c, baseline.cand_budgets, policy.alpha) for c in checks]
    stall = baseline.cand_behind[-1] if isinstance(baseline, ABInput) and baseline.cand_behind else None
    if stall is not None and not generator_note:  # (a generator behind is every claim's reason already)
        # A stall bunches the latencies it delays, and the design effect with them: an undecided
        # budget read "needs about 19,000 requests" of a run with 2 of 4,000 over a budget 3x its
        # p95, where the candidate's latest run had stalled (review131 F1)
        # (no neighbours measured busy: the stall may be the bodies' own, which no quieter machine
        # undoes: review132 D6)
        # (review150 F7: a run the comparison set aside for a stall far beyond the others read
        # "the bodies' own host time may have held the generator up" three lines above the set-aside)
        cure = ("a rerun when the machine is quieter may decide it" if stall.contention else
                "it stalled far beyond the session's other runs (a frozen process, a paused VM, or the bodies "
                "themselves), and the comparison was decided without it: a rerun of gpuslo ab judges the "
                "budgets on a run without such a stall" if isinstance(compared, ABInput) and any(
                    s == "candidate" and k == n for s, k, n, _ in compared.aside) else
                "no other process was seen busy, so the bodies' own host time may have held the generator up")
        said = (f"the candidate's latest run, which the budgets are judged on, had a load generator that fell "
                f"behind ({stall.words}): a stall bunches the latencies it delays, which widens this; {cure}")
        checks = [replace(c, reason=f"{c.reason}; {said}" if c.reason else said)
                  if c.outcome == INCONCLUSIVE and c.budget is not None else c for c in checks]

    if spec.throughput_hz is not None:
        target = spec.throughput_hz
        detail = (f"achieved {m.achieved_hz:.4g}/s (offered {m.offered_hz:.4g}/s) vs promised "
                  f"{target:g}/s")
        if math.isnan(m.achieved_hz):
            checks.append(Check(f"throughput>={target:g}/s", INCONCLUSIVE, detail, "no completions"))
        elif stopped:
            checks.append(Check(f"throughput>={target:g}/s", FAIL, detail, stopped))
        elif m.achieved_hz >= target and m.hung and not disturbed:
            # No PASS beside a hang (review54: a throughput-only test PASSed a deadlocked service).
            checks.append(Check(f"throughput>={target:g}/s", INCONCLUSIVE, detail, _unshown_words(m, spec)))
        elif m.achieved_hz >= target:
            checks.append(Check(f"throughput>={target:g}/s", PASS, detail))
        elif m.offered_hz < target:
            # review140: "run longer" cannot help a trace that does not loop, whose heavy first
            # stamp the warm-up took
            traced = replays_trace(spec.arrivals)
            way = ("a shorter warm-up (warmup_requests, warmup_s), a higher rate_hz (it scales the trace) or, where "
                   "the trace loops, a longer run" if traced else "a higher rate_hz or a longer run")
            checks.append(Check(f"throughput>={target:g}/s", INCONCLUSIVE, detail,
                                f"{'this stretch of the trace' if traced else 'this schedule'} offered "
                                f"only {m.offered_hz:.4g}/s, under the promised {target:g}/s, so it cannot show "
                                f"the promise kept: promise at most what it offers, or offer more: {way}"))
        elif _hang_explains(m, target) and not disturbed:
            # No neighbour or late generator explains a lane that never came back (review52: every
            # lane hung, 27.7/s against a promised 90/s, held back beside busy neighbours).
            checks.append(Check(f"throughput>={target:g}/s", FAIL, detail,
                                f"completed {m.achieved_hz:.4g}/s, below the promised {target:g}/s: "
                                f"{_hung_words(m, spec)}"))
        elif contended and not (generator_note or disturbed) and (
                full := lanes_full(m, replace(spec, rate_hz=target), policy.alpha, slowdown=m.contention_slowdown)):
            # review139 F10: 4 lanes of 26.8-ms sleeps (149/s at most) against a promised 250/s were
            # held back for busy neighbours, who do not stretch a sleep: the p95 claim's rule
            checks.append(Check(f"throughput>={target:g}/s", FAIL, detail,
                                f"completed {m.achieved_hz:.4g}/s, below the promised {target:g}/s: {m.contention}, "
                                f"but {full}"))
        elif generator_note or disturbed or contended or (preempted and not _beyond_preemption(m)):
            checks.append(Check(f"throughput>={target:g}/s", INCONCLUSIVE, detail,
                                generator_note or disturbed or contended or preempted))
        else:
            checks.append(Check(f"throughput>={target:g}/s", FAIL, detail,
                                f"completed {m.achieved_hz:.4g}/s, below the promised {target:g}/s"))
        # Counted in the suite's Holm view (review54: a throughput FAIL was missing from it).
        checks[-1] = replace(checks[-1], p_fail=0.0 if checks[-1].outcome == FAIL else 1.0)

    if m.failed or m.timed_out:
        what = []
        if m.failed:
            what.append(f"{m.failed} raised")
        if m.timed_out:
            # review107 F5: "1100 ran past timeout_s" where 1,096 never started
            first = "" if m.first_timed_out is None else f" (the first: request {m.first_timed_out})"
            never = gone
            past = m.timed_out - never
            said = " and ".join(x for x in (f"{past} completed after timeout_s={spec.timeout_s:g}" if past else "",
                                            f"{never} never completed" if never else "") if x)
            what.append(f"{said}{first}")
        reasons.append(f"requests counted as over budget: {', '.join(what)}")
    if m.hung:
        # Named wherever it did not decide a claim (a lane of several, a FAIL another rule made);
        # the advice once, however many claims it failed.
        named = any("a hang" in c.reason for c in checks)
        reasons.append(f"about the hang: {HANG_ADVICE}" if named else f"{_hung_words(m, spec)}: {HANG_ADVICE}")

    # A run that drifted between its halves describes no single regime (statistics.md §2.1).
    # A PASS on it is not trusted unless the drift cannot reach the budget; a FAIL stands when it
    # got slower (overload is real), not when it got faster (still warming up).
    p_ref = max(spec.budgets_ms) if spec.budgets_ms else 0.95
    drifted, drift_ratio, _ = stats.stationarity(lat, p_ref, alpha=policy.stationarity_alpha)
    over = False
    if drifted:
        # (review109 F7: "1.00x the first half's" for a 20-ms sleep's steady latencies: say the shift)
        shift = f"{drift_ratio:.2f}x" if round(drift_ratio, 2) != 1.0 else f"{drift_ratio - 1.0:+.2%} off"
        note = f"the run is not stationary: {percentile_label(p_ref)} of its second half is {shift} the first half's"
        # A run that got faster is still warming up; one that got slower is not (review88: a body
        # slowing through the run was told to lengthen its warm-up).
        advice = ("; lengthen warm-up or the run" if drift_ratio < 1.0 else
                  "; it got slower as it ran, which a longer warm-up does not settle: a queue near its capacity "
                  "drifts so by chance, or something grows with the run (a cache, a leak); lengthen the run to see "
                  "whether it levels off")
        second = lat[lat.size // 2:]

        def within_reach(c: Check) -> bool:
            """The second half's quantile, carried one more run-length along the same drift, at
            or over half the budget (the far-under-budget margin): the drift could change the verdict."""
            if c.budget is None:
                return False
            carried = stats.quantile(second, c.budget.p) * max(drift_ratio, 1.0)
            return not carried < c.budget.budget / 2.0

        # A queue that grows with the run (slower, completing under the offered rate): a long
        # enough run reaches any budget, so no margin keeps a PASS beside it (review87 #2).
        overloaded = drift_ratio > 1.0 and m.failed == 0 and m.achieved_hz < OVER_CAPACITY * m.offered_hz
        reach = [within_reach(c) or (overloaded and c.budget is not None) for c in checks]
        hit = [(c.outcome == PASS and r) or (c.outcome == FAIL and c.budget is not None and drift_ratio < 1.0)
               for c, r in zip(checks, reach)]
        # Only a drift that could matter to a claim marks the run (the baseline saver skips such
        # runs); with no budget to weigh it against, any drift does.  A drift of the schedule's
        # own making (services steady, no overload) does not: every run replays it.
        drifted = not spec.budgets_ms or any(reach) or any(hit)
        if drifted and schedule_drift(spec, m, lat, p_ref, policy.stationarity_alpha):
            # No advice to lengthen the warm-up: the schedule's bursts, not a cold start, made it (review47).
            advice = ("; its service times did not drift and the queue was not overloaded, so the "
                      "schedule's bursts made it (every run replays them): it may still be stored as a baseline")
            drifted = False
        over = drifted and overloaded
        if over:
            # No longer run decides it (review87: "lengthen warm-up or the run" and "needs ~270,000
            # requests" for a service at 427/s of the 508/s offered).
            # beside busy neighbours the capacity may be theirs to take (review174 F3: healthy
            # services beside heavy load were told to make the body faster)
            fix = ("lower rate_hz, add streams, or make the body faster" if not contended else
                   "beside busy neighbours, as here, they may have taken that capacity: rerun on a quiet machine "
                   "first; then lower rate_hz, add streams, or make the body faster")
            advice = (f"; it completed {m.achieved_hz:.4g}/s of the {m.offered_hz:.4g}/s offered: the service is over "
                      f"capacity and its queue grows with the run, so a longer run only lengthens its latencies "
                      f"({fix})")
        note += advice
        checks = [replace(c, outcome=INCONCLUSIVE, reason=note) if h
                  else replace(c, reason=note, budget=replace(c.budget, needed_n=None))
                  if over and c.outcome == INCONCLUSIVE and c.budget is not None and c.budget.needed_n else c
                  for c, h in zip(checks, hit)]
        # A drift that held no claim (each was INCONCLUSIVE already, say for n) is still said: a
        # drift of the schedule's own making would otherwise go unexplained (review45).
        unheld_drift = note if any(reach) and not any(hit) and not any(c.reason == note for c in checks) else ""
    else:
        unheld_drift = ""

    if lat.size and m.failed + m.timed_out >= lat.size:
        # The error itself, not only the count: slo_run's caller sees the verdict, not the report.
        last = [error_line(m.first_error)] if m.failed and m.first_error and m.first_error.strip() else []
        how = ("raised or timed out" if m.failed and m.timed_out else "raised" if m.failed
               else "timed out")
        reason = f"every request {how}" + (f"; the first raised {last[0]}" if last else "")
        p_ref_raised = max(spec.budgets_ms) if spec.budgets_ms else 0.95  # the least allowance
        if contended and not _hang_beyond(m, p_ref_raised) and not _raised_beyond(m, p_ref_raised, policy.alpha):
            # Requests that all ended past timeout_s behind a backlog, none hung, no more raised
            # than a budget allows: busy neighbours can build that backlog, as any queueing FAIL.
            checks.append(Check("requests complete", INCONCLUSIVE, f"all {lat.size} measured requests {how}",
                                contended, held_from=FAIL))
        else:
            # (review113: "failed" where every lane hung in the warm-up and none of them started)
            checks.append(Check("requests complete", FAIL, f"all {lat.size} measured requests {how}", reason))
    # A claim left undecided beside a stop that made the generator late: the stop is in its tail,
    # so the rerun decides it, not a count of requests (review154 F2, review153 F1: the row said so,
    # the reason under it, the warning and the JSON advised "about 140,000 requests")
    stop = stopped_words(m.frozen_ms, busy=bool(m.contention), stretch=m.run_queue_stretch) if generator_note else ""
    if stop:
        checks = [replace(c, reason=f"{stop}, and the run's tail holds it: rerun, not more requests ({c.reason})")
                  if c.outcome == INCONCLUSIVE and c.budget is not None and c.budget.needed_n else c for c in checks]
    # The lag a reader sees in the table, explained where the bodies' own host time made it (the
    # generator itself kept up: that queue on the launching thread is the code's, and counts).
    bodies_note = launcher_note(m)
    outcomes = [c.outcome for c in checks]
    if FAIL in outcomes:
        outcome = FAIL
        reasons[:0] = [f"{c.name}: {c.reason or c.detail}" for c in checks if c.outcome == FAIL]
    elif INCONCLUSIVE in outcomes or not checks:
        outcome = INCONCLUSIVE
        if generator_note:
            reasons.insert(0, generator_note)
        if disturbed:
            reasons.insert(0, disturbed)
        if contended and any(c.reason == contended for c in checks):
            reasons.insert(0, contended)
        reasons[:0] = [f"{c.name}: {c.reason}" for c in checks
                       if c.outcome == INCONCLUSIVE and c.reason not in (generator_note, disturbed, contended)]
        if not checks:
            reasons.append("the test promises nothing (no budget and no throughput_hz)")
        if unheld_drift:
            reasons.append(unheld_drift)
    else:
        outcome = PASS
        step = late_step(m, spec, policy.alpha)
        if step:
            reasons.append(step)
    if pace and pace_ratio < 1.0 and outcome == INCONCLUSIVE and not any(pace in r for r in reasons):
        # A lighter window would hold a PASS that more requests could reach: say so now.  A verdict
        # that stands, or a heavier window (it holds no PASS), needs no such note (review47, review49).
        reasons.append(pace)
    if bodies_note and outcome != PASS and not any(bodies_note in r for r in reasons):
        # Not "the lag is the code's": a stall of the thread may add to it (the session-11 second check).
        reasons.append(bodies_note)
    base_checks: tuple[BaselineCheck, ...] = ()
    if baseline is not None and compared is not None:
        base_checks = compare(spec, m, compared, policy)
        if m.hung:
            # A hang's backlog is no measure of the code's speed: an OK or IMPROVED beside it would
            # read as "no regression" (review54: "OK" beside a deadlocked service's FAIL).
            base_checks = tuple(replace(b, outcome=INCONCLUSIVE, reason=f"as measured {b.outcome}, but "
                                        f"{_hung_words(m, spec)}: a comparison says nothing of a run that hung")
                                if b.outcome in ("OK", "IMPROVED") else b for b in base_checks)
        late = "; ".join(x for x in (generator_note or (baseline.late if isinstance(baseline, ABInput) else "")
                                     or lateness(spec, m, policy), _base_late(compared)) if x)
        moved_names: set[str] = set()
        if late:
            base_checks, moved_names = _late_checks(spec, m, compared, policy, base_checks, late)
        # After any comparison made again from the dispatch (review103 F6: "p95 +0.0%", the timeout
        # against itself, where a late run's claim was compared again): a percentile among the raised
        # is not compared.
        base_checks = _raised_levels(base_checks, spec, m, lat, is_raised, baseline)
        regressed = [b for b in base_checks if b.outcome == "REGRESSED"]
        # A claim REGRESSED as raised is the code's: no neighbour or preempted thread makes code raise.
        judged = [b for b in regressed if not b.raised]
        # Interleaved A/B runs share a neighbour's CPU load between the sides: it widens their
        # spread, it does not fake a shift, so it holds back only a stored-baseline REGRESSED.
        inline = not policy.allow_disturbances and m.launcher_hold_ms is not None
        thread = _preempted(m, baseline) if inline else ""
        grew = _beyond_preemption(m, baseline) if thread else ""
        if grew:  # the host time grew by more than the preemptions can explain: the code's
            thread = ""
            base_checks = tuple(replace(b, reason=f"{b.reason}; the launching thread was preempted, but {grew}")
                                if b.outcome == "REGRESSED" else b for b in base_checks)
        # (A regression's words, not a FAIL's: review59 read "the FAIL may be theirs" beside a REGRESSED.)
        held = disturbed or (_contended_words(m, "regression") if contended and not isinstance(baseline, ABInput)
                             else "") or thread
        if judged and held:
            base_checks = tuple(replace(b, outcome=INCONCLUSIVE, reason=held)
                                if b.outcome == "REGRESSED" and not b.raised else b for b in base_checks)
            if held == thread:  # a regression the preemptions may have made or hidden: not a silent PASS
                moved_names |= {b.name for b in judged}
            regressed = [b for b in regressed if b.raised]
        if regressed:
            outcome = FAIL
            reasons.extend(f"{b.name}: REGRESSED: {b.reason}" for b in regressed)
        flattered = _base_preempted(m, baseline) if inline else ""
        if flattered:  # an OK or IMPROVED against preempted base runs may hide a regression
            hidden = {b.name for b in base_checks if b.outcome in ("OK", "IMPROVED")}
            base_checks = tuple(replace(b, outcome=INCONCLUSIVE,
                                                      reason=f"as measured {b.outcome}, but {flattered}") if b.name in hidden else b for b in base_checks)
            moved_names |= hidden
        moved = [b for b in base_checks if b.outcome == INCONCLUSIVE and b.name in moved_names]
        if moved and outcome != FAIL:
            # A claim the lateness decided (a regression it hid, or one it alone made) must not
            # pass silently: the test is INCONCLUSIVE with why (the session-10 fourth and fifth checks).
            outcome = INCONCLUSIVE
            reasons.extend(f"{b.name}: {INCONCLUSIVE}: {b.reason}" for b in moved)  # as the others say (review69 W6)
    conditions = tuple(code for code, on in (("generator_late", bool(generator_note)),
                                             ("disturbed", bool(disturbed)),
                                             ("traced", bool(disturbed) and bool(m.traced)),
                                             ("escaped", bool(m.escapes)),
                                             ("contended", bool(m.contention)),
                                             ("preempted", bool(preempted)),
                                             ("nonstationary", drifted),
                                             ("over_capacity", over),
                                             ("slowing", drifted and drift_ratio > 1.0 and not over),
                                             ("bodies_hold", bool(bodies_note))) if on)
    return Verdict(outcome, tuple(checks), tuple(reasons), base_checks, conditions)


def unfinished(m: Measurements, lat: npt.NDArray[np.float64], timeout_s: float) -> int:
    """The requests that never completed (a hang's, or those the give-up left waiting): they hold
    the timeout as their latency, as raised ones do (``stats.stand_ins``), and are among the timed
    out; one that completed late holds its own latency."""
    if not m.timed_out:
        return 0
    return min(m.timed_out, max(0, stats.stand_ins(lat, timeout_s) - m.failed))


def _raised_levels(checks: tuple[BaselineCheck, ...], spec: SloSpec, m: Measurements, lat: npt.NDArray[np.float64],
                   is_raised: Callable[[float], bool], base: BaselineInput | ABInput) -> tuple[BaselineCheck, ...]:
    """The claims without numbers that never happened (``_stand_in_levels``), and a hang where the
    other side's runs held no request that raised or never completed: REGRESSED, in words, on
    every claim (the code's, as raising is, however few requests its lane kept; review107 F4: a
    new deadlock on one lane read "+1.0%, cannot yet be told from no change", exit 0)."""
    checks = _stand_in_levels(checks, spec, m, lat, is_raised, base)
    refs = base.base_runs if isinstance(base, ABInput) else base.runs
    # an A/B's earlier candidate runs too (review113 F3: a hang in run 1 of 2 read "+14.0%
    # INCONCLUSIVE", exit 0, where one in run 2 of 2 read "p95 hung REGRESSED")
    hung_runs = base.cand_hung if isinstance(base, ABInput) else ()
    earlier = [k for k, h in enumerate(hung_runs, 1) if h]
    if not ((m.hung or earlier) and refs and lat.size) or any(stats.stand_ins(r, spec.timeout_s) for r in refs):
        return checks
    hung_words = _hung_words(m, spec) if m.hung else (
        f"a body hung in the candidate's run{'s' if len(earlier) > 1 else ''} {', '.join(map(str, earlier))} of "
        f"{len(hung_runs)} (its stack is printed under the table)")
    who = f"the {base.label}'s runs" if isinstance(base, ABInput) else "the stored runs"
    other = "the base" if isinstance(base, ABInput) else "the baseline"
    named = {f"{percentile_label(p)} vs baseline": p for p in (list(spec.budgets_ms) or [0.95])}
    hang = (f"{hung_words}, where {who} held no request that raised or never completed: a body "
            f"that never came back is worse than {other} by no number a latency can give, and no slower "
            f"machine makes a body hang; {HANG_ADVICE}")
    out = []
    for b in checks:
        p = b.test.p if b.test is not None else named.get(b.name)
        if p is None or b.outcome == "NOT COMPARABLE":
            out.append(b)
        elif b.outcome == "REGRESSED":  # its words (or number) stand, the hang beside a number
            out.append(b if b.raised else replace(b, reason=f"{b.reason}; {hung_words}"))
        else:
            out.append(BaselineCheck(b.name, "REGRESSED", f"{percentile_label(p)} hung: worse than {other}, by "
                                     f"no number", hang, history=b.history, raised=True, stand_in="hung"))
    return tuple(out)


def _stand_in_levels(checks: tuple[BaselineCheck, ...], spec: SloSpec, m: Measurements,
                     lat: npt.NDArray[np.float64], is_raised: Callable[[float], bool],
                     base: BaselineInput | ABInput) -> tuple[BaselineCheck, ...]:
    """Each baseline claim whose change would be made of raised requests' stand-in latency (the
    timeout), on either side, without a number: it never happened (review100 restart F2: "p95
    +705078.4%" beside 10% raised; review104: "-99.5% IMPROVED" against a base that raised).

    This run's percentile among its raised requests (in any candidate run of an A/B) where the
    other side's was a latency in every run and it raised at most half the share the percentile
    allows: REGRESSED, whatever the comparison said or the machine did (no slower machine makes code raise; review104:
    200 raised at the run's start, or a machine control that moved, read "not compared" and the
    test passed).  A REGRESSED the comparison made where the other side's percentile was a latency
    stands too (dropping it left 5.5% raised INCONCLUSIVE where the budget could not decide,
    ``benchmarks/validity/raised_levels.py``).  The mirror, the other side's percentile among its
    raised and none raised here: IMPROVED, in words.  Any other claim at a raised percentile, or
    whose level lies above every latency its side measured (lifted by the stand-in through its
    batches), is not compared, but a REGRESSED (IMPROVED) stands, in words."""
    ab = isinstance(base, ABInput)
    # an A/B's runs set aside for a stall far beyond the others' are the machine's here too; they
    # never raised nor hung (review154 F1: a starved candidate run's queue, past the timeout at the
    # give-up, read "p95 timed out REGRESSED" on an unchanged tree beside "decided without run 1")
    aside = {(side, k) for side, k, _, _ in set_aside(base).aside} if isinstance(base, ABInput) else set()
    refs = [r for k, r in enumerate(base.base_runs, 1) if ("base", k) not in aside] if isinstance(base, ABInput) \
        else base.runs
    cands = base.cand_runs if isinstance(base, ABInput) and base.cand_runs else (lat,)
    t_s = spec.timeout_s
    stand_in = 1000.0 * t_s
    ref_raised = [stats.stand_ins(r, t_s) for r in refs]
    # every candidate run of an A/B (review104 second pass: 5% raised in one run of three read
    # "+196.6%"); on the stored path this run, whose raised requests the gate counts
    gone = 0 if ab else unfinished(m, lat, t_s)  # a hang's requests that never completed
    cand_raised = [0 if ("candidate", k) in aside else stats.stand_ins(r, t_s)
                   for k, r in enumerate(cands, 1)] if ab else [m.failed + gone]
    # (an A/B's runs count theirs by value: the latest run's counts name them, or every run's
    # raised counts where known: review111 F7, a hang in an earlier run only read "raised")
    timed, failed = (m.timed_out if ab else gone), m.failed
    counted = isinstance(base, ABInput) and len(base.cand_raised_counts) == len(cands) and \
        all(c is not None for c in base.cand_raised_counts)
    if isinstance(base, ABInput) and counted:
        failed = sum(int(c or 0) for c in base.cand_raised_counts)
        timed = max(timed, sum(cand_raised) - failed)
    word, requests = stats.stand_in_words(failed, timed)
    # what made them: raising is the code's, and so is a hang; a queue that waited past the
    # timeout at the give-up with no body hung, a slower machine can leave too
    what = " or ".join(x for x in ("raised" if failed else "", "hung" if m.hung and timed else "",
                                   "timed out" if timed and not m.hung else "") if x) or "raised"
    # ... an A/B's too: where no candidate run raised or hung, its stand-ins are a queue that waited
    # past timeout_s at the give-up, which a slower machine can leave (as on the stored path)
    # (runs whose raised counts are not known count as raised, as their word says)
    codes = (not counted or bool(failed) or bool(m.hung) or any(base.cand_hung)) if isinstance(base, ABInput) \
        else (not gone or bool(m.hung))
    named = {f"{percentile_label(p)} vs baseline": p for p in (list(spec.budgets_ms) or [0.95])}
    who = f"the {base.label}'s runs" if isinstance(base, ABInput) else "the stored runs"
    other = "the base" if ab else "the baseline"
    if not (any(cand_raised) or any(ref_raised)) or not lat.size or not refs:
        return checks
    cand_clean = not m.failed and not any(cand_raised) and stats.stand_ins(lat, t_s) == 0
    # what the other side's stand-ins are, where its raised counts are known (review107 F6: a
    # base whose every run hung read "p90 base raised IMPROVED")
    counts = base.base_raised_counts if isinstance(base, ABInput) else base.raised_counts
    known = len(counts) == len(refs) and all(c is not None for c in counts)
    ref_fail = sum(int(c or 0) for c in counts) if known else sum(ref_raised)
    ref_word, ref_requests = stats.stand_in_words(ref_fail, max(0, sum(ref_raised) - ref_fail))
    ref_what = {"raised": "raised", "timed out": "timed out"}.get(ref_word, "raised or timed out")
    out = []
    for b in checks:
        p = b.test.p if b.test is not None else named.get(b.name)
        if p is None or b.outcome == "NOT COMPARABLE":
            out.append(b)
            continue
        label = percentile_label(p)
        ref_at = [stats.raised_at(r, p, t_s) for r in refs]
        latest = bool(m.failed + gone) and is_raised(stats.quantile(lat, p))
        runs_at = [("candidate", k) not in aside and stats.raised_at(r, p, t_s)
                   for k, r in enumerate(cands, 1)] if ab else [latest]
        if latest or any(runs_at):
            which = [str(i) for i, a in enumerate(runs_at, 1) if a]
            held = (f"this run's {label} lies among its {m.failed + gone:,} {requests}, which hold the "
                    f"{t_s:g}-s timeout as their latency" if latest else
                    f"the candidate's run{'s' if len(which) > 1 else ''} {', '.join(which)} of {len(cands)} had "
                    f"{'their' if len(which) > 1 else 'its'} {label} among {'their' if len(which) > 1 else 'its'} "
                    f"{requests}, which hold the {t_s:g}-s timeout as their latency")
            # the other side raised at most half the share this percentile allows, its level a
            # latency in every run (review104 second pass: a base raising 1% disarmed the rule)
            share = sum(ref_raised) / max(sum(r.size for r in refs), 1)
            clear = not any(ref_at) and share <= (1.0 - p) / 2.0 and codes
            if clear or (b.outcome == "REGRESSED" and not any(ref_at) and codes):
                if word == "raised":
                    whose = (f"{who} raised none" if not any(ref_raised) else
                             f"{who} raised {share:.1%} of their requests, their {label} a latency")
                else:
                    whose = (f"no request of {who} held it" if not any(ref_raised) else
                             f"{who} held it in {share:.1%} of their requests, their {label} a latency")
                out.append(BaselineCheck(b.name, "REGRESSED", f"{label} {word}: worse than {other}, by no number",
                                         f"{held}, where {whose}: worse than {other} by no number a latency can "
                                         f"give, and no slower machine makes code {'hang' if what == 'hung' else 'raise'}"
                                         f"; fix what {what}",
                                         history=b.history, raised=True, stand_in=word))
                continue
            both = f", as did {sum(ref_at)} of {len(refs)} of {who}" if any(ref_at) else ""
            queue = "" if codes else (" (no body hung: a queue that waited past timeout_s at the give-up, which a "
                                      "slower machine can leave too)")
            out.append(BaselineCheck(b.name, INCONCLUSIVE, f"{label} {word}: not compared",
                                     f"{held}{both}{queue}: no latency to compare with {other} (the budget claims "
                                     f"count them as over budget); "
                                     + (f"fix what {what}, then compare" if codes else
                                        "find why requests waited past timeout_s, then compare"), history=b.history,
                                     raised=True, stand_in=word))
            continue
        if any(ref_at):
            # with their counts: what a fix made better (review104 second pass)
            theirs = (f"{who}' {label} lay among their {ref_requests} ({sum(ref_at)} of {len(refs)} runs; "
                      f"{', '.join(f'{k:,}' for k in ref_raised)} of {refs[0].size:,} {ref_word}), which hold the "
                      f"{t_s:g}-s timeout as their latency")
            if all(ref_at) and cand_clean:
                out.append(BaselineCheck(b.name, "IMPROVED", f"{label} base {ref_word}: better than {other}, by no number",
                                         f"{theirs}; this run's is a latency and no request of it raised or never completed: better "
                                         f"than {other} by no number a latency can give", history=b.history,
                                         base_raised=True, stand_in=f"base {ref_word}"))
            else:
                out.append(BaselineCheck(b.name, INCONCLUSIVE, f"{label} base {ref_word}: not compared",
                                         f"{theirs}: no latency to compare this run's with", history=b.history,
                                         base_raised=True, stand_in=f"base {ref_word}"))
            continue
        t = b.test
        if t is None or not (math.isfinite(t.ratio) and math.isfinite(t.ci_low) and math.isfinite(t.ci_high)):
            out.append(b)
            continue
        # Neither side's percentile is a stand-in, but a batch's may be: the level compared then
        # lies above every latency its side measured (review104: "+1234.8%" where the run's p95
        # was 3.65 ms against 2.33, 4.7% raised in bunches).
        ref_level = float(np.median([stats.quantile(r, p) for r in refs]))
        measured = lat[lat < stand_in * (1.0 - 1e-9)]
        ref_measured = [x for r in refs for x in [r[r < stand_in * (1.0 - 1e-9)]] if x.size]
        # ... or more of its batches than the level trims are (review104 second pass: "+40.7%" at 3%
        # raised, one batch p95 28.9 ms where the slowest request took 6.4 ms)
        lifted = (bool(m.failed + gone) and measured.size > 0 and t.ci_low * ref_level > float(measured.max())) or any(
            stats.stand_in_batches(r, p, t_s) > stats.RUN_STAT_TRIM for r, k in zip(cands, cand_raised) if k)
        lifted_ref = any(ref_raised) and bool(ref_measured) and (
            stats.quantile(lat, p) / max(t.ci_high, 1e-300) > max(float(x.max()) for x in ref_measured)
            or any(stats.stand_in_batches(r, p, t_s) > stats.RUN_STAT_TRIM for r in refs))
        if not (lifted or lifted_ref):
            out.append(b)
            continue
        side = ("the candidate's" if ab else "this run's") if lifted else f"{who}'"
        why = (f"the level compared on {side} side is partly its {requests if lifted else ref_requests}' "
               f"stand-in (the {t_s:g}-s "
               f"timeout), through the batches whose {label} lies at or toward it, so the change would be a "
               f"number that never happened")
        stands = b.outcome == ("REGRESSED" if lifted else "IMPROVED") and (codes or not lifted)
        words = (f"worse than {other}, by no number" if lifted else f"better than {other}, by no number")
        out.append(BaselineCheck(b.name, b.outcome if stands else INCONCLUSIVE,
                                 f"{label} {word if lifted else 'base ' + ref_word}: "
                                 + (words if stands else "not compared"),
                                 f"{why}; " + (f"{b.outcome} stands ({words}); fix what {what}" if stands else
                                               f"fix what {what if lifted else ref_what}, then compare"),
                                 history=b.history, raised=lifted, base_raised=not lifted))
    return tuple(out)


#: Offered load (rate x mean service / lanes) at or under which a queue that had not emptied by
#: its last quarter is taken as behind a burst of its schedule, not overloaded.
STABLE_LOAD = 0.95


def schedule_drift(spec: SloSpec, m: Measurements, lat: npt.NDArray[np.float64], p: float, alpha: float) -> bool:
    """Whether a run's drift between its halves is the schedule's: its requests' service times
    did not drift (at the median nor at p), and the queue was not overloaded: some request of the
    last quarter still found a lane free (its wait, latency less service, within one median
    service of the run's least), or the promised load, rate_hz x mean service / lanes, is at most
    ``STABLE_LOAD`` (a burst's backlog can outlast a quarter of the run: review43's MMPP queue at
    0.9 still held 0.2-1.3 s of it), as it is in each trailing part (``LANES_FULL_PARTS``).  Such a
    run is still a baseline of its schedule, which every run replays: on bursty schedules every run
    of a test was refused as "not stationary", so that test could never get a baseline (review43:
    7-22% of schedules).  Without service times, never."""
    svc = m.service_ms
    if (svc is None or svc.size != lat.size or svc.size < 64 or not np.all(np.isfinite(svc))
            or np.any(svc <= 0)):
        return False
    if any(stats.stationarity(svc, q, alpha=alpha)[0] for q in sorted({0.5, p})):
        return False
    lanes = 1e3 * max(spec.streams, 1)
    if any(spec.rate_hz * stats.batch_mean_bound(svc[svc.size - svc.size // share:], alpha)[1] / lanes > STABLE_LOAD
           for share, _ in LANES_FULL_PARTS):
        # The service itself grew past what the lanes carry in a trailing part (the lower bound of
        # its mean, so a bursty queue promised 0.9 is not refused for a part's chance mean): the
        # code's drift, whatever the halves' test said (review97: a step from 5 to 13 ms over the
        # last quarter, load 0.5 -> 1.3, read "its service times did not drift ... the schedule's
        # bursts made it ... it may still be stored as a baseline").
        return False
    wait = lat - svc
    if wait[3 * wait.size // 4:].min() <= wait.min() + float(np.median(svc)):
        return True
    # the promised mean rate: a schedule's window may offer more (its bursts), which every run replays
    return bool(spec.rate_hz * float(svc.mean()) / 1e3 / max(spec.streams, 1) <= STABLE_LOAD)


# -- what a stored baseline contributes ---------------------------------------------------------

def session_groups(labels: Sequence[str], days: Sequence[str]) -> tuple[str, ...]:
    """Each run's session as the interval groups them: runs that share a label *or* a UTC day are
    one session (connected through either), so eight CI jobs of one day, each its own label, are
    one, and so is a label that spans days.  Grouping by labels alone read 6 + 1 + 1 runs a day with
    a label per job as eight independent runs: 5.0% [3.3, 7.6] false REGRESSED under a 5% day
    shift (review64, ``benchmarks/validity/uneven_days.py``).  Empty where neither is known."""
    keys = [list(k) for k in (labels, days) if k]
    if not keys:
        return ()
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    r = len(keys[0])
    names = {key: r + i for i, key in enumerate(dict.fromkeys((j, v) for j, k in enumerate(keys) for v in k))}
    rows = [i for k in keys for i in range(r)]
    cols = [names[(j, v)] for j, k in enumerate(keys) for v in k]
    graph = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(r + len(names), r + len(names)))
    _, comp = connected_components(graph, directed=False)
    first: dict[int, str] = {}
    for i in range(r):
        first.setdefault(int(comp[i]), keys[0][i])
    return tuple(first[int(comp[i])] for i in range(r))


def baseline_input(runs: Sequence[npt.NDArray[np.float64]], spec: SloSpec, *, paired: bool,
                   sessions: int | Sequence[str] = 1, differing: Sequence[str] = (), where: str = "",
                   date: str = "", commit: str | None = None,
                   controls: Sequence[Mapping[str, float] | None] = (),
                   scales: Sequence[Mapping[str, float] | None] = (),
                   dispatched: Sequence[npt.NDArray[np.float64]] = (),
                   holds: Sequence[float | None] = (),
                   waits: Sequence[float | None] = (), hosts_measured: bool = True,
                   body_hosts: Sequence[float | None] = (),
                   shuffled: Sequence[Mapping[str, float] | None] = (),
                   shuffled_off: Sequence[str] = (),
                   owns: Sequence[float | None] = (),
                   days: Sequence[str] = (), late_floor_ms: float = 0.0,
                   changed: Sequence[str] = (), raised_counts: Sequence[int | None] = ()) -> BaselineInput:
    """The gate's view of a stored baseline (oldest run first): every run counts (``compare``).
    ``sessions``: each run's session label (as ``baseline.session_labels`` gives them), or only
    their number when the labels are unknown; ``days``: each run's UTC day, where known.  Runs that
    share a label or a day are one session (``session_groups``): runs of one day from several fresh
    CI VMs, each its own ``$GPUSLO_SESSION``, share that day's machine (review62: 37% false
    REGRESSED at R = 8 when one day's shift was counted as eight sessions).  The plugin and
    ``gpuslo compare`` both build it here."""
    labels: tuple[str, ...] = () if isinstance(sessions, int) else tuple(str(x) for x in sessions)
    # One label and one control per run, or none: a list of another length is a caller's mistake
    # that would otherwise switch the session rule or the machine control off without a word.
    for name, given in (("sessions", labels), ("controls", controls), ("scales", scales),
                        ("dispatched", dispatched), ("holds", holds), ("waits", waits),
                        ("body_hosts", body_hosts), ("shuffled", shuffled), ("shuffled_off", shuffled_off),
                        ("owns", owns), ("days", days), ("raised_counts", raised_counts)):
        if given and len(given) != len(runs):
            raise ValueError(f"gate.baseline_input: {len(given)} {name} for {len(runs)} runs; give one per run "
                             f"(oldest first) or none")
    groups = session_groups(labels, tuple(days))
    count = len(set(groups)) if labels else int(sessions)  # type: ignore[arg-type]
    if days and not labels:
        count = min(count, len(set(days)))
    return BaselineInput(tuple(np.asarray(r, dtype=np.float64) for r in runs), paired, max(1, count),
                         groups, tuple(differing), where, date, commit, tuple(controls), tuple(scales),
                         tuple(np.asarray(r, dtype=np.float64) for r in dispatched), tuple(holds),
                         tuple(waits), hosts_measured, tuple(body_hosts), tuple(shuffled), tuple(shuffled_off),
                         tuple(owns), late_floor_ms, tuple(changed), tuple(raised_counts))


# -- sequential looks ---------------------------------------------------------------------------

def look_plan(spec: SloSpec, schedule_ns: npt.NDArray[np.int64], warm: int,
              policy: Policy) -> tuple[list[int], Policy]:
    """End indices of the analyses and the policy each look is decided at.

    One look at the end, or (with ``max_duration_s``) at 25%, 50% and 100% of the horizon.  Alpha
    is split equally over the looks (Bonferroni: valid whatever the dependence between them); the
    run stops at the first decisive look (``decisive``).
    """
    n = int(schedule_ns.size)
    if not spec.max_duration_s or n <= warm:
        return [n], policy
    horizon = int(schedule_ns[-1])
    first = int(schedule_ns[warm]) if n > warm else 0
    ends = [int(np.searchsorted(schedule_ns, first + f * (horizon - first), side="right")) for f in (0.25, 0.5)]
    looks = sorted({max(e, warm + 1) for e in ends} | {n})
    return looks, replace(policy, alpha=policy.alpha / len(looks))


def ab_looks(runs: int, max_runs: int | None, policy: Policy) -> tuple[list[int], Policy]:
    """When ``gpuslo ab`` decides (after how many runs a side), and the policy of each look.

    ``runs`` a side first; with ``max_runs`` above it, again halfway and at ``max_runs`` while a
    regression claim is still undecided (``ab_wants_more``).  Alpha is split equally over the looks
    (Bonferroni, as ``look_plan``): stopping at the first decisive look then keeps every claim's
    false-alarm rate at alpha whatever the dependence between looks.
    """
    if not max_runs or max_runs <= runs:
        return [runs], policy
    looks = sorted({runs, (runs + max_runs + 1) // 2, max_runs})
    return looks, replace(policy, alpha=policy.alpha / len(looks))


def ab_wants_more(checks: Sequence[BaselineCheck], max_runs: int) -> bool:
    """Another look can help: some regression claim is INCONCLUSIVE and its test does not already
    say that more than ``max_runs`` a side would be needed (stopping for futility never raises a
    false alarm, so it costs no alpha)."""
    for c in checks:
        if c.outcome != INCONCLUSIVE or c.test is None:
            continue
        if c.test.runs_needed is None or c.test.runs_needed <= max_runs:
            return True
    return False


def decisive(verdict: Verdict) -> bool:
    """A look that settles every claim: nothing INCONCLUSIVE, against the budget or the baseline."""
    return verdict.outcome != INCONCLUSIVE and all(b.outcome != INCONCLUSIVE for b in verdict.baseline)


# -- after the decision -------------------------------------------------------------------------

def busy_refusal(contention: str = "") -> str:
    """The refusal of a run measured beside busy neighbours (``contention``: ``cpu_contention``'s
    words): ``save_refusal``'s, and ``gpuslo accept``'s from a record's own words where its
    ``save_refusal`` field is gone (review191 F1: deleting that one field let a busy run in)."""
    return ((contention or "other processes (or, on a VM, the hypervisor: steal time) kept the CPUs busy during "
             "the run") + " (a baseline needs a quiet machine, other processes under half a CPU and a quarter of "
            "the CPUs throughout the run, whatever --gpuslo-allow-throttle says: run SLO jobs alone, on a "
            "dedicated CI runner whose CPUs are not shared with other machines; on a shared one compare with "
            "gpuslo ab)")


def save_refusal(verdict: Verdict | None, failed: int, timed_out: int, hung: int = 0, contention: str = "",
                 frozen_ms: float = 0.0, stretch: float | None = None, disturbances: Sequence[str] = ()) -> str:
    """Why a run must not become a baseline ('' when it may): the same rule for
    ``--gpuslo-save`` and ``gpuslo accept``.  A body that hung in the warm-up leaves no measured
    request past timeout_s where other lanes took the load, but the run had a lane fewer.
    ``contention``: ``cpu_contention``'s words, the figure a busy machine's refusal quotes;
    ``frozen_ms``: the longest the process was found stopped (``Measurements.frozen_ms``), named
    as ``stopped_words`` names it (``stretch``: ``Measurements.run_queue_stretch``);
    ``disturbances``: the run's (``Measurements.disturbances``), the first of which a disturbed
    run's refusal names (review179 F2: a coverage tracer's run read "the GPU was disturbed")."""
    if verdict is None:
        return "no verdict"
    if "traced" in verdict.conditions:  # the tracer first: no quiet machine helps (review181 F3)
        return next((d for d in disturbances if d.startswith("a Python tracer")), "a Python tracer was active")
    if "generator_late" in verdict.conditions and "bodies_hold" in verdict.conditions:
        return ("the load generator fell behind by more than the bodies' own host time on the launching thread "
                "explains (a stall of that thread, or a preemption), and that lateness would be stored as the "
                "workload's latency; the bodies' host time itself queues later requests there too (the "
                "verdict names it): capture the body in a CUDA graph (slo_graph), remove a hidden sync "
                "(.item(), .cpu()), or use backend='cuda-sync', then record on a quiet machine")
    busy = busy_refusal(contention)
    stop = stopped_words(frozen_ms, busy=bool(contention), stretch=stretch)
    if "generator_late" in verdict.conditions and stop:
        # review151: a SIGSTOP's refusal blamed "the dispatcher's own precision"
        return (f"the load generator fell behind while {with_cause(stop, 'a SIGSTOP, a paused VM, hypervisor steal')}"
                f": that lateness would be stored as the workload's latency; record again "
                f"where the process runs undisturbed")
    if "generator_late" in verdict.conditions and "contended" in verdict.conditions:
        # The neighbours are why its generator fell behind (review63: a refusal that blamed the
        # dispatcher's precision on a machine 1.0-1.8 CPUs busy).
        return "the load generator fell behind while " + busy
    if "generator_late" in verdict.conditions:
        return ("the load generator fell behind: its lateness, over the lag limit, would be stored as the "
                "workload's latency (on a quiet machine that is the dispatcher's own precision, which "
                "gpuslo capacity measures: lower rate_hz, raise the budget or run SLO jobs alone)")
    if "escaped" in verdict.conditions:
        return "GPU work escaped the request's stream"
    if "disturbed" in verdict.conditions:
        return disturbances[0] if disturbances else "the GPU was disturbed during the run"
    if "preempted" in verdict.conditions:
        return ("the launching thread was preempted by other work during the run, which lengthened the bodies' "
                "host time (a baseline needs a quiet machine)")
    if "contended" in verdict.conditions:
        return busy
    if "nonstationary" in verdict.conditions:
        return "the run was not stationary"
    if failed or timed_out:
        # with the counts and the fix (review104: a refusal of 817 raised read like a busy machine's)
        counts = " and ".join(x for x in (f"{failed:,} raised" if failed else "",
                                          f"{timed_out:,} timed out" if timed_out else "") if x)
        return (f"requests failed or timed out ({counts}): a baseline holds the code's latencies, not "
                f"stand-ins for failures; fix what {'raised' if failed else 'timed out'}, then record")
    regressed = regressed_refusal(verdict)
    if regressed:
        return regressed
    if hung:
        return "a body hung (it was still running past timeout_s when the run gave up on it)"
    return ""


def regressed_refusal(verdict: Verdict) -> str:
    """Why a run judged REGRESSED against the stored runs must not join them ('' when it was not):
    ``save_refusal``'s rule, which ``gpuslo accept`` also asks of a run decided again against the
    store (review71: such a run was added, moving the stored level toward it and widening its
    spread, so the next run of the slow code passed)."""
    regressed = [b for b in verdict.baseline if b.outcome == "REGRESSED"]
    if not regressed:
        return ""
    said = ", ".join(f"{percentile_label(b.test.p)} {b.test.ratio - 1:+.1%}" if b.test is not None
                     and math.isfinite(b.test.ratio) else b.name for b in regressed)
    return (f"it regressed against the stored runs ({said}): added to them it would move their level toward "
            f"the regression and hide it from the next run; if the change is intended, delete this test's "
            f"baseline file in the store and record the new level anew")


def save_note(m: Measurements, floor_ms: float = 0.0) -> str:
    """What a saved run's reader should know though it may be a baseline ('' when nothing): a
    generator late under the lag limit for more requests than a comparison can set aside
    (``MAX_TOUCHED``).  Every later comparison must then hold without that lateness on both sides,
    and may stay undecided for it (review67: runs the save took silently, a later comparison said
    "the stored runs were late too ... record them again on a quiet machine").  ``floor_ms``: the
    part of every request's delay that is the dispatcher's own precision (Python-thread lanes:
    ``timeline.DISPATCH_PRECISION_NS``), in every run on any machine: review69 saw the note, and
    its advice to find a quieter machine, on every CPU save of a quiet machine."""
    lat = np.asarray(m.latency_ms, dtype=np.float64)
    if not lat.size:
        return ""
    delay = lat - from_dispatch(m) - max(floor_ms, 0.0)
    touched = float(np.mean(delay > TOUCH_SHARE * float(np.median(lat))))
    if touched <= MAX_TOUCHED:
        return ""
    return (f"its load generator delayed the completions of {touched:.0%} of its requests (under the lag limit), "
            f"more than the {MAX_TOUCHED:.0%} a comparison sets aside: comparisons against it must hold without "
            f"that lateness and may stay undecided; a run saved on a quiet machine makes a cleaner baseline")


#: A store whose runs could show no change under this (the most it keeps, spread alike) is said to
#: gate nothing a user would wait for: compare interleaved instead (review138 F1).
STORE_USELESS = 0.5


def store_note(base: BaselineInput, spec: SloSpec, policy: Policy | None = None) -> str:
    """What the stored runs, as saved, can show REGRESSED at the tightest budgeted percentile, from
    their own spread, or '' under 2 comparable runs (review138 F1: "updated (3 runs from 3
    sessions)" read as ready, on a machine whose 10% run-to-run spread let no change under 10x
    through, and a +63% p95 was INCONCLUSIVE).  The same interval as ``compare``'s, on the same
    levels and scale, at the candidate's place (a run spread like them)."""
    policy = policy or Policy()
    runs = tuple(base.runs)
    if len(runs) < 2 or not base.paired or base.differing or base.changed or len({r.size for r in runs}) != 1:
        return ""
    p = max(spec.budgets_ms, default=0.95)
    lv = shuffled_levels(base.shuffled, list(runs), p)
    lam, _ = interval_scale(base.scales, p, replayed=lv is not None)
    found = stats.stored_power(runs, p, alpha=policy.alpha * stats.PI_ALPHA_FACTOR, delta=policy.noise_floor(p)[0],
                               groups=base.session_of or None, scale=lam, levels=lv)
    if found is None:
        return ""
    spread, now, most = found
    label, r = percentile_label(p), len(runs)
    said = f"the stored runs' {label} levels spread {spread:.1%} a run"
    if base.sessions < 2:
        # review139 F7: runs of one day share its machine; their spread leaves a day's shift out
        said += " within one session (a day's shift of the machine is not in it: days may spread wider)"
    if r >= MIN_RUNS_FOR_SPREAD and base.sessions >= MIN_SESSIONS:
        said += (f": a change of about {now:.0%} or more shows REGRESSED against them 4 times in 5"
                 if math.isfinite(now) else ": no change under 10x shows REGRESSED against them")
    if r < stats.STORE_RUNS:
        said += (f" ({stats.STORE_RUNS} runs from as many sessions, spread alike: about {most:.0%})"
                 if math.isfinite(most) else f" (and with {stats.STORE_RUNS} runs, spread alike, none under 10x)")
    if not math.isfinite(most) or most >= STORE_USELESS:
        said += ("; on a machine this noisy stored runs gate little: compare interleaved on one machine "
                 "(gpuslo ab), where a shift shared by both sides cancels, or lengthen the runs")
    return said


#: A saved run whose undecided change against the stored runs reads at least this ratio is said
#: (``moved_note``): the store's spread let it in, and it moves the stored level toward it.
SAVE_MOVE = 1.25


def _moving(verdict: Verdict | None) -> list[BaselineCheck]:
    return [] if verdict is None else [b for b in verdict.baseline if b.outcome == INCONCLUSIVE and b.test is not None
                                       and math.isfinite(b.test.ratio) and b.test.ratio >= SAVE_MOVE]


def moves_stored_level(verdict: Verdict | None) -> bool:
    """Saving this run moves the stored runs' level (``moved_note`` has words for it): the save
    keeps the file as it was (``Store.save(keep_previous=True)``)."""
    return bool(_moving(verdict))


def moved_note(verdict: Verdict | None, where: str, previous: str = "") -> str:
    """What a saved run adds to the stored runs though not judged REGRESSED ('' when nothing):
    a change of ``SAVE_MOVE`` or more that their spread left undecided (review72: runs at +187%
    and +746% against a widely spread three-session store were saved without a word).  ``where``:
    the store file; ``previous``: the copy of it as it was before the save (review98 #3: "restore
    from git" in a store not yet committed)."""
    moved = _moving(verdict)
    if not moved:
        return ""
    said = ", ".join(f"{percentile_label(b.test.p)} {b.test.ratio - 1:+.0%}" for b in moved if b.test is not None)
    undo = (f"move {previous} (the file as it was) back over {where}" if previous
            else f"restore {where} from git")
    return (f"this run reads {said} against the stored runs, which left it undecided (too widely spread, or too few "
            f"runs or sessions for a REGRESSED); saved, it moves "
            f"their level toward it: if that change is not intended, {undo}")


def blocking_claims(summaries: Sequence[dict[str, Any]]) -> list[tuple[str, float]]:
    """Every claim that can fail a test, with its p-value: the FAIL direction of each budget and
    the REGRESSED direction of each baseline comparison, named ``"<nodeid> <claim>"``.  A test
    marked xfail is left out: its FAIL is a green XFAIL, so its claims fail no test, and counted
    they only widened every other claim's Holm adjustment."""
    claims: list[tuple[str, float]] = []
    for s in summaries:
        if str(s.get("pytest_outcome") or "").startswith(("xfailed", "xpassed")):
            continue
        v = s.get("verdict") or {}
        for c in v.get("checks", []):
            if c.get("p_fail") is not None:
                claims.append((f"{s['nodeid']} {c['name']}", float(c["p_fail"])))
        for b in v.get("baseline", []):
            if b.get("p_regress") is not None:
                claims.append((f"{s['nodeid']} {b['name']}", float(b["p_regress"])))
    return claims


def suite_holm(summaries: Sequence[dict[str, Any]]) -> dict[str, float]:
    """Holm-adjusted p-values of every blocking claim of a session (family-wise error control)."""
    claims = blocking_claims(summaries)
    adjusted = stats.holm([p for _, p in claims])
    return {name: adj for (name, _), adj in zip(claims, adjusted)}

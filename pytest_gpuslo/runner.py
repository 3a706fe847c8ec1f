"""One SLO test from its spec to a decided, recorded result, without pytest (layer 3).

The pytest layer hands over a spec, a body and the run's settings; this module plans the schedule
once, finds the stored baseline for it, runs the driver look by look, asks the gate, and records
the run (``.last`` for ``gpuslo accept``, the store under ``--gpuslo-save``).  Errors come out as
the project's own exceptions (``BaselineFormatError``, ``WorkloadError``, ``BackendUnavailable``)
for the caller to turn into a failure or a skip.
"""

from __future__ import annotations

import math
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from pytest_gpuslo import arrivals, backends, control, gate, series
from pytest_gpuslo.backends import Backend
from pytest_gpuslo.baseline import (
    LAST_RUNS,
    Baseline,
    Run,
    Stamps,
    Store,
    gate_input,
    load,
    now_iso,
    power_note,
    previous_path,
    session_id,
)
from pytest_gpuslo.errors import dangling, error_line
from pytest_gpuslo.measurement import Progress, payload_picker, run_open_loop
from pytest_gpuslo.recorder import Request, RunData
from pytest_gpuslo.result import SloResult
from pytest_gpuslo.spec import SloSpec
from pytest_gpuslo.timeline import DISPATCH_PRECISION_NS


@dataclass(frozen=True, slots=True)
class Settings:
    """The session-wide settings a test run needs (from ini and command line)."""

    policy: gate.Policy
    #: the rootdir: relative folders below are taken from here.
    root: Path
    baseline_dir: str = ".gpuslo"
    #: compare against this folder instead of the store (``--gpuslo-compare``).
    compare_dir: str | None = None
    save: bool = False
    use_baseline: bool = True
    #: keep the HTML report's time series on the result.
    keep_series: bool = False
    commit: str | None = None
    #: NVTX ranges around requests and stages (``--gpuslo-nvtx``).
    nvtx: bool = False
    #: the pytest invocation this run belongs to (kept in ``.last`` for ``gpuslo accept``).
    invocation: str | None = None
    #: this test's xfail marker, where one applies (``{"strict": bool}``), kept in its record so that
    #: `gpuslo compare` reads its verdict as pytest did.
    xfail: dict[str, bool] | None = None

    @property
    def store(self) -> Store:
        return Store(self.root / (self.compare_dir or self.baseline_dir))


def tracer_in_use() -> str:
    """The Python tracer or profiler active in this process ('' where none): coverage (pytest-cov),
    a debugger or a profiler, each of which slows Python code several times (review179 F2: --cov
    made the same code 2.1x slower, and the machine control blamed the machine)."""
    hooks = [sys.gettrace(), threading.gettrace(), sys.getprofile(), threading.getprofile()]
    for hook in hooks:
        if hook is not None:  # a function's name, or a tracer object's class (coverage's CTracer)
            name = getattr(hook, "__qualname__", None) or type(hook).__qualname__
            module = getattr(hook, "__module__", None) or type(hook).__module__
            return ".".join(str(x) for x in (module, name) if x)
    monitoring = getattr(sys, "monitoring", None)  # Python 3.12+: coverage's sysmon core, debuggers
    if monitoring is not None:
        for tool in range(6):
            name = monitoring.get_tool(tool)
            if name:
                return str(name)
    return ""


def tracer_words(tracer: str) -> str:
    """The disturbance a tracer makes: its timings are not the code's."""
    return (f"a Python tracer was active during the run ({tracer}: coverage, a debugger or a profiler), "
            f"which slows Python code several times, so these timings are not the code's: run SLO tests "
            f"without it (pytest-cov: --no-cov, or a job of their own)")


def baseline_for(settings: Settings, nodeid: str, machine: dict[str, Any], spec: SloSpec,
                 fingerprint: str) -> gate.BaselineInput | None:
    """The stored baseline of this test for this machine class, ready for the gate (``None``:
    none stored, or baselines switched off).  A corrupt file raises ``BaselineFormatError``."""
    if not settings.use_baseline:
        return None
    found = settings.store.get(nodeid, machine)
    if found is None:
        found = _another_machines(settings, nodeid)
        if found is None:
            return None
    return gate_input(found, spec, fingerprint=fingerprint, machine=machine)


def _another_machines(settings: Settings, nodeid: str) -> Baseline | None:
    """This test's baseline stored for another machine class, if any: compared, it says NOT
    COMPARABLE with the keys that differ and how to record one here, where "no baseline" said
    nothing of it (review35: a store recorded on a laptop silently gated nothing in CI).  One that
    cannot be read is left to its own machine's runs."""
    from pytest_gpuslo.errors import BaselineFormatError

    for path in settings.store.files_of(nodeid):
        try:
            found = load(path)
        except (BaselineFormatError, OSError):
            continue
        if found.nodeid == nodeid:  # a file of this test's name that holds another's is not its
            return found
    return None


#: Thread names of the CPU backend's lanes and priming call: alive before a run starts, they are
#: an earlier run's, abandoned as hung.
ABANDONED = ("gpuslo-lane-", "gpuslo-prime")


#: CPU an abandoned thread took over the run, as a share of its wall time, above which it
#: disturbed the run (a thread blocked on an event takes none; review107 F10's spun a whole CPU).
LEFTOVER_SHARE = 0.05


def _cpu_ns(thread: threading.Thread) -> int | None:
    """A thread's time on a CPU so far (Linux schedstat; None elsewhere or once it has exited)."""
    try:
        with open(f"/proc/self/task/{thread.native_id}/schedstat", encoding="ascii") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def execute(spec: SloSpec, body: Callable[[Request], Any], *, backend: Backend,
            schedule: npt.NDArray[np.int64], warm: int, payloads: Any = None, nodeid: str = "",
            policy: gate.Policy | None = None, progress: Callable[[Progress], None] | None = None,
            baseline: gate.BaselineInput | None = None) -> SloResult:
    """Run ``schedule`` on ``backend`` look by look and decide each look with ``gate.decide``;
    stop at the first decisive one (``gate.look_plan``)."""
    pick = payload_picker(payloads, len(schedule))
    policy = policy or gate.Policy()
    fingerprint = arrivals.fingerprint(schedule)
    looks, look_policy = gate.look_plan(spec, schedule, warm, policy)
    data: RunData | None = None
    backlog = 0
    waited, waited_over = 0, 0  # the launcher thread's wait for a CPU, over the looks so far
    disturbances: list[str] = []
    # Lanes an earlier test abandoned as hung, still running in this process: they share the CPUs
    # and the GIL with this run (review107 F10: a spinning one made the next test's unchanged code
    # read REGRESSED +116.5%, and no report said why).
    leftover = [t for t in threading.enumerate() if t.name.startswith(ABANDONED) and t.is_alive()]
    used = {t: _cpu_ns(t) for t in leftover}  # by thread: several may share a name (gpuslo-lane-0)
    begun = time.perf_counter_ns()
    start = 0
    result: SloResult | None = None
    # The machine control brackets the run, outside the schedule (control.py).
    readings = [backend.control()]
    traced = tracer_in_use()
    if progress is not None and schedule.size > 1:  # the whole schedule, said before it starts
        progress(Progress(0, int(schedule.size - warm), None, None, span_s=float(schedule[-1] - schedule[0]) / 1e9,
                          longest_gap_s=float(np.diff(schedule).max()) / 1e9))
    for k, end in enumerate(looks):
        segment = schedule[start:end]
        shift = int(segment[0]) if start and segment.size else 0
        part, dstats = run_open_loop(segment - shift, backend, body, lanes=spec.streams,
                                     timeout_s=spec.timeout_s, payloads=pick, progress=progress,
                                     prime=start == 0, index_offset=start)
        data = part if data is None else data.extended(part, shift)
        backlog = max(backlog, dstats.max_backlog)
        if dstats.launcher_waited_ns is not None and dstats.launcher_wall_ns > 0:
            # Over the schedule's span, not the dispatch's wall time: the same scale as the bodies'
            # share (mean host time x offered rate), which an overloaded run's longer wall time
            # would otherwise make look larger than the wait (the launcher grid near saturation).
            waited += dstats.launcher_waited_ns
            waited_over += max(int(segment[-1] - segment[0]), 1) if segment.size > 1 else dstats.launcher_wall_ns
        readings.append(backend.control())
        telemetry = backend.telemetry()
        if waited_over:
            telemetry["launcher_wait_share"] = round(waited / waited_over, 5)
        disturbances += [d for d in telemetry.get("disturbances", []) if d not in disturbances]
        # (one blocked on a lock or an event takes nothing from the run: only those that ran count)
        wall = max(time.perf_counter_ns() - begun, 1)
        still = [t.name for t in leftover if t.is_alive() and (now := _cpu_ns(t)) is not None
                 and (was := used.get(t)) is not None and (now - was) / wall > LEFTOVER_SHARE]
        traced = traced or tracer_in_use()
        if traced and (said := tracer_words(traced)) not in disturbances:
            disturbances.append(said)
        if traced:
            telemetry["tracer"] = traced
        if still:
            said = (f"{len(still)} thread{'s' if len(still) > 1 else ''} an earlier test abandoned as hung "
                    f"({', '.join(sorted(still)[:4])}) still ran in this process during the run, sharing its CPUs "
                    f"and the GIL: run this test in a process of its own (pytest -k, or pytest-xdist), or fix "
                    f"the earlier test's hang")
            if said not in disturbances:
                disturbances.append(said)
        telemetry["disturbances"] = disturbances
        telemetry["control"] = control.combine(*readings)
        result = SloResult(spec=spec, data=data, warmup=warm, backend=backend.name,
                           machine=backend.describe(), schedule_fingerprint=fingerprint,
                           max_backlog=backlog, nodeid=nodeid, telemetry=telemetry,
                           inline_body=bool(getattr(backend, "inline_body", False)),
                           submit_ns=int(getattr(backend, "submit_ns", 0)))
        result.measured = result.measurements()
        result.verdict = gate.decide(spec, result.measured, look_policy, baseline)
        if len(looks) > 1:
            result.looks = {"done": k + 1, "planned": len(looks), "alpha_per_look": look_policy.alpha,
                            "requests": [int(e - warm) for e in looks]}
        if gate.decisive(result.verdict):
            break
        start = end
    assert result is not None
    return result


def _finite(x: float) -> float | None:
    """A rate for the JSON store: NaN (no request completed in time) is stored as null."""
    return None if math.isnan(x) else x



#: How a run --gpuslo-save could not write begins ("not saved: <refusal>" is the gate's refusal):
#: the session's exit status says the first, a warning the second (review69).
STORE_UNWRITTEN = "not saved: could not write "

def record(result: SloResult, settings: Settings) -> None:
    """Keep the run as the last result (for ``gpuslo accept``) and save it under ``--gpuslo-save``,
    unless the gate's ``save_refusal`` says it must not become a baseline."""
    failed, timed_out = int(result.failed.sum()), int(result.timed_out.sum())
    v = result.verdict
    # What the gate read besides the latencies, so `gpuslo compare` / `gpuslo ab` decide this run
    # as the plugin just did (the service only where busy neighbours make the gate ask for it).
    m = result.measured or result.measurements()
    refusal = gate.save_refusal(v, failed, timed_out, m.hung, m.contention, m.frozen_ms, m.run_queue_stretch,
                                m.disturbances)
    summary = {"verdict": v.outcome if v else None, "offered_hz": _finite(result.offered_hz),
               "throughput_hz": _finite(result.throughput_hz), "failed": failed,
               "timed_out": int((result.timed_out & ~result.failed).sum()),
               "disturbances": list(result.telemetry.get("disturbances", [])),
               "escapes": list(result.telemetry.get("escapes", [])),
               # decided at a sequential look: alpha was split over this many looks.
               "looks": int((result.looks or {}).get("planned", 1)),
               "load_dependent": m.load_dependent,
               "launcher_wait": m.launcher_wait, "body_host_ms": m.body_host_ms,
               "own_mean_ms": m.own_mean_ms,
               "session": session_id(),
               "control": result.telemetry.get("control") or None,
               "scale": result.replay_scales() or None,
               "shuffled": dict(m.shuffled) if m.shuffled else None,
               "shuffled_off": m.shuffled_off or None,
               "save_refusal": refusal,
               # what the session decided with, so `gpuslo compare` of this record decides alike
               # (review146 F1, F2: --gpuslo-allow-throttle and --gpuslo-alpha were lost offline)
               "policy": {"alpha": settings.policy.alpha, "allow_throttle": settings.policy.allow_disturbances,
                          "inconclusive": settings.policy.inconclusive}}
    if settings.invocation:
        summary["invocation"] = settings.invocation
    if settings.xfail is not None:
        summary["xfail"] = dict(settings.xfail)
    if m.hung:
        summary["hung"] = m.hung
    if m.first_hung is not None:
        summary["first_hung"] = list(m.first_hung)
    if m.hang_backlog:
        summary["hang_backlog"] = m.hang_backlog
    if m.lanes_hung:
        summary["lanes_hung"] = m.lanes_hung
    if m.frozen_ms > 0:  # the process found stopped: its stall is named offline too (review151 F2)
        summary["frozen_ms"] = m.frozen_ms
    if m.first_timed_out is not None:
        summary["first_timed_out"] = m.first_timed_out
    if m.first_error:
        summary["first_error"] = error_line(m.first_error)  # the line the gate quotes
    if m.contention:
        summary["contention"], summary["contention_slowdown"] = m.contention, m.contention_slowdown
    if m.contention and m.time_split:
        summary["time_split"] = dict(m.time_split)
    stamps = Stamps.of_run(result.data.scheduled_ns, result.data.dispatch_ns, result.data.start_ns,
                           result.data.end_ns, result.data.lane, result.warmup)
    service = m.service_ms
    # The service times beside busy neighbours (their rules read them), and wherever the stamps
    # cannot stand for them (``Run.measurements`` reads them off the stamps, which hold every
    # request's start and end, but not which raised): the lanes-full rule FAILs a quiet run on
    # them too, and `gpuslo compare` left that FAIL INCONCLUSIVE (review145 F2).
    need = bool(m.contention) or stamps is None or bool(m.failed) or bool(m.timed_out)
    kept = ~np.isnan(service) if need and service is not None else None
    # The own times only where the slow-stretch rule reads anything in them at any alpha.
    own = m.own_ms is not None and any(gate.slow_own(m, b, p, 1.0)[0] for p, b in result.spec.budgets_ms.items())
    run = Run(result.latency_ms, now_iso(), settings.commit,
              {k: {"n": s.n, "p50_ms": s.p50_ms, "p95_ms": s.p95_ms} for k, s in result.stages.items()},
              summary, m.lag_ms, start_delay_ms=m.start_delay_ms,
              service_ms=service[kept] if service is not None and kept is not None else None,
              launcher_hold_ms=m.launcher_hold_ms,
              asleep_ms=(np.nan_to_num(m.asleep_ms[kept]) if kept is not None and m.asleep_ms is not None
                         and m.asleep_ms.shape == kept.shape else None),
              own_ms=m.own_ms if own else None, own_asleep_ms=m.own_asleep_ms if own else None,
              stamps=stamps)
    base = Baseline(result.nodeid, result.spec.as_dict(), result.spec.seed, result.schedule_fingerprint,
                    result.machine, [run], result.telemetry)
    root = settings.root / settings.baseline_dir
    try:
        Store(root / LAST_RUNS).save(base, replace=True, history=False)
        ignore = root / LAST_RUNS / ".gitignore"
        if not ignore.exists():
            # Like .pytest_cache: the last run's results are scratch, never committed.
            ignore.write_text("# written by pytest-gpuslo: the last run's results, for gpuslo accept\n*\n")
    except OSError as exc:
        # review74: a file named .last in the store was passed over without a word, and accept then
        # said ".last is empty; run the SLO tests first" (the verdict stands either way)
        # review76/77: a link to nothing is named as such, and the OS's "(File exists)" only where
        # nothing in the way explains the failure
        last = root / LAST_RUNS
        shown = _shown(last, settings.root)
        if last.exists() and not last.is_dir():
            kind = "a file" if last.is_file() else "no folder (a FIFO, device or socket)"  # review120
            cause, fix = "", f"{shown} is {kind}: delete it"
        elif dangling(last):
            cause, fix = "", f"{shown} is {dangling(last)}: delete it or mend it"
        else:
            cause, fix = f" ({exc.strerror or exc})", "check --gpuslo-baseline-dir and the disk"
        # review100 F1: accept then took the older record still there for this run
        result.last_unwritten = (f"its last-run record could not be written{cause}: gpuslo accept and gpuslo "
                                 f"compare will not see this run, and would take an earlier run of this test "
                                 f"still recorded there for it; {fix}")
    if not settings.save:
        return
    if refusal:
        result.baseline_saved = f"not saved: {refusal}"
        return
    store = Store(root)
    try:
        keep = gate.moves_stored_level(result.verdict)
        path, what = store.save(base, keep_previous=keep)
    except OSError as exc:
        # The verdict stands; the failed save is reported on the test's summary line.
        target = store.path_for(base.nodeid, base.machine)
        cause = exc.strerror or str(exc)
        if exc.filename is not None and str(exc.filename) != str(target):
            cause += f" ({exc.filename})"
        result.baseline_saved = (f"{STORE_UNWRITTEN}{_shown(target, settings.root)}: {cause}; "
                                 f"check --gpuslo-baseline-dir and the disk")
        return
    # Python-thread lanes: each delay holds the dispatcher's own precision (``timeline.machine_late``)
    threads = not result.inline_body and result.data.dispatch_runq_ns is not None
    note = "; ".join(x for x in (gate.save_note(m, DISPATCH_PRECISION_NS / 1e6 if threads else 0.0),
                                 gate.moved_note(result.verdict, _shown(path, settings.root),
                                                 _shown(previous_path(path), settings.root) if keep else ""),
                                 power_note(store, base, settings.policy)) if x)
    result.baseline_saved = f"{what}: {_shown(path, settings.root)}" + (f"; note: {note}" if note else "")
    if result.verdict is not None:
        result.verdict = gate.saved(result.verdict, _shown(path, settings.root))


def _shown(path: Path, root: Path) -> str:
    """``path`` relative to the rootdir when it is inside it (a baseline dir may be absolute)."""
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def run(spec: SloSpec, body: Callable[[Request], Any], *, backend_name: str, settings: Settings,
        nodeid: str, payloads: Any = None,
        progress: Callable[[Progress], None] | None = None) -> SloResult:
    """The whole path of one SLO test: plan, baseline, hold the devices, run, decide, record."""
    backend = backends.load(backend_name, nvtx=settings.nvtx)
    schedule, warm = arrivals.plan(spec)
    base = baseline_for(settings, nodeid, backend.describe(), spec, arrivals.fingerprint(schedule))
    # The save's replays and the report's series are held too: a sibling xdist worker's test
    # measuring meanwhile read them as a busy neighbour, and its save was refused every time
    # (review100 restart F3).
    with backends.hold(backend_name, spec.devices):
        result = execute(spec, body, backend=backend, schedule=schedule, warm=warm, payloads=payloads,
                         nodeid=nodeid, policy=settings.policy, progress=progress, baseline=base)
        result.baseline_off = not settings.use_baseline
        record(result, settings)
        if settings.keep_series:
            alpha = (result.looks or {}).get("alpha_per_look", settings.policy.alpha)
            result.series_data = series.build(result, alpha=alpha,
                                              ref=reference_for(settings, result, base, alpha))
    return result


def reference_for(settings: Settings, result: SloResult, base: gate.BaselineInput | None,
                  alpha: float) -> dict[str, Any] | None:
    """The HTML report's reference block: the stored run the gate compared against, with its
    per-stage times (read again from the store: only under ``--gpuslo-html``)."""
    if base is None:
        return None
    found = settings.store.get(result.nodeid, result.machine)
    stages = found.latest.stages if found is not None else {}
    detail = f"stored {base.date}" + (f", commit {base.commit}" if base.commit else "")
    if base.differing:
        detail += f"; another machine ({gate.differ_words(base.differing)}): drawn, not compared"
    return series.reference("baseline", [base.latency_ms], confidence=1.0 - alpha,
                            percentiles=result.spec.budgets_ms, stages=stages, detail=detail,
                            comparable=not base.differing, timeout_s=result.spec.timeout_s)

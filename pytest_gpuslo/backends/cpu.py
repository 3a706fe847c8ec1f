"""CPU backend: lanes are worker threads sharing one FIFO queue (an M/G/c server).

Time comes from ``time.perf_counter_ns``.  A lane runs any Python callable, so CPU stages such as
tokenisation are gated for real.  What a lane really gives: a body that releases the GIL (numpy on
large arrays, I/O, a GPU launch) runs in parallel with the others; a pure-Python body serialises
the lanes, which shows as queueing in the latencies (docs/architecture.md, "The GIL").
"""

from __future__ import annotations

import contextlib
import os
import platform
import queue
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager as ContextManager
from typing import TYPE_CHECKING, Any

from pytest_gpuslo.backends import BaseBackend, devices, no_devices
from pytest_gpuslo.errors import InvalidArgument, WorkloadError
from pytest_gpuslo.recorder import SERVED_BY, SERVING, sched_all, served_cpu_ns, set_current
from pytest_gpuslo.recorder import sched as _sched

if TYPE_CHECKING:
    from pytest_gpuslo.recorder import Recorder, Request

_clock = time.perf_counter_ns
#: Frames of a hung lane's stack kept in the report (innermost last).
STACK_FRAMES = 8


def cpu_model() -> str:
    """The CPU's model name (platform.processor() is empty on most Linux systems)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def torch_dtype(torch: Any, dtype: Any) -> Any:
    """A torch dtype from a torch dtype, a name ("bfloat16") or anything numpy reads as a dtype."""
    if isinstance(dtype, torch.dtype):
        return dtype
    import numpy as np

    return getattr(torch, dtype if isinstance(dtype, str) and hasattr(torch, dtype) else str(np.dtype(dtype)))


def _machine_ticks() -> list[int] | None:
    """The machine's CPU ticks since boot (``/proc/stat``: user nice system idle iowait irq
    softirq steal), or ``None`` (not Linux)."""
    try:
        with open("/proc/stat", encoding="ascii") as fh:
            fields = fh.readline().split()
    except OSError:
        return None
    if not fields or fields[0] != "cpu":
        return None
    ticks = [int(x) for x in fields[1:9]]
    return ticks + [0] * (8 - len(ticks))


def _machine_busy() -> float | None:
    """CPU seconds busy on the whole machine since boot (``/proc/stat``), or ``None`` (not Linux).
    Steal time counts: the hypervisor running other machines on this VM's CPUs slows a request
    as surely as a process beside it."""
    ticks = _machine_ticks()
    if ticks is None:
        return None
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def steal_seconds() -> float | None:
    """CPU seconds the hypervisor took from this VM since boot (``/proc/stat`` steal), or ``None``
    (not Linux).  A share of "other processes" that no ``top`` inside the VM shows."""
    ticks = _machine_ticks()
    return None if ticks is None else ticks[7] / os.sysconf("SC_CLK_TCK")


def _cpu_times() -> tuple[float, float, float] | None:
    """(CPU seconds busy on the whole machine, this process's and its descendants' CPU seconds,
    wall seconds), or ``None`` where ``/proc/stat`` is missing (not Linux)."""
    busy = _machine_busy()
    return None if busy is None else (busy, _own_cpu_seconds(), time.monotonic())


def _light_times() -> tuple[float, float, float] | None:
    """``_cpu_times`` without the walk over live descendants: cheap enough for the dispatcher's
    slack (a few tens of microseconds), for the windows of ``peak_other_load``."""
    busy = _machine_busy()
    if busy is None:
        return None
    own = os.times()
    # on the run's clock (``perf_counter``), to place each window beside the dispatches
    return busy, own.user + own.system + own.children_user + own.children_system, time.perf_counter()


#: Other processes' CPU use is also taken in windows of at least this long, in the dispatcher's
#: slack: neighbours busy in bursts are averaged away over a whole run (0.7 s of 8 busy loops
#: every 5.7 s read 0.25 CPUs and FAILed a body that PASSes on a quiet machine).
LOAD_WINDOW_S = 0.5


def peak_other_load(samples: list[tuple[float, float, float]], descendants_cpus: float = 0.0) -> float | None:
    """The most CPUs other processes kept busy in any window between consecutive ``_light_times``
    samples at least ``LOAD_WINDOW_S`` apart (``descendants_cpus``: this process's live children's
    average use over the run, which the light samples cannot see, taken off each window)."""
    peak = None
    start = samples[0] if samples else None
    for later in samples[1:]:
        assert start is not None
        dt = later[2] - start[2]
        if dt < LOAD_WINDOW_S:
            continue
        others = ((later[0] - start[0]) - (later[1] - start[1])) / dt - descendants_cpus
        peak = max(peak or 0.0, others)
        start = later
    return None if peak is None else max(0.0, peak)


def load_windows(samples: list[tuple[float, float, float]]) -> list[tuple[int, int, float]]:
    """(start ns, end ns, CPUs other processes kept busy) between consecutive ``_light_times``
    samples, windows under 0.1 s left out (a tick's resolution is 10 ms): where in the run the
    machine was quiet, so that a wait for a CPU there is the code's own threads' doing."""
    out = []
    for a, b in zip(samples, samples[1:]):
        dt = b[2] - a[2]
        if dt >= 0.1:
            out.append((int(a[2] * 1e9), int(b[2] * 1e9), max(0.0, ((b[0] - a[0]) - (b[1] - a[1])) / dt)))
    return out


def _own_cpu_seconds() -> float:
    """CPU seconds of this process and its descendants: those waited for (``os.times``) and those
    still alive (``/proc/<pid>/task/<tid>/children``, then each one's ``stat``).  A body's own
    process pool is the code under test, not a neighbour."""
    own = os.times()
    total = own.user + own.system + own.children_user + own.children_system
    tick = os.sysconf("SC_CLK_TCK")
    seen: set[int] = set()
    parents = [os.getpid()]
    while parents:
        pid = parents.pop()
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tasks:
            try:
                with open(f"/proc/{pid}/task/{tid}/children", encoding="ascii") as fh:
                    kids = [int(k) for k in fh.read().split()]
            except (OSError, ValueError):
                continue
            for kid in kids:
                if kid in seen:
                    continue
                seen.add(kid)
                parents.append(kid)
                try:
                    with open(f"/proc/{kid}/stat", encoding="ascii", errors="replace") as fh:
                        after_name = fh.read().rsplit(")", 1)[1].split()
                    total += (int(after_name[11]) + int(after_name[12])) / tick  # utime, stime
                except (OSError, ValueError, IndexError):
                    continue
    return total


def other_cpu_load(before: tuple[float, float, float] | None,
                   after: tuple[float, float, float] | None) -> float | None:
    """CPUs kept busy by other processes between two ``_cpu_times`` samples, on average."""
    if before is None or after is None or after[2] - before[2] < 0.2:
        return None
    others = (after[0] - before[0]) - (after[1] - before[1])
    return max(0.0, others / (after[2] - before[2]))


def _schedstat() -> dict[int, tuple[int, int]]:
    """Per thread of this process: (ns it ran on a CPU, ns it was runnable but waited for one),
    from ``/proc/self/task/*/schedstat``; empty where that is missing (not Linux)."""
    out: dict[int, tuple[int, int]] = {}
    try:
        tids = os.listdir("/proc/self/task")
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/self/task/{tid}/schedstat", encoding="ascii") as fh:
                ran, waited = fh.read().split()[:2]
            out[int(tid)] = (int(ran), int(waited))
        except (OSError, ValueError):
            continue
    return out


class _OwnThread:
    """The CPU time of the thread that opens the lanes, from then on: the dispatcher's where the
    same thread dispatches, drains and closes them (host lanes: the caller's thread)."""

    __slots__ = ("cpu_s", "tid")

    def __init__(self) -> None:
        self.tid, self.cpu_s = threading.get_native_id(), time.thread_time()

    def used(self) -> float | None:
        """Its CPU seconds since; None on another thread (whose clock is not its own)."""
        return time.thread_time() - self.cpu_s if threading.get_native_id() == self.tid else None


def run_queue_stretch(before: dict[int, tuple[int, int]], after: dict[int, tuple[int, int]]) -> float | None:
    """How much longer this process's threads took than their CPU time because they waited for a
    CPU: (ran + waited) / ran between two ``_schedstat`` samples.  The slowdown other processes
    (and our own surplus threads) imposed, measured rather than inferred from their CPU use, which
    cannot show a machine oversubscribed by more runnable threads than it has CPUs.  ``None`` with
    under 50 ms of CPU time to go by."""
    ran = waited = 0
    for tid, (r1, w1) in after.items():
        r0, w0 = before.get(tid, (0, 0))
        if r1 < r0 or w1 < w0:  # a thread id reused since the first sample
            r0 = w0 = 0
        ran, waited = ran + r1 - r0, waited + w1 - w0
    if ran < 50_000_000:
        return None
    return (ran + waited) / ran


#: How often the dispatcher looks (in its slack) at where the lanes' bodies wait, and at most
#: how many lanes a look reads: about 1 us a lane (an open file read again).  A request sampled
#: never is credited no sleep, so the looks must be denser than the bodies are long.
WAIT_SAMPLE_S = 0.002
WAIT_SAMPLE_LANES = 8
#: Kernel functions (``/proc/<tid>/wchan``) a thread sleeping on a timer waits in: Python's
#: ``time.sleep`` is ``clock_nanosleep``.  Any other wait (a lock, the GIL, a socket, a pipe, a
#: child) may be on work this machine does, which busy neighbours slow too.
TIMER_SLEEPS = frozenset({"hrtimer_nanosleep", "do_nanosleep", "common_nsleep", "clock_nanosleep",
                          "__x64_sys_nanosleep", "__x64_sys_clock_nanosleep",
                          "__arm64_sys_nanosleep", "__arm64_sys_clock_nanosleep"})


def _open_schedstat() -> int | None:
    """This thread's ``schedstat``, kept open (a pread is about 1 us), or None (not Linux)."""
    try:
        return os.open("/proc/thread-self/schedstat", os.O_RDONLY)
    except OSError:
        return None


def wait_kind(wchan: str) -> str:
    """'' for a thread on (or runnable for) a CPU, 'asleep' on a timer, 'waiting' on anything else."""
    name = wchan.strip()
    if name in ("", "0"):
        return ""
    return "asleep" if name in TIMER_SLEEPS else "waiting"


def probe() -> str | None:
    """The CPU backend runs everywhere."""
    return None


#: The host-wide lane every CPU SLO test holds (``devices.hold``): pytest-xdist workers, or two
#: sessions on one machine, never measure on the same cores at once.
HOST_LANE = "cpu-host"


#: A test that takes the host lane within this many seconds of another process releasing it
#: waits while that process stays busy (``settle``), up to ``SETTLE_MAX_S``: a sibling xdist
#: worker ending its session went on for about a second of a CPU (hypothesis's pytest plugin:
#: 0.8 s), and the run measured through it was refused as a baseline every time (review100
#: restart F3: ``-n 2 --gpuslo-save`` on 2 CPUs saved one test of two).  Only that process is
#: waited for: any other load is the gate's to judge.
SETTLE_AFTER_S = 3.0
SETTLE_MAX_S = 3.0
SETTLE_WINDOW_S = 0.25


@contextlib.contextmanager
def _held() -> Iterator[None]:
    with devices.hold([HOST_LANE]):
        releaser = devices.released_by_another(HOST_LANE, SETTLE_AFTER_S)
        if releaser is not None:
            settle(releaser)
        yield


def hold(count: int) -> ContextManager[None]:
    """One CPU SLO test at a time on this host, as GPU tests hold one lane per GPU; taken just after
    another process let it go, it first waits for that process to go quiet (``settle``)."""
    no_devices("cpu", count)
    return _held()


def process_cpu_seconds(pid: int) -> float | None:
    """CPU seconds process ``pid`` has used (its threads, not its children); None where it is gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            after_name = fh.read().rsplit(")", 1)[1].split()
        return (int(after_name[11]) + int(after_name[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def settle(pid: int, max_s: float = SETTLE_MAX_S, window_s: float = SETTLE_WINDOW_S, *,
           used: Callable[[int], float | None] = process_cpu_seconds,
           sleep: Callable[[float], None] = time.sleep) -> float:
    """Wait, in windows of ``window_s``, while process ``pid`` keeps as many CPUs busy as make a run
    contended (``gate.busy_cpus``); the seconds waited.  Past ``max_s`` the test measures anyway,
    and the gate judges the contention it then reads."""
    from pytest_gpuslo.gate import busy_cpus

    limit = busy_cpus(os.cpu_count() or 1)
    waited, before = 0.0, used(pid)
    while before is not None and waited < max_s:
        sleep(window_s)
        waited += window_s
        after = used(pid)
        if after is None or (after - before) / window_s < limit:
            break
        before = after
    return waited


class EagerReplay:
    """The CPU's stand-in for ``slo_graph``: ``fn(lane)`` runs as it is, each request."""

    captured = False

    def __init__(self, fn: Callable[[int], Any], lanes: int) -> None:
        self.fn, self.lanes = fn, lanes

    def __call__(self, request: Any) -> None:
        self.fn(max(request.lane, 0) % self.lanes)


graph_replay = EagerReplay


#: What a forked child that returned from the body says before it ends (on its stderr).
FORKED_CHILD = (b"pytest-gpuslo: an SLO body forked (os.fork) and the child process returned from the body into "
                b"the plugin's lane; the child is ended here (os._exit(70)). End a child with os._exit or an "
                b"exec, or start processes with subprocess or multiprocessing\n")


def leave_if_forked(home: int) -> None:
    """End this process when it is not ``home``: a body's forked child that returned into the lane
    took requests nobody dispatched, and its parent, waiting on it, hung every lane; the child
    outlived the session (review95 #1)."""
    if os.getpid() != home:
        with contextlib.suppress(OSError):
            os.write(2, FORKED_CHILD)
        os._exit(70)


class Backend(BaseBackend):
    """Worker-thread lanes; the first free lane takes the oldest waiting request."""

    name = "cpu"
    #: Never spin: a spinning dispatcher holds the GIL and starves Python lanes.
    spin_ns = 0
    tick_every_ns = int(WAIT_SAMPLE_S * 1e9)

    def __init__(self, nvtx: bool = False) -> None:
        self._queue: queue.SimpleQueue[Request | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._recorder: Recorder | None = None
        #: the request index each lane is running (-1: idle), to name a hung one.
        self._running: list[int] = []

    def open(self, lanes: int, body: Callable[[Request], Any], recorder: Recorder) -> None:
        self._cpu_start = _cpu_times()
        self._proc_start, self._served_start = time.process_time(), served_cpu_ns()
        self._own_start = _OwnThread()
        self._tree_start = self._cpu_start[1] if self._cpu_start is not None else None
        self._steal_start = steal_seconds()
        self._sched_start = _schedstat()
        self._stretch: float | None = None
        first = _light_times()
        self._load_samples = [first] if first is not None else []
        self._recorder = recorder
        self._body = body
        # A queue of this run's own: a lane still stuck in a body of an earlier run (a sequential
        # look of max_duration_s) keeps that run's queue, its leftover requests and stop marks, so
        # when its body returns it takes nothing of this run (review52: a hang at a look's end
        # crashed the next look with an IndexError; a slow body's lane ran on with one lane fewer).
        self._queue = queue.SimpleQueue()
        self._running = [-1] * lanes
        #: each lane thread's id and its open ``wchan`` (read in the dispatcher's slack).
        self._tids: list[int] = [0] * lanes
        self._wchan: dict[int, int] = {}
        self._next_look = 0.0
        self._look_from = 0
        if os.path.exists("/proc/thread-self/schedstat"):
            recorder.track_threads()
        for lane in range(lanes):
            t = threading.Thread(target=self._lane, args=(lane, body, recorder, self._queue, self._running),
                                 name=f"gpuslo-lane-{lane}", daemon=True)
            t.start()
            self._threads.append(t)

    def _lane_setup(self, lane: int) -> None:
        """Called once on each lane's thread before it takes requests (GPU modes set streams)."""

    def _run(self, req: Request) -> None:
        """One request's body on the lane's thread; it is complete when this returns."""
        self._body(req)

    def _lane(self, lane: int, body: Callable[[Request], Any], rec: Recorder,
              work: "queue.SimpleQueue[Request | None]", running: list[int]) -> None:
        try:
            self._serve(lane, body, rec, work, running)
        except Exception as exc:  # noqa: BLE001 - the lane itself failed, not a body (those are kept)
            where = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)[-3:])
            rec.fail(WorkloadError(
                f"lane {lane} of backend {self.name!r} failed outside the body ({type(exc).__name__}: "
                f"{exc}), so the requests it would have run cannot complete; this is the backend's "
                f"(or its lane set-up's) failure, not the code's:\n{where}"))

    def _serve(self, lane: int, body: Callable[[Request], Any], rec: Recorder,
               work: "queue.SimpleQueue[Request | None]", running: list[int]) -> None:
        """Take this run's requests until its stop mark.  ``work`` and ``running`` are this run's
        own: a lane of an earlier look whose body returns late writes to that look's list, not to
        this one's (review53: it marked a lane of the next look idle, and that look's hang went
        unrecorded)."""
        self._lane_setup(lane)
        home = os.getpid()
        times = rec.threads
        self._tids[lane] = threading.get_native_id()
        sched = _open_schedstat() if times is not None else None
        try:
            while True:
                req = work.get()
                if req is None or rec.abandoned:
                    return
                req._lane, i = lane, req._index
                rec.lane[i] = lane
                running[lane] = i
                rec.start_ns[i] = _clock()
                (runq0, slices0), all0 = _sched(sched), time.process_time_ns()
                cpu0 = time.thread_time_ns()
                set_current(req)
                try:
                    self._run(req)
                except BaseException as exc:  # noqa: BLE001 - every failure is an exceedance, kept
                    rec.record_error(i, exc)
                    if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                        rec.end_ns[i] = _clock()
                        running[lane] = -1
                        rec.complete_one()
                        return
                finally:
                    set_current(None)
                    leave_if_forked(home)
                if times is not None:
                    (runq1, slices1), all1, cpu1 = _sched(sched), time.process_time_ns(), time.thread_time_ns()
                    times.slices[i] = slices1 - slices0 if slices0 >= 0 and slices1 >= 0 else -1
                    times.cpu_ns[i] = cpu1 - cpu0
                    times.others_ns[i] = max(0, (all1 - all0) - (cpu1 - cpu0))
                    times.runq_ns[i] = runq1 - runq0 if runq0 >= 0 and runq1 >= 0 else -1
                rec.end_ns[i] = _clock()
                running[lane] = -1
                rec.complete_one()
        finally:
            if sched is not None:
                os.close(sched)

    def prime(self, request: Request, timeout_s: float) -> None:
        # One untimed call before the clock starts, so imports and caches warm up.  It runs in a
        # daemon thread joined with a timeout: a hung body cannot hang priming either.  Its errors
        # are not recorded; a broken body fails its real requests.  pytest's own outcomes (a
        # pytest.skip in the body) end the run, so the test is skipped (review86: "1000 of 1000
        # requests raised ... Skipped", and an unhandled exception in the priming thread).
        home = os.getpid()

        def call() -> None:
            self._lane_setup(0)
            request._lane = 0
            set_current(request)
            try:
                self._run(request)
            except InvalidArgument as exc:
                # a misuse of the plugin's own API (a batcher made in the body, a coroutine never
                # run): every request would raise it, so the run ends now (review184 F2: 300 requests
                # raised the same usage error, read as a p95 FAIL)
                request._recorder.fail(exc)
            except Exception:  # noqa: BLE001, S110 - left for the real requests to record
                pass
            except BaseException as exc:  # noqa: BLE001 - handed to the run, which raises it
                request._recorder.fail(exc)
            finally:
                set_current(None)
                leave_if_forked(home)

        t = threading.Thread(target=call, name="gpuslo-prime", daemon=True)
        t.start()
        t.join(timeout_s)
        frame = sys._current_frames().get(t.ident or -1) if t.is_alive() else None
        if frame is not None:  # a first call that never returns is a hang: say where (review52)
            request._recorder.prime_stuck = "".join(traceback.format_stack(frame)[-STACK_FRAMES:])
        self._prime_thread = t if frame is not None else None
        # The process's and its children's CPU count from here: priming (imports) is not the run's.
        self._proc_start, self._tree_start = time.process_time(), _own_cpu_seconds()
        self._served_start = served_cpu_ns()
        self._own_start = _OwnThread()

    def submit(self, request: Request) -> None:
        self._queue.put(request)

    def sched_reader(self) -> Callable[[], tuple[int, int, int]] | None:
        fd = _open_schedstat()
        if fd is None:
            return None
        self._dispatch_fd: int | None = fd  # closed with the lanes
        return lambda: sched_all(fd)

    def wait(self, deadline_ns: int) -> None:
        assert self._recorder is not None
        rec = self._recorder
        self._drain(rec, deadline_ns)
        if not rec.all_done and self._running and all(index >= 0 for index in self._running):
            # Every lane in a body at the give-up: a deadlock, or slow last bodies.  Wait as long
            # again for one to come back before calling the service stopped (review54: a 2.5-s
            # last request on one lane, timeout_s 0.5, FAILed as "every lane hung").
            # Looking on as the drain does: the requests that start now are the overload's
            # (review108 F1, F2: a third of an overloaded run's 20-ms sleeps, never looked at,
            # got a CPU's credit, and the FAIL was held back as busy neighbours').
            self._drain(rec, deadline_ns + (rec.hang_after_ns or 0) + int(self.STOPPED_GRACE_S * 1e9))
        if not rec.all_done:
            self._record_stuck(rec)
        prime = getattr(self, "_prime_thread", None)
        if prime is not None and not prime.is_alive():
            # A first call that outlasted timeout_s but returned during the run was slow, not hung
            # (review83 #5: a 100-ms priming call at timeout_s=0.05 read "fix the blocking call").
            rec.prime_stuck = None

    def _drain(self, rec: Recorder, deadline_ns: int) -> None:
        """Wait for the backlog, looking at where its bodies wait as the dispatcher's ticks did:
        in an overloaded run the requests that start after the last dispatch are the ones that
        show the overload, and unlooked-at their sleep got a CPU's credit beside busy neighbours
        (review88: 127 of 525 requests of a 25-ms sleep at 1.3x capacity, held as "may be theirs")."""
        while not rec.all_done and rec.fatal is None:
            now = rec.clock()
            if now >= deadline_ns:
                return
            rec.wait_all(min(deadline_ns, now + int(WAIT_SAMPLE_S / 2 * 1e9)))
            self._look_at_waits(deadline_ns)

    #: The extra wait, after timeout_s more, before lanes all still in bodies count as stopped.
    STOPPED_GRACE_S = 1.0

    def _record_stuck(self, rec: Recorder) -> None:
        """Before hung lanes are abandoned: which request each runs and where its thread is."""
        frames = sys._current_frames()
        by_native = {t.native_id: t for t in threading.enumerate()}
        for lane, thread in enumerate(self._threads):
            index = self._running[lane] if lane < len(self._running) else -1
            frame = frames.get(thread.ident or -1)
            if index < 0 or frame is None:
                continue
            stack = "".join(traceback.format_stack(frame)[-STACK_FRAMES:])
            # A body blocked on a batching worker that serves its call: the hang is where that
            # worker is (review106 F5: 32 copies of the lanes' fut.result(), never the worker's).
            helper = by_native.get(SERVED_BY.get(thread.native_id or -1, -1))
            there = frames.get(helper.ident or -1) if helper is not None else None
            if helper is not None and there is not None:
                stack += (f"  ... waiting on thread {helper.name!r}, which serves its call and is here:\n"
                          + "".join(traceback.format_stack(there)[-STACK_FRAMES:]))
            rec.record_stuck(index, lane, stack)

    def tick(self, until_ns: int) -> None:
        """In the dispatcher's slack: one window sample of the machine's CPU use (``LOAD_WINDOW_S``)."""
        samples = getattr(self, "_load_samples", None)
        if samples and time.perf_counter() - samples[-1][2] >= LOAD_WINDOW_S:
            now = _light_times()
            if now is not None:
                samples.append(now)
        self._look_at_waits(until_ns)

    def _look_at_waits(self, until_ns: int) -> None:
        """Where the bodies now running wait, counted per request (``ThreadTimes``): a sleep on a
        timer is not stretched by busy neighbours; a wait on anything else may be."""
        rec = self._recorder
        times = rec.threads if rec is not None else None
        now = time.monotonic()
        if times is None or now < self._next_look:
            return
        self._next_look = now + WAIT_SAMPLE_S / 2  # the dispatcher's ticks come about this often
        lanes = len(self._running)
        for k in range(min(lanes, WAIT_SAMPLE_LANES)):
            lane = (self._look_from + k) % lanes
            index, tid = self._running[lane], self._tids[lane]
            if index < 0 or not tid or _clock() >= until_ns:
                continue
            kind = self._wait_kind_of(tid)
            helper = SERVED_BY.get(tid) if kind == "waiting" else None
            if helper is not None:
                # Waiting on a batcher's or a pool's worker that serves its call: asleep where
                # that worker sleeps; on a CPU or waiting itself, a wait busy neighbours may stretch.
                kind = "served" if self._wait_kind_of(helper) == "asleep" else "waiting"
            if kind is None or self._running[lane] != index:  # it finished meanwhile: not its sample
                continue
            if kind == "served":
                times.asleep[index] += 1
                times.served[index] += 1
            elif kind == "asleep":
                times.asleep[index] += 1
            elif kind == "waiting":
                times.waiting[index] += 1
        self._look_from = (self._look_from + WAIT_SAMPLE_LANES) % max(lanes, 1)
        for worker, call in list(SERVING.items()):  # each serving worker once, whatever the lanes
            kind = self._wait_kind_of(worker)
            if kind is not None:
                call.looks += 1
                call.asleep += kind == "asleep"

    def _wait_kind_of(self, tid: int) -> str | None:
        """``wait_kind`` of thread ``tid`` of this process now; None where it cannot be read."""
        fd = self._wchan.get(tid)
        try:
            if fd is None:
                fd = self._wchan[tid] = os.open(f"/proc/self/task/{tid}/wchan", os.O_RDONLY)
            return wait_kind(os.pread(fd, 128, 0).decode("ascii", "replace"))
        except OSError:
            if fd is not None:  # a helper that exited: its id may come back as another thread's
                with contextlib.suppress(OSError):
                    os.close(fd)
                self._wchan.pop(tid, None)
            return None

    def close(self) -> None:
        fd: int | None = getattr(self, "_dispatch_fd", None)
        self._dispatch_fd = None
        if fd is not None:
            os.close(fd)
        # Read before the lanes exit: a finished thread's counts leave /proc with it.
        before, after = getattr(self, "_sched_start", {}), _schedstat()
        self._stretch = run_queue_stretch(before, after)
        # The lanes' threads' whole CPU, their bookkeeping around the bodies too: not a helper's
        # work a sleep may poll (128 lanes' wake-ups read as 0.27 s of "other threads' work" and
        # took the credit of a batcher's sleep).
        self._lanes_cpu_s = sum(after[t][0] - before.get(t, (0, 0))[0] for t in set(self._tids) if t in after) / 1e9
        last = _light_times()
        if last is not None and getattr(self, "_load_samples", None):
            self._load_samples.append(last)
        if self._recorder is not None:
            self._recorder.others_cpus = load_windows(getattr(self, "_load_samples", []))
        self._cpu_end = _cpu_times()
        self._proc_end, self._served_end = time.process_time(), served_cpu_ns()
        start = getattr(self, "_own_start", None)
        self._own_cpu_s = start.used() if start is not None else None
        self._steal_end = steal_seconds()
        for _ in self._threads:
            self._queue.put(None)
        for t in self._threads:
            t.join(timeout=0.5)
        self._threads.clear()
        for fd in getattr(self, "_wchan", {}).values():
            with contextlib.suppress(OSError):
                os.close(fd)
        self._wchan = {}

    def telemetry(self) -> dict[str, Any]:
        """How busy other processes kept the CPUs during the run: CPU timings need a quiet
        machine, and the summary says when it was not."""
        start, end = getattr(self, "_cpu_start", None), getattr(self, "_cpu_end", None) or _cpu_times()
        load = other_cpu_load(start, end)
        out: dict[str, Any] = {}
        if load is not None and start is not None and end is not None:
            samples = getattr(self, "_load_samples", [])
            wall = end[2] - start[2]
            light = (samples[-1][1] - samples[0][1]) if len(samples) > 1 else end[1] - start[1]
            descendants = max(0.0, ((end[1] - start[1]) - light) / wall) if wall > 0 else 0.0
            peak = peak_other_load(samples, descendants)
            # The gate and the reports read the busier of the run's average and its busiest
            # window: a burst of neighbours can make a FAIL as surely as a steady one.
            # no more than the machine has: a half-second window's tick counts read 2.3 of 2 CPUs
            # (review189 F6)
            cpus = os.cpu_count() or 1
            load, peak = min(load, cpus), (None if peak is None else min(peak, cpus))
            out = {"other_cpu_load": round(max(load, peak or 0.0), 2), "cpus": os.cpu_count(),
                   "other_cpu_load_mean": round(load, 2)}
            if peak is not None:
                out["other_cpu_load_peak"] = round(peak, 2)
            # The code's own child processes, ended or live (a sleep may be a poll of their work).
            p0, p1 = getattr(self, "_proc_start", None), getattr(self, "_proc_end", None)
            t0 = getattr(self, "_tree_start", None)
            if p0 is not None and p1 is not None and t0 is not None and wall > 0:
                children = max(0.0, (end[1] - t0) - (p1 - p0))
                out["child_cpus"] = round(children / wall, 2)
                # In seconds, whole: a child's work a sleep may poll (the gate weighs it against
                # the sleep found; a rounded average of 0.04 CPUs hid 24 ms a request, review41).
                out["child_cpu_s"] = round(children, 4)
                times = self._recorder.threads if self._recorder is not None else None
                if times is not None:
                    # This process's CPU outside the lanes' threads and the dispatcher's (any
                    # thread of the code's): a body's sleep may be a poll of that work.
                    bodies = max(float(times.cpu_ns[times.cpu_ns >= 0].sum()) / 1e9, getattr(self, "_lanes_cpu_s", 0.0))
                    # The thread that opened the lanes, dispatched and drained them (``_OwnThread``):
                    # the harness's own work, its ticks and its looks at the waits while the backlog
                    # drains included, which no body's sleep polls (review176 F1: 1.4 s of those
                    # looks over a 57-s drain, outside the ticks once counted, took the credit of an
                    # over-capacity pool's sleep beside busy neighbours).
                    dispatcher = getattr(self, "_own_cpu_s", None) or 0.0
                    out["helper_cpu_s"] = round(max(0.0, (p1 - p0) - bodies - dispatcher), 4)
                    # Of it, a batcher's or a pool's workers serving the bodies' calls (the
                    # bodies' own work on another thread, which the looks read: ``SERVED_BY``).
                    served = (getattr(self, "_served_end", 0) - getattr(self, "_served_start", 0)) / 1e9
                    out["served_cpu_s"] = round(min(max(0.0, served), out["helper_cpu_s"]), 4)
                    # ... and outside those workers too, on average: the code's own threads (a
                    # BLAS pool), which the held-back words name (review188 F1)
                    out["own_threads_cpus"] = round(max(0.0, out["helper_cpu_s"] - out["served_cpu_s"]) / wall, 2)
            s0, s1 = getattr(self, "_steal_start", None), getattr(self, "_steal_end", None)
            if s0 is not None and s1 is not None and wall > 0:
                # Of the others' average, what the hypervisor took (other machines on this VM's CPUs).
                out["steal_cpus"] = round(max(0.0, (s1 - s0) / wall), 2)
        stretch = getattr(self, "_stretch", None)
        if stretch is not None:
            out["run_queue_stretch"] = round(stretch, 2)
        return out

    def describe(self) -> dict[str, Any]:
        return {
            "backend": "cpu",
            "cpu": cpu_model(),
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
            "implementation": sys.implementation.name,
            "system": platform.system(),
        }


class DeviceOps:
    """The numpy twin of ``cuda.DeviceOps``: "device" arrays are host arrays, copies are memcpy."""

    name = "cpu"

    def host(self, shape: Any, dtype: Any, *, pinned: bool = True, like: str = "numpy") -> Any:
        if like == "torch":
            import sys

            torch = sys.modules.get("torch")
            if torch is None:
                raise InvalidArgument("slo_pinned(..., like='torch') needs PyTorch imported by the test")
            import numpy as np

            return torch.zeros(shape, dtype=torch_dtype(torch, dtype))
        import numpy as np

        return np.zeros(shape, dtype)

    def device(self, shape: Any, dtype: Any) -> Any:
        import numpy as np

        return np.zeros(shape, dtype)

    def is_pinned(self, array: Any) -> bool:
        return False

    def h2d(self, host: Any, dev: Any) -> None:
        dev[...] = host

    def d2h(self, dev: Any, host: Any) -> None:
        host[...] = dev

    def mark(self) -> Any:
        return None

    def wait(self, mark: Any) -> None:
        pass

    def release(self) -> None:
        pass


def capacity_bodies(lanes: int) -> list[Any]:
    """``gpuslo capacity``'s bodies for host lanes: empty, 100 us that releases the GIL (a sleep,
    as I/O or numpy would), 20 us of pure Python that holds it.  The bare comparison is a paced
    loop handing the same work to a plain thread pool of ``lanes`` threads."""
    from concurrent.futures import ThreadPoolExecutor

    from pytest_gpuslo.capacity import Workload

    def busy(us: float) -> None:
        end = _clock() + int(us * 1000)
        while _clock() < end:
            pass

    work: dict[str, Callable[[], None]] = {"empty": lambda: None,
                                           "100 us, GIL released (sleep)": lambda: time.sleep(100e-6),
                                           "20 us of Python, GIL held": lambda: busy(20)}
    out = []
    for name, fn in work.items():
        def paced(schedule_ns: Any, fn: Callable[[], None] = fn) -> Any:
            import numpy as np

            with ThreadPoolExecutor(max_workers=lanes) as pool:
                due = (_clock() + 2_000_000 + np.asarray(schedule_ns)).tolist()
                lag = [0] * len(due)
                for i, d in enumerate(due):
                    left = d - _clock()
                    if left > 0:
                        time.sleep(left / 1e9)
                    lag[i] = _clock() - d
                    pool.submit(fn)
            return np.asarray(lag, dtype=np.float64) / 1e3

        def closed(n: int, fn: Callable[[], None] = fn) -> float:
            with ThreadPoolExecutor(max_workers=lanes) as pool:
                t = time.perf_counter()
                for _ in range(n):
                    pool.submit(fn)
            return n / (time.perf_counter() - t)

        def body(r: Any, fn: Callable[[], None] = fn) -> None:
            fn()

        out.append(Workload(name, body, paced, closed))
    return out

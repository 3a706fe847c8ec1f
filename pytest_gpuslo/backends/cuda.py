"""CUDA backend (CuPy): lanes are non-blocking CUDA streams; completion is a CUDA event.

The dispatcher thread itself runs each body with the request's stream current, for CuPy and, when
the user's code has imported it, for PyTorch (``torch.cuda.ExternalStream`` over the same
stream), so the body only *enqueues* work; an event recorded after it on the same stream marks
completion.  Nothing in the hot path synchronises, and it calls the CUDA runtime directly on
preallocated raw event handles (no Python ``Event`` object, no stream context manager per
request).  After the run, event times are mapped onto the host clock of the arrival schedule
through bracketed anchors (``timeline.ClockMap``).  A body that does synchronise still works: it
holds up the dispatcher, which shows as schedule lag; a body that never returns is given up after
``timeout_s`` (``measurement``).

GPU work that escapes the request's stream (a framework on its own stream, a side stream) is
looked for while priming each lane (the device is synchronised after the lane's own work) and on
a sample of requests (events on the legacy and per-thread default streams after the body); it
makes the verdict INCONCLUSIVE (``telemetry()["escapes"]``), because the end event did not wait
for it.  Frameworks whose stream cannot be set belong on ``backend="cuda-sync"``.

With ``backends/nvml.py``, the only modules that import a GPU library, and only when a test runs.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager as ContextManager
from typing import TYPE_CHECKING, Any

import numpy as np

from pytest_gpuslo.backends import BaseBackend, cpu, devices
from pytest_gpuslo.errors import BackendUnavailable, InvalidArgument, WorkloadError
from pytest_gpuslo.recorder import INLINE, set_current
from pytest_gpuslo.timeline import Bracket, ClockMap, fifo_starts

if TYPE_CHECKING:
    from pytest_gpuslo.recorder import Recorder, Request

_clock = time.perf_counter_ns
#: CUDA statuses after which the process's context is unusable (gpu-api-notes.md §15.2).
STICKY = {700, 702, 709, 710, 714, 715, 716, 717, 718, 719, 999}
NOT_READY = 600
#: Set once a sticky error happened in this process: later GPU tests skip with this reason.
_context_lost: str | None = None
_stream_pool: list[Any] = []
#: Escape checks during the run: every this many requests, events on the default streams.
ESCAPE_SAMPLE_EVERY = 64
#: Work on another stream that ends this much after the lane's own work is an escape (the
#: events' own resolution and the launch of the check itself stay far below it).
ESCAPE_SLACK_NS = 50_000
#: Sampled requests that must show late default-stream work before the run is flagged.
ESCAPE_MIN_SAMPLES = 2


def probe() -> str | None:
    """``None`` when CuPy can use a GPU here, else the precise reason (no CuPy, driver or device)."""
    if _context_lost is not None:
        return f"the CUDA context of this process was lost earlier ({_context_lost})"
    try:
        import cupy
    except ImportError as exc:
        return no_cupy_reason(exc)
    except Exception as exc:  # noqa: BLE001 - a broken install must not fail a CPU run (review85 #5)
        return (f"CuPy is installed but failed to import ({type(exc).__name__}: {exc}); reinstall it "
                f"(pip install --force-reinstall cupy-cuda13x, or the wheel for your CUDA)")
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # noqa: BLE001 - CUDARuntimeError carries the reason we report
        status = getattr(exc, "status", None)
        if status == 35:
            return f"no usable NVIDIA driver (CUDA status 35, cudaErrorInsufficientDriver: {exc})"
        if status == 100:
            return f"the driver sees no CUDA device (status 100; CUDA_VISIBLE_DEVICES?): {exc}"
        return f"CUDA cannot start: {type(exc).__name__}: {exc}"
    if count < 1:
        return "the driver reports no CUDA device"
    return None


#: Where a loaded NVIDIA driver shows on Linux: its version file, its control device, or WSL2's GPU
#: device (whose driver lives on the Windows side).  None of them: no NVIDIA GPU is usable here.
NVIDIA_DRIVER_FILES = ("/proc/driver/nvidia/version", "/dev/nvidiactl", "/dev/dxg")


def no_cupy_reason(exc: ImportError) -> str:
    """Why the cuda backends cannot run without CuPy, the machine's own lack first (review134 F2).

    On a laptop with no NVIDIA GPU, "install CuPy" is no fix: say that no driver is loaded, and
    that the user's torch is a CPU build where their code imported one (never importing it here).
    """
    install = f"CuPy is not installed ({exc}); the cuda backends time GPU work through CuPy's CUDA calls"
    fix = "install pytest-gpuslo[cuda13] or [cuda12] on a machine with an NVIDIA GPU"
    if not sys.platform.startswith("linux") or any(os.path.exists(f) for f in NVIDIA_DRIVER_FILES):
        return f"{install}, PyTorch bodies included; {fix}"
    torch = sys.modules.get("torch")
    cpu_torch = (torch is not None and getattr(getattr(torch, "version", None), "cuda", "") is None)
    build = "; the installed PyTorch is a CPU build" if cpu_torch else ""
    return (f"no NVIDIA GPU here: no NVIDIA driver is loaded (none of {', '.join(NVIDIA_DRIVER_FILES)} "
            f"exists){build}; run GPU tests on a machine with an NVIDIA GPU, where they also need CuPy (install "
            f"pytest-gpuslo[cuda13] or [cuda12] there)")


def streams(n: int) -> list[Any]:
    """The session's pool of non-blocking streams (created once: about 10 us each)."""
    import cupy as cp

    while len(_stream_pool) < n:
        _stream_pool.append(cp.cuda.Stream(non_blocking=True))
    return _stream_pool[:n]


def hold(count: int) -> ContextManager[None]:
    """Hold this test's GPUs (device 0 and the next ``count - 1``) against other processes."""
    import cupy as cp

    seen = cp.cuda.runtime.getDeviceCount()
    if seen < count:
        raise BackendUnavailable(f"devices={count}: this process sees {seen} GPU(s) "
                                 f"(CUDA_VISIBLE_DEVICES={devices.visible_env()!r})")
    return devices.hold([cp.cuda.Device(i).pci_bus_id for i in range(count)])


def _status(exc: BaseException) -> int | None:
    status = getattr(exc, "status", None)
    return int(status) if isinstance(status, int) else None


def torch_if_loaded() -> Any:
    """PyTorch when the user's code imported it and it sees a GPU, else ``None`` (never imports it)."""
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    try:
        return torch if torch.cuda.is_available() else None
    except Exception:  # noqa: BLE001 - a CPU build or a broken install: no torch streams
        return None


def torch_stream(torch: Any, ptr: int, device_id: int) -> Any:
    """PyTorch's handle on a stream we own (``ExternalStream``; newer releases warn that it is
    deprecated in favour of a protocol CuPy's streams may not speak, so the warning is muted)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return torch.cuda.ExternalStream(ptr, device=torch.device("cuda", device_id))


class LaneStreams:
    """Makes a lane's stream current for every framework that lets us set it: CuPy always, PyTorch
    when loaded.  ``use(lane)`` is the hot-path form (no restore: the dispatcher's thread owns its
    current streams for the run); ``entered(lane)`` restores afterwards (priming, capture)."""

    def __init__(self, cupy_streams: list[Any], device_id: int) -> None:
        self.cupy = cupy_streams
        self.ptrs = [int(s.ptr) for s in cupy_streams]
        self.torch_streams: list[Any] | None = None
        self._torch: Any = None
        #: per lane, one call that makes its stream current everywhere (the launcher's hot path
        #: calls ``users[lane]()``: no method lookup, no framework test per request).
        self.users: list[Callable[[], Any]] = [s.use for s in cupy_streams]
        self.refresh(device_id)

    def refresh(self, device_id: int) -> None:
        """Pick up PyTorch if the body imported it since (priming runs the body first)."""
        if self.torch_streams is not None:
            return
        torch = torch_if_loaded()
        if torch is not None:
            self._torch = torch
            self.torch_streams = [torch_stream(torch, p, device_id) for p in self.ptrs]
            self.users = [self._both(lane) for lane in range(len(self.cupy))]

    def _both(self, lane: int) -> Callable[[], None]:
        use, set_stream, ts = self.cupy[lane].use, self._torch.cuda.set_stream, self.torch_streams
        assert ts is not None
        stream = ts[lane]

        def both() -> None:
            use()
            set_stream(stream)
        return both

    @property
    def frameworks(self) -> list[str]:
        return ["cupy"] + (["torch"] if self.torch_streams is not None else [])

    def use(self, lane: int) -> None:
        self.users[lane]()

    @contextlib.contextmanager
    def entered(self, lane: int) -> Iterator[None]:
        with contextlib.ExitStack() as stack:
            stack.enter_context(self.cupy[lane])
            if self.torch_streams is not None:
                stack.enter_context(self._torch.cuda.stream(self.torch_streams[lane]))
            yield


class _DeviceSyncer:
    """``cudaDeviceSynchronize`` on a helper thread, so a kernel that never ends cannot hang
    priming.  ``start()`` sets it going (right after the body, so the helper's wake-up overlaps the
    work it must see); ``result()`` returns the helper's own stamps around the call.
    ``calibrate()`` is the slowest of five round trips on an idle device."""

    def __init__(self, rt: Any, device: Any) -> None:
        self.rt, self.device = rt, device
        self._go, self._done = threading.Event(), threading.Event()
        self._stop = False
        self._stamps: tuple[int, int] | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="gpuslo-escape-check", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        self.device.use()
        while True:
            self._go.wait()
            self._go.clear()
            if self._stop:
                return
            try:
                t = _clock()
                self.rt.deviceSynchronize()
                self._stamps = (t, _clock())
            except BaseException as exc:  # noqa: BLE001 - handed back to the caller
                self._error = exc
            self._done.set()

    def start(self) -> None:
        self._stamps, self._error = None, None
        self._done.clear()
        self._go.set()

    def result(self, deadline_ns: int) -> tuple[int, int] | None:
        """(call began, call returned) on the helper's clock, or ``None`` at the deadline."""
        self._done.wait(max(0.0, (deadline_ns - _clock()) / 1e9))
        if self._error is not None:
            raise self._error
        return self._stamps

    def sync(self, deadline_ns: int) -> int | None:
        """ns the device took to go idle, or ``None`` at the deadline."""
        self.start()
        r = self.result(deadline_ns)
        return None if r is None else r[1] - r[0]

    def calibrate(self, deadline_ns: int) -> int:
        """The slowest of five round trips on an idle device."""
        self.rt.deviceSynchronize()
        return max(self.sync(deadline_ns) or 0 for _ in range(5))

    def close(self) -> None:
        self._stop = True
        self._go.set()


def escape_lateness(began: int, returned: int, lane_done: int, idle_ns: int) -> int:
    """How long GPU work outlived the lane's own work, from one priming check (ns; <= 0: none seen).

    The helper's synchronisation began at ``began`` and returned at ``returned``; the lane's own
    work was seen complete at ``lane_done``.  A call that took longer than on an idle device
    (by more than ``ESCAPE_SLACK_NS``) proves the device busy at ``began``; if that was after
    ``lane_done`` the busy work was not the lane's, and it ran until about ``returned - idle_ns``.
    Otherwise only the call's own excess counts, which can hide a short escape (the helper woke
    late) but never invent one."""
    busy = returned - began - idle_ns
    if busy > ESCAPE_SLACK_NS and began >= lane_done:
        return returned - idle_ns - lane_done
    return busy


#: Priming checks for escaped work: on one or two lanes the body is primed again until there
#: are this many, so that one late check can neither hide an escape nor invent one.
ESCAPE_CHECKS = 3


def priming_order(lanes: int, checks: bool) -> list[int]:
    """The lanes priming runs the body on: each once, then round-robin again up to
    ``ESCAPE_CHECKS`` when escapes are checked.  With two lanes the smaller of two checks decided,
    so one helper thread that woke after a side stream's kernel had ended would hide the escape:
    the side-stream test failed once in eight tests/gpu runs (the first on a fresh H200; every
    check logged since cleared the 50 us slack by 4x, docs/validation.md, session 24)."""
    return [i % lanes for i in range(max(lanes, ESCAPE_CHECKS if checks else 0))]


class Backend(BaseBackend):
    """Round-robin over ``lanes`` streams: request i runs on stream i mod lanes (FIFO per stream)."""

    name = "cuda"
    #: The launcher is the only busy Python thread, so it spins for the last 5 ms before each
    #: deadline.  Measured on an H100 host (docs/validation.md): sleeping closer to the deadline
    #: costs lag (time.sleep overshoots ~60-100 us there) and slows the host code that follows.
    spin_ns = 5_000_000
    #: The body runs on the dispatcher's thread (it only enqueues work), watched for hangs.
    inline_body = True
    #: ``_submit``'s own part of a body's time on that thread: the lane's stream made current and
    #: two timed events recorded, 3-5 us on an H200 host (docs/validation.md, session 8).
    submit_ns = 5_000
    #: Take a clock anchor during the run at most this often, when the dispatcher has slack.
    anchor_every_ns = 50_000_000
    #: A mid-run anchor whose bracket is wider than this caught a hiccup: it is not used (the outer
    #: anchors, the tightest of 20 tries, are about 6 us wide on an H100 host).
    anchor_max_width_ns = 12_000

    def __init__(self, device: int = 0, telemetry: bool = True, spin_ns: int | None = None,
                 nvtx: bool = False, escape_checks: bool = True) -> None:
        import cupy as cp

        if spin_ns is not None:
            self.spin_ns = spin_ns
        self.cp = cp
        self.rt = cp.cuda.runtime
        self.device = cp.cuda.Device(device)
        self.nvtx = nvtx
        self.escape_checks = escape_checks
        self._telemetry_on = telemetry
        self._telemetry: dict[str, Any] = {}
        self._sampler: Any = None
        self._nvml: Any = None
        self.stage_events: dict[str, list[tuple[int, int, int]]] = {}
        self.clock_map: ClockMap | None = None
        self.escapes: list[str] = []
        self._events: list[int] = []

    # -- set-up, outside the measured window ------------------------------------------------
    def open(self, lanes: int, body: Callable[["Request"], Any], recorder: "Recorder") -> None:
        cp, rt = self.cp, self.rt
        self.device.use()
        self.rec, self.body = recorder, body
        self.lanes = lanes
        self.lane_streams = LaneStreams(streams(lanes), self.device.id)
        recorder.lane[:] = np.arange(recorder.n) % lanes
        self.anchor_stream = cp.cuda.Stream(non_blocking=True)
        n = recorder.n
        # Raw event handles, created now: recording one costs a runtime call, not an object.
        self.ev_start = self._new_events(n)
        self.ev_end = self._new_events(n)
        self.last_end: list[int] = [0] * lanes
        checks = range(ESCAPE_SAMPLE_EVERY - 1, n, ESCAPE_SAMPLE_EVERY) if self.escape_checks else range(0)
        self.check_events: dict[int, tuple[int, int]] = {i: (self._new_events(1)[0], self._new_events(1)[0])
                                                         for i in checks}
        #: host time each sampled check was recorded: an idle default stream fires at once.
        self.check_host_ns: dict[int, int] = {}
        recorder.is_complete = self._is_complete
        recorder.wait_complete = self._wait_complete
        self._record = rt.eventRecord
        self._stage_fn = self._stage
        self.describe()
        if self._telemetry_on:
            self._start_telemetry()
        self.anchor0, self.bracket0 = self._anchor()
        self.mid_anchors: list[tuple[Any, Bracket]] = []
        #: anchors tried during the run (kept or dropped for a wide bracket).
        self.anchor_attempts = 0
        self._last_anchor_ns = self.bracket0.h1_ns
        self.submit = self._submit_nvtx if self.nvtx else self._submit  # type: ignore[method-assign]
        del rt

    def _new_events(self, count: int) -> list[int]:
        create = self.rt.eventCreate
        made = [int(create()) for _ in range(count)]
        self._events.extend(made)
        return made

    def thread_init(self) -> None:
        """CuPy's current device is per thread: the dispatcher's thread uses ours.  Bodies run on
        this thread, so ``current_request()`` answers from ``INLINE`` here."""
        self.device.use()
        INLINE[:] = [None, threading.get_ident()]

    def tick(self, until_ns: int) -> None:
        """Take a clock anchor in the dispatcher's slack (every ``anchor_every_ns`` at most).

        One record on the idle anchor stream, polled (never synchronised) until it completes or
        ``until_ns`` comes; a bracket wider than ``anchor_max_width_ns`` is dropped.  The anchors
        let ``ClockMap`` follow a drift that changes during the run.
        """
        h0 = _clock()
        if h0 - self._last_anchor_ns < self.anchor_every_ns:
            return
        self._last_anchor_ns = h0
        self.anchor_attempts += 1
        ev = self.cp.cuda.Event()
        query = self.rt.eventQuery
        ptr = ev.ptr
        h0 = _clock()
        ev.record(self.anchor_stream)
        while True:
            try:
                done = query(ptr) == 0
            except Exception:  # noqa: BLE001 - an error surfaces on the requests' own events
                return
            h1 = _clock()
            if done:
                break
            if h1 > until_ns:
                return
        if h1 - h0 <= self.anchor_max_width_ns:
            self.mid_anchors.append((ev, Bracket(h0, h1)))

    def _anchor(self) -> tuple[Any, Bracket]:
        """The tightest of 20 record-and-wait brackets on an idle stream (one event per try)."""
        best: tuple[Any, Bracket] | None = None
        for _ in range(20):
            ev = self.cp.cuda.Event()
            h0 = _clock()
            ev.record(self.anchor_stream)
            ev.synchronize()
            h1 = _clock()
            if best is None or h1 - h0 < best[1].h1_ns - best[1].h0_ns:
                best = (ev, Bracket(h0, h1))
        assert best is not None
        return best

    def _start_telemetry(self) -> None:
        try:
            from pytest_gpuslo.backends.nvml import Sampler

            self._sampler = Sampler(pci_bus_id=self.device.pci_bus_id, index=self.device.id)
            self._sampler.start()
        except Exception as exc:  # noqa: BLE001 - telemetry is never allowed to fail a test
            self._telemetry = {"unavailable": f"{type(exc).__name__}: {exc}", "disturbances": []}
            self._sampler = None

    # -- priming: untimed, and the place to look for escaped work -----------------------------
    def prime(self, req: "Request", timeout_s: float) -> None:
        """Run the body once on every stream, waiting for each: compilation and per-stream pool
        growth happen here, before the clock starts.  After each lane's own work completes the
        device is synchronised: work still running then ran outside the lane's stream.  Ordinary
        errors are left for the real requests to report; a sticky CUDA error ends the run here."""
        req._stage = self._stage
        deadline = _clock() + int(timeout_s * 1e9)
        syncer = _DeviceSyncer(self.rt, self.device)
        late: list[int] = []
        try:
            idle_ns = syncer.calibrate(deadline) if self.escape_checks else 0
            for lane in priming_order(self.lanes, self.escape_checks):
                req._lane = lane
                set_current(req)
                try:
                    with self.lane_streams.entered(lane):
                        self.body(req)
                except Exception as exc:  # noqa: BLE001
                    if _status(exc) in STICKY or isinstance(exc, InvalidArgument):  # a misuse: every request's
                        raise
                finally:
                    set_current(None)
                self.lane_streams.refresh(self.device.id)
                mark = self.cp.cuda.Event(disable_timing=True)
                mark.record(self.lane_streams.cupy[lane])
                if self.escape_checks:
                    syncer.start()  # its wake-up overlaps the body's work, not after it
                # Poll rather than synchronise, so a kernel that never ends cannot hang us; a
                # tight poll, so the lane's end is known to a few microseconds.
                polls = 0
                while (code := self._query(mark.ptr)) == NOT_READY:
                    polls += 1
                    if polls % 1024 == 0 and _clock() > deadline:
                        break
                lane_done = _clock()
                if code not in (0, NOT_READY):
                    self._fatal_status(code)
                    break
                if not self.escape_checks:
                    continue
                stamps = syncer.result(deadline)
                if code == NOT_READY or stamps is None:
                    break
                late.append(escape_lateness(stamps[0], stamps[1], lane_done, idle_ns))
            # Escaped work shows on every check; a driver hiccup, or a helper that woke late, on one.
            # The median of three or more checks, else the smallest, must clear the slack.
            typical = sorted(late)[len(late) // 2] if len(late) >= 3 else min(late, default=0)
            if typical > ESCAPE_SLACK_NS:
                self._escape(f"while priming, GPU work of the body was still running {typical / 1e3:.0f} us "
                             f"after the lane's own stream had finished ({len(late)} checks)")
        except Exception as exc:  # noqa: BLE001 - classified: sticky, OOM, or reported as is
            self._classify(exc, -1)
            if self.rec.fatal is None:
                self.rec.fatal = WorkloadError(f"the body failed while priming the streams: {exc}")
        finally:
            syncer.close()
        self.stage_events.clear()

    def _escape(self, what: str) -> None:
        if what not in self.escapes:
            self.escapes.append(what)

    # -- the hot path ----------------------------------------------------------------------
    def _submit(self, req: "Request") -> None:
        # Every line here is paid per request (benchmarks/launch_overhead.py measures it):
        # lookups are hoisted into open(), the current request is set without a call.
        i = req._index
        lane = i % self.lanes
        self.lane_streams.users[lane]()
        sp = self.lane_streams.ptrs[lane]
        req._lane = lane
        req._stage = self._stage_fn
        record = self._record
        end = self.ev_end[i]
        try:
            # The start event fires when the stream reaches it: at once on an idle stream, at the
            # previous request's end on a busy one (no query needed to tell which).
            record(self.ev_start[i], sp)
            INLINE[0] = req
            try:
                self.body(req)
            finally:
                if INLINE[0] is req:  # a hung body given up on returns late, into a later run's slot
                    INLINE[0] = None
                record(end, sp)
                if i in self.check_events:
                    rt = self.rt
                    check = self.check_events[i]
                    rt.eventRecord(check[0], rt.streamLegacy)
                    rt.eventRecord(check[1], rt.streamPerThread)
                    # After the records: a launcher preempted between them must not read as
                    # work on an idle default stream.
                    self.check_host_ns[i] = _clock()
        except BaseException as exc:  # noqa: BLE001 - kept as the request's error, then classified
            self.rec.record_error(i, exc)
            self._classify(exc, i)
        self.last_end[lane] = end

    def _submit_nvtx(self, req: "Request") -> None:
        """``_submit`` inside an NVTX range naming the request and its lane (``--gpuslo-nvtx``)."""
        nvtx = self.cp.cuda.nvtx
        nvtx.RangePush(f"gpuslo request {req.index} lane {req.index % self.lanes}")
        try:
            self._submit(req)
        finally:
            nvtx.RangePop()

    @contextlib.contextmanager
    def _stage(self, req: "Request", name: str) -> Iterator[None]:
        rt = self.rt
        sp = self.lane_streams.ptrs[req.lane] if req.lane >= 0 else int(self.cp.cuda.get_current_stream().ptr)
        e0, e1 = self._new_events(2)
        if self.nvtx:
            self.cp.cuda.nvtx.RangePush(f"gpuslo {name} request {req.index}")
        rt.eventRecord(e0, sp)
        try:
            yield
        finally:
            rt.eventRecord(e1, sp)
            if self.nvtx:
                self.cp.cuda.nvtx.RangePop()
            self.stage_events.setdefault(name, []).append((req.index, e0, e1))

    def _is_complete(self, i: int) -> bool:
        return i < 0 or self.rec.dispatch_ns[i] < 0 or self._query(self.ev_end[i]) == 0

    def _wait_complete(self, i: int) -> None:
        if i >= 0:
            self.rt.eventSynchronize(self.ev_end[i])

    def _classify(self, exc: BaseException, index: int) -> None:
        cp = self.cp
        where = f"request {index}" if index >= 0 else "priming (before the schedule started)"
        if isinstance(exc, cp.cuda.memory.OutOfMemoryError):
            free, total = self._mem_info()
            pool = cp.get_default_memory_pool()
            self.rec.fatal = WorkloadError(
                f"CUDA out of memory in {where}: {exc} Device memory free: {free:,} of "
                f"{total:,} bytes; CuPy's pool holds {pool.total_bytes():,} bytes "
                f"({pool.used_bytes():,} in use). Reduce the per-request allocation or streams, or "
                f"pre-allocate buffers once in a fixture.")
            pool.free_all_blocks()
        elif _status(exc) in STICKY:
            self._lose_context(f"{type(exc).__name__}: {exc}", f"CUDA error in {where}: {exc}.")

    def _lose_context(self, reason: str, what: str) -> None:
        """Record a sticky CUDA error: this test fails with the explanation, later GPU tests skip."""
        global _context_lost
        _context_lost = reason
        self.rec.fatal = WorkloadError(
            f"{what} This error is sticky: the CUDA context of this process is lost and every "
            f"later GPU test in it would fail, so they are skipped. Run GPU SLO tests in their own "
            f"process (e.g. pytest -n 1 with pytest-xdist, or one pytest call per GPU test file) "
            f"to keep the rest of the suite.")

    def _mem_info(self) -> tuple[int, int]:
        try:
            free, total = self.rt.memGetInfo()
            return int(free), int(total)
        except Exception:  # noqa: BLE001
            return -1, -1

    # -- after the run ---------------------------------------------------------------------
    def wait(self, deadline_ns: int) -> None:
        pending = {lane: ev for lane, ev in enumerate(self.last_end) if ev}
        while pending:
            for lane, ev in list(pending.items()):
                code = self._query(ev)
                if code == 0:
                    del pending[lane]
                elif code != NOT_READY:
                    self._fatal_status(code)
                    return
            if not pending or _clock() >= deadline_ns or self.rec.fatal is not None:
                break
            time.sleep(0.0005)
        self._harvest()

    def _query(self, ev: int) -> int:
        try:
            return int(self.rt.eventQuery(ev))
        except Exception as exc:  # noqa: BLE001 - CuPy raises for error codes: keep the code
            return _status(exc) or 999

    def _fatal_status(self, code: int) -> None:
        if code in STICKY:
            self._lose_context(f"CUDA status {code} while waiting for requests",
                               f"a request's GPU work failed with CUDA status {code} (700 is an "
                               f"illegal address).")
        else:
            self.rec.fatal = WorkloadError(f"a request's GPU work failed with CUDA status {code}.")

    def _harvest(self) -> None:
        """Map every completed event onto the host clock and fill the recorder."""
        rt, rec = self.rt, self.rec
        if rec.fatal is not None and _context_lost is not None:
            return
        anchor1, bracket1 = self._anchor()
        a0 = self.anchor0.ptr
        elapsed = rt.eventElapsedTime
        later = [(elapsed(a0, ev.ptr) * 1e6, br) for ev, br in [*self.mid_anchors, (anchor1, bracket1)]]
        cmap = ClockMap.fit_many(self.bracket0, later)
        self.clock_map = cmap

        def host(ev: int) -> int:
            if self._query(ev) != 0:
                return -1
            return int(cmap.to_host(elapsed(a0, ev) * 1e6))

        done = 0
        for i in range(rec.n):
            if rec.dispatch_ns[i] < 0:
                continue
            end = host(self.ev_end[i])
            if end >= 0:
                rec.start_ns[i] = host(self.ev_start[i])
                rec.end_ns[i] = end
                done += 1
        # A request queued behind its lane's previous one starts at that one's end (FIFO), not
        # at its start event, which fires a few microseconds later (timeline.fifo_starts).
        rec.start_ns[:] = fifo_starts(rec.start_ns, rec.end_ns, rec.dispatch_ns, self.lanes)
        for name, events in self.stage_events.items():
            begin, finish = rec.stage_arrays(name)
            for i, e0, e1 in events:
                if i < 0:
                    continue
                b, f = host(e0), host(e1)
                if b >= 0 and f >= 0:
                    begin[i], finish[i] = b, f
        self._check_escapes(host)
        rec.complete_one(done)

    def _check_escapes(self, host: Callable[[int], int]) -> None:
        """Sampled requests: did a default stream finish after both the request's end and the
        moment its check was recorded?  (An idle default stream fires as soon as it is recorded,
        which on a slow host can be after a short request ended: that is not an escape.)"""
        late: dict[str, list[int]] = {"the legacy default stream": [], "the per-thread default stream": []}
        for i, (legacy, ptds) in self.check_events.items():
            end = int(self.rec.end_ns[i])
            recorded = self.check_host_ns.get(i)
            if end < 0 or recorded is None:
                continue
            floor = max(end, recorded)
            for where, ev in zip(late, (legacy, ptds)):
                t = host(ev)
                if t >= 0 and t - floor > ESCAPE_SLACK_NS:
                    late[where].append(t - end)
        for where, gaps in late.items():
            # Escaped work shows on many sampled requests; one late sample is a hiccup.
            if len(gaps) >= ESCAPE_MIN_SAMPLES:
                self._escape(f"{len(gaps)} of {len(self.check_events)} sampled requests left GPU work on "
                             f"{where} that ended up to {max(gaps) / 1e3:.0f} us after the request's end")

    def close(self) -> None:
        INLINE[:] = [None, None]
        if self._sampler is not None:
            self._telemetry = self._sampler.stop()
            self._sampler = None
        if self.clock_map is not None:
            self._telemetry["clock_map"] = {"error_us": self.clock_map.error_ns / 1e3,
                                            "drift_ppm": self.clock_map.drift_ppm,
                                            "anchors": self.clock_map.anchors,
                                            "bend_us": self.clock_map.bend_ns / 1e3}
        self._telemetry["frameworks"] = self.lane_streams.frameworks if hasattr(self, "lane_streams") else []
        self._telemetry["escapes"] = list(self.escapes)
        if _context_lost is None:
            destroy = self.rt.eventDestroy
            for ev in self._events:
                with contextlib.suppress(Exception):
                    destroy(ev)
            self._events.clear()
            with contextlib.suppress(Exception):
                self.cp.cuda.Stream.null.use()
                self.cp.get_default_memory_pool().free_all_blocks()
                self.cp.get_default_pinned_memory_pool().free_all_blocks()

    def telemetry(self) -> dict[str, Any]:
        return dict(self._telemetry)

    def control(self) -> dict[str, list[float]]:
        """The CPU loop, and a fixed-work kernel timed by events on a stream of its own: its time
        follows the SM clock (power cap, heat), as the requests' kernels do."""
        out = super().control()
        try:
            out["gpu_ms"] = control_kernel_ms(self.cp, self.device)
        except Exception:  # noqa: BLE001 - a control that cannot run is left out, never fatal
            pass
        return out

    def describe(self) -> dict[str, Any]:
        return fingerprint(self.device.id, self.name)


_fingerprints: dict[tuple[int, str], dict[str, Any]] = {}


def fingerprint(device_id: int, backend: str) -> dict[str, Any]:
    """The machine fingerprint of a GPU run (cached per device and backend name): the GPU, CUDA and
    CuPy, PyTorch's version and CUDA build when the user's code loaded it, and NVML's view."""
    key = (device_id, backend)
    if key not in _fingerprints:
        import cupy as cp

        rt = cp.cuda.runtime
        device = cp.cuda.Device(device_id)
        props = rt.getDeviceProperties(device_id)
        name = props.get("name", b"")
        fp: dict[str, Any] = {
            "backend": backend,
            "device": device_id,
            "gpu": name.decode() if isinstance(name, bytes) else str(name),
            "compute_capability": device.compute_capability,
            "sm_count": props.get("multiProcessorCount"),
            "cuda_runtime": rt.runtimeGetVersion(),
            "cupy": cp.__version__,
        }
        torch = torch_if_loaded()
        if torch is not None:
            fp["torch"] = str(torch.__version__)
            fp["torch_cuda"] = str(torch.version.cuda)
        try:
            from pytest_gpuslo.backends.nvml import Nvml

            nvml = Nvml(pci_bus_id=device.pci_bus_id, index=device_id)
            fp.update({k: v for k, v in nvml.fingerprint().items() if k != "uuid"})
        except Exception as exc:  # noqa: BLE001
            fp["nvml"] = f"unavailable: {type(exc).__name__}"
        _fingerprints[key] = fp
    return dict(_fingerprints[key])


class DeviceOps:
    """Copies and buffers for ``pipeline.Pipeline`` and ``slo_pinned`` on the GPU (the CPU twin is
    in ``cpu.py``)."""

    name = "cuda"

    def __init__(self) -> None:
        import cupy as cp
        import cupyx

        self.cp, self.cupyx = cp, cupyx

    def host(self, shape: Any, dtype: Any, *, pinned: bool = True, like: str = "numpy") -> Any:
        """A zeroed host buffer (page-locked by default); ``like="torch"`` gives a pinned torch
        tensor (torch must already be imported by the caller's code)."""
        if like == "torch":
            torch = sys.modules.get("torch")
            if torch is None:
                raise BackendUnavailable("slo_pinned(..., like='torch') needs PyTorch imported by the test")
            return torch.zeros(shape, dtype=cpu.torch_dtype(torch, dtype), pin_memory=pinned)
        # Zeroed in set-up, so a body that never fills its input reads zeros, not garbage.
        return self.cupyx.zeros_pinned(shape, dtype) if pinned else np.zeros(shape, dtype)

    def device(self, shape: Any, dtype: Any) -> Any:
        return self.cp.zeros(shape, dtype)

    def is_pinned(self, array: Any) -> bool:
        if hasattr(array, "is_pinned"):
            return bool(array.is_pinned())
        return bool(self.cp.cuda.pinned_memory.is_memory_pinned(array.ctypes.data))

    def h2d(self, host: Any, dev: Any) -> None:
        dev.set(host)  # on the current stream; truly asynchronous only from pinned memory

    def d2h(self, dev: Any, host: Any) -> None:
        dev.get(out=host, blocking=False)

    def mark(self) -> Any:
        ev = self.cp.cuda.Event(disable_timing=True)
        ev.record()
        return ev

    def wait(self, mark: Any) -> None:
        if mark is not None:
            mark.synchronize()

    def release(self) -> None:
        with contextlib.suppress(Exception):
            self.cp.get_default_pinned_memory_pool().free_all_blocks()


class GraphReplay:
    """One captured CUDA graph per lane: ``replay(request)`` launches the request's lane's graph
    on the current stream (the request's own, on the CUDA backend) with one API call.

    One graph per lane because a graph bakes in its buffers and launches of one graph are
    serialised; ``fn(lane)`` must use that lane's buffers (copy each request's input into them
    eagerly, before the replay).  Copies cannot be captured (gpu-api-notes.md §13).  When the
    user's code has imported PyTorch, capture goes through ``torch.cuda.graph`` (its caching
    allocator needs a private pool during capture), with CuPy's current stream on the same
    capture stream, so torch and CuPy work in ``fn`` are both captured.
    """

    def __init__(self, fn: Callable[[int], Any], lanes: int) -> None:
        self.fn, self.graphs = fn, []
        self.torch = torch_if_loaded()
        make = self._capture_torch if self.torch is not None else self._capture_cupy
        for lane in range(lanes):
            self.graphs.append(make(fn, lane))

    @staticmethod
    def _capture_cupy(fn: Callable[[int], Any], lane: int) -> Any:
        import cupy as cp

        capture = cp.cuda.Stream(non_blocking=True)
        with capture:
            fn(lane)  # eagerly once: compilation and pool growth happen outside the capture
        capture.synchronize()
        capture.begin_capture()
        try:
            with capture:
                fn(lane)
        finally:
            graph = capture.end_capture()
        capture.synchronize()
        return graph

    def _capture_torch(self, fn: Callable[[int], Any], lane: int) -> Any:
        import cupy as cp

        torch = self.torch
        side = torch.cuda.Stream()
        with torch.cuda.stream(side), cp.cuda.ExternalStream(side.cuda_stream):
            for _ in range(3):  # torch's recipe: warm up on a side stream before capture
                fn(lane)
        torch.cuda.current_stream().wait_stream(side)
        torch.cuda.synchronize()
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            with cp.cuda.ExternalStream(torch.cuda.current_stream().cuda_stream):
                fn(lane)
        torch.cuda.synchronize()
        return graph

    @property
    def captured(self) -> bool:
        return True

    def __call__(self, request: Any) -> None:
        lane = request.lane if request.lane >= 0 else 0
        graph = self.graphs[lane % len(self.graphs)]
        if self.torch is not None:
            graph.replay()  # on torch's current stream: the lane's, set by the backend
        else:
            graph.launch()


graph_replay = GraphReplay


def occupancy(kernel: Any, block: int, dynamic_smem: int = 0) -> dict[str, Any]:
    """Theoretical occupancy of a ``cupy.RawKernel`` at ``block`` threads, and what limits it.

    The driver's answer (cuOccupancyMaxActiveBlocksPerMultiprocessor) is the truth; the per-resource
    counts only name the limiter (gpu-api-notes.md §10).
    """
    import cupy as cp
    from cupy.cuda import driver

    dev = cp.cuda.Device()
    props = cp.cuda.runtime.getDeviceProperties(dev.id)
    attrs = kernel.attributes
    blocks = int(driver.occupancyMaxActiveBlocksPerMultiprocessor(kernel.kernel.ptr, block, dynamic_smem))
    warps = -(-block // 32)
    max_warps = props["maxThreadsPerMultiProcessor"] // 32
    regs = max(1, int(attrs.get("num_regs", 1)))
    smem = int(attrs.get("shared_size_bytes", 0)) + dynamic_smem + int(props.get("reservedSharedMemPerBlock", 0))
    limits = {
        "warps": max_warps // warps,
        "blocks": int(props.get("maxBlocksPerMultiProcessor", 32)),
        "registers": props["regsPerMultiprocessor"] // (regs * 32 * warps),
        "shared_memory": props["sharedMemPerMultiprocessor"] // smem if smem else 10**9,
    }
    return {
        "kernel": getattr(kernel, "name", "?"),
        "block": block,
        "dynamic_smem": dynamic_smem,
        "registers_per_thread": regs,
        "shared_bytes_per_block": smem,
        "blocks_per_sm": blocks,
        "occupancy": blocks * warps / max_warps,
        "limiter": min(limits, key=lambda k: limits[k]),
        "limits": limits,
    }


SPIN_SOURCE = r"""
extern "C" __global__ void spin(long long ns) {
    unsigned long long start, now;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(start));
    do { asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(now)); } while (now - start < (unsigned long long)ns);
}
"""


CONTROL_SOURCE = r"""
extern "C" __global__ void control_work(long long n, float* out) {
    float x = threadIdx.x;
    for (long long i = 0; i < n; ++i) { x = x * 1.0000001f + 0.5f; }
    if (x == -1.0f) { out[0] = x; }
}
"""
#: Loop count of the control kernel: a dependent chain, about 0.2 ms at an H200's boost clock.
CONTROL_LOOP = 100_000
_control: dict[int, Any] = {}


def control_kernel_ms(cp: Any, device: Any, reps: int = 7) -> list[float]:
    """``reps`` event timings (ms) of a fixed amount of arithmetic on one block, after three
    untimed launches that bring the clocks up from idle."""
    with device:
        k = _control.get(device.id)
        if k is None:
            k = _control[device.id] = cp.RawKernel(CONTROL_SOURCE, "control_work")
        out = cp.zeros(1, dtype=cp.float32)
        stream = cp.cuda.Stream(non_blocking=True)
        events = [(cp.cuda.Event(), cp.cuda.Event()) for _ in range(reps)]
        n = cp.int64(CONTROL_LOOP)
        with stream:
            for _ in range(3):
                k((1,), (32,), (n, out))
            for a, b in events:
                a.record(stream)
                k((1,), (32,), (n, out))
                b.record(stream)
        stream.synchronize()
        return [float(cp.cuda.get_elapsed_time(a, b)) for a, b in events]


def spin_kernel() -> Any:
    """A compiled ``cupy.RawKernel`` that busy-waits on the GPU's global nanosecond timer:
    launch as ``k((1,), (1,), (cupy.int64(ns),))``.  A service time you choose, independent of
    the SM clock (a ``clock64()`` spin runs longer when the GPU idles at a lower clock between
    sparse requests, which skews timing comparisons)."""
    import cupy as cp

    k = cp.RawKernel(SPIN_SOURCE, "spin")
    k((1,), (1,), (cp.int64(1000),))  # compile and load now, outside any measured window
    cp.cuda.Device().synchronize()
    return k


class _CopyWork:
    """``gpuslo capacity``'s reference GPU work: a 64 KB H2D, a short kernel and a 64 KB D2H per
    request, on per-lane pinned host and device buffers (no request allocates)."""

    SOURCE = r"""
    extern "C" __global__ void scale(const float* x, float* y, int n) {
        int i = blockIdx.x * blockDim.x + threadIdx.x;
        if (i < n) y[i] = 2.0f * x[i] + 1.0f;
    }"""

    def __init__(self, lanes: int, n_floats: int = 16384) -> None:
        import cupy as cp
        import cupyx

        self.cp, self.lanes, self.n = cp, lanes, np.int32(n_floats)
        self.kernel = cp.RawKernel(self.SOURCE, "scale")
        self.streams = streams(lanes)
        self.slots = [(cp.zeros(n_floats, cp.float32), cp.zeros(n_floats, cp.float32),
                       cupyx.zeros_pinned(n_floats, np.float32), cupyx.zeros_pinned(n_floats, np.float32))
                      for _ in range(lanes)]
        self.grid, self.block = ((n_floats + 255) // 256,), (256,)

    def __call__(self, i: int, stream: Any = None, copies: bool = True) -> None:
        d_in, d_out, h_in, h_out = self.slots[i % self.lanes]
        if copies:
            d_in.set(h_in, stream=stream)
        self.kernel(self.grid, self.block, (d_in, d_out, self.n), stream=stream)
        if copies:
            d_out.get(out=h_out, stream=stream, blocking=False)

    def sync(self) -> None:
        self.cp.cuda.Device().synchronize()


def capacity_bodies(lanes: int) -> list[Any]:
    """``gpuslo capacity``'s bodies: empty, kernel only, copy + kernel + copy."""
    from pytest_gpuslo.capacity import Workload, closed_loop, paced_loop

    work = _CopyWork(lanes)

    def bare(copies: bool | None) -> Callable[[int], None]:
        if copies is None:
            return lambda i: None
        return lambda i: work(i, work.streams[i % lanes], copies=copies)

    out = []
    for name, copies in (("empty", None), ("kernel", False), ("64 KB copy + kernel + copy", True)):
        def body(r: Any, c: bool | None = copies) -> None:
            if c is not None:
                work(r.index, copies=c)

        issue = bare(copies)
        out.append(Workload(name, body, paced_loop(issue, work.sync), closed_loop(issue, work.sync)))
    return out

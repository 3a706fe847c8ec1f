"""CUDA backend (CuPy): lanes are non-blocking CUDA streams; completion is a CUDA event.

The dispatcher thread itself runs each body with the request's stream as CuPy's current stream, so
the body only *enqueues* work; an event recorded after it on the same stream marks completion.
Nothing in the hot path synchronises.  After the run, event times are mapped onto the host clock
of the arrival schedule through bracketed anchors (``timeline.ClockMap``): one before and one
after the run, and one every 50 ms during it wherever the dispatcher has a millisecond of slack.
A body that does synchronise still works: it holds up the dispatcher, which shows as schedule
lag; a body that never returns is given up after ``timeout_s`` (``measurement``).

With ``backends/nvml.py``, the only modules that import a GPU library, and only when a test runs.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager as ContextManager
from typing import TYPE_CHECKING, Any

import numpy as np

from pytest_gpuslo.backends import BaseBackend, devices
from pytest_gpuslo.errors import BackendUnavailable, WorkloadError
from pytest_gpuslo.timeline import Bracket, ClockMap

if TYPE_CHECKING:
    from pytest_gpuslo.recorder import Recorder, Request

_clock = time.perf_counter_ns
#: CUDA statuses after which the process's context is unusable (gpu-api-notes.md §15.2).
STICKY = {700, 702, 709, 710, 714, 715, 716, 717, 718, 719, 999}
#: Set once a sticky error happened in this process: later GPU tests skip with this reason.
_context_lost: str | None = None
_stream_pool: list[Any] = []


def probe() -> str | None:
    """``None`` when CuPy can use a GPU here, else the precise reason (no CuPy, driver or device)."""
    if _context_lost is not None:
        return f"the CUDA context of this process was lost earlier ({_context_lost})"
    try:
        import cupy
    except ImportError as exc:
        return (f"CuPy is not installed ({exc}); install pytest-gpuslo[cuda13] or [cuda12] on a "
                f"machine with an NVIDIA GPU")
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


def streams(n: int) -> list[Any]:
    """The session's pool of non-blocking streams (created once: about 10 us each)."""
    import cupy as cp

    while len(_stream_pool) < n:
        _stream_pool.append(cp.cuda.Stream(non_blocking=True))
    return _stream_pool[:n]


def _status(exc: BaseException) -> int | None:
    status = getattr(exc, "status", None)
    return int(status) if isinstance(status, int) else None


def hold(count: int) -> ContextManager[None]:
    """Hold this test's GPUs (device 0 and the next ``count - 1``) against other processes."""
    import cupy as cp

    seen = cp.cuda.runtime.getDeviceCount()
    if seen < count:
        raise BackendUnavailable(f"devices={count}: this process sees {seen} GPU(s) "
                                 f"(CUDA_VISIBLE_DEVICES={devices.visible_env()!r})")
    return devices.hold([cp.cuda.Device(i).pci_bus_id for i in range(count)])


class Backend(BaseBackend):
    """Round-robin over ``lanes`` streams: request i runs on stream i mod lanes (FIFO per stream)."""

    name = "cuda"
    #: The launcher is the only busy Python thread, so it spins for the last 5 ms before each
    #: deadline.  Measured on an H100 host (docs/validation.md): sleeping closer to the deadline
    #: costs lag (time.sleep overshoots ~60-100 us there) and slows the host code that follows.
    spin_ns = 5_000_000
    #: The body runs on the dispatcher's thread (it only enqueues work), watched for hangs.
    inline_body = True
    #: Take a clock anchor during the run at most this often, when the dispatcher has slack.
    anchor_every_ns = 50_000_000
    #: A mid-run anchor whose bracket is wider than this caught a hiccup: it is not used (the outer
    #: anchors, the tightest of 20 tries, are about 6 us wide on an H100 host).
    anchor_max_width_ns = 12_000

    def __init__(self, device: int = 0, telemetry: bool = True, spin_ns: int | None = None) -> None:
        import cupy as cp

        if spin_ns is not None:
            self.spin_ns = spin_ns
        self.cp = cp
        self.device = cp.cuda.Device(device)
        self._telemetry_on = telemetry
        self._telemetry: dict[str, Any] = {}
        self._fingerprint: dict[str, Any] | None = None
        self._sampler: Any = None
        self._nvml: Any = None
        self.stage_events: dict[str, list[tuple[int, Any, Any]]] = {}
        self.clock_map: ClockMap | None = None

    # -- set-up, outside the measured window ------------------------------------------------
    def open(self, lanes: int, body: Callable[["Request"], Any], recorder: "Recorder") -> None:
        cp = self.cp
        self.device.use()
        self.rec, self.body = recorder, body
        self.streams = streams(lanes)
        self.lanes = lanes
        recorder.lane[:] = np.arange(recorder.n) % lanes
        self.anchor_stream = cp.cuda.Stream(non_blocking=True)
        n = recorder.n
        self.ev_start = [cp.cuda.Event() for _ in range(n)]
        self.ev_end = [cp.cuda.Event() for _ in range(n)]
        self.start_ref: list[Any] = [None] * n
        self.last_end: dict[int, Any] = {}
        self.describe()
        if self._telemetry_on:
            self._start_telemetry()
        self.anchor0, self.bracket0 = self._anchor()
        self.mid_anchors: list[tuple[Any, Bracket]] = []
        self._last_anchor_ns = self.bracket0.h1_ns

    def thread_init(self) -> None:
        """CuPy's current device is per thread: the dispatcher's thread uses ours."""
        self.device.use()

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
        ev = self.cp.cuda.Event()
        query = self.cp.cuda.runtime.eventQuery
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
            from pytest_gpuslo.backends.nvml import Nvml, Sampler

            self._nvml = Nvml(pci_bus_id=self.device.pci_bus_id, index=self.device.id)
            self._sampler = Sampler(self._nvml)
            self._sampler.start()
        except Exception as exc:  # noqa: BLE001 - telemetry is never allowed to fail a test
            self._telemetry = {"unavailable": f"{type(exc).__name__}: {exc}", "disturbances": []}
            self._sampler = None

    # -- the hot path ----------------------------------------------------------------------
    def prime(self, req: "Request", timeout_s: float) -> None:
        """Run the body once on every stream, then wait: compilation and per-stream pool growth
        happen here, before the clock starts.  Ordinary errors are left for the real requests to
        report; a sticky CUDA error ends the run here with its explanation."""
        req._stage = self._stage
        try:
            for lane, stream in enumerate(self.streams):
                req.lane = lane
                try:
                    with stream:
                        self.body(req)
                except Exception as exc:  # noqa: BLE001
                    if _status(exc) in STICKY:
                        raise
            # Poll rather than synchronise, so a kernel that never ends cannot hang us.
            deadline = _clock() + int(timeout_s * 1e9)
            marks = []
            for stream in self.streams:
                ev = self.cp.cuda.Event(disable_timing=True)
                ev.record(stream)
                marks.append(ev)
            for ev in marks:
                while (code := self._query(ev)) == 600 and _clock() < deadline:
                    time.sleep(0.0005)
                if code not in (0, 600):
                    self._fatal_status(code)
                    break
        except Exception as exc:  # noqa: BLE001 - classified: sticky, OOM, or reported as is
            self._classify(exc, -1)
            if self.rec.fatal is None:
                self.rec.fatal = WorkloadError(f"the body failed while priming the streams: {exc}")
        self.stage_events.clear()

    def submit(self, req: "Request") -> None:
        i = req.index
        lane = i % self.lanes
        stream = self.streams[lane]
        req.lane = lane
        req._stage = self._stage
        ev_end = self.ev_end[i]
        try:
            # Enter the stream first: the start event then sits right before the body's first
            # launch, so an idle stream's "service" holds as little host time as possible.
            with stream:
                prev = self.last_end.get(lane)
                if prev is not None and self._query(prev) == 600:
                    # The stream is still busy: this request starts when the previous one ends,
                    # which its end event already marks.  One event fewer between the copies
                    # keeps the copy path's throughput (docs/validation.md, capacity stalls).
                    self.start_ref[i] = prev
                else:
                    self.ev_start[i].record(stream)
                    self.start_ref[i] = self.ev_start[i]
                try:
                    self.body(req)
                finally:
                    ev_end.record(stream)
        except BaseException as exc:  # noqa: BLE001 - kept as the request's error, then classified
            self.rec.record_error(i, exc)
            self._classify(exc, i)
        self.last_end[lane] = ev_end

    @contextlib.contextmanager
    def _stage(self, req: "Request", name: str) -> Iterator[None]:
        cp = self.cp
        e0 = cp.cuda.Event()
        e0.record()  # None: the current stream, which is the request's
        try:
            yield
        finally:
            e1 = cp.cuda.Event()
            e1.record()
            self.stage_events.setdefault(name, []).append((req.index, e0, e1))

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
            free, total = self.cp.cuda.runtime.memGetInfo()
            return int(free), int(total)
        except Exception:  # noqa: BLE001
            return -1, -1

    # -- after the run ---------------------------------------------------------------------
    def wait(self, deadline_ns: int) -> None:
        runtime = self.cp.cuda.runtime
        pending = dict(self.last_end)
        while pending:
            for lane, ev in list(pending.items()):
                code = self._query(ev)
                if code == 0:
                    del pending[lane]
                elif code != 600:
                    self._fatal_status(code)
                    return
            if not pending or _clock() >= deadline_ns or self.rec.fatal is not None:
                break
            time.sleep(0.0005)
        self._harvest(runtime)

    def _query(self, ev: Any) -> int:
        try:
            return int(self.cp.cuda.runtime.eventQuery(ev.ptr))
        except Exception as exc:  # noqa: BLE001 - CuPy raises for error codes: keep the code
            return _status(exc) or 999

    def _fatal_status(self, code: int) -> None:
        if code in STICKY:
            self._lose_context(f"CUDA status {code} while waiting for requests",
                               f"a request's GPU work failed with CUDA status {code} (700 is an "
                               f"illegal address).")
        else:
            self.rec.fatal = WorkloadError(f"a request's GPU work failed with CUDA status {code}.")

    def _harvest(self, runtime: Any) -> None:
        """Map every completed event onto the host clock and fill the recorder."""
        cp, rec = self.cp, self.rec
        if rec.fatal is not None and _context_lost is not None:
            return
        anchor1, bracket1 = self._anchor()
        later = [(cp.cuda.get_elapsed_time(self.anchor0, ev) * 1e6, br)
                 for ev, br in [*self.mid_anchors, (anchor1, bracket1)]]
        cmap = ClockMap.fit_many(self.bracket0, later)
        self.clock_map = cmap

        def host(ev: Any) -> int:
            if self._query(ev) != 0:
                return -1
            return int(cmap.to_host(cp.cuda.get_elapsed_time(self.anchor0, ev) * 1e6))

        done = 0
        for i in range(rec.n):
            if rec.dispatch_ns[i] < 0:
                continue
            end = host(self.ev_end[i])
            if end >= 0:
                start_ev = self.start_ref[i] if self.start_ref[i] is not None else self.ev_start[i]
                rec.start_ns[i] = host(start_ev)
                rec.end_ns[i] = end
                done += 1
        for name, events in self.stage_events.items():
            begin, finish = rec.stage_arrays(name)
            for i, e0, e1 in events:
                if i < 0:
                    continue
                b, f = host(e0), host(e1)
                if b >= 0 and f >= 0:
                    begin[i], finish[i] = b, f
        rec.complete_one(done)

    def close(self) -> None:
        if self._sampler is not None:
            self._telemetry = self._sampler.stop()
            self._sampler = None
        if self.clock_map is not None:
            self._telemetry["clock_map"] = {"error_us": self.clock_map.error_ns / 1e3,
                                            "drift_ppm": self.clock_map.drift_ppm,
                                            "anchors": self.clock_map.anchors,
                                            "bend_us": self.clock_map.bend_ns / 1e3}
        if _context_lost is None:
            with contextlib.suppress(Exception):
                self.cp.get_default_memory_pool().free_all_blocks()
                self.cp.get_default_pinned_memory_pool().free_all_blocks()

    def telemetry(self) -> dict[str, Any]:
        return dict(self._telemetry)

    def describe(self) -> dict[str, Any]:
        if self._fingerprint is None:
            cp = self.cp
            props = cp.cuda.runtime.getDeviceProperties(self.device.id)
            name = props.get("name", b"")
            fp: dict[str, Any] = {
                "backend": "cuda",
                "device": self.device.id,
                "gpu": name.decode() if isinstance(name, bytes) else str(name),
                "compute_capability": self.device.compute_capability,
                "sm_count": props.get("multiProcessorCount"),
                "cuda_runtime": cp.cuda.runtime.runtimeGetVersion(),
                "cupy": cp.__version__,
            }
            try:
                from pytest_gpuslo.backends.nvml import Nvml

                nvml = self._nvml or Nvml(pci_bus_id=self.device.pci_bus_id, index=self.device.id)
                fp.update({k: v for k, v in nvml.fingerprint().items() if k != "uuid"})
            except Exception as exc:  # noqa: BLE001
                fp["nvml"] = f"unavailable: {type(exc).__name__}"
            self._fingerprint = fp
        return dict(self._fingerprint)


class DeviceOps:
    """Copies and buffers for ``pipeline.Pipeline`` on the GPU (the CPU twin is in ``cpu.py``)."""

    name = "cuda"

    def __init__(self) -> None:
        import cupy as cp
        import cupyx

        self.cp, self.cupyx = cp, cupyx

    def host(self, shape: Any, dtype: Any, *, pinned: bool = True) -> Any:
        import numpy as np

        # Zeroed in set-up, so a body that never fills its input reads zeros, not garbage.
        return self.cupyx.zeros_pinned(shape, dtype) if pinned else np.zeros(shape, dtype)

    def device(self, shape: Any, dtype: Any) -> Any:
        return self.cp.zeros(shape, dtype)

    def is_pinned(self, array: Any) -> bool:
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
    eagerly, before the replay).  Copies cannot be captured (gpu-api-notes.md §13).
    """

    def __init__(self, fn: Callable[[int], Any], lanes: int) -> None:
        import cupy as cp

        self.fn, self.graphs = fn, []
        capture = cp.cuda.Stream(non_blocking=True)
        for lane in range(lanes):
            with capture:
                fn(lane)  # eagerly once: compilation and pool growth happen outside the capture
            capture.synchronize()
            capture.begin_capture()
            try:
                with capture:
                    fn(lane)
            finally:
                graph = capture.end_capture()
            self.graphs.append(graph)
        capture.synchronize()

    @property
    def captured(self) -> bool:
        return True

    def __call__(self, request: Any) -> None:
        lane = request.lane if request.lane >= 0 else 0
        self.graphs[lane % len(self.graphs)].launch()


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


graph_replay = GraphReplay

SPIN_SOURCE = r"""
extern "C" __global__ void spin(long long ns) {
    unsigned long long start, now;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(start));
    do { asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(now)); } while (now - start < (unsigned long long)ns);
}
"""


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

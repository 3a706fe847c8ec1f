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
from collections.abc import Callable
from contextlib import AbstractContextManager as ContextManager
from typing import TYPE_CHECKING, Any

from pytest_gpuslo.backends import BaseBackend, no_devices

if TYPE_CHECKING:
    from pytest_gpuslo.recorder import Recorder, Request

_clock = time.perf_counter_ns


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


def _cpu_times() -> tuple[float, float, float] | None:
    """(CPU seconds busy on the whole machine, this process's CPU seconds, wall seconds), or
    ``None`` where ``/proc/stat`` is missing (not Linux)."""
    try:
        with open("/proc/stat", encoding="ascii") as fh:
            fields = fh.readline().split()
    except OSError:
        return None
    if not fields or fields[0] != "cpu":
        return None
    ticks = [int(x) for x in fields[1:9]]  # user nice system idle iowait irq softirq steal
    busy = sum(ticks) - ticks[3] - ticks[4]
    own = os.times()
    return busy / os.sysconf("SC_CLK_TCK"), own.user + own.system, time.monotonic()


def other_cpu_load(before: tuple[float, float, float] | None,
                   after: tuple[float, float, float] | None) -> float | None:
    """CPUs kept busy by other processes between two ``_cpu_times`` samples, on average."""
    if before is None or after is None or after[2] - before[2] < 0.2:
        return None
    others = (after[0] - before[0]) - (after[1] - before[1])
    return max(0.0, others / (after[2] - before[2]))


def probe() -> str | None:
    """The CPU backend runs everywhere."""
    return None


def hold(devices: int) -> ContextManager[None]:
    return no_devices("cpu", devices)


class EagerReplay:
    """The CPU's stand-in for ``slo_graph``: ``fn(lane)`` runs as it is, each request."""

    captured = False

    def __init__(self, fn: Callable[[int], Any], lanes: int) -> None:
        self.fn, self.lanes = fn, lanes

    def __call__(self, request: Any) -> None:
        self.fn(max(request.lane, 0) % self.lanes)


graph_replay = EagerReplay


class Backend(BaseBackend):
    """Worker-thread lanes; the first free lane takes the oldest waiting request."""

    name = "cpu"
    #: Never spin: a spinning dispatcher holds the GIL and starves Python lanes.
    spin_ns = 0

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[Request | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._recorder: Recorder | None = None

    def open(self, lanes: int, body: Callable[[Request], Any], recorder: Recorder) -> None:
        self._cpu_start = _cpu_times()
        self._recorder = recorder
        self._body = body
        for lane in range(lanes):
            t = threading.Thread(target=self._lane, args=(lane, body, recorder),
                                 name=f"gpuslo-lane-{lane}", daemon=True)
            t.start()
            self._threads.append(t)

    def _lane(self, lane: int, body: Callable[[Request], Any], rec: Recorder) -> None:
        while True:
            req = self._queue.get()
            if req is None or rec.abandoned:
                return
            req.lane = lane
            rec.lane[req.index] = lane
            rec.start_ns[req.index] = _clock()
            try:
                body(req)
            except BaseException as exc:  # noqa: BLE001 - every failure is an exceedance, kept
                rec.record_error(req.index, exc)
                if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                    rec.end_ns[req.index] = _clock()
                    rec.complete_one()
                    return
            rec.end_ns[req.index] = _clock()
            rec.complete_one()

    def prime(self, request: Request, timeout_s: float) -> None:
        # One untimed call before the clock starts, so imports and caches warm up.  It runs in a
        # daemon thread joined with a timeout: a hung body cannot hang priming either.  Its errors
        # are not recorded; a broken body fails its real requests.
        def call() -> None:
            with contextlib.suppress(Exception):
                self._body(request)

        t = threading.Thread(target=call, name="gpuslo-prime", daemon=True)
        t.start()
        t.join(timeout_s)

    def submit(self, request: Request) -> None:
        self._queue.put(request)

    def wait(self, deadline_ns: int) -> None:
        assert self._recorder is not None
        self._recorder.wait_all(deadline_ns)

    def close(self) -> None:
        for _ in self._threads:
            self._queue.put(None)
        for t in self._threads:
            t.join(timeout=0.5)
        self._threads.clear()

    def telemetry(self) -> dict[str, Any]:
        """How busy other processes kept the CPUs during the run: CPU timings need a quiet
        machine, and the summary says when it was not."""
        load = other_cpu_load(getattr(self, "_cpu_start", None), _cpu_times())
        return {} if load is None else {"other_cpu_load": round(load, 2), "cpus": os.cpu_count()}

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

    def host(self, shape: Any, dtype: Any, *, pinned: bool = True) -> Any:
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

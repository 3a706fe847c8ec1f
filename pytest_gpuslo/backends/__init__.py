"""Backends: where a request's body runs and how its completion is timed (layer 3 seam).

A backend owns lanes (worker threads on the CPU, CUDA streams on the GPU), runs each submitted
request on one of them and stamps its start and completion on the host's ``perf_counter_ns``
clock (the clock of the arrival schedule).  This module is the registry and the complete
protocol; it imports no backend, so ``import pytest_gpuslo`` and ``pytest --help`` never import
CuPy.  Adding a backend is one module implementing ``BackendModule`` plus one line in
``REGISTRY``; nothing else in the package names a backend.
"""

from __future__ import annotations

import contextlib
import importlib
import time
from collections.abc import Callable
from contextlib import AbstractContextManager as ContextManager
from typing import TYPE_CHECKING, Any, Protocol, cast

from pytest_gpuslo.errors import BackendUnavailable, InvalidArgument

if TYPE_CHECKING:
    from pytest_gpuslo.recorder import Recorder, Request

#: The registry: backend name -> module.  ``auto`` picks the first available, in this order.
REGISTRY: dict[str, str] = {
    "cuda": "pytest_gpuslo.backends.cuda",
    "cuda-sync": "pytest_gpuslo.backends.cuda_sync",
    "cpu": "pytest_gpuslo.backends.cpu",
}
AUTO = "auto"


class Backend(Protocol):
    """What the open-loop driver needs from a backend instance (``BaseBackend`` has the defaults)."""

    #: the registry name.
    name: str
    #: The dispatcher sleeps until this close to a deadline, then spins (0: sleep only).  A spin
    #: holds the GIL, so a backend whose lanes are Python threads must not spin.
    spin_ns: int
    #: ``submit`` runs the body on the dispatcher's own thread: the driver then watches that thread
    #: for a body that never returns.
    inline_body: bool
    #: where it does, the harness's own part of each ``submit`` (ns): not the body's host time.
    submit_ns: int
    #: 0: ``tick`` once in each wait for a deadline; else again every this many ns of the wait
    #: (CPU lanes: where the bodies wait is sampled every 2 ms, whatever the arrival rate).
    tick_every_ns: int

    def clock(self) -> int:
        """The host clock of the schedule, in ns (``time.perf_counter_ns``; a virtual one in tests)."""

    def sleep(self, seconds: float) -> None:
        """How the dispatcher waits for a deadline (``time.sleep``)."""

    def open(self, lanes: int, body: Callable[["Request"], Any], recorder: "Recorder") -> None:
        """Create the lanes; nothing measured happens here."""

    def thread_init(self) -> None:
        """Called first on the dispatcher's thread (CUDA: make our device current there)."""

    def sched_reader(self) -> Callable[[], tuple[int, int, int]] | None:
        """Called on the dispatcher's thread: a reader of that thread's (ns on a CPU, ns waited,
        runnable, for one, times put on one) so far (-1s unknown), or None.  A backend whose lanes
        are Python threads offers one, so that a dispatch late while the bodies held the GIL (the
        code's, as a server's accept loop would wait) is told from one late for want of a CPU or
        in a frozen process (the machine's: ``timeline.frozen_ns``)."""

    def prime(self, request: "Request", timeout_s: float) -> None:
        """Run the body once per lane, untimed, before the clock starts (index -1)."""

    def tick(self, until_ns: int) -> None:
        """A chore the dispatcher allows when the next deadline is at least 1 ms away; it must
        return by ``until_ns`` (the CUDA backend takes clock anchors here)."""

    def submit(self, request: "Request") -> None:
        """Start one request without blocking the dispatcher.  For each request a backend owes
        the recorder ``open`` got: its lane (``request.lane`` and ``recorder.lane[i]``);
        ``recorder.start_ns[i]`` and ``end_ns[i]`` on ``clock``, the end after the start and the
        scheduled arrival (else the run ends in the project's error; -1 for a request that did
        not finish); ``recorder.record_error(i, exc)`` for a body that raised;
        ``recorder.complete_one()`` once it finished, raised or not (a forgotten call reads as
        every request timing out); ``pytest_gpuslo.recorder.set_current(request)`` around the
        body on the thread that runs it (``None`` after), so ``slo_stage`` and the frameworks'
        hooks find it; and no new work once ``recorder.abandoned`` is set.  ``backends/cpu.py``
        (threads) and ``backends/virtual.py`` (a simulation) are the short examples."""

    def wait(self, deadline_ns: int) -> None:
        """Return when every submitted request completed, or at ``deadline_ns`` (host clock)."""

    def close(self) -> None:
        """Release lanes; a lane stuck in a hung body is abandoned, never joined."""

    def describe(self) -> dict[str, Any]:
        """The machine fingerprint for reports and baselines."""

    def telemetry(self) -> dict[str, Any]:
        """What the machine did during the run; ``disturbances`` lists reasons it was not quiet."""

    def control(self) -> dict[str, list[float]]:
        """The machine control: fixed work timed, millisecond samples per key, taken before and
        after each run outside the schedule (``control.py``: a machine that moved since the
        baseline holds back a regression verdict it could explain)."""

    def launcher_wait(self) -> tuple[int, int] | None:
        """(ns the calling thread ran, ns it waited for a CPU) so far, or None: read on the
        dispatcher's thread where bodies run on it (``inline_body``)."""


class BaseBackend:
    """Defaults for the optional parts of ``Backend``.  A backend's constructor takes keyword
    options, ``nvtx: bool`` at least (NVTX ranges around requests, ``--gpuslo-nvtx``)."""

    name = ""
    spin_ns = 0
    inline_body = False
    submit_ns = 0
    tick_every_ns = 0
    clock = staticmethod(time.perf_counter_ns)
    sleep = staticmethod(time.sleep)

    def thread_init(self) -> None:
        return None

    def sched_reader(self) -> Callable[[], tuple[int, int, int]] | None:
        return None

    def tick(self, until_ns: int) -> None:
        return None

    def telemetry(self) -> dict[str, Any]:
        return {}

    def launcher_wait(self) -> tuple[int, int] | None:
        """(ns the calling thread ran on a CPU, ns it was runnable but waited for one) so far, or
        None where that is not known.  Read on the dispatcher's thread at the start and end of
        the dispatch: a backend whose bodies run on that thread needs to tell preemptions of the
        thread (the machine's) from a longer host time of the bodies (the code's)."""
        return thread_schedstat()

    def control(self) -> dict[str, list[float]]:
        from pytest_gpuslo.control import cpu_control

        return cpu_control()


def thread_schedstat() -> tuple[int, int] | None:
    """The calling thread's (ns on a CPU, ns waiting on a run queue) from Linux's
    ``/proc/thread-self/schedstat``; None elsewhere."""
    try:
        with open("/proc/thread-self/schedstat", encoding="ascii") as fh:
            ran, waited = fh.read().split()[:2]
        return int(ran), int(waited)
    except (OSError, ValueError):
        return None


class BackendModule(Protocol):
    """What a registered module provides besides its ``Backend`` class."""

    Backend: type
    #: buffers and copies for ``pipeline.Pipeline`` and ``slo_pinned`` (numpy on the CPU).
    DeviceOps: type

    def probe(self) -> str | None:
        """``None`` when the backend can run here, else the precise reason it cannot."""

    def hold(self, devices: int) -> ContextManager[None]:
        """Hold ``devices`` devices against other processes for one test; raises
        ``BackendUnavailable`` when this process cannot see that many."""

    def graph_replay(self, fn: Callable[[int], Any], lanes: int) -> Any:
        """``slo_graph``'s replay object: a captured graph per lane, or ``fn`` run as it is."""


def names() -> tuple[str, ...]:
    """Registered backend names, in ``auto``'s order of preference."""
    return tuple(REGISTRY)


def module(name: str) -> BackendModule:
    if name not in REGISTRY:
        raise InvalidArgument(f"unknown backend {name!r}; choose one of {', '.join((AUTO, *REGISTRY))}.")
    return cast(BackendModule, importlib.import_module(REGISTRY[name]))


def probe(name: str) -> str | None:
    """``None`` when backend ``name`` can run here, else the precise reason it cannot (a probe that
    raises is a reason too: a plugin's broken probe must not end a CPU run under ``auto``)."""
    mod = module(name)
    try:
        return mod.probe()
    except Exception as exc:  # noqa: BLE001 - said as the reason, the run goes on
        return f"its probe raised {type(exc).__name__}: {exc}"


def resolve_name(requested: str) -> str:
    """``auto`` becomes the first registered backend that can run here."""
    if requested != AUTO:
        return requested
    for name in REGISTRY:
        if probe(name) is None:
            return name
    return list(REGISTRY)[-1]


def load(name: str, **options: Any) -> Backend:
    """Instantiate backend ``name``; raises ``BackendUnavailable`` with the reason if it cannot run."""
    reason = probe(name)
    if reason is not None:
        raise BackendUnavailable(f"backend {name!r} is unavailable: {reason}")
    return cast(Backend, module(name).Backend(**options))


def device_ops(name: str) -> Any:
    """Buffers and copies on backend ``name`` (numpy on the CPU)."""
    return module(name).DeviceOps()


def hold(name: str, devices: int) -> ContextManager[None]:
    """Hold a test's devices (see ``BackendModule.hold``)."""
    return module(name).hold(devices)


def graph_replay(name: str, fn: Callable[[int], Any], lanes: int) -> Any:
    return module(name).graph_replay(fn, lanes)


def feature(what: str) -> Callable[..., Any]:
    """A backend-specific helper (``streams``, ``occupancy``) from the first registered backend
    that has it and can run here; ``BackendUnavailable`` says why none can."""
    having = [n for n in REGISTRY if hasattr(module(n), what)]
    reasons = []
    for name in having:
        reason = probe(name)
        if reason is None:
            return cast(Callable[..., Any], getattr(module(name), what))
        reasons.append(reason if len(having) == 1 else f"{name}: {reason}")
    if not having:
        raise BackendUnavailable(f"{what} is provided by no registered backend")
    raise BackendUnavailable(f"{what} needs the {' or '.join(n.upper() for n in having)} backend: "
                             f"{'; '.join(reasons)}")


def no_devices(name: str, devices: int) -> ContextManager[None]:
    """``hold`` for a backend with no devices to share: one device only, nothing to lock."""
    if devices > 1:
        raise BackendUnavailable(f"devices={devices} needs a GPU backend; the {name} backend has none")
    return contextlib.nullcontext()

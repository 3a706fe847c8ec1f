"""A backend in virtual time, for testing behaviour on a busy machine (not in the registry).

The dispatcher's clock only moves when it sleeps, and each request's service time is what its
body declares with ``work(seconds)`` (or ``default_service_s``), so a run is exact and
deterministic: an M/G/c FIFO queue (Kiefer-Wolfowitz: each request starts on the lane that frees
first) computed while the schedule is dispatched.  A test registers it with
``backends.REGISTRY["virtual"] = "pytest_gpuslo.backends.virtual"`` and marks
``backend="virtual"``; the plugin, the gate, baselines and reports then run for real on
latencies that no other process on the machine can disturb.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager as ContextManager
from typing import TYPE_CHECKING, Any

from pytest_gpuslo.backends import BaseBackend, no_devices

if TYPE_CHECKING:
    from pytest_gpuslo.recorder import Recorder, Request

#: Service time of a request whose body declares none.
default_service_s = 0.001
#: The machine control this virtual machine reports (ms): a test makes the machine "slower".
control_ms = 1.0
_pending = threading.local()


def work(seconds: float) -> None:
    """Declare ``seconds`` of service for the request whose body is running (adds up)."""
    _pending.seconds = getattr(_pending, "seconds", 0.0) + float(seconds)


def host(seconds: float) -> None:
    """Declare ``seconds`` the body keeps the dispatcher itself (adds up): the host-side work of a
    body on a backend that runs bodies on the dispatcher's thread (CUDA's launches).  The clock
    moves on by it after the body, so later requests go out late, as they would there."""
    _pending.host = getattr(_pending, "host", 0.0) + float(seconds)


def stall(seconds: float) -> None:
    """Declare a stall of the dispatcher's thread of ``seconds`` right after this body returns (a
    GC pause, a neighbour taking the CPU between bodies): later requests go out late, but unlike
    ``host`` it is not the body's own host time on a backend that runs bodies on that thread."""
    _pending.stall = getattr(_pending, "stall", 0.0) + float(seconds)


def probe() -> str | None:
    return None


def hold(devices: int) -> ContextManager[None]:
    return no_devices("virtual", devices)


def graph_replay(fn: Callable[[int], Any], lanes: int) -> Any:
    from pytest_gpuslo.backends.cpu import EagerReplay

    return EagerReplay(fn, lanes)


class DeviceOps:
    """No device: the CPU's numpy twin."""

    def __new__(cls) -> Any:  # noqa: D102 - the CPU's ops, under this backend's name
        from pytest_gpuslo.backends.cpu import DeviceOps as CpuOps

        return CpuOps()


class Backend(BaseBackend):
    """``lanes`` servers in virtual time; the body runs at dispatch, its declared work is queued."""

    name = "virtual"

    def __init__(self, start_ns: int = 10**12, nvtx: bool = False) -> None:
        self.now = start_ns
        #: a declared ``stall`` not yet taken, and the clock reads to let pass first (an inline
        #: backend's dispatcher stamps the body's return with the first one).
        self._stall_ns = 0
        self._stall_after = 0
        self._stall_thread = 0

    def clock(self) -> int:  # type: ignore[override]
        if self._stall_ns and threading.get_ident() == self._stall_thread:  # not the hang watcher's reads
            if self._stall_after:
                self._stall_after -= 1
            else:
                self.now += self._stall_ns
                self._stall_ns = 0
        return self.now

    def sleep(self, seconds: float) -> None:  # type: ignore[override]
        self.now += max(1, int(round(seconds * 1e9)))

    def open(self, lanes: int, body: Callable[["Request"], Any], recorder: "Recorder") -> None:
        self.rec, self.body = recorder, body
        self.free_at = [0] * lanes

    def prime(self, request: "Request", timeout_s: float) -> None:
        return None

    def _service_ns(self, req: "Request") -> tuple[int, BaseException | None]:
        _pending.seconds = _pending.host = _pending.stall = 0.0
        error = None
        try:
            self.body(req)
        except Exception as exc:  # noqa: BLE001 - kept as the request's error, like a real lane
            error = exc
        seconds = _pending.seconds or default_service_s
        _pending.seconds = 0.0
        self.now += int(round(getattr(_pending, "host", 0.0) * 1e9))
        _pending.host = 0.0
        self._stall_ns += int(round(getattr(_pending, "stall", 0.0) * 1e9))
        self._stall_after = 1 if self.inline_body else 0
        self._stall_thread = threading.get_ident()
        _pending.stall = 0.0
        # At least 1 ns: a latency of 0.0 ms (a service under 0.5 ns rounded away) has no logarithm,
        # and one such request switched a run's baseline comparisons off (the session-10 first check's F4).
        return max(1, int(round(seconds * 1e9))), error

    def submit(self, req: "Request") -> None:
        lane = min(range(len(self.free_at)), key=self.free_at.__getitem__)
        req._lane = lane
        sent = self.now  # the work is queued when the body starts; its host time comes after
        service, error = self._service_ns(req)
        start = max(sent, self.free_at[lane])
        self.free_at[lane] = start + service
        rec = self.rec
        rec.lane[req.index] = lane
        rec.start_ns[req.index], rec.end_ns[req.index] = start, start + service
        if error is not None:
            rec.record_error(req.index, error)
        rec.complete_one()

    def wait(self, deadline_ns: int) -> None:
        self.now = max(self.now, *self.free_at)

    def close(self) -> None:
        return None

    def describe(self) -> dict[str, Any]:
        return {"backend": "virtual", "cpu": "virtual time"}

    def launcher_wait(self) -> tuple[int, int] | None:
        """Virtual time: no thread of this machine is the launcher (behaviour tests must not
        depend on how busy the machine running them is)."""
        return None

    def control(self) -> dict[str, list[float]]:
        """The virtual machine's control (``control_ms``), not this host's CPU loop: behaviour
        tests must not depend on how busy the machine running them is."""
        return {"cpu_ms": [control_ms]}

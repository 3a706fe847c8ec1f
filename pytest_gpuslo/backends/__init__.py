"""Backends: where a request's body runs and how its completion is timed (layer 3 seam).

A backend owns lanes (worker threads on the CPU, CUDA streams on the GPU), runs each submitted
request on one of them and stamps its start and completion on the host's ``perf_counter_ns``
clock (the clock of the arrival schedule).  The concrete modules are imported lazily, so that
``import pytest_gpuslo`` and ``pytest --help`` never import CuPy.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from pytest_gpuslo.errors import BackendUnavailable, InvalidArgument

if TYPE_CHECKING:
    from pytest_gpuslo.measurement import Recorder, Request

#: backend name -> module path; the module exposes ``Backend`` and ``probe()``.
_MODULES = {"cpu": "pytest_gpuslo.backends.cpu", "cuda": "pytest_gpuslo.backends.cuda"}


class Backend(Protocol):
    """What the open-loop driver needs from a backend.

    Optional, looked up with ``getattr``: ``inline_body = True`` when ``submit`` runs the body on
    the dispatcher's own thread (the driver then watches that thread for a body that never
    returns); ``thread_init()``, called first on that thread; ``tick(until_ns)``, a chore the
    dispatcher lets the backend do when the next deadline is at least 1 ms away, which must return
    by ``until_ns`` (the CUDA backend takes clock anchors there).
    """

    #: "cpu" or "cuda".
    name: str
    #: The dispatcher sleeps until this close to a deadline, then spins (0: sleep only).  A spin
    #: holds the GIL, so a backend whose lanes are Python threads must not spin.
    spin_ns: int

    def open(self, lanes: int, body: Callable[["Request"], Any], recorder: "Recorder") -> None:
        """Create the lanes; nothing measured happens here."""

    def prime(self, request: "Request", timeout_s: float) -> None:
        """Run the body once per lane, untimed, before the clock starts (index -1)."""

    def submit(self, request: "Request") -> None:
        """Start one request without blocking the dispatcher."""

    def wait(self, deadline_ns: int) -> None:
        """Return when every submitted request completed, or at ``deadline_ns`` (host clock)."""

    def close(self) -> None:
        """Release lanes; a lane stuck in a hung body is abandoned, never joined."""

    def describe(self) -> dict[str, Any]:
        """The machine fingerprint for reports and baselines."""


def probe(name: str) -> str | None:
    """``None`` when backend ``name`` can run here, else the precise reason it cannot."""
    if name not in _MODULES:
        raise InvalidArgument(f"unknown backend {name!r}; choose one of {', '.join(_MODULES)}.")
    module = importlib.import_module(_MODULES[name])
    reason: str | None = module.probe()
    return reason


def resolve_name(requested: str) -> str:
    """``auto`` becomes ``cuda`` when a GPU is usable, else ``cpu``."""
    if requested == "auto":
        return "cuda" if probe("cuda") is None else "cpu"
    return requested


def device_ops(name: str) -> Any:
    """Buffers and copies for ``pipeline.Pipeline`` on backend ``name`` (numpy on the CPU)."""
    module = importlib.import_module(_MODULES[name])
    return module.DeviceOps()


def load(name: str, **options: Any) -> Backend:
    """Instantiate backend ``name``; raises ``BackendUnavailable`` with the reason if it cannot run."""
    reason = probe(name)
    if reason is not None:
        raise BackendUnavailable(f"backend {name!r} is unavailable: {reason}")
    module = importlib.import_module(_MODULES[name])
    backend: Backend = module.Backend(**options)
    return backend

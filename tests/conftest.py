"""Shared fixtures for the suite (map of the suite: tests/README.md)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

# In-process pytester runs restore sys.modules afterwards; numpy and scipy cannot be imported twice
# in one process, so load them (and the modules that use them) once here, before any inner run.
import numpy  # noqa: F401
import pytest
import scipy.special  # noqa: F401
import scipy.stats  # noqa: F401

import pytest_gpuslo.backends.cpu  # noqa: F401
import pytest_gpuslo.measurement  # noqa: F401
import pytest_gpuslo.reports.terminal  # noqa: F401
import pytest_gpuslo.runner  # noqa: F401


@pytest.fixture(autouse=True)
def _not_in_a_workflow_step(monkeypatch: pytest.MonkeyPatch) -> None:
    """The suite run by a GitHub Actions job: its inner runs write no step summary and print no
    annotations (tests that want them set these themselves)."""
    for name in ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "GPUSLO_GITHUB_ANNOTATIONS"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def gputester(pytester: pytest.Pytester) -> pytest.Pytester:
    """A pytester whose ini selects the CPU backend and classic output, so runs are comparable."""
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider\ngpuslo_backend = cpu\n")
    return pytester


@pytest.fixture
def simtester(pytester: pytest.Pytester) -> pytest.Pytester:
    """A pytester whose SLO tests run on the virtual-time backend (``backends/virtual.py``):
    latencies are exact whatever else the machine is doing, so behaviour tests never flake.
    A body declares its service time with ``work(seconds)`` (default 1 ms)."""
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider\ngpuslo_backend = virtual\n")
    pytester.makeconftest("from pytest_gpuslo import backends\n"
                          "backends.REGISTRY.setdefault('virtual', 'pytest_gpuslo.backends.virtual')\n")
    return pytester


@pytest.fixture
def held_elsewhere() -> Callable[..., Any]:
    """``with held_elsewhere(take, release_after_s) as released:`` a thread holds a lane (``take()``
    returns the holding context, as another pytest's test would) from the start of the block
    until ``release_after_s`` later; ``released`` is set once it let go."""

    @contextlib.contextmanager
    def hold(take: Callable[[], Any], release_after_s: float) -> Iterator[threading.Event]:
        held, release = threading.Event(), threading.Event()

        def holder() -> None:
            with take():
                held.set()
                release.wait(30)

        t = threading.Thread(target=holder)
        t.start()
        timer = threading.Timer(release_after_s, release.set)
        try:
            held.wait(10)
            timer.start()
            yield release
        finally:
            timer.cancel()  # a long release_after_s must not keep the process alive at exit
            release.set()
            t.join()

    return hold

"""The CUDA launcher's hot path on a stand-in CuPy (``benchmarks/launch_overhead.fake_cupy``: its
runtime calls are C builtins), so its bookkeeping is tested without a GPU."""

from __future__ import annotations

import importlib.util
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pytest_gpuslo.errors import WorkloadError
from pytest_gpuslo.measurement import run_open_loop
from pytest_gpuslo.recorder import INLINE, Request, current_request


def _stand_in() -> Any:
    """``fake_cupy`` from the benchmark, loaded from its file (sys.path is left alone: a repository
    root on it broke nested pytest runs' assertion rewriting for the rest of the suite)."""
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "launch_overhead.py"
    spec = importlib.util.spec_from_file_location("gpuslo_launch_overhead", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.fake_cupy()


@pytest.fixture
def cuda(monkeypatch: pytest.MonkeyPatch) -> Any:
    from pytest_gpuslo.backends import cuda as module

    monkeypatch.setitem(sys.modules, "cupy", _stand_in())
    monkeypatch.setattr(module, "_stream_pool", [])
    yield module
    INLINE[:] = [None, None]


def _run(cuda: Any, body: Any, n: int, timeout_s: float = 5.0) -> Any:
    backend = cuda.Backend(telemetry=False, escape_checks=False)
    backend.describe = lambda: {}
    schedule = (np.arange(n) * 100_000).astype(np.int64)  # 10,000/s
    return run_open_loop(schedule, backend, body, lanes=4, timeout_s=timeout_s, prime=False)


def test_every_body_sees_its_own_request_as_current(cuda: Any) -> None:
    wrong: list[int] = []

    def body(req: Request) -> None:
        if current_request() is not req:
            wrong.append(req.index)
    _run(cuda, body, 200)

    assert wrong == [] and current_request() is None and INLINE == [None, None]


def test_a_hung_body_that_returns_late_leaves_a_later_run_s_current_request_alone(cuda: Any) -> None:
    """A body given up on after timeout_s keeps its thread; when it returns during the next run,
    it must not clear that run's current request (slo_pinned would then allocate afresh)."""
    release = threading.Event()

    def hung(req: Request) -> None:
        if req.index == 3:
            release.wait(30)
    with pytest.raises(WorkloadError, match="blocked the launching thread"):
        _run(cuda, hung, 20, timeout_s=0.3)

    lost: list[int] = []

    def body(req: Request) -> None:
        if req.index == 5:
            release.set()
            time.sleep(0.05)  # the old thread returns from its body now
        if current_request() is not req:
            lost.append(req.index)
    _run(cuda, body, 20)

    assert lost == []

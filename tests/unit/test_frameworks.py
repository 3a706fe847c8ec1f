"""Every framework on the lane's stream, or an honest fallback: the logic, with stand-ins for CuPy,
PyTorch and JAX (the real ones are exercised in tests/gpu on the GPU machine)."""

from __future__ import annotations

import sys
import types
from typing import Any

import numpy as np
import pytest

from pytest_gpuslo import gate
from pytest_gpuslo.backends import cuda, cuda_sync, nvml
from pytest_gpuslo.spec import resolve


class FakeStream:
    def __init__(self, ptr: int, log: list[str]) -> None:
        self.ptr, self.log = ptr, log

    def use(self) -> None:
        self.log.append(f"cupy {self.ptr}")

    def __enter__(self) -> FakeStream:
        self.log.append(f"enter cupy {self.ptr}")
        return self

    def __exit__(self, *exc: object) -> None:
        self.log.append(f"exit cupy {self.ptr}")


def fake_torch(log: list[str], available: bool = True) -> types.ModuleType:
    torch = types.ModuleType("torch")

    class ExternalStream:
        def __init__(self, ptr: int, device: Any = None) -> None:
            self.ptr = ptr

    class StreamCtx:
        def __init__(self, s: ExternalStream) -> None:
            self.s = s

        def __enter__(self) -> None:
            log.append(f"enter torch {self.s.ptr}")

        def __exit__(self, *exc: object) -> None:
            log.append(f"exit torch {self.s.ptr}")

    torch.cuda = types.SimpleNamespace(  # type: ignore[attr-defined]
        is_available=lambda: available, ExternalStream=ExternalStream,
        set_stream=lambda s: log.append(f"torch {s.ptr}"), stream=StreamCtx)
    torch.device = lambda kind, index: (kind, index)  # type: ignore[attr-defined]
    return torch


def test_without_torch_imported_only_cupy_is_switched(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "torch", raising=False)
    log: list[str] = []
    lanes = cuda.LaneStreams([FakeStream(11, log), FakeStream(22, log)], 0)
    lanes.use(1)

    assert log == ["cupy 22"] and lanes.frameworks == ["cupy"]
    assert "torch" not in sys.modules  # looked for, never imported


def test_with_torch_imported_the_lane_stream_is_current_for_both(monkeypatch: pytest.MonkeyPatch) -> None:
    log: list[str] = []
    monkeypatch.setitem(sys.modules, "torch", fake_torch(log))
    lanes = cuda.LaneStreams([FakeStream(11, log), FakeStream(22, log)], 0)
    lanes.use(0)
    with lanes.entered(1):
        log.append("body")

    assert log == ["cupy 11", "torch 11", "enter cupy 22", "enter torch 22", "body", "exit torch 22",
                   "exit cupy 22"]
    assert lanes.frameworks == ["cupy", "torch"]


def test_torch_imported_by_the_first_body_call_is_picked_up(monkeypatch: pytest.MonkeyPatch) -> None:
    """Priming runs the body before the clock starts; a body that imports torch lazily is seen."""
    monkeypatch.delitem(sys.modules, "torch", raising=False)
    log: list[str] = []
    lanes = cuda.LaneStreams([FakeStream(11, log)], 0)
    monkeypatch.setitem(sys.modules, "torch", fake_torch(log))
    lanes.refresh(0)
    lanes.use(0)

    assert log == ["cupy 11", "torch 11"]


def test_a_cpu_build_of_torch_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    log: list[str] = []
    monkeypatch.setitem(sys.modules, "torch", fake_torch(log, available=False))
    lanes = cuda.LaneStreams([FakeStream(11, log)], 0)
    lanes.use(0)

    assert log == ["cupy 11"]


def test_sync_mode_waits_for_jax_results_through_jax(monkeypatch: pytest.MonkeyPatch) -> None:
    waited: list[object] = []
    jax = types.ModuleType("jax")
    jax.block_until_ready = waited.append  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "jax", jax)
    tree = {"a": 1}
    cuda_sync.wait_for(tree)
    cuda_sync.wait_for(None)

    assert waited == [tree]


def test_sync_mode_waits_for_a_value_that_can_block(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "jax", raising=False)
    value = types.SimpleNamespace(waited=False)
    value.block_until_ready = lambda: setattr(value, "waited", True)
    cuda_sync.wait_for(value)

    assert value.waited


def test_escaped_work_makes_every_latency_claim_inconclusive_and_the_run_unsaveable() -> None:
    spec = resolve({"rate_hz": 100, "p95_ms": 50}, nodeid="t::x")
    lat = np.random.default_rng(1).lognormal(0, 0.2, 4000)
    m = gate.Measurements(lat, np.zeros(lat.size), escapes=("while priming lane 0, GPU work ran on",))
    v = gate.decide(spec, m, gate.Policy(allow_disturbances=True))

    assert v.outcome == "INCONCLUSIVE" and "escaped" in v.conditions
    assert "backend='cuda-sync'" in v.reasons[0] and "escaped the request's stream" in v.reasons[0]
    assert gate.save_refusal(v, 0, 0) == "GPU work escaped the request's stream"
    assert gate.decide(spec, gate.Measurements(lat, np.zeros(lat.size))).outcome == "PASS"


def _sample(reasons: int, sm: float = 1980.0) -> dict[str, Any]:
    return {"t_ns": 0, "sm_mhz": sm, "reasons": reasons, "temp_c": 60, "power_w": 690.0}


def test_a_software_power_cap_is_the_workloads_own_and_thermal_slowdown_is_a_disturbance() -> None:
    capped = nvml.summarize([_sample(0x4, 1980.0), _sample(0x4, 1605.0)], [])
    hot = nvml.summarize([_sample(0x0), _sample(0x20)], [])
    shared = nvml.summarize([_sample(0x0)], [4242])

    assert capped["disturbances"] == [] and capped["power_capped"]
    assert capped["sm_mhz"]["min"] == 1605.0 and capped["power_w"]["max"] == 690.0
    assert hot["disturbances"] == ["GPU clocks were throttled during the run: sw_thermal_slowdown"]
    assert "other processes used the GPU" in shared["disturbances"][0]


def test_priming_checks_three_times_for_escaped_work_even_on_one_or_two_lanes() -> None:
    """The median of three checks decides, so one late helper cannot hide an escape on two lanes."""
    assert cuda.priming_order(2, True) == [0, 1, 0]
    assert cuda.priming_order(1, True) == [0, 0, 0]
    assert cuda.priming_order(4, True) == [0, 1, 2, 3]
    assert cuda.priming_order(2, False) == [0, 1]


@pytest.mark.parametrize(("began", "returned", "lane_done", "late_us", "why"), [
    (100, 400, 50, 330, "the helper found the device busy after the lane's end: work outlived it"),
    (100, 125, 50, 5, "the helper woke late to an idle device: its wake-up is not an escape"),
    (10, 300, 50, 270, "the helper began before the lane's end: only its own excess counts"),
    (100, 160, 50, 40, "a slow call under the slack proves nothing about when the device was busy"),
])
def test_priming_escape_lateness_can_hide_a_short_escape_but_never_invent_one(
        began: int, returned: int, lane_done: int, late_us: int, why: str) -> None:
    """Stamps in us; an idle device answers in 20 us (the calibrated round trip)."""
    us = 1_000
    assert cuda.escape_lateness(began * us, returned * us, lane_done * us, 20 * us) == late_us * us, why

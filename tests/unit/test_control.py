"""The machine control (control.py): its reading, and when it says the machine moved."""

from __future__ import annotations

import math

import pytest

from pytest_gpuslo import control


def test_a_reading_is_the_cpu_loop_timed_and_combine_takes_the_median_of_before_and_after() -> None:
    reading = control.cpu_control()

    assert list(reading) == ["cpu_ms"] and len(reading["cpu_ms"]) == control.REPS
    assert all(v > 0 for v in reading["cpu_ms"])
    both = control.combine({"cpu_ms": [1.0, 9.0, 2.0]}, {"cpu_ms": [3.0, 2.5], "gpu_ms": [0.2]})
    assert both == {"cpu_ms": 2.5, "gpu_ms": 0.2}
    assert control.combine({"cpu_ms": [math.nan, -1.0]}) == {}


def test_time_ms_uses_the_clock_it_is_given() -> None:
    ticks = iter(range(0, 10**9, 2_000_000))
    assert control.time_ms(lambda: None, reps=3, clock=lambda: next(ticks), warm_ns=0) == [2.0, 2.0, 2.0]
    calls: list[int] = []
    ticks = iter(range(0, 10**9, 2_000_000))
    control.time_ms(lambda: calls.append(1), reps=3, clock=lambda: next(ticks), warm_ns=10_000_000)
    assert len(calls) == 1 + 4 + 3  # warmed until 10 ms of the fake clock had passed


STORED = [{"cpu_ms": v} for v in (2.00, 2.02, 1.98, 2.01, 1.99)]


@pytest.mark.parametrize(("cand", "outside", "explains_regressed", "explains_improved"), [
    (2.00, False, False, False),   # the same machine
    (2.03, False, False, False),   # within the stored spread (t_4 PI about +-3%)
    (2.20, True, True, False),     # 10% slower: a REGRESSED could be the machine's
    (1.80, True, False, True),     # 10% faster: an IMPROVED could be
])
def test_a_control_outside_the_stored_spread_explains_only_the_verdict_it_points_to(
        cand: float, outside: bool, explains_regressed: bool, explains_improved: bool) -> None:
    shifts = control.machine_shift({"cpu_ms": cand}, STORED)

    assert [s.outside for s in shifts] == [outside]
    assert (control.explains(shifts, "REGRESSED") is not None) == explains_regressed
    assert (control.explains(shifts, "IMPROVED") is not None) == explains_improved
    assert control.explains(shifts, "OK") is None


def test_identical_stored_controls_do_not_make_every_reading_a_move() -> None:
    same = [{"cpu_ms": 2.0}] * 4

    assert control.machine_shift({"cpu_ms": 2.002}, same)[0].outside is False
    assert control.machine_shift({"cpu_ms": 2.1}, same)[0].outside is True


def test_one_broken_stored_reading_does_not_switch_the_hold_back_off() -> None:
    wild = [*STORED, {"cpu_ms": 1e9}]

    shifts = control.machine_shift({"cpu_ms": 2.20}, wild)
    assert shifts[0].runs == len(STORED) and shifts[0].outside is True
    assert control.explains(shifts, "REGRESSED") is not None
    # The store holds one run more than the count: the words say where it went (review32).
    assert shifts[0].words.endswith(f"than the mean of {len(STORED)} stored runs (1 more left out: its reading lay "
                                    f"over 2x from the others' median)")


def test_fewer_than_three_stored_controls_show_the_shift_but_cannot_judge_it() -> None:
    shifts = control.machine_shift({"cpu_ms": 2.4, "gpu_ms": 0.2}, [{"cpu_ms": 2.0}, None])

    assert [(s.key, round(s.ratio, 3), s.runs, s.outside) for s in shifts] == [("cpu_ms", 1.2, 1, None)]
    assert control.explains(shifts, "REGRESSED") is None
    assert control.summary(shifts) == "CPU loop 20.0% slower than in the stored run"


def test_runs_stored_before_the_control_existed_or_a_run_without_one_give_nothing() -> None:
    assert control.machine_shift(None, STORED) == []
    assert control.machine_shift({"cpu_ms": 2.0}, [None, None, None]) == []
    assert control.summary(control.machine_shift({"cpu_ms": 2.001}, STORED)) == ""


def test_a_machine_whose_speed_drifts_between_runs_is_named_in_the_evidence() -> None:
    drifting = [{"cpu_ms": v} for v in (1.0, 1.3, 0.8, 1.1)]
    shifts = control.machine_shift({"cpu_ms": 1.0}, drifting)

    assert shifts[0].outside is False and shifts[0].spread > 0.15
    assert "this machine's speed drifts: the stored runs' CPU loop readings spread by" in control.summary(shifts)
    assert "drifts" not in control.summary(control.machine_shift({"cpu_ms": 2.0}, STORED))


def test_on_a_gpu_run_the_gpu_kernel_decides_and_the_cpu_loop_is_only_shown() -> None:
    """Measured on an H200 host: the CPU loop read 29% slower than five stored runs while the GPU
    kernel was unchanged, and that held back a real 2% kernel slowdown."""
    stored = [{"cpu_ms": c, "gpu_ms": 0.2270} for c in (0.545, 0.520, 0.485, 0.511, 0.495)]
    cpu_moved = control.machine_shift({"cpu_ms": 0.658, "gpu_ms": 0.2271}, stored)
    gpu_moved = control.machine_shift({"cpu_ms": 0.51, "gpu_ms": 0.2340}, stored)

    assert control.explains(cpu_moved, "REGRESSED") is None
    assert "(not the deciding control here)" in control.summary(cpu_moved)
    moved = control.explains(gpu_moved, "REGRESSED")
    assert moved is not None and moved.key == "gpu_ms"
    assert control.deciding([]) is None

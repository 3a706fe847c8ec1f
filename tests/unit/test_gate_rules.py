"""The rules around ``decide``, each tested without pytest: what a stored baseline contributes,
the sequential looks' alpha, whether a run may become a baseline, and the suite-wide Holm step."""

from __future__ import annotations

import numpy as np
import pytest

from pytest_gpuslo import gate
from pytest_gpuslo.spec import resolve


def _spec(**kw: object) -> gate.SloSpec:
    return resolve({"rate_hz": 100, "p95_ms": 50, **kw}, nodeid="t::x")


def _runs(count: int, spread: float, n: int = 4000) -> list[np.ndarray]:
    rng = np.random.default_rng(3)
    return [rng.lognormal(0, 0.3, n) * np.exp(rng.normal(0, spread)) for _ in range(count)]


def test_sigma_run_is_a_default_below_three_runs_and_estimated_from_three() -> None:
    few = gate.sigma_run(_runs(2, 0.05), 0.95, paired=True)
    many = gate.sigma_run(_runs(8, 0.05), 0.95, paired=True)

    assert few == (gate.SIGMA_DEFAULT_PAIRED, "default for a replayed schedule (fewer than 3 stored runs)")
    assert gate.sigma_run(_runs(2, 0.05), 0.95, paired=False)[0] == gate.SIGMA_DEFAULT_UNPAIRED
    assert many[1] == "90% upper limit from 8 runs" and many[0] > 0.03


def test_an_estimated_sigma_never_drops_below_its_floor() -> None:
    same = [np.full(4000, 1.0)] * 5  # identical runs: a spread of zero

    assert gate.sigma_run(same, 0.95, paired=True)[0] == gate.SIGMA_FLOOR_PAIRED
    assert gate.sigma_run(same, 0.95, paired=False)[0] == gate.SIGMA_FLOOR_UNPAIRED


def test_baseline_input_compares_the_latest_run_and_estimates_sigma_from_all() -> None:
    runs = _runs(4, 0.05, n=30_000)  # enough for 8 sectioning batches at p99
    spec = _spec(p99_ms=80)
    b = gate.baseline_input(runs, spec, paired=True, differing=("gpu",), where="f.json", date="d", commit="c")

    assert np.array_equal(b.latency_ms, runs[-1])
    assert (b.paired, b.differing, b.where, b.date, b.commit) == (True, ("gpu",), "f.json", "d", "c")
    # sigma_run is estimated at the tightest budgeted percentile (p99 here)
    assert b.sigma_run == gate.sigma_run(runs, 0.99, paired=True)[0] != gate.sigma_run(runs, 0.95, paired=True)[0]
    assert b.sigma_source == "90% upper limit from 4 runs"


def test_one_look_without_max_duration_and_alpha_split_over_three_with_it() -> None:
    schedule = np.arange(1000, dtype=np.int64) * 1_000_000
    policy = gate.Policy(alpha=0.03)

    assert gate.look_plan(_spec(requests=950), schedule, 50, policy) == ([1000], policy)
    looks, each = gate.look_plan(_spec(max_duration_s=1.0), schedule, 50, policy)
    assert looks == [288, 525, 1000] and each.alpha == pytest.approx(0.01)


@pytest.mark.parametrize(("conditions", "failed", "timed_out", "why"), [
    ((), 0, 0, ""),
    (("generator_late",), 0, 0, "the load generator fell behind"),
    (("disturbed",), 0, 0, "the GPU was disturbed during the run"),
    (("nonstationary",), 0, 0, "the run was not stationary"),
    ((), 1, 0, "requests failed or timed out"),
    ((), 0, 3, "requests failed or timed out"),
])
def test_a_run_may_be_saved_only_when_it_represents_the_workload(
        conditions: tuple[str, ...], failed: int, timed_out: int, why: str) -> None:
    verdict = gate.Verdict("PASS", conditions=conditions)
    assert gate.save_refusal(verdict, failed, timed_out) == why
    assert gate.save_refusal(None, 0, 0) == "no verdict"


def test_decisive_needs_every_claim_settled() -> None:
    ok = gate.BaselineCheck("p95 vs baseline", "OK", "")
    open_ = gate.BaselineCheck("p95 vs baseline", "INCONCLUSIVE", "")

    assert gate.decisive(gate.Verdict("PASS", baseline=(ok,)))
    assert not gate.decisive(gate.Verdict("PASS", baseline=(open_,)))
    assert not gate.decisive(gate.Verdict("INCONCLUSIVE"))


def test_suite_holm_adjusts_every_blocking_claim_of_the_session() -> None:
    summaries = [
        {"nodeid": "a", "verdict": {"checks": [{"name": "p95<=5ms", "p_fail": 0.01}],
                                    "baseline": [{"name": "p95 vs baseline", "p_regress": 0.04}]}},
        {"nodeid": "b", "verdict": {"checks": [{"name": "p99<=9ms", "p_fail": 0.03},
                                               {"name": "throughput>=1/s"}]}},
        {"nodeid": "c", "verdict": None},
    ]
    assert gate.suite_holm(summaries) == pytest.approx(
        {"a p95<=5ms": 0.03, "a p95 vs baseline": 0.06, "b p99<=9ms": 0.06})

"""Report rendering against golden files, and the regression test's statistics."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pytest_gpuslo import reports, stats

GOLDEN = Path(__file__).parent / "golden"

SUMMARY = {
    "nodeid": "tests/test_svc.py::test_score",
    "spec": {"budgets_ms": {"p95": 25.0, "p99": 40.0}, "streams": 4, "seed": 7, "throughput_hz": None},
    "n": 4000, "warmup": 200, "latency_ms": {"p50": 1.5, "p95": 3.25, "p99": 5.5},
    "verdict": {"outcome": "FAIL", "reasons": ["p95 vs baseline: REGRESSED: p95 is +12.0%"],
                "checks": [{"name": "p95<=25ms", "outcome": "PASS", "headroom": 6.1, "detail": ""}],
                "baseline": [{"name": "p95 vs baseline", "outcome": "REGRESSED", "ratio": 1.12,
                              "ci": [1.08, 1.16], "detail": "", "reason": ""}]},
}
OK = {**SUMMARY, "nodeid": "tests/test_svc.py::test_tokenize",
      "verdict": {"outcome": "PASS", "reasons": [], "checks": [], "baseline": []}}


def test_markdown_matches_golden() -> None:
    """Failures first, budgets, tails, headroom and the change with its interval."""
    assert (GOLDEN / "summary.md").read_text() == reports.markdown([OK, SUMMARY])


def test_paired_replay_is_tighter_than_unpaired() -> None:
    """Same bursty arrivals, near-deterministic service: the paired test decides (OK, able to see
    4%) where the unpaired one cannot (design effects near 80 leave it INCONCLUSIVE)."""
    rng = np.random.default_rng(0)
    n = 20000
    gaps = rng.gamma(0.25, 4.0 / 0.7, n)  # bursty arrivals (cv = 2), utilisation 0.7

    def queue(service_scale: float, seed: int) -> np.ndarray:
        s = service_scale * np.random.default_rng(seed).lognormal(0, 0.05, n)
        w = np.zeros(n)
        for i in range(1, n):
            w[i] = max(0.0, w[i - 1] + s[i - 1] - gaps[i])
        return w + s

    a, b = queue(1.0, 1), queue(1.0, 2)
    paired = stats.regression_test(a, b, 0.95, paired=True)
    unpaired = stats.regression_test(a, b, 0.95, paired=False)

    assert ("OK", "INCONCLUSIVE") == (paired.outcome, unpaired.outcome)
    assert paired.mde < 0.05
    assert "REGRESSED" == stats.regression_test(a, queue(1.05, 3), 0.95, paired=True).outcome


def test_holm_matches_hand_computation() -> None:
    """Step-down adjusted p-values, monotone in the order of the raw ones."""
    assert [0.04, 0.09, 0.09, 0.5] == pytest.approx(stats.holm([0.01, 0.04, 0.03, 0.5]))


def test_overloaded_run_is_not_stationary() -> None:
    """A queue that grows through the run drifts between its halves."""
    x = np.linspace(1, 50, 4000) + np.random.default_rng(0).random(4000)
    drifted, ratio, _ = stats.stationarity(x, 0.95)

    assert drifted and ratio > 1.5


def test_paired_runs_of_different_length_pair_on_their_common_prefix() -> None:
    """A baseline that stopped at an earlier look still pairs with a longer candidate."""
    rng = np.random.default_rng(1)
    x = rng.lognormal(0, 0.2, 20000)
    r = stats.regression_test(x, x[:12000] * 1.001, 0.95, paired=True)

    assert (12000, 12000) == (r.n_base, r.n_cand)
    assert r.paired and "OK" == r.outcome


def test_a_failure_names_the_stage_that_holds_the_tail() -> None:
    """The red test's message carries the per-stage table and points at the largest p95."""
    from pytest_gpuslo import report

    summary = {**SUMMARY, "lag_ms": {"p99": 0.2}, "offered_hz": 100.0, "throughput_hz": 99.0,
               "backend": "cpu", "stages": {
                   "admission": {"n": 4000, "p50_ms": 0.1, "p95_ms": 0.4, "mean_ms": 0.2},
                   "normalise.queue": {"n": 4000, "p50_ms": 9.0, "p95_ms": 31.0, "mean_ms": 12.0},
                   "model.service": {"n": 4000, "p50_ms": 4.2, "p95_ms": 4.9, "mean_ms": 4.3}}}

    lines = report.failure_message(summary).splitlines()

    tail = [ln for ln in lines if "holds the tail" in ln]
    assert 1 == len(tail) and "normalise.queue" in tail[0] and "p95 31 ms" in tail[0]
    assert any(ln.strip().startswith("stage admission") for ln in lines)


def test_a_backlog_before_the_service_blames_the_stage_the_lanes_are_stuck_in() -> None:
    """Admission larger than any stage is the symptom; the culprit is the largest stage inside."""
    from pytest_gpuslo import report

    lines = report.stage_lines({"admission": {"n": 9, "p50_ms": 900.0, "p95_ms": 2600.0},
                                "normalise.queue": {"n": 9, "p50_ms": 120.0, "p95_ms": 160.0},
                                "model.service": {"n": 9, "p50_ms": 20.0, "p95_ms": 28.0}})

    assert "holds the tail" in lines[1] and "every lane busy" in lines[0]
    assert not any("<-" in ln for ln in lines[2:])

"""The regression test, stationarity and Holm: paired and unpaired comparisons of two runs."""

from __future__ import annotations

import numpy as np
import pytest

from pytest_gpuslo import stats


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

"""The regression test, stationarity and Holm: paired and unpaired comparisons of two runs."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from pytest_gpuslo import gate, stats


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


def test_services_with_a_gap_at_the_quantile_are_stationary() -> None:
    """i.i.d. services 95% 1 ms, 5% 20 ms: each half's pooled p95 sits in the gap and jumps
    between the modes (review62: "drifted" in half of runs of 10,000); a real step still shows."""
    rng = np.random.default_rng(3)
    runs = [np.where(rng.random(10_000) < 0.05, 20.0, 1.0) * rng.lognormal(0, 1e-4, 10_000) for _ in range(12)]

    assert not any(stats.stationarity(x, 0.95)[0] for x in runs)
    stepped = runs[0].copy()
    stepped[5_000:] *= 1.5
    assert stats.stationarity(stepped, 0.5)[0]


def test_paired_runs_of_different_length_pair_on_their_common_prefix() -> None:
    """A baseline that stopped at an earlier look still pairs with a longer candidate."""
    rng = np.random.default_rng(1)
    x = rng.lognormal(0, 0.2, 20000)
    r = stats.regression_test(x, x[:12000] * 1.001, 0.95, paired=True)

    assert (12000, 12000) == (r.n_base, r.n_cand)
    assert r.paired and "OK" == r.outcome


def _runs_at(levels: list[float], seed: int = 7) -> list[np.ndarray]:
    """One latency shape (a fixed draw) scaled to each level: run_statistic moves by ln(level)."""
    shape = np.random.default_rng(seed).lognormal(0.0, 0.5, 4000)
    return [shape * lv for lv in levels]


def _saturating(f: float, rho: float = 0.93) -> float:
    """A queue near saturation: its p95 goes as 1 / (1 - rho f) in the machine's slowness f."""
    return 1.0 / (1.0 - rho * f)


def test_prediction_interval_absorbs_a_slow_day_near_saturation() -> None:
    # Eight stored days with machine factors spread evenly over -1.5..+1.3% (sd 1%) and a ninth
    # 3.3% slow: within what eight such days allow at alpha 0.005, so no regression; but the p95
    # moves 1.8x, which the log-scale interval (the rule before) called REGRESSED.
    days = [0.985, 0.989, 0.993, 0.997, 1.001, 1.005, 1.009, 1.013]
    stored = _runs_at([_saturating(f) for f in days])
    cand = _runs_at([_saturating(1.033)])[0]
    t = stats.prediction_test(stored, cand, 0.95, alpha=0.005)
    ts = np.array([stats.run_statistic(x, 0.95) for x in stored])
    theta = stats.run_statistic(cand, 0.95) - ts.mean()
    log_scale_lower = theta - 3.5 * ts.std(ddof=1) * np.sqrt(1 + 1 / 8)  # t(7) at 0.005 is 3.50
    assert log_scale_lower > np.log(1.02), "the case must be one the log scale got wrong"
    assert t.outcome != "REGRESSED", t.reason
    # ... and a real regression of the same queue (its work 5% larger: p95 3x) is caught.
    slower = _runs_at([_saturating(1.05)])[0]
    assert stats.prediction_test(stored, slower, 0.95, alpha=0.005).outcome == "REGRESSED"


def test_prediction_interval_reads_the_same_in_any_unit() -> None:
    stored = _runs_at([1.0, 1.03, 0.98, 1.01, 0.99])
    cand = _runs_at([1.2])[0]
    a = stats.prediction_test(stored, cand, 0.95, alpha=0.005)
    b = stats.prediction_test([x * 1e6 for x in stored], cand * 1e6, 0.95, alpha=0.005)
    assert a.outcome == b.outcome == "REGRESSED"
    assert a.ratio == pytest.approx(b.ratio) and a.ci_low == pytest.approx(b.ci_low)
    assert a.ci_low < a.ratio < a.ci_high
    # the ratio: the candidate against the stored level, 1 / mean(1/q)
    assert a.ratio == pytest.approx(1.2 * np.mean([1 / v for v in (1.0, 1.03, 0.98, 1.01, 0.99)]), rel=1e-9)


def test_prediction_interval_says_when_the_stored_runs_cannot_show_any_change() -> None:
    # stored runs spread so widely that 1/q could reach zero inside the interval
    stored = _runs_at([1.0, 4.0, 0.6, 9.0])
    t = stats.prediction_test(stored, _runs_at([40.0])[0], 0.95, alpha=0.005)
    assert t.outcome == "INCONCLUSIVE"
    assert "cannot detect even a 10x change" in t.reason
    # review69: a 40x change was "within the noise"; where no change can be judged, it says that
    assert t.reason.startswith("the change +") and "cannot be judged; cannot detect" in t.reason
    assert "cannot yet be told from no change" not in t.reason and t.ci_low == 0.0
    # ... and the verdict line prints the lower end of 0 as no bound, not "the ratio could be 0"
    line = gate._check("p95", t, "prediction interval").detail
    assert "[no lower bound, " in line and "[0.000" not in line
    # review82: an upper end past 11x is "over 11", an infinite one "no upper bound"
    assert "[no lower bound, over 11]" in gate._check("p95", replace(t, ci_high=5.5e5), "x").detail
    assert "no upper bound]" in gate._check("p95", replace(t, ci_high=math.inf), "x").detail


def test_three_stored_runs_too_few_to_decide_say_it_is_the_degrees_of_freedom() -> None:
    """The session-12 check: three stored runs whose p95 were within 12% of each other read "cannot
    detect even a 10x change with 3 stored runs: the runs differ too much".  With 3 runs the
    interval takes t with 2 df (9.9 at alpha/2): the reason names that and the spread, and what
    8 stored runs spread alike could detect; runs spread too widely for any history say so."""
    close = stats.prediction_test(_runs_at([1.0, 1.12, 1.2]), _runs_at([1.1])[0], 0.95, alpha=0.005)
    wild = stats.prediction_test(_runs_at([1.0, 4.0, 0.6, 9.0]), _runs_at([40.0])[0], 0.95, alpha=0.005)

    assert "cannot detect even a 10x change with 3 stored runs: t with 2 degrees of freedom (9.92" in close.reason
    assert "8 stored runs from as many sessions (the most the store keeps), spread alike, could detect >=" \
        in close.reason
    assert "the runs differ too much" not in close.reason
    assert "too wide for stored runs to resolve: compare interleaved with gpuslo ab" in wild.reason


def test_a_wide_interval_from_few_sessions_says_why_in_words() -> None:
    """review73: "3 stored runs from 2 sessions: t with 1.00202 degrees of freedom" was opaque;
    the reason says the sessions are what count, and the df reads rounded."""
    rng = np.random.default_rng(1)
    runs = [rng.lognormal(0, 0.5, 4000) * f for f in (1.0, 1.0, 1.6)]
    t = stats.prediction_test(runs, rng.lognormal(0, 0.5, 4000) * 2, 0.95, alpha=0.005, groups=["a", "a", "b"])
    assert t.outcome == "INCONCLUSIVE"
    assert "runs of only 2 sessions weigh about as 2 runs, so t with 1 degrees of freedom" in t.reason, t.reason


def test_the_runs_a_side_count_uses_t_not_the_normal() -> None:
    """At a shift the normal approximation reads as decided by 2 runs a side, 2+2 runs have 2 df
    (t 6.96 at alpha 0.01): the count is 4, the first R whose t interval has 80% power."""
    assert math.ceil(2 * ((2.326 + 0.842) * 1.0 / 3.17) ** 2) == 2  # the normal's count
    assert stats._runs_for_power(1.0, 3.17, 0.01) == 4
    assert stats._runs_for_power(1.0, 1e-3, 0.01) == stats.AB_RUNS_SAID + 1


def test_what_a_save_says_stored_runs_can_show_is_what_the_gate_would_use() -> None:
    """review138 F1: the save's note (``stored_power``) says the smallest change the prediction
    interval shows 4 times in 5; it must be the gate's own ``mde`` on the same runs, sessions and
    scale, or the advice and the verdict disagree."""
    lat = np.random.default_rng(1).lognormal(0, 0.3, 4000)
    for factors, groups in (((1.0, 1.05, 0.95, 1.02), list("abcd")), ((1.0, 1.05, 0.95, 1.02, 1.01), list("abccd"))):
        runs = [lat * f for f in factors]
        gate_mde = stats.prediction_test(runs, lat, 0.95, alpha=0.005, groups=groups).mde
        spread, now, most = stats.stored_power(runs, 0.95, alpha=0.005, groups=groups) or (0.0, 0.0, 0.0)
        assert now == pytest.approx(gate_mde)
        assert 0.0 < most < now and 0.03 < spread < 0.05
    assert stats.stored_power([lat], 0.95) is None
    assert stats.stored_power([lat, lat * 1.5, lat * 0.6], 0.95, alpha=0.005)[1] == math.inf  # type: ignore[index]


def test_an_ab_with_fewer_runs_on_one_side_advises_the_runs_that_would_decide() -> None:
    """review148: a base run set aside for its stall left 2+3 runs, and an undecided +443% gave no
    "--runs N" (only counts over the larger side were said); 3 a side, one more base run, would do."""
    x = np.random.default_rng(0).lognormal(0, 0.3, 4000)
    t = stats.ab_test([x, x], [x, x, x], 0.95, levels=([0.0, 0.1], [0.44, 0.54, 0.34]))

    assert t.outcome == "INCONCLUSIVE" and t.runs_advised == 3
    assert t.reason.endswith("about 3 runs a side would show it (gpuslo ab --runs 3 runs them)")

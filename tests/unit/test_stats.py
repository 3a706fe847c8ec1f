"""Budget tests on dependent latencies: oracles, outcomes and degenerate inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special
from scipy import stats as st

from pytest_gpuslo import stats


@pytest.mark.parametrize(("k", "n", "p"), [(3, 400, 0.95), (30, 400, 0.95), (12, 2000, 0.99), (0, 500, 0.95)])
def test_beta_tails_equal_scipy_binomtest_when_design_effect_is_one(k: int, n: int, p: float) -> None:
    """The effective-count formulas reduce to the exact binomial test (statistics.md §2.4 oracle)."""
    p_fail = special.betainc(k, n - k + 1.0, 1.0 - p) if k else 1.0
    p_pass = special.betainc(n - k, k + 1.0, p)

    assert p_fail == pytest.approx(st.binomtest(k, n, 1 - p, alternative="greater").pvalue, rel=1e-9)
    assert p_pass == pytest.approx(st.binomtest(k, n, 1 - p, alternative="less").pvalue, rel=1e-9)


def mg1(n: int, rho: float, seed: int, service_ms: float = 1.0) -> np.ndarray:
    """Latencies of an M/G/1 queue (lognormal service) in arrival order, by Lindley."""
    rng = np.random.default_rng(seed)
    a = rng.exponential(service_ms / rho, n)
    s = service_ms * rng.lognormal(-0.125, 0.5, n)
    w = np.zeros(n)
    for i in range(1, n):
        w[i] = max(0.0, w[i - 1] + s[i - 1] - a[i])
    return w + s


def test_design_effect_sees_queueing_and_not_iid_noise() -> None:
    """Queueing inflates D well above 1; iid draws stay near 1."""
    iid = np.random.default_rng(0).lognormal(0, 0.5, 20_000)

    assert stats.design_effect(iid, 0.95) < 1.6
    assert stats.design_effect(mg1(20_000, 0.7, 1), 0.95) > 3


def test_clear_pass_and_clear_fail() -> None:
    """A budget far above the p95 passes; far below fails; both with bounds around the estimate."""
    x = mg1(20_000, 0.5, 2)
    q = np.quantile(x, 0.95)
    ok = stats.budget_test(x, 2 * q, 0.95)
    bad = stats.budget_test(x, q / 2, 0.95)

    assert ("PASS", "FAIL") == (ok.outcome, bad.outcome)
    assert ok.lower <= ok.estimate <= ok.upper < ok.budget
    assert ok.headroom > 1.0


def test_budget_at_the_true_quantile_is_inconclusive_with_a_sample_size() -> None:
    """At the boundary the gate neither passes nor fails, and says how many requests would decide."""
    x = mg1(20_000, 0.5, 3)
    r = stats.budget_test(x, float(np.quantile(x, 0.95)) * 1.01, 0.95)

    assert "INCONCLUSIVE" == r.outcome
    assert "needs about" in r.reason
    assert "to decide at 99%" in r.reason  # the default alpha, 0.01
    # review83: "to decide at 100%" at alpha 1e-4; the confidence has the digits alpha needs
    assert "to decide at 99.99%" in stats.budget_test(x, float(np.quantile(x, 0.95)) * 1.01, 0.95,
                                                       alpha=1e-4).reason


def test_too_few_samples_is_inconclusive_not_pass() -> None:
    """300 requests cannot support a p99 PASS, however fast they were."""
    r = stats.budget_test(np.full(300, 1.0) + np.linspace(0, 0.1, 300), 100.0, 0.99)

    assert "INCONCLUSIVE" == r.outcome
    assert "too few effective samples for p99" in r.reason


def test_the_pass_floor_is_exact_at_p90() -> None:
    """review94: 2,000 requests at p90 (the README's 200 / (1 - p)) read "cannot be cut into 8
    batches of 25 expected exceedances; needs about 2,100": 2,000 x 0.1 is 199.99999999999994 in
    floats.  The marker's pre-run check and the gate now agree at the floor."""
    from pytest_gpuslo.spec import pass_floor, resolve

    assert stats.n_batches(2000, 0.9) == 8 and stats.n_batches(1999, 0.9) == 0
    assert stats.budget_test(np.random.default_rng(1).exponential(1.0, 2000), 100.0, 0.9).outcome == "PASS"
    assert pass_floor(resolve({"p90_ms": 25, "rate_hz": 100, "requests": 2000}, nodeid="t")) is None
    assert "at least 2,000 requests" in str(pass_floor(resolve({"p90_ms": 25, "rate_hz": 100, "requests": 1999},
                                                               nodeid="t")))


def test_a_run_over_budget_in_few_clusters_says_why_it_is_no_fail_and_what_a_fail_needs() -> None:
    """review50: p95 110 ms against a 40 ms budget, 556 of 1,500 requests over, read only "too few
    effective samples ... needs about 86,537 requests", the PASS side's count.  Leaning FAIL, the
    words say the exceedances come in a few clusters, and the count is the FAIL's: E_min effective
    exceedances at the budget."""
    x = np.r_[np.full(1000, 1.0), np.full(300, 100.0), np.full(200, 1.0)]
    r = stats.budget_test(x, 40.0, 0.95)
    assert r.outcome == "INCONCLUSIVE"
    assert "300 of 1500 requests are over the budget (p95 100 > 40), but in clusters" in r.reason
    assert f"about {300 / r.design_effect:.1f} independent exceedances" in r.reason
    assert r.needed_n == math.ceil(stats.E_MIN * r.design_effect / 0.05)
    under = stats.budget_test(np.full(300, 1.0) + np.linspace(0, 0.1, 300), 100.0, 0.99)
    # review186 F1: no request over the budget, the bunching the run's own tail's, said so
    assert "clusters" not in under.reason
    assert "none of the 300 requests is over the budget, but its slowest come in bunches (design effect" in under.reason
    assert "too few to show its slowest 1% under it" in under.reason


def test_gross_violation_fails_even_on_a_small_sample() -> None:
    """Every request 10x over: the block sign test fails it without a dependence estimate."""
    x = 10.0 + np.random.default_rng(4).random(400)
    r = stats.budget_test(x, 1.0, 0.95)

    assert "FAIL" == r.outcome
    assert "block sign test" in r.reason


def test_a_fail_a_block_rule_decided_carries_that_rule_s_p_value() -> None:
    """review51: the suite's Holm view read FAILs the block rules decided as "could be chance
    (adjusted p 1)", from the binomial those rules override on dependent runs.  Each carries its
    own p-value: the sign test's 0.5**K, the clear violation's Markov-binomial tail times its slack."""
    bursts = np.tile(np.r_[np.full(20, 100.0), np.full(194, 1.0)], 7)  # one burst a block: D about 15
    gross = stats.budget_test(bursts, 40.0, 0.95)
    assert gross.outcome == "FAIL" and "block sign test" in gross.reason and gross.p_fail == 0.5 ** 7
    late = np.r_[np.full(428, 1.0), np.full(1070, 100.0)]  # 5 of 7 blocks over: D about 420
    clear = stats.budget_test(late, 40.0, 0.95)
    assert clear.outcome == "FAIL" and "a clear violation" in clear.reason
    assert clear.p_fail <= 50 * stats.clear_violation_p(late, 40.0, 0.95) < 0.01


def test_a_violation_spread_thin_through_a_short_run_fails() -> None:
    """review164 F3: every third request raised (66 of 200 over budget, design effect 1.0) read
    INCONCLUSIVE on the 20-effective-exceedance minimum, "in clusters (design effect 1.0 ...)":
    each of the 7 blocks holds a fifth of its requests over 1.25 x the budget, which Markov bounds
    at 0.25 a block if the p95 met it.  One in ten over stays INCONCLUSIVE, and says that the run
    is too short to show clusters rather than that it holds them."""
    thirds = np.full(200, 3.0)
    thirds[::3] = 1000.0
    r = stats.budget_test(thirds, 50.0, 0.95)
    assert r.outcome == "FAIL" and "each of 7 consecutive blocks has a fifth of its requests" in r.reason
    assert r.p_fail <= 50 * stats.clear_violation_p(thirds, 50.0, 0.95, share=stats.THIN_SHARE) < 0.01
    # review165 F1, review166 F9: every 5th or 8th (blocks of 28 hold 5 or 6, 3 or 4) read
    # INCONCLUSIVE; the run shows 20 or more effective exceedances itself, where one that met the
    # budget would hold about 10
    for every, over in ((5, 40), (8, 25)):
        spread = np.full(200, 3.0)
        spread[::every] = 1000.0
        f = stats.budget_test(spread, 50.0, 0.95)
        assert f.outcome == "FAIL", (every, f.reason)
        assert f.reason.startswith(f"{over} of 200 requests are over the budget, about {over} independent exceedances")
        assert f.p_fail <= 0.01
    tenths = np.full(200, 3.0)
    tenths[::10] = 1000.0
    u = stats.budget_test(tenths, 50.0, 0.95)
    assert u.outcome == "INCONCLUSIVE" and "too few to show whether those 20 come in clusters" in u.reason
    twentieths = np.full(200, 3.0)  # review166 F10: "in clusters (design effect 1.3)"
    twentieths[::20] = 1000.0
    assert "but in clusters" not in stats.budget_test(twentieths, 50.0, 0.95).reason


def test_sign_test_block_count_meets_alpha() -> None:
    """0.5**K <= alpha for the K used."""
    for alpha in (0.05, 0.01, 0.001):
        assert 0.5 ** stats.sign_test_blocks(alpha) <= alpha


@pytest.mark.parametrize(
    "x", [np.array([]), np.array([1.0]), np.full(5000, 3.0), np.array([1.0, math.nan] * 3000)],
    ids=["empty", "one", "all-equal", "nan"],
)
def test_degenerate_inputs_answer_without_crashing(x: np.ndarray) -> None:
    """Empty, single, constant or NaN samples give a clear outcome, never an exception."""
    r = stats.budget_test(x, 5.0, 0.95)

    assert r.outcome in {"PASS", "INCONCLUSIVE"}
    if x.size < 2 or np.isnan(x).any():
        assert "INCONCLUSIVE" == r.outcome


def test_all_equal_sample_below_budget_passes() -> None:
    """A constant latency well under budget is a PASS (sectioning sd is 0; the sign decides)."""
    assert "PASS" == stats.budget_test(np.full(5000, 3.0), 5.0, 0.95).outcome


def hiccups(n: int, seed: int) -> np.ndarray:
    """Fast requests with rare clustered stalls: a large design effect at the sample p95."""
    rng = np.random.default_rng(seed)
    x = 0.1 + 0.01 * rng.random(n)
    for start in rng.choice(n - 60, size=n // 400, replace=False):
        x[start:start + 40] += 0.5
    return x


def test_far_under_budget_passes_despite_clustered_hiccups() -> None:
    """D is large at the sample p95, but every block's p95 is far below a 20x budget: PASS."""
    x = hiccups(4000, 1)
    far = stats.budget_test(x, 20.0, 0.95)

    assert far.n_eff * 0.05 < stats.E_MIN  # the E_min rule alone would refuse
    assert "PASS" == far.outcome
    assert "far under budget" in far.reason


def test_a_run_far_under_budget_but_too_short_for_its_blocks_says_how_many_would_do() -> None:
    """The session-12 check: a p95 19x under its budget at 3,000 requests read "needs about 5,351
    requests" (the design-effect route), where 4,000 pass it on the blocks alone (8 blocks long
    enough, sectioning's 8 batches).  The smaller figure is named and becomes ``needed_n``; a run
    near its budget keeps the design-effect figure."""
    x = hiccups(4000, 1)
    short = stats.budget_test(x[:3000], 20.0, 0.95)
    near = stats.budget_test(x[:3000], 0.7, 0.95)

    assert short.outcome == "INCONCLUSIVE" and short.needed_n == 4000
    assert "or 4,000 if it stays this far under budget" in short.reason
    # the design effect's count is a floor: a short run's D is low where slow requests cluster
    # (benchmarks/validity/advice_counts.py)
    assert "needs at least about" in short.reason and "needs at least about" in near.reason
    assert stats.budget_test(x, 20.0, 0.95).outcome == "PASS"  # and 4,000 do pass it
    assert near.needed_n != 4000 and "if it stays this far under budget" not in near.reason
    # what only the run's length decides, whatever the machine (review123 F3: no "quieter machine")
    assert short.length_only and not near.length_only
    assert stats.budget_test(x[:1500], 20.0, 0.95).length_only  # too few for sectioning's 8 batches


def test_far_under_budget_needs_10x_with_few_effective_exceedances_and_less_as_they_grow() -> None:
    """Blocks at a fifth of the budget: with 4 or fewer effective exceedances the run may simply
    have missed a queue's bursts (INCONCLUSIVE); with 10 or more a 2x margin is enough; between,
    the margin falls log-linearly (review123 F9: a step at 10 flipped a p95 10.6x under its budget
    between PASS and INCONCLUSIVE as its runs held 9.2 or 10; benchmarks/validity/clear_margin.py)."""
    few, mid, more = hiccups(4000, 2), hiccups(12_000, 3), hiccups(12_000, 1)
    short, between, longer = (stats.budget_test(x, 3.0, 0.95) for x in (few, mid, more))

    assert short.n_eff * 0.05 <= stats.CLEAR_PASS_FEW_EFF
    assert stats.CLEAR_PASS_FEW_EFF < between.n_eff * 0.05 < stats.CLEAR_PASS_MIN_EFF <= longer.n_eff * 0.05
    assert "INCONCLUSIVE" == short.outcome and "too few effective samples" in short.reason
    assert "PASS" == longer.outcome and "under half the budget" in longer.reason
    assert between.on_blocks and longer.on_blocks and not short.on_blocks
    margin = stats.clear_pass_margin(between.n_eff * 0.05)
    assert "PASS" == between.outcome and f"under 1/{margin:.3g} of the budget" in between.reason
    assert not stats.clear_pass(mid, 3.0, 0.95, 0.01, stats.CLEAR_PASS_MARGIN_FEW)  # the step's 10x: not
    es = np.linspace(0.0, 12.0, 121)
    ms = np.array([stats.clear_pass_margin(float(e)) for e in es])
    assert ms[es <= 4.0].tolist() == [10.0] * int((es <= 4.0).sum()) and set(ms[es >= 10.0]) == {2.0}
    assert np.all(np.diff(ms) <= 0) and np.all(np.abs(np.diff(ms)) < 0.3)  # falls, without a step


def test_clustered_hiccups_near_the_budget_stay_inconclusive() -> None:
    """The same data against a budget only just above its p95: no shortcut, INCONCLUSIVE."""
    x = hiccups(4000, 1)
    near = stats.budget_test(x, float(np.quantile(x, 0.95)) * 1.3, 0.95)

    assert "INCONCLUSIVE" == near.outcome


def test_the_printed_bounds_agree_with_the_binomial_on_a_run_of_a_few_effective_requests() -> None:
    """One busy period holds half the run (design effect about 1,200, 3 effective requests): the
    binomial cannot FAIL it at 99%, and the 99% lower bound must not claim the p95 is over the
    budget either (the normal approximation printed 64 ms over a 40 ms budget here)."""
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.uniform(5, 15, 1920), np.linspace(41, 200, 2080)])
    t = stats.budget_test(x, 40.0, 0.95)
    assert t.design_effect > 500 and t.outcome == "INCONCLUSIVE"
    assert t.lower <= 40.0 and t.upper == math.inf


@pytest.mark.parametrize("d", [1.0, 3.0, 20.0])
def test_the_bounds_match_the_binomial_decision(d: float) -> None:
    """Lower bound over the budget if and only if the D-adjusted binomial tail is under alpha, at
    every budget, near the boundary too (a first version disagreed there in 9% of FAILs)."""
    rng = np.random.default_rng(7)
    x = rng.lognormal(0.0, 0.5, 6000)
    sides = set()
    for budget in np.quantile(x, np.linspace(0.80, 0.96, 161)):
        ne, ke = x.size / d, np.count_nonzero(x > budget) / d
        p_fail = float(special.betainc(ke, ne - ke + 1.0, 0.05))
        lo = stats.order_bound(x, 0.95, d, 0.99, upper=False)
        assert (lo > budget) == (p_fail <= 0.01), (budget, lo, p_fail)
        sides.add(lo > budget)
    assert sides == {True, False}


def test_a_short_run_three_times_over_its_allowance_fails() -> None:
    """1,000 independent requests, 15% over the budget at p95: too few for the 8 sectioning batches a
    PASS needs, but the binomial alone decides a FAIL (it was INCONCLUSIVE, found by an independent
    reviewer); the same run 5% over stays undecided only where the binomial cannot reject."""
    rng = np.random.default_rng(11)
    x = rng.lognormal(0.0, 0.5, 1000)
    over = stats.budget_test(x, float(np.quantile(x, 0.85)), 0.95)
    near = stats.budget_test(x, float(np.quantile(x, 0.95)), 0.95)

    assert over.batches == 0 and over.outcome == "FAIL" and over.lower > over.budget
    assert near.outcome == "INCONCLUSIVE" and "cannot be cut into 8 batches" in near.reason


def test_the_slow_stretch_rule_reads_a_lasting_step_not_short_spells() -> None:
    """Own times over the budget in most of 28 blocks: the Markov-binomial tail is tiny for a
    step over the last half of a run, 1 for a body slow on 5% of its requests however they fall,
    and nothing for a p50 claim (Markov bounds nothing there) or a run too short for 7 blocks."""
    step = np.where(np.arange(560) >= 300, 200.0, 5.0)
    tail, bad, k, first = stats.slow_stretch(step, 100.0, 0.95)
    assert (bad, k, first) == (13, 28, 300) and tail < 1e-5
    spiky = np.where(np.random.default_rng(2).random(600) < 0.05, 200.0, 5.0)
    assert stats.slow_stretch(spiky, 100.0, 0.95)[0] > 0.01
    assert stats.slow_stretch(step, 100.0, 0.5)[0] == 1.0
    assert stats.slow_stretch(step[-60:], 100.0, 0.95)[0] == 1.0  # 6 blocks of 10


def test_a_warm_up_is_one_slow_stretch_from_the_start_ending_where_the_share_falls_for_good() -> None:
    """review57: a short slow spell at the start excused a slowdown after a fast stretch (and two
    spells likewise); a warm-up ending in the last quarter FAILed; a gradual one was told "raise by
    33" where its share over budget stayed over 5% to 82% of the run."""
    i = np.arange(600)
    assert stats.warm_up_end(np.where((i < 30) | ((i >= 120) & (i < 420)), 200.0, 40.0), 100.0, 0.95) is None
    assert stats.warm_up_end(np.where((i < 120) | ((i >= 240) & (i < 390)), 200.0, 40.0), 100.0, 0.95) is None
    for p in (0.95, 0.99):
        for cold, end in ((0.45, 270), (0.78, 474)):  # the end of the block the step falls in
            assert stats.warm_up_end(np.where(i < cold * 600, 200.0, 40.0), 100.0, p) == end
        assert stats.warm_up_end(np.where(i < 540, 200.0, 40.0), 100.0, p) is None  # too little left to tell
    rng = np.random.default_rng(1)
    rate = np.where(i < 480, 0.6 * (1 - i / 480), 0.02)  # a cache warming over 80% of the run
    ends = [stats.warm_up_end(np.where(rng.random(600) < rate, 200.0, 40.0), 100.0, 0.95) for _ in range(40)]
    assert all(e is not None and 360 <= e <= 515 for e in ends), ends  # 5% at 440
    assert 400 <= np.median(ends) <= 460, ends
    steady = [np.where(rng.random(600) < np.where(i < 360, 0.6, 0.04), 200.0, 40.0) for _ in range(50)]
    assert all(stats.warm_up_end(x, 100.0, 0.95) is not None for x in steady)  # the steady share wanders over 5%
    lasting = [np.where(rng.random(600) < np.where(i < 200, 0.6, 0.2), 200.0, 40.0) for _ in range(50)]
    assert all(stats.warm_up_end(x, 100.0, 0.95) is None for x in lasting)  # over budget to the end
    # review58: cold for half a run, then 9% over to its end, read "within it after" and passed
    j = np.arange(3000)
    nine = [np.where(rng.random(3000) < np.where(j < 1500, 1.0, 0.09), 200.0, 40.0) for _ in range(20)]
    assert sum(stats.warm_up_end(x, 100.0, 0.95) is not None for x in nine) <= 1


def test_a_claim_too_close_to_decide_never_asks_for_the_requests_it_ran() -> None:
    """review55: "needs about 4,000 requests (ran 4,000)", beside an upper bound under the budget.
    A claim the count over budget would PASS but sectioning holds back says so; a gap the run
    should have decided asks for more than it ran."""
    rng = np.random.default_rng(0)
    x = np.where(rng.random(4000) < 0.06, rng.normal(8.2, 0.3, 4000), 2.0)  # p95 inside a sparse cluster
    r = stats.budget_test(x, 8.5, 0.95)
    assert r.outcome == "INCONCLUSIVE" and r.upper < 8.5
    assert "the count over the budget says PASS, but sectioning's 8 batches do not agree" in r.reason
    assert r.needed_n is not None and r.needed_n > x.size
    for seed in range(20):
        y = np.random.default_rng(seed).lognormal(0.0, 1.0, 4000)
        t = stats.budget_test(y, float(np.quantile(y, 0.95)) * 1.03, 0.95)
        if t.outcome == "INCONCLUSIVE" and t.needed_n is not None:
            assert t.needed_n > y.size, t.reason


def test_a_short_run_over_its_budget_asks_for_what_decides_a_fail_not_a_pass() -> None:
    """review56: at 929 requests a p95 over its budget read "too few requests for a PASS ... needs
    about 4,000", and the run before it "needs about 929": the count that separates the
    exceedance rate from the allowance is named, and never "for a PASS" of a claim over budget."""
    for seed in range(5):
        rng = np.random.default_rng(seed)
        x = np.where(rng.random(929) < 0.07, 110.0, 20.0) * rng.uniform(0.98, 1.02, 929)
        r = stats.budget_test(x, 100.0, 0.95)
        assert r.outcome == "INCONCLUSIVE" and r.estimate > 100.0
        assert "for a PASS" not in r.reason and r.needed_n is not None and r.needed_n > x.size, r.reason


def test_a_run_slow_in_two_spells_says_its_count_holds_only_if_they_recur() -> None:
    """review59: two spells over 30% of a run read "needs about 82,000 requests", and at twice
    the run twice that: a run that holds the same two spells however long it is never decides.
    The reason names the stretches and says the count assumes they recur as often."""
    rng = np.random.default_rng(1)
    u = np.arange(2000) / 2000
    x = np.where((u < 0.1) | ((u >= 0.4) & (u < 0.6)), 40.0, 2.0) * rng.lognormal(0, 0.05, 2000)
    r = stats.budget_test(x, 20.0, 0.95)
    assert r.outcome == "INCONCLUSIVE" and "warm-up" not in r.reason
    assert "most of them in 2 stretches (1%-11%, 40%-61% of the run)" in r.reason, r.reason
    assert "if such stretches recur as often (every 1000 requests or so)" in r.reason


def test_a_trend_in_the_services_is_no_noise_about_their_mean() -> None:
    """review92: services growing 35 -> 57 ms through the half read a lower bound of about 40 ms
    for their 46-ms mean (the trend counted as spread), so 16 lanes at 400/s were not over
    capacity; read about their trend the bound is the mean's, and flat services keep theirs."""
    rng = np.random.default_rng(5)
    growing = np.linspace(35.0, 57.0, 2000) + rng.normal(0.0, 2.0, 2000)
    mean, low = stats.batch_mean_bound(growing, 0.0002)
    assert abs(mean - 46.0) < 0.5 and low > 0.98 * mean
    flat = rng.lognormal(0.0, 1.0, 2000)
    mean, low = stats.batch_mean_bound(flat, 0.0002)
    assert 0.6 * mean < low < 0.95 * mean


def test_an_undecided_budget_quotes_no_raised_requests_stand_in_as_its_level() -> None:
    """review104: "206 of 4000 requests are over the budget (p95 500 > 30)", the 0.5-s timeout the
    raised requests hold; a measured level is still quoted."""
    lat = np.random.default_rng(5).lognormal(0, 0.2, 4000)
    bunched = np.zeros(lat.size, bool)
    for start in (300, 1500, 2700, 3600):
        bunched[start:start + 55] = True
    x = np.where(bunched, 10_000.0, lat)
    said = stats.budget_test(x, 20.0, 0.95, raised=int(bunched.sum()),
                             raised_span=stats.raised_span(x, 10.0, int(bunched.sum())))
    slow = stats.budget_test(np.where(bunched, 25.0, lat), 20.0, 0.95)
    assert "(p95 among the raised requests)" in said.reason and "10000" not in said.reason
    assert "(p95 25 > 20)" in slow.reason


def test_a_batch_whose_quantile_leans_on_a_raised_requests_stand_in_is_counted() -> None:
    """review104 second pass: batch p99s of 7.4-8.5 ms, interpolated toward the 500-ms stand-in in
    a run whose slowest request took 5.9 ms, made "+35.7%"; such batches are counted, so the gate
    can tell a level the trim cleaned from one the stand-in moved."""
    lat = np.random.default_rng(3).lognormal(0, 0.2, 4000)
    two = np.zeros(lat.size, bool)
    for batch in range(5):  # two raised in each of five of the 20 batches of 200
        two[batch * 200 + 50] = two[batch * 200 + 150] = True
    one = np.zeros(lat.size, bool)
    one[[50, 450, 850]] = True  # one in a batch: its p99 stays between measured latencies
    assert stats.stand_in_batches(np.where(two, 500.0, lat), 0.99, 0.5) == 5
    assert stats.stand_in_batches(np.where(one, 500.0, lat), 0.99, 0.5) == 0
    assert stats.stand_in_batches(lat, 0.99, 0.5) == 0
    assert stats.stand_in_batches(np.where(two, 500.0, lat), 0.95, 0.5) == 0  # ten above a batch's p95

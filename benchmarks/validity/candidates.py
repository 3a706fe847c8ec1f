"""Candidate gate statistics, as pure numpy/scipy functions (proposed for stats.py / gate.py).

Notation: ``p`` the percentile (0.95), ``alpha`` the per-claim error (0.01), ``delta``/``Delta`` the
noise floor and the largest regression an OK may hide (2% / 5% for p95).  Latencies are in
scheduled order; ``t`` is the schedule (scheduled arrival times of the measured requests, the same
for every run that replayed it).  Verdict strings follow ``stats.regression_test``.

Contents (proposed signatures for stats.py / gate.py; measured in README.md)
  run statistic ``run_stat(x, p, k=20, trim=2)``: 10%-trimmed mean of 20 batch log-quantiles.
  (a) ``idle_points``, ``regen_edges``, ``paired_regen``: paired within-run variance that survives
      dependence (batches cut where every run's system was empty); ``paired_fixed_lagwin`` fallback.
  (b) ``short_history``: R = 1 or 2 stored runs (refuse, declared machine noise, or a calibration),
      with ``elasticity`` (replay of measured service times through the lanes).
  (c) ``prediction`` (run at alpha * PI_ALPHA_FACTOR), ``prediction_adj`` (calibration-adjusted),
      ``prediction_ctl``, ``prediction_chk``; end to end: ``stored_gate``.
  (d) ``ab_test`` / ``ab_gate``: interleaved A/B, pooled two-sample t.
  (e) ``budget_at_b`` (d_rule="max3k4") and ``clear_violation``.
  (f) ``load_dependence``: the only case where lag may void a PASS.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import special
from scipy import stats as st

from pytest_gpuslo import stats as _stats

F64 = npt.NDArray[np.float64]
K_MAX, K_MIN, MIN_EXC_PER_BATCH = 20, 8, 25


def n_batches(n: int, p: float) -> int:
    """Today's sectioning count: min(20, n(1-p)/25), 0 below 8."""
    k = min(K_MAX, int(n * (1.0 - p) // MIN_EXC_PER_BATCH))
    return k if k >= K_MIN else 0


# --------------------------------------------------------------------------------------------
# shared verdict
@dataclass(frozen=True)
class Result:
    outcome: str
    theta: float
    se: float
    df: float
    reason: str = ""


def verdict(theta: float, se: float, df: float, alpha: float = 0.01, delta: float = 0.02,
            Delta: float = 0.05, reason: str = "") -> Result:
    """REGRESSED if the one-sided (1-alpha) lower bound of theta clears ln(1+delta); IMPROVED if
    the upper bound is under -ln(1+delta); OK if the upper bound is under ln(1+Delta)."""
    if not (math.isfinite(theta) and math.isfinite(se) and se > 0 and df > 0):
        return Result("INCONCLUSIVE", theta, se, df, reason or "no variance")
    tq = float(st.t.ppf(1.0 - alpha, df))
    up, big = math.log1p(delta), math.log1p(Delta)
    if theta - tq * se > up:
        return Result("REGRESSED", theta, se, df, reason)
    if theta + tq * se < -up:
        return Result("IMPROVED", theta, se, df, reason)
    if theta + tq * se < big:
        return Result("OK", theta, se, df, reason)
    return Result("INCONCLUSIVE", theta, se, df, reason)


# --------------------------------------------------------------------------------------------
# the per-run statistic
def run_stat(x: F64, p: float, k: int = 20, trim: int = 2) -> F64:
    """Per run: the mean of the log p-quantiles of k contiguous batches, after dropping the
    ``trim`` highest and ``trim`` lowest (10% trimmed at k = 20).  ``x``: (runs, n) or (n,).

    Measured against the pooled log-quantile and band averages on every family: the batch mean
    has the smallest run-to-run spread given the schedule (up to 2.7x smaller than the pooled
    log-p95 on Pareto and bimodal service, where the pooled p95 sits in a thin part of the
    distribution).  Trimming 2 of 20 removes the single-huge-service outliers that make the
    untrimmed mean skewed and heavy-tailed across runs on Pareto service (excess kurtosis 2-75
    given the schedule), which a t prediction interval cannot absorb; it costs little elsewhere.
    """
    x2 = np.atleast_2d(x)
    m = x2.shape[1] // k
    q = np.quantile(x2[:, : m * k].reshape(x2.shape[0], k, m), p, axis=2)
    b = np.log(np.maximum(q, np.finfo(np.float64).tiny))
    if trim:
        b = np.sort(b, axis=1)[:, trim: k - trim]
    out = b.mean(axis=1)
    return out if np.ndim(x) == 2 else out[:1]


# --------------------------------------------------------------------------------------------
# (a) paired variance under dependence
# Shipped as stats.idle_points / stats.regen_edges (the same code); re-exported for the grid.
idle_points = _stats.idle_points
regen_edges = _stats.regen_edges


def batch_logq(x: F64, p: float, edges: npt.NDArray[np.int64]) -> F64:
    """ln p-quantile of x on each [edges[j], edges[j+1])."""
    return np.log(np.array([np.quantile(x[a:b], p) for a, b in zip(edges[:-1], edges[1:])]))


def paired_regen(x: F64, y: F64, t: F64, p: float, *, k: int | None = None,
                 min_batches: int = 4) -> tuple[float, float, float, int]:
    """Paired statistic on batches cut at common idle points: (theta, var, df, batches).

    theta = mean_j [ln q_p(y_j) - ln q_p(x_j)], var = s_d^2 / K, df = K - 1, with K the batches
    that ``regen_edges`` finds (at most today's count).  When fewer than ``min_batches``
    independent batches exist (a run that is one long busy period) the variance is NaN: the run
    holds too few independent pieces for a within-run verdict.
    """
    n = min(x.size, y.size)
    k = k or n_batches(n, p)
    if not k:
        return math.nan, math.nan, math.nan, 0
    e = regen_edges(idle_points(t[:n], np.vstack([x[:n], y[:n]])), n, k)
    kk = e.size - 1
    d = batch_logq(y, p, e) - batch_logq(x, p, e)
    if kk < min_batches:
        return float(d.mean()), math.nan, math.nan, kk
    return float(d.mean()), float(d.var(ddof=1)) / kk, float(kk - 1), kk


def paired_fixed_lagwin(x: F64, y: F64, p: float, lags: int = 3) -> tuple[float, float, float, int]:
    """Fallback without a schedule: today's 20 fixed batches, variance of the mean by a Bartlett
    lag window over the batch log-ratios (Newey-West), df = K/(1 + 2*lags) (conservative)."""
    n = min(x.size, y.size)
    k = n_batches(n, p)
    m = n // k
    d = (np.log(np.quantile(y[: m * k].reshape(k, m), p, axis=1))
         - np.log(np.quantile(x[: m * k].reshape(k, m), p, axis=1)))
    dc = d - d.mean()
    g0 = float(dc @ dc) / k
    lrv = g0
    for ell in range(1, lags + 1):
        lrv += 2.0 * (1.0 - ell / (lags + 1.0)) * float(dc[ell:] @ dc[:-ell]) / k
    lrv = max(lrv, g0 / (1 + 2 * lags))
    return float(d.mean()), lrv / (k - 1) * 1.0, max(1.0, k / (1.0 + 2.0 * lags)), k


# --------------------------------------------------------------------------------------------
# machine noise amplification: the queue's elasticity from a replay of measured service times
def elasticity(t_full: F64, s_full: F64, c: int, p: float, n: int, h: float = 0.01) -> float:
    """d run_stat / d ln(service scale), by replaying the run's own service times through a FIFO
    c-lane queue at scale 1 and 1+h (common random numbers: no noise, just the slope).

    The plugin measures each request's start and end, so service times exist for the candidate
    run; ``c`` is the test's streams.  A per-run machine factor of sd sigma_m moves ln q_p by about
    elasticity * sigma_m.  (Here the replay is exact; on real lanes it is a model.)
    """
    from benchmarks.validity.sim import fifo

    base = fifo(t_full, s_full, c)[-n:]
    up = fifo(t_full, s_full * (1.0 + h), c)[-n:]
    return float((run_stat(up, p)[0] - run_stat(base, p)[0]) / math.log1p(h))


# --------------------------------------------------------------------------------------------
# (b) fewer than three stored runs
def short_history(stored: list[F64], cand: F64, t: F64, p: float, *, sigma_m: float | None,
                  eps: float | None, alpha: float = 0.01, delta: float = 0.02,
                  Delta: float = 0.05, ctl: tuple[float, float] | None = None) -> Result:
    """R = 1 or 2 same-schedule stored runs against one candidate.

    theta = mean over stored runs j of the paired regenerative statistic (candidate vs run j);
    var   = mean_j var_j / R (within-run, independent batches)  +  (eps*sigma_m)^2 * (1 + 1/R),
    df    = Satterthwaite of the within part (the run-level part is taken as known).
    ``eps``: elasticity of the statistic to a service-scale change (``elasticity``), ``sigma_m``:
    the declared per-run machine noise of the machine class (a prior: with one stored run there is
    nothing to estimate it from).  ``ctl``: (mean ln calibration of the stored runs, ln calibration
    of the candidate): the machine difference is then measured, theta is corrected by
    eps * (c_cand - c_stored) and ``sigma_m`` is the calibration's own noise instead.  ``sigma_m=None``: refuse REGRESSED below 3 runs (INCONCLUSIVE
    with the reason) and answer only OK/IMPROVED/INCONCLUSIVE from the within-run test.
    """
    th, vs, dfs = [], [], []
    for x in stored:
        a, v, df, _ = paired_regen(x, cand, t, p)
        th.append(a)
        vs.append(v)
        dfs.append(df)
    r = len(stored)
    theta = float(np.mean(th))
    if any(not math.isfinite(v) for v in vs):
        return Result("INCONCLUSIVE", theta, math.nan, math.nan, "too few independent batches")
    within = float(np.sum(vs)) / (r * r)
    df = within ** 2 / sum((v / (r * r)) ** 2 / d for v, d in zip(vs, dfs))
    if sigma_m is None:
        res = verdict(theta, math.sqrt(within), df, alpha, delta, Delta)
        if res.outcome in ("REGRESSED", "IMPROVED"):
            return Result("INCONCLUSIVE", theta, res.se, df,
                          "fewer than 3 stored runs: run-to-run noise unknown")
        return res
    if ctl is not None:
        theta -= eps * (ctl[1] - ctl[0])
    run = (eps * sigma_m) ** 2 * (1.0 + 1.0 / r)
    return verdict(theta, math.sqrt(within + run), df, alpha, delta, Delta)


# --------------------------------------------------------------------------------------------
# (c) three or more stored runs: prediction interval
def prediction(stored_T: F64, cand_T: float, *, alpha: float = 0.01, delta: float = 0.02,
               Delta: float = 0.05) -> Result:
    """Exchangeable runs on one schedule: the candidate's statistic against the stored runs'.

    theta = T_cand - mean(T_stored); se = s * sqrt(1 + 1/R); df = R - 1, with s the sd of the R
    stored statistics.  Under H0 (same code, same machine distribution) the R+1 runs are
    exchangeable and (T_cand - mean)/se ~ t_{R-1} exactly for normal T: every run-level noise
    (within-run, per-run machine factors) is in s and is counted once.
    """
    r = stored_T.size
    if r < 3:
        return Result("INCONCLUSIVE", math.nan, math.nan, math.nan, "needs 3 stored runs")
    s = float(np.std(stored_T, ddof=1))
    theta = float(cand_T - stored_T.mean())
    return verdict(theta, s * math.sqrt(1.0 + 1.0 / r), float(r - 1), alpha, delta, Delta)


def prediction_ctl(stored_T: F64, stored_c: F64, cand_T: float, cand_c: float, *,
                   alpha: float = 0.01, delta: float = 0.02, Delta: float = 0.05,
                   alpha_ctl: float = 0.01) -> Result:
    """Prediction from a regression of the stored statistics on a machine control.

    ``*_c``: ln of a calibration workload's time recorded with each run (a fixed CPU/GPU loop).
    Fit T_j = a + b c_j on the stored runs; the candidate's prediction at its own control c0 has
    se^2 = s^2 (1 + 1/R + (c0 - cbar)^2 / Sxx), df = R - 2.  Per-run machine noise tracked by the
    control is removed (b estimates the queue's amplification); a candidate on a machine unlike
    every stored run (c0 outside the stored controls' own prediction interval at alpha_ctl) is
    INCONCLUSIVE with the reason, never REGRESSED.
    """
    r = stored_T.size
    if r < 4:
        return Result("INCONCLUSIVE", math.nan, math.nan, math.nan, "needs 4 stored runs")
    cbar = float(stored_c.mean())
    sc = float(np.std(stored_c, ddof=1))
    if sc > 0:
        tc = (cand_c - cbar) / (sc * math.sqrt(1.0 + 1.0 / r))
        if abs(tc) > st.t.ppf(1.0 - alpha_ctl / 2.0, r - 1):
            return Result("INCONCLUSIVE", math.nan, math.nan, math.nan,
                          f"machine differs: calibration {math.expm1(cand_c - cbar):+.1%} vs stored runs")
    sxx = float(((stored_c - cbar) ** 2).sum())
    b = float(((stored_c - cbar) * (stored_T - stored_T.mean())).sum() / sxx) if sxx > 0 else 0.0
    resid = stored_T - stored_T.mean() - b * (stored_c - cbar)
    s2 = float(resid @ resid) / (r - 2)
    pred = float(stored_T.mean() + b * (cand_c - cbar))
    se = math.sqrt(s2 * (1.0 + 1.0 / r + ((cand_c - cbar) ** 2 / sxx if sxx > 0 else 0.0)))
    return verdict(float(cand_T - pred), se, float(r - 2), alpha, delta, Delta)


def prediction_adj(stored_T: F64, stored_c: F64, cand_T: float, cand_c: float, eps: float, *,
                   ctl_sd: float = 0.0, alpha: float = 0.01, delta: float = 0.02,
                   Delta: float = 0.05) -> Result:
    """Prediction interval on control-adjusted statistics T_j - eps * c_j.

    ``c``: ln(calibration time) per run; ``eps``: the queue's elasticity from a replay of the
    candidate's measured service times (``elasticity``).  Removes per-run and per-day machine
    factors that the calibration tracks, whether or not the stored runs vary among themselves (the
    regression of ``prediction_ctl`` needs them to).  The control's own noise ``ctl_sd`` enters
    the stored spread automatically and the candidate's term through s.  Validity rests on the
    replay elasticity: exact for FIFO lanes with load-independent service.
    """
    adj = stored_T - eps * stored_c
    return prediction(adj, float(cand_T - eps * cand_c), alpha=alpha, delta=delta, Delta=Delta)


def prediction_chk(stored_T: F64, stored_c: F64, cand_T: float, cand_c: float, *,
                   alpha: float = 0.01, alpha_ctl: float = 0.05, delta: float = 0.02,
                   Delta: float = 0.05) -> Result:
    """``prediction`` guarded by the control alone: INCONCLUSIVE ("machine differs") when the
    candidate's calibration lies outside the stored calibrations' (1 - alpha_ctl) prediction
    interval; no adjustment."""
    r = stored_c.size
    sc = float(np.std(stored_c, ddof=1))
    tc = (cand_c - stored_c.mean()) / (sc * math.sqrt(1.0 + 1.0 / r)) if sc > 0 else 0.0
    if abs(tc) > st.t.ppf(1.0 - alpha_ctl / 2.0, r - 1):
        return Result("INCONCLUSIVE", math.nan, math.nan, math.nan,
                      f"machine differs: calibration {math.expm1(cand_c - stored_c.mean()):+.1%}")
    return prediction(stored_T, cand_T, alpha=alpha, delta=delta, Delta=Delta)


# --------------------------------------------------------------------------------------------
# (d) interleaved A/B on one machine
def ab_test(a_T: F64, b_T: F64, *, within: F64 | None = None, within_df: float = math.inf,
            alpha: float = 0.01, delta: float = 0.02, Delta: float = 0.05,
            mode: str = "pooled") -> Result:
    """Base runs A_1..A_R and candidate runs B_1..B_R, interleaved ABAB.. on one machine, every
    run replaying the same schedule.  Statistics T (``run_stat``).

    theta = mean(T_B) - mean(T_A).  Machine shifts shared by the session cancel.
    mode "pooled": se^2 = s_p^2 (1/R_A + 1/R_B), s_p the pooled sd of the 2R runs, df 2R - 2
                   (two-sample t: exact under exchangeability; holds every run-level noise).
    mode "max":    s^2 = max(s_p^2, w) with w the mean within-pair variance of one run's
                   statistic (``within``, half the paired-regenerative variance of each pair); the
                   within estimate lends its df only when it is the larger (never shrinks s_p).
    mode "within": w alone (valid only without run-level noise; shown for reference).
    """
    ra, rb = a_T.size, b_T.size
    theta = float(b_T.mean() - a_T.mean())
    if ra + rb > 2 and min(ra, rb) >= 1:
        ss = float(((a_T - a_T.mean()) ** 2).sum() + ((b_T - b_T.mean()) ** 2).sum())
        dfp = ra + rb - 2
        sp2 = ss / dfp if dfp > 0 else math.nan
    else:
        sp2, dfp = math.nan, 0
    f = 1.0 / ra + 1.0 / rb
    if mode == "pooled":
        return verdict(theta, math.sqrt(sp2 * f) if dfp else math.nan, float(dfp), alpha, delta, Delta)
    w = float(np.mean(within)) if within is not None else math.nan
    if mode == "within":
        return verdict(theta, math.sqrt(w * f), within_df, alpha, delta, Delta)
    if not dfp:
        return Result("INCONCLUSIVE", theta, math.nan, math.nan, "one pair: no run-level spread")
    if math.isfinite(w) and w > sp2:
        return verdict(theta, math.sqrt(w * f), float(dfp), alpha, delta, Delta)
    return verdict(theta, math.sqrt(sp2 * f), float(dfp), alpha, delta, Delta)


# --------------------------------------------------------------------------------------------
# (e) absolute budget at B
def design_effect_at(x: F64, level: float, ks: tuple[int, ...] = (8, 16, 32)) -> float:
    """Batch-means variance inflation of 1{x > level} (max over batch counts): the shipped
    ``stats.design_effect_at`` with the batch counts measured here (the plugin adds 4)."""
    return _stats.design_effect_at(x, level, ks)


def clear_violation(x: F64, budget: float, p: float, alpha: float = 0.01, blocks: int = 7,
                    share: float = 0.5, margin: float = 1.25, slack: float = 50.0) -> bool:
    """FAIL that needs no dependence estimate: enough of ``blocks`` contiguous blocks have at
    least ``share`` of their requests over ``margin`` x the budget.

    If q_p <= B, each block's expected share over B is <= 1 - p, so by Markov's inequality a block
    reaches ``share`` with probability <= (1 - p)/share (0.1 for p95, 0.02 for p99).  Were blocks
    independent, the count of such blocks would be below Binomial(blocks, (1-p)/share); FAIL
    needs its tail <= alpha / ``slack``: 5 of 7 blocks for p95 (1.8e-4), 4 of 7 for p99.  The
    slack and the 1.25 margin pay for dependence between blocks: with 4 of 7 and no margin the
    rule FAILed 2.5-2.8% of boundary runs of on-off queues (design effects 1,000-3,000); with
    both, 0.2%.  Finding 6 (480 of 600 over, 200 ms against 100 ms, the first 150 fast) has 5 of
    7 blocks; the hung lane (425 of 500 timed out) 6 of 7.
    """
    n = x.size
    m = n // blocks
    if m < 1:
        return False
    frac = (x[: m * blocks].reshape(blocks, m) > budget * margin).mean(axis=1)
    q = min(1.0, (1.0 - p) / share)
    need = next((j for j in range(blocks + 1) if st.binom.sf(j - 1, blocks, q) <= alpha / slack),
                blocks + 1)
    return bool(np.count_nonzero(frac >= share) >= need)


def budget_at_b(x: F64, budget: float, p: float, *, alpha: float = 0.01, gamma: float = 1.5,
                d_rule: str = "max3k4", e_min: float = 20.0, sectioning: bool = True) -> str:
    """Absolute claim q_p <= B decided at the budget.

    k = #{x > B}, D = design effect of the exceedance indicator (``d_rule``):
      "B"      at B only (measured: WORSE than today, a lucky run has few, short clusters at B);
      "maxBq"  max(D at B, D at the sample quantile);
      "max3k4" (proposed) max over the levels {B, sample q_p, sample q_(1-2(1-p))} and over
               4, 8, 16 and 32 batches.  The lower level has twice the exceedances (a steadier
               estimate of the cluster size) and 4 batches see correlation as long as n/4, which
               the lucky short runs of heavy-tailed queues hide from 8-32 batches;
    FAIL: exact binomial tail with n/D, k/D (as today) <= alpha, or ``clear_violation``.
    PASS: the binomial the other way with D*gamma, the effective-exceedance minimum counted at B
          from the null side, n(1-p)/(D*gamma) >= e_min, and (optionally) sectioning agreeing.
    """
    n = x.size
    k = int(np.count_nonzero(x > budget))
    star = 1.0 - p
    if clear_violation(x, budget, p, alpha):
        return "FAIL"
    d_b = design_effect_at(x, budget)
    if d_rule == "maxBq":
        d = max(d_b, design_effect_at(x, float(np.quantile(x, p))))
    elif d_rule == "max3k4":
        levels = (budget, float(np.quantile(x, p)), float(np.quantile(x, 1.0 - 2.0 * (1.0 - p))))
        d = max(design_effect_at(x, lev, (4, 8, 16, 32)) for lev in levels)
    else:
        d = d_b
    ne, ke = n / d, k / d
    p_fail = float(special.betainc(ke, ne - ke + 1.0, star)) if ke > 0 else 1.0
    if n * star / d >= e_min and p_fail <= alpha:
        return "FAIL"
    ne2, ke2 = ne / gamma, ke / gamma
    if n * star / (d * gamma) < e_min:
        return "INCONCLUSIVE"
    p_pass = float(special.betainc(ne2 - ke2, ke2 + 1.0, p)) if ne2 > ke2 else 1.0
    if sectioning:
        kk = n_batches(n, p)
        if not kk:
            return "INCONCLUSIVE"
        mm = n // kk
        b = np.log(np.quantile(x[: mm * kk].reshape(kk, mm), p, axis=1))
        sd = float(b.std(ddof=1))
        diff = math.log(float(np.quantile(x, p))) - math.log(budget)
        p_sect = float(st.t.cdf(diff / (sd / math.sqrt(kk)), kk - 1)) if sd > 0 else (0.0 if diff < 0 else 1.0)
        p_pass = max(p_pass, p_sect)
    return "PASS" if p_pass <= alpha else "INCONCLUSIVE"


# --------------------------------------------------------------------------------------------
# (f) lag: is the service load-dependent?
def load_dependence(start: F64, end: F64, *, min_rho: float = 0.1) -> tuple[bool, float, float]:
    """Does a request's service time (end - start) grow with the number of requests in service
    when it started?  Returns (dependent, Spearman rho, ratio of median service above / at or
    below the median concurrency).

    Latency charged from the schedule is nondecreasing in every dispatch delay for FIFO lanes
    whose service does not depend on load (Kiefer-Wolfowitz is monotone), so lag can then only
    make a PASS harder.  Only load-dependent service (processor sharing, thrashing, batching) can
    turn a late, smoothed dispatch into optimistic latencies; this is the plugin-side check
    (start/end stamps exist for every request).  Flag on the effect size rho >= 0.1 (no p-value:
    stamps are autocorrelated).  Measured: FIFO lanes rho 0.00 (never flagged in 150 runs),
    processor sharing and thrashing lanes 0.40-0.56 (flagged in every run).
    """
    dur = end - start
    order_s = np.sort(start)
    order_e = np.sort(end)
    inflight = (np.searchsorted(order_s, start, side="right")
                - np.searchsorted(order_e, start, side="right"))
    rho = float(st.spearmanr(inflight, dur).statistic) if np.ptp(inflight) > 0 else 0.0
    med = np.median(inflight)
    hi, lo = dur[inflight > med], dur[inflight <= med]
    ratio = float(np.median(hi) / np.median(lo)) if hi.size and lo.size else 1.0
    return bool(rho >= min_rho), rho, ratio


# --------------------------------------------------------------------------------------------
# the proposed decision rules, end to end (what gate.compare would call)
#: The prediction interval is run at alpha * PI_ALPHA_FACTOR: the run statistic is skewed on
#: Pareto and bimodal service (a t interval from 8 runs cannot see that), and at nominal alpha 2-4
#: of 15 cells per noise setting came out over 1.5 alpha (worst 3.2% at R = 8); at alpha / 2 at
#: most 1 of 15 (worst 2.0%).  A/B needs no such factor: the two-sample difference is symmetric.
PI_ALPHA_FACTOR = 0.5


def stored_gate(stored: list[F64], cand: F64, t: F64, p: float, *, alpha: float = 0.01,
                delta: float = 0.02, Delta: float = 0.05,
                stored_ctl: F64 | None = None, cand_ctl: float | None = None,
                eps: tuple[float, float] | None = None, sessions: int | None = None,
                sigma_m: float | None = None) -> Result:
    """Candidate against R stored same-schedule runs (oldest first), every stored run used.

    R >= 3: prediction interval on ``run_stat`` at alpha * PI_ALPHA_FACTOR.  With a machine
    control (``stored_ctl``: ln calibration per stored run, ``cand_ctl``) and the replay
    elasticities ``eps`` = (baseline's, candidate's), the statistics are adjusted first:
    T_j - eps_mid * c_j with eps_mid their mean (the response is convex in the machine factor; the
    mean is the trapezoid rule).  Without a control, stored runs recorded in fewer than 3
    ``sessions`` (boots/days) cannot show a per-day shift: REGRESSED becomes INCONCLUSIVE.
    R = 1, 2: ``short_history`` (``sigma_m`` prior, or with the control), else INCONCLUSIVE.
    """
    r = len(stored)
    if r >= 3:
        T = run_stat(np.vstack([np.asarray(x[: cand.size]) for x in stored] + [cand]), p)
        a = alpha * PI_ALPHA_FACTOR
        if stored_ctl is not None and cand_ctl is not None and eps is not None:
            e = 0.5 * (eps[0] + eps[1])
            return prediction_adj(T[:-1], np.asarray(stored_ctl), float(T[-1]), float(cand_ctl), e,
                                  ctl_sd=0.0, alpha=a, delta=delta, Delta=Delta)
        res = prediction(T[:-1], float(T[-1]), alpha=a, delta=delta, Delta=Delta)
        if res.outcome in ("REGRESSED", "IMPROVED") and sessions is not None and sessions < 3:
            return Result("INCONCLUSIVE", res.theta, res.se, res.df,
                          f"{res.outcome.lower()} by {math.expm1(res.theta):+.1%}, but all {r} stored runs "
                          f"come from {sessions} session(s): a machine shift since then is invisible; "
                          "record runs on another day or compare interleaved (A/B)")
        return res
    if stored_ctl is not None and cand_ctl is not None and eps is not None:
        return short_history(stored, cand, t, p, sigma_m=sigma_m or 0.003, eps=0.5 * (eps[0] + eps[1]),
                             alpha=alpha, delta=delta, Delta=Delta,
                             ctl=(float(np.mean(stored_ctl)), float(cand_ctl)))
    e = None if eps is None else 0.5 * (eps[0] + eps[1])
    return short_history(stored, cand, t, p, sigma_m=sigma_m if e is not None else None, eps=e,
                         alpha=alpha, delta=delta, Delta=Delta)


def ab_gate(a_runs: list[F64], b_runs: list[F64], p: float, *, alpha: float = 0.01,
            delta: float = 0.02, Delta: float = 0.05) -> Result:
    """Interleaved A/B (ABAB.., same schedule, one machine, one session): pooled two-sample t
    on ``run_stat`` with 2R - 2 df (R >= 2 a side).  Per-day shifts cancel; per-run noise is in
    the pooled spread.  One pair (R = 1) has no run-level spread: use ``short_history``."""
    n = min(min(x.size for x in a_runs), min(y.size for y in b_runs))
    T = run_stat(np.vstack([x[:n] for x in a_runs] + [y[:n] for y in b_runs]), p)
    return ab_test(T[: len(a_runs)], T[len(a_runs):], alpha=alpha, delta=delta, Delta=Delta)

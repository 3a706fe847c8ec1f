"""Quantile statistics for dependent (queueing) latencies (layer 1: numpy and scipy only).

Latencies from an open-loop run are autocorrelated: a slow request delays the ones queued behind
it.  Every test here therefore works on samples in *scheduled* order and inflates its variance by a
design effect estimated from batch means (statistics.md §2.3), or uses sectioning (contiguous
batches, §2.4-2.5).  Nothing here knows about pytest, specs or GPUs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

#: Minimum effective exceedances for any verdict (statistics.md §2.2, E_min).
E_MIN = 20.0
#: Safety factor on the design effect for PASS claims (§2.4 point 5).
GAMMA_PASS = 1.5
#: Sectioning batches: at most 20, at least 8, about 25 exceedances each.
K_MAX, K_MIN, MIN_EXC_PER_BATCH = 20, 8, 25


def quantile(x: npt.ArrayLike, p: float) -> float:
    """The sample p-quantile with numpy's default ('linear') method, the same on every side."""
    arr = np.asarray(x, dtype=np.float64)
    if arr.size == 0:
        return math.nan
    return float(np.quantile(arr, p))


def design_effect(x: npt.ArrayLike, p: float, ks: tuple[int, ...] = (8, 16, 32)) -> float:
    """Variance inflation of the exceedance indicator at the sample p-quantile, by batch means.

    The indicator is taken at the sample quantile, which always has about n(1-p) events; the max
    over several batch counts guards against batches shorter than the correlation time.
    """
    arr = np.asarray(x, dtype=np.float64)
    if arr.size < 2:
        return 1.0
    e = (arr > np.quantile(arr, p)).astype(np.float64)
    pi = float(e.mean())
    if not 0.0 < pi < 1.0:
        return 1.0
    d = 1.0
    for k in ks:
        m = e.size // k
        if m >= 2:
            b = e[: m * k].reshape(k, m).mean(axis=1)
            d = max(d, m * float(b.var(ddof=1)) / (pi * (1.0 - pi)))
    return d


def n_batches(n: int, p: float) -> int:
    """Sectioning batch count K for n samples at percentile p, or 0 when fewer than 8 fit."""
    k = min(K_MAX, int(n * (1.0 - p) // MIN_EXC_PER_BATCH))
    return k if k >= K_MIN else 0


def batch_log_quantiles(x: npt.NDArray[np.float64], p: float, k: int) -> npt.NDArray[np.float64]:
    """ln of the p-quantile of each of k contiguous batches (the sectioning statistics)."""
    m = x.size // k
    q = np.quantile(x[: m * k].reshape(k, m), p, axis=1)
    return np.log(np.maximum(q, np.finfo(np.float64).tiny))


def order_bound(x: npt.NDArray[np.float64], p: float, d: float, confidence: float, upper: bool) -> float:
    """Dependence-adjusted one-sided bound on q_p from order statistics (§2.4 point 4).

    Returns ``inf`` (upper) or ``0`` (lower) when the sample cannot bound the quantile.
    """
    from scipy import stats as _st

    n = x.size
    if n == 0:
        return math.inf if upper else 0.0
    z = float(_st.norm.ppf(confidence))
    half = z * math.sqrt(d * p * (1.0 - p) / n)
    xs = np.sort(x)
    if upper:
        rank = math.ceil(n * (p + half + 1.0 / n))
        return float(xs[rank - 1]) if rank <= n else math.inf
    rank = math.floor(n * (p - half - 1.0 / n))
    return float(xs[rank - 1]) if rank >= 1 else 0.0


@dataclass(frozen=True, slots=True)
class BudgetTest:
    """The evidence about one claim ``q_p <= budget`` from one sample."""

    p: float
    budget: float
    n: int
    #: requests over the budget (strictly greater, as MLPerf counts).
    exceed: int
    estimate: float
    lower: float
    upper: float
    design_effect: float
    n_eff: float
    batches: int
    #: P-value of "the budget holds" (small means FAIL is supported).
    p_fail: float
    #: P-value of "the budget is broken" (small means PASS is supported).
    p_pass: float
    #: "PASS", "FAIL" or "INCONCLUSIVE".
    outcome: str
    reason: str
    #: Requests that would probably decide an inconclusive claim (None when decided or unknown).
    needed_n: int | None

    @property
    def headroom(self) -> float:
        """budget / upper bound: above 1 means room to spare at the stated confidence."""
        if self.upper <= 0 or math.isinf(self.upper) or math.isnan(self.upper):
            return 0.0 if math.isinf(self.upper) else math.nan
        return self.budget / self.upper


def _needed_n(p: float, pi_hat: float, d: float, alpha: float) -> int | None:
    """Samples for 80% power to separate the observed exceedance rate from 1-p (normal approx)."""
    from scipy import stats as _st

    star = 1.0 - p
    gap = abs(pi_hat - star)
    if gap <= 1e-12:
        return None
    z = float(_st.norm.ppf(1.0 - alpha) + _st.norm.ppf(0.8))
    gamma = GAMMA_PASS if pi_hat < star else 1.0
    return int(math.ceil(gamma * d * z * z * star * (1.0 - star) / (gap * gap)))


def budget_test(x: npt.ArrayLike, budget: float, p: float, *, alpha: float = 0.01) -> BudgetTest:
    """Test ``q_p(x) <= budget`` on latencies in scheduled order (statistics.md §2.4).

    FAIL needs the D-adjusted exact binomial tail ``p_fail <= alpha``.  PASS needs both the
    D-adjusted binomial (with the 1.5 safety factor on D) and sectioning to agree.  Too few
    effective exceedances, or a sample that cannot be cut into 8 batches, is INCONCLUSIVE.
    """
    from scipy import special
    from scipy import stats as _st

    arr = np.asarray(x, dtype=np.float64)
    n = int(arr.size)
    if n == 0 or not np.all(np.isfinite(arr)):
        bad = "no requests" if n == 0 else "non-finite latencies"
        return BudgetTest(p, budget, n, 0, math.nan, 0.0, math.inf, 1.0, 0.0, 0, 1.0, 1.0,
                          "INCONCLUSIVE", f"{bad}: nothing to decide on", None)
    d = design_effect(arr, p)
    k = int(np.count_nonzero(arr > budget))
    est = quantile(arr, p)
    conf = 1.0 - alpha
    lo, hi = order_bound(arr, p, d, conf, upper=False), order_bound(arr, p, d, conf, upper=True)
    n_eff = n / d
    kk = n_batches(n, p)
    base = dict(p=p, budget=budget, n=n, exceed=k, estimate=est, lower=lo, upper=hi,
                design_effect=d, n_eff=n_eff, batches=kk)
    ne, ke = n_eff, k / d
    p_fail = float(special.betainc(ke, ne - ke + 1.0, 1.0 - p)) if ke > 0 else 1.0
    ne2, ke2 = ne / GAMMA_PASS, ke / GAMMA_PASS
    p_pass_binom = float(special.betainc(ne2 - ke2, ke2 + 1.0, p)) if ne2 > ke2 else 1.0
    p_pass = p_pass_binom
    p_sect = 1.0
    if kk:
        b = batch_log_quantiles(arr, p, kk)
        sd = float(b.std(ddof=1))
        diff = math.log(max(est, np.finfo(np.float64).tiny)) - math.log(budget)
        if sd > 0:
            p_sect = float(_st.t.cdf(diff / (sd / math.sqrt(kk)), kk - 1))
        else:  # every batch has the same quantile: the sign decides
            p_sect = 0.0 if diff < 0 else 1.0
        p_pass = max(p_pass_binom, p_sect)
    base.update(p_fail=p_fail, p_pass=p_pass)
    star = 1.0 - p
    if (n_eff * star < E_MIN or kk == 0) and gross_violation(arr, budget, p, alpha):
        why = (f"every one of {sign_test_blocks(alpha)} consecutive blocks has its {_label(p)} over "
               f"the budget (block sign test, p <= {0.5 ** sign_test_blocks(alpha):.2g})")
        return BudgetTest(**base, outcome="FAIL", reason=why, needed_n=None)  # type: ignore[arg-type]
    if n_eff * star < E_MIN and kk and p_sect <= alpha and clear_pass(arr, budget, p, alpha):
        why = (f"far under budget: each of {sign_test_blocks(alpha) + 1} consecutive blocks has its "
               f"{_label(p)} under half the budget, and sectioning agrees")
        return BudgetTest(**base, outcome="PASS", reason=why, needed_n=None)  # type: ignore[arg-type]
    if n_eff * star < E_MIN or kk == 0:
        need = int(math.ceil(max(E_MIN * d / star, (K_MIN * MIN_EXC_PER_BATCH) / star)))
        why = (f"too few effective samples for {_label(p)}: n={n}, design effect {d:.1f}, "
               f"n_eff={n_eff:.0f}; needs about {need} requests")
        return BudgetTest(**base, outcome="INCONCLUSIVE", reason=why, needed_n=need)  # type: ignore[arg-type]
    if p_fail <= alpha:
        return BudgetTest(**base, outcome="FAIL", reason="", needed_n=None)  # type: ignore[arg-type]
    if p_pass <= alpha:
        return BudgetTest(**base, outcome="PASS", reason="", needed_n=None)  # type: ignore[arg-type]
    need_n = _needed_n(p, k / n, d, alpha)
    why = f"{_label(p)} {est:.3g} is too close to the budget {budget:g} to decide at {conf:.0%}"
    if need_n is not None:
        why += f"; needs about {max(need_n, n)} requests"
    return BudgetTest(**base, outcome="INCONCLUSIVE", reason=why, needed_n=need_n)  # type: ignore[arg-type]


def sign_test_blocks(alpha: float) -> int:
    """Blocks needed for an all-blocks-agree sign test at level alpha: 0.5**K <= alpha."""
    return max(1, math.ceil(math.log2(1.0 / alpha)))


#: A gross budget violation must exceed the budget by this factor in every block.
GROSS_BUDGET_MARGIN = 1.1


def gross_violation(x: npt.NDArray[np.float64], budget: float, p: float, alpha: float) -> bool:
    """A FAIL that needs no dependence estimate: every one of K contiguous blocks has its
    p-quantile above the budget.

    If q_p <= budget, a block's sample quantile exceeds the budget with probability about 1/2 or
    less, and blocks far longer than the correlation time are nearly independent, so all K exceed
    with probability about 0.5**K <= alpha.  It lets a gross violation (every request 10x over)
    fail on a sample far too small for a PASS, where the E_min rule would otherwise say
    INCONCLUSIVE.  Each block must hold at least 2/(1-p) requests so its quantile means something.
    """
    k = sign_test_blocks(alpha)
    m = x.size // k
    if m < 2.0 / (1.0 - p):
        return False
    q = np.quantile(x[: m * k].reshape(k, m), p, axis=1)
    return bool(np.all(q > budget * GROSS_BUDGET_MARGIN))


def clear_pass(x: npt.NDArray[np.float64], budget: float, p: float, alpha: float) -> bool:
    """The mirror of ``gross_violation`` for PASS: far under budget in every block.

    Used only when the design effect leaves too few effective exceedances (E_min) to trust the
    binomial: that happens when exceedances of the *sample* quantile cluster (OS or driver
    hiccups), which says little about a budget many times higher.  Every one of K+1 contiguous
    blocks must have its p-quantile under *half* the budget (a 2x margin), each block holding at
    least 20/(1-p) requests so its quantile is not biased low; sectioning must agree as well.
    """
    k = sign_test_blocks(alpha) + 1
    m = x.size // k
    if m < 20.0 / (1.0 - p):
        return False
    q = np.quantile(x[: m * k].reshape(k, m), p, axis=1)
    return bool(np.all(q < budget / 2.0))


def _label(p: float) -> str:
    text = f"{p * 100:.4f}".rstrip("0").rstrip(".")
    return f"p{text}"


@dataclass(frozen=True, slots=True)
class RegressionTest:
    """The evidence about ``q_p(candidate) / q_p(baseline)`` (statistics.md §2.5 and addendum)."""

    p: float
    ratio: float
    ci_low: float
    ci_high: float
    se: float
    df: float
    p_regress: float
    p_ok: float
    p_improve: float
    #: "REGRESSED", "OK", "IMPROVED" or "INCONCLUSIVE".
    outcome: str
    reason: str
    paired: bool
    n_base: int
    n_cand: int
    #: smallest regression detectable with 80% power at this n (a fraction: 0.07 = 7%).
    mde: float
    #: requests per side that would detect a ``Delta`` regression (None when already able).
    needed_n: int | None


def _t_sf(x: float, df: float) -> float:
    from scipy import stats as _st

    return float(_st.t.sf(x, df))


def regression_test(
    base: npt.ArrayLike,
    cand: npt.ArrayLike,
    p: float,
    *,
    alpha: float = 0.01,
    delta: float = 0.02,
    Delta: float = 0.05,
    sigma_run: float = 0.0,
    runs: tuple[int, int] = (1, 1),
    paired: bool = False,
    sigma_df: float | None = None,
) -> RegressionTest:
    """Did q_p regress from ``base`` to ``cand``?  Both in scheduled order.

    ``sigma_df``: degrees of freedom of ``sigma_run`` when it was estimated (runs - 1).
    ``paired``: the two runs replayed the identical arrival schedule, so batch j of both covers
    the same requests and the batch differences cancel the arrival-driven spread (common random
    numbers).  Otherwise each side's variance comes from its own sectioning (Welch).  ``sigma_run``
    adds run-to-run variance of ln q_p between separate runs.  REGRESSED needs the lower bound of
    the log ratio above ln(1+delta); OK needs the upper bound below ln(1+Delta).
    """
    from scipy import stats as _st

    x = np.asarray(base, dtype=np.float64)
    y = np.asarray(cand, dtype=np.float64)
    nx, ny = int(x.size), int(y.size)
    nan = math.nan

    def out(outcome: str, reason: str, **kw: Any) -> RegressionTest:
        fields = dict(p=p, ratio=nan, ci_low=nan, ci_high=nan, se=nan, df=nan, p_regress=1.0,
                      p_ok=1.0, p_improve=1.0, paired=paired, n_base=nx, n_cand=ny, mde=nan,
                      needed_n=None)
        fields.update(kw)
        return RegressionTest(outcome=outcome, reason=reason, **fields)  # type: ignore[arg-type]

    if nx == 0 or ny == 0 or not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        return out("INCONCLUSIVE", "a sample is empty or holds non-finite latencies")
    if np.any(x <= 0) or np.any(y <= 0):
        return out("INCONCLUSIVE", "latencies must be positive to compare on a log scale")
    if paired and nx != ny:
        # The same schedule: the shorter run is a prefix of the longer one, so pair on it.
        nx = ny = min(nx, ny)
        x, y = x[:nx], y[:ny]
    theta = math.log(quantile(y, p)) - math.log(quantile(x, p))
    dx, dy = design_effect(x, p), design_effect(y, p)
    kx, ky = n_batches(nx, p), n_batches(ny, p)
    star = 1.0 - p
    # Paired runs share their arrivals, so the queueing dependence that inflates each side's
    # design effect largely cancels in the batch differences; only the batch count must suffice.
    thin = (not paired) and min(nx / dx, ny / dy) * star < E_MIN
    if thin or 0 in (kx, ky):
        need: int | None = int(math.ceil(max(E_MIN * max(dx, dy), K_MIN * MIN_EXC_PER_BATCH) / star))
        gross = gross_shift(x, y, p, alpha=alpha, delta=delta, paired=paired)
        if gross is not None:
            k = sign_test_blocks(alpha)
            return out(gross, f"every one of {k} consecutive blocks moved the same way by more than "
                       f"{delta:.0%} (block sign test, p <= {0.5 ** k:.2g}); ratio {math.exp(theta):.2f}",
                       ratio=math.exp(theta), p_regress=0.5 ** k if gross == "REGRESSED" else 1.0,
                       p_improve=0.5 ** k if gross == "IMPROVED" else 1.0)
        return out("INCONCLUSIVE", f"too few effective samples for {_label(p)} on one side "
                   f"(design effects {dx:.1f} / {dy:.1f}); needs about {need} requests per side",
                   ratio=math.exp(theta), needed_n=need)
    if paired:
        # Joint sectioning: batch j of both runs covers the same requests.  The statistic is the
        # mean of the batch log-ratios, whose standard error the batch differences estimate; the
        # pooled-quantile ratio would be dominated by the few bursty batches and its spread
        # underestimated (measured: 4.8% A/A false alarms at nominal 1% on bursty MMPP arrivals).
        k = min(kx, ky)
        d = batch_log_quantiles(y, p, k) - batch_log_quantiles(x, p, k)
        theta = float(d.mean())
        var = float(d.var(ddof=1)) / k
        df = float(k - 1)
    else:
        vx = float(batch_log_quantiles(x, p, kx).var(ddof=1)) / kx
        vy = float(batch_log_quantiles(y, p, ky).var(ddof=1)) / ky
        var = vx + vy
        denom = (vx * vx / (kx - 1) if vx else 0.0) + (vy * vy / (ky - 1) if vy else 0.0)
        df = var * var / denom if denom > 0 else float(kx + ky - 2)
    between = sigma_run ** 2 * (1.0 / runs[0] + 1.0 / runs[1])
    se = max(math.sqrt(var + between), 1e-12)
    if between > 0 and sigma_df:
        # sigma_run estimated from a few stored runs: its uncertainty enters the degrees of freedom
        # (Welch-Satterthwaite), or the test would be anti-conservative (validity grid, noise cells).
        df = (var + between) ** 2 / ((var * var / df if var else 0.0) + between * between / sigma_df)
    up, lo = math.log1p(delta), math.log1p(Delta)
    p_reg = _t_sf((theta - up) / se, df)
    p_ok = float(_st.t.cdf((theta - lo) / se, df))
    p_imp = float(_st.t.cdf((theta + up) / se, df))
    tq = float(_st.t.ppf(1.0 - alpha, df))
    z80 = float(_st.norm.ppf(0.8))
    mde = math.exp(up + (tq + z80) * se) - 1.0
    need = None
    if mde > Delta and lo > up:
        need = int(math.ceil(max(nx, ny) * ((tq + z80) * se / (lo - up)) ** 2))
    common = dict(ratio=math.exp(theta), ci_low=math.exp(theta - tq * se),
                  ci_high=math.exp(theta + tq * se), se=se, df=df, p_regress=p_reg, p_ok=p_ok,
                  p_improve=p_imp, mde=mde, needed_n=need)
    detect = f"can detect >= {mde:.0%} at n={max(nx, ny)}"
    if need:
        detect += f"; needs about {need} per side for {Delta:.0%}"
    if p_reg <= alpha:
        return out("REGRESSED", f"{_label(p)} is {math.exp(theta) - 1:+.1%} with the lower bound above "
                   f"+{delta:.0%}", **common)
    if p_imp <= alpha:
        return out("IMPROVED", f"{_label(p)} is {math.exp(theta) - 1:+.1%}", **common)
    if p_ok <= alpha:
        return out("OK", f"no regression of {Delta:.0%} or more ({detect})", **common)
    return out("INCONCLUSIVE", f"the change {math.exp(theta) - 1:+.1%} is within the noise; {detect}",
               **common)


#: A "gross" change or violation must clear this factor in every block (see gross_shift).
GROSS_MARGIN = 1.25


def run_to_run_sd(samples: list[npt.NDArray[np.float64]], p: float, *, same_schedule: bool = False) -> float | None:
    """Between-run sd of ln q_p from several runs of the same test (statistics.md §2.5.3).

    Runs of different schedules: method of moments, the variance of the per-run log-quantiles
    minus their mean within-run (sectioning) variance.  Runs that replayed the *same* schedule
    share their arrival-driven variation, so the within-run variance (which contains it) must not
    be subtracted: the spread of the log-quantiles is itself the run-to-run term a paired
    comparison faces (subtracting it gave 12% A/A false alarms in the validity grid).
    Returned as a 90% upper confidence limit, not a point estimate (see below).
    None when fewer than 3 usable runs."""
    logs, within = [], []
    for x in samples:
        k = n_batches(x.size, p)
        if not k or np.any(x <= 0):
            continue
        b = batch_log_quantiles(x, p, k)
        # Same schedule: the paired test's statistic is the mean batch log-quantile, so its
        # between-run spread is what matters; otherwise the pooled log-quantile's.
        logs.append(float(b.mean()) if same_schedule else math.log(float(np.quantile(x, p))))
        within.append(float(b.var(ddof=1)) / k)
    if len(logs) < 3:
        return None
    spread = float(np.var(logs, ddof=1))
    point = math.sqrt(spread if same_schedule else max(0.0, spread - float(np.mean(within))))
    # A few runs estimate a spread poorly, and an underestimate means false alarms: use the
    # one-sided 90% upper confidence limit (chi-square with runs - 1 degrees of freedom).
    from scipy import stats as _st

    h = len(logs) - 1
    return point * math.sqrt(h / float(_st.chi2.ppf(0.10, h)))


def gross_shift(x: npt.NDArray[np.float64], y: npt.NDArray[np.float64], p: float, *,
                alpha: float, delta: float, paired: bool) -> str | None:
    """"REGRESSED"/"IMPROVED" when every one of K blocks moved beyond the noise floor, else None.

    The baseline-comparison twin of ``gross_violation``: it needs no design effect, so a change
    of 2x is not left INCONCLUSIVE on a sample too small for the fine test.  Paired: block j of the
    candidate against block j of the baseline (same requests).  Unpaired: every candidate block
    against the extreme of the baseline's blocks, which is conservative.
    """
    k = sign_test_blocks(alpha)
    mx, my = x.size // k, y.size // k
    if min(mx, my) < 2.0 / (1.0 - p):
        return None
    qx = np.quantile(x[: mx * k].reshape(k, mx), p, axis=1)
    qy = np.quantile(y[: my * k].reshape(k, my), p, axis=1)
    # Neighbouring blocks of a queue are not independent, so the 0.5**K bound needs a margin:
    # only a shift of at least GROSS_MARGIN in every block counts (validity grid, n=2,000 cells).
    up = max(1.0 + delta, GROSS_MARGIN)
    if paired and x.size == y.size:
        if np.all(qy > qx * up):
            return "REGRESSED"
        if np.all(qy * up < qx):
            return "IMPROVED"
        return None
    if np.all(qy > qx.max() * up):
        return "REGRESSED"
    if np.all(qy * up < qx.min()):
        return "IMPROVED"
    return None


def stationarity(x: npt.ArrayLike, p: float, *, alpha: float = 0.001) -> tuple[bool, float, float]:
    """First half against second half of a run: (drifted, ratio second/first, p-value).

    A run whose p-quantile moved significantly between its halves did not reach a steady state;
    its percentile describes no single regime.
    """
    arr = np.asarray(x, dtype=np.float64)
    half = arr.size // 2
    if half < 2 or not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        return False, math.nan, 1.0
    r = regression_test(arr[:half], arr[half:2 * half], p, alpha=alpha, delta=0.0, Delta=0.0)
    if math.isnan(r.se):
        # Too few effective samples for the fine test: a strong monotone trend of the block
        # quantiles (Kendall's tau over 16 blocks) that moved them by 25% or more still counts,
        # which catches an overloaded queue that grows through the run.
        k = 16
        m = arr.size // k
        if m < 2.0 / (1.0 - p):
            return False, r.ratio, 1.0
        from scipy import stats as _st

        q = np.quantile(arr[: m * k].reshape(k, m), p, axis=1)
        tau = _st.kendalltau(np.arange(k), q)
        moved = q[-4:].mean() / q[:4].mean()
        drift = bool(tau.pvalue <= alpha and (moved >= GROSS_MARGIN or moved <= 1.0 / GROSS_MARGIN))
        return drift, r.ratio, float(tau.pvalue)
    pval = 2.0 * min(r.p_regress, r.p_improve)
    return pval <= alpha, r.ratio, pval


def holm(pvalues: list[float]) -> list[float]:
    """Holm step-down adjusted p-values (family-wise error control under any dependence)."""
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: pvalues[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * pvalues[i]))
        adjusted[i] = running
    return adjusted


#: Batches of the per-run statistic ``run_statistic`` (the paired test's own count at n >= 10k).
RUN_STAT_BATCHES = 20


def run_statistic(x: npt.ArrayLike, p: float, k: int = RUN_STAT_BATCHES) -> float:
    """One run's level of q_p: the mean of the log p-quantiles of ``k`` contiguous batches.

    Of the run-level statistics measured on the validity grid (the pooled log-quantile, band
    averages) it has the smallest spread between runs of one schedule, up to 2.7x smaller on
    Pareto and bimodal service, where the pooled p95 sits in a thin part of the distribution.
    """
    arr = np.asarray(x, dtype=np.float64)
    k = max(1, min(k, arr.size))
    return float(batch_log_quantiles(arr, p, k).mean())


def ab_test(base: list[npt.NDArray[np.float64]], cand: list[npt.NDArray[np.float64]], p: float, *,
            alpha: float = 0.01, delta: float = 0.02, Delta: float = 0.05) -> RegressionTest:
    """Same-machine A/B: base runs A_1..A_R and candidate runs B_1..B_R, interleaved ABAB.. and
    replaying one schedule.  theta = mean T(B) - mean T(A) with T = ``run_statistic``; its
    variance from the spread of the 2R runs themselves (pooled, df 2R - 2), which holds every
    run-level noise once; a shift of the machine shared by the session cancels.  The pooled
    variance is floored by the within-run variance of a run's statistic (half the paired batch
    variance of each pair), so a few runs that happen to agree cannot make the test razor-sharp.
    With one run a side there is no run-level spread: REGRESSED is refused (statistics.md).
    """
    from scipy import stats as _st

    ra, rb = len(base), len(cand)
    nan = math.nan
    n = min(min(x.size for x in base), min(y.size for y in cand)) if ra and rb else 0

    def out(outcome: str, reason: str, **kw: Any) -> RegressionTest:
        fields = dict(p=p, ratio=nan, ci_low=nan, ci_high=nan, se=nan, df=nan, p_regress=1.0, p_ok=1.0,
                      p_improve=1.0, paired=True, n_base=n, n_cand=n, mde=nan, needed_n=None)
        fields.update(kw)
        return RegressionTest(outcome=outcome, reason=reason, **fields)  # type: ignore[arg-type]

    if not ra or not rb or n < RUN_STAT_BATCHES * 2:
        return out("INCONCLUSIVE", "too few runs or requests for an A/B comparison")
    xs = [np.asarray(x[:n], dtype=np.float64) for x in base]
    ys = [np.asarray(y[:n], dtype=np.float64) for y in cand]
    if any(not np.all(np.isfinite(a)) or np.any(a <= 0) for a in xs + ys):
        return out("INCONCLUSIVE", "a run holds non-finite or non-positive latencies")
    ta = np.array([run_statistic(x, p) for x in xs])
    tb = np.array([run_statistic(y, p) for y in ys])
    theta = float(tb.mean() - ta.mean())
    k = RUN_STAT_BATCHES
    within = [float((batch_log_quantiles(y, p, k) - batch_log_quantiles(x, p, k)).var(ddof=1)) / k / 2.0
              for x, y in zip(xs, ys)]
    w = float(np.mean(within))
    f = 1.0 / ra + 1.0 / rb
    dfp = ra + rb - 2
    if dfp < 1:
        se = math.sqrt(w * f)
        t = out("INCONCLUSIVE", "", ratio=math.exp(theta), se=se)
        if theta + float(_st.norm.ppf(1 - alpha)) * se < math.log1p(Delta):
            return out("OK", f"no regression of {Delta:.0%} or more (one run a side: within-run "
                       f"noise only)", ratio=math.exp(theta), se=se)
        return out("INCONCLUSIVE", f"{_label(p)} {math.exp(theta) - 1:+.1%} with one run a side, which "
                   f"cannot show run-to-run noise; use --runs 3 or more", ratio=t.ratio, se=se)
    ss = float(((ta - ta.mean()) ** 2).sum() + ((tb - tb.mean()) ** 2).sum())
    s2 = max(ss / dfp, w)
    se = max(math.sqrt(s2 * f), 1e-12)
    df = float(dfp)
    up, lo = math.log1p(delta), math.log1p(Delta)
    p_reg = _t_sf((theta - up) / se, df)
    p_ok = float(_st.t.cdf((theta - lo) / se, df))
    p_imp = float(_st.t.cdf((theta + up) / se, df))
    tq = float(_st.t.ppf(1.0 - alpha, df))
    mde = math.exp(up + (tq + float(_st.norm.ppf(0.8))) * se) - 1.0
    common = dict(ratio=math.exp(theta), ci_low=math.exp(theta - tq * se), ci_high=math.exp(theta + tq * se),
                  se=se, df=df, p_regress=p_reg, p_ok=p_ok, p_improve=p_imp, mde=mde)
    detect = f"can detect >= {mde:.0%} with {ra}+{rb} runs"
    if p_reg <= alpha:
        return out("REGRESSED", f"{_label(p)} is {math.exp(theta) - 1:+.1%} against the base, the lower "
                   f"bound above +{delta:.0%} ({ra}+{rb} interleaved runs)", **common)
    if p_imp <= alpha:
        return out("IMPROVED", f"{_label(p)} is {math.exp(theta) - 1:+.1%} against the base", **common)
    if p_ok <= alpha:
        return out("OK", f"no regression of {Delta:.0%} or more ({detect})", **common)
    return out("INCONCLUSIVE", f"the change {math.exp(theta) - 1:+.1%} is within the noise; {detect}", **common)

"""Quantile statistics for dependent (queueing) latencies (layer 1: numpy and scipy only).

Latencies from an open-loop run are autocorrelated: a slow request delays the ones queued behind
it.  Every test here therefore works on samples in *scheduled* order and inflates its variance by a
design effect estimated from batch means (statistics.md §2.3), or uses sectioning (contiguous
batches, §2.4-2.5).  Nothing here knows about pytest, specs or GPUs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

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
    from scipy import special, stats as _st

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
    need = _needed_n(p, k / n, d, alpha)
    why = f"{_label(p)} {est:.3g} is too close to the budget {budget:g} to decide at {conf:.0%}"
    if need is not None:
        why += f"; needs about {max(need, n)} requests"
    return BudgetTest(**base, outcome="INCONCLUSIVE", reason=why, needed_n=need)  # type: ignore[arg-type]


def sign_test_blocks(alpha: float) -> int:
    """Blocks needed for an all-blocks-agree sign test at level alpha: 0.5**K <= alpha."""
    return max(1, math.ceil(math.log2(1.0 / alpha)))


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
    return bool(np.all(q > budget))


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

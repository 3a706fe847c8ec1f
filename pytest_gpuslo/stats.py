"""Quantile statistics for dependent (queueing) latencies (layer 1: numpy and scipy only).

Latencies from an open-loop run are autocorrelated: a slow request delays the ones queued behind
it.  Every test here therefore works on samples in *scheduled* order and inflates its variance by a
design effect estimated from batch means (statistics.md §2.3), or uses sectioning (contiguous
batches, §2.4-2.5).  Nothing here knows about pytest, specs or GPUs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt

#: Minimum effective exceedances for any verdict (statistics.md §2.2, E_min).
E_MIN = 20.0
#: Safety factor on the design effect for PASS claims (§2.4 point 5).
GAMMA_PASS = 1.5
#: Sectioning batches: at most 20, at least 8, about 25 exceedances each.
K_MAX, K_MIN, MIN_EXC_PER_BATCH = 20, 8, 25
#: A "gross" change must clear this factor in every block (see gross_shift).
GROSS_MARGIN = 1.25


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
    return design_effect_at(arr, float(np.quantile(arr, p)), ks)


def design_effect_at(x: npt.NDArray[np.float64], level: float, ks: tuple[int, ...] = (4, 8, 16, 32)) -> float:
    """Batch-means variance inflation of the indicator ``x > level`` (the largest over ``ks``)."""
    e = (x > level).astype(np.float64)
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


def budget_design_effect(x: npt.NDArray[np.float64], budget: float, p: float) -> float:
    """The design effect a claim ``q_p <= budget`` is judged with: the largest over the levels
    {budget, sample q_p, sample q_(1-2(1-p))} and over 4, 8, 16 and 32 batches.

    Estimated at the sample quantile alone, a lucky run (a low sample p95) also gets a low design
    effect and clears the effective-sample minimum: up to 21% false PASS at a true p95 equal to the
    budget on bursty queues.  At the budget alone it is worse (a lucky run has fewer, shorter
    clusters there: 48.8%).  The lower level has twice the exceedances (a steadier cluster size) and
    4 batches see correlation as long as a quarter of the run, which 8-32 batches hide; together
    they held false PASS at or under 1.5 alpha on every cell of the validity grid (statistics.md).
    """
    if x.size < 2:
        return 1.0
    levels = (budget, float(np.quantile(x, p)), float(np.quantile(x, max(0.0, 1.0 - 2.0 * (1.0 - p)))))
    return max(design_effect_at(x, level) for level in levels)


def clear_violation(x: npt.NDArray[np.float64], budget: float, p: float, alpha: float, blocks: int = 7,
                    share: float = 0.5, margin: float = 1.25) -> bool:
    """A FAIL that needs no dependence estimate: enough of ``blocks`` contiguous blocks have at least
    ``share`` of their requests over ``margin`` x the budget.

    If q_p <= B, a block's expected share over B is at most 1 - p, so by Markov's inequality a block
    reaches ``share`` with probability at most (1 - p) / share; FAIL when the binomial tail of the
    blocks that do is under alpha / 50 (5 of 7 blocks for p95, 4 of 7 for p99), the slack and the
    1.25 margin paying for dependence between blocks (4 of 7 at 1.0 B falsely failed 2.5-2.8% of
    boundary runs on on-off queues; this rule 0.2-0.5%).  It fails the runs the effective-sample
    rule left INCONCLUSIVE: 480 of 600 requests over budget, or a hung lane.
    """
    return clear_violation_p(x, budget, p, blocks, share, margin) <= alpha / 50.0


#: The second share ``clear_violation`` reads: a fifth of every block over 1.25 x the budget at p95
#: (4 of 7 blocks at p99), the same Markov bound at the same alpha / 50.  review164 F3: a body
#: raising on every third request (66 of 200 over, spread evenly, design effect 1.0) was
#: INCONCLUSIVE on E_min, and no block half over budget; on the grid this share fired at the true
#: p95 or p99 in at most 0.2% of runs of 200-3,000 requests, below the half share's 0.8%
#: (``benchmarks/validity/spread_violation.py``).
THIN_SHARE = 0.2


def clear_violation_p(x: npt.NDArray[np.float64], budget: float, p: float, blocks: int = 7,
                      share: float = 0.5, margin: float = 1.25) -> float:
    """The binomial tail of ``clear_violation``: P(at least as many blocks reach ``share``) with
    each block's chance bounded by Markov, (1 - p) / share; 1.0 where the blocks cannot be cut.
    The p-value the suite's Holm adjustment reads for a FAIL this rule decided."""
    from scipy import stats as _st

    m = x.size // blocks
    if m < 1:
        return 1.0
    frac = (x[: m * blocks].reshape(blocks, m) > margin * budget).mean(axis=1)
    q = min(1.0, (1.0 - p) / share)
    return float(_st.binom.sf(int(np.count_nonzero(frac >= share)) - 1, blocks, q))


#: The slow-stretch rule cuts a run's own times into at most this many blocks, of at least
#: ``SLOW_BLOCK_MIN`` requests each, and needs ``SLOW_MIN_BLOCKS`` of them to say anything.
SLOW_BLOCKS_MAX = 28
SLOW_BLOCK_MIN = 10
SLOW_MIN_BLOCKS = 7


def _end_blocks(x: npt.NDArray[np.float64], level: float) -> tuple[npt.NDArray[np.bool_], int, int] | None:
    """``x > level`` cut into the slow-stretch rule's blocks (at most ``SLOW_BLOCKS_MAX`` of at least
    ``SLOW_BLOCK_MIN`` requests), aligned with the run's end: (k x m matrix, requests skipped at the
    start, m); None below ``SLOW_MIN_BLOCKS`` blocks.  One cut for every rule that reads it."""
    k = min(SLOW_BLOCKS_MAX, x.size // SLOW_BLOCK_MIN)
    if k < SLOW_MIN_BLOCKS:
        return None
    m = x.size // k
    skip = x.size - m * k  # blocks end with the run: a slowdown near its end is the one to see whole
    return x[skip:].reshape(k, m) > level, skip, m


def slow_stretch(own: npt.NDArray[np.float64], budget: float, p: float, share: float = 0.5,
                 margin: float = 1.0) -> tuple[float, int, int, int | None]:
    """A FAIL for a body that got slow and stayed slow, read off the requests' *own* times (the time
    on a CPU or asleep: no other request's queue adds to it, and latency is never below it).

    (tail, bad blocks, blocks, first request of the first bad block).  The run is cut into K
    blocks (``SLOW_BLOCKS_MAX``, each at least ``SLOW_BLOCK_MIN`` requests); a block is bad when
    ``share`` of its own times are over ``margin`` x the budget (the budget itself: an own time
    never exceeds its latency, and a 1.25 margin let a step to 1.2x the budget over 60% of a run
    pass: review56).  If q_p <= B, Markov bounds a
    block's chance of that by (1 - p) / share whatever the dependence inside it; the tail is the
    binomial's of as many bad blocks.  On latencies such fine blocks would read a queue's long
    busy periods as a violation; own times have no queue, so blocks this short stay nearly
    independent unless the body's own slow spells last about a block or longer (statistics.md,
    "A body that got slow": false FAIL 0-1% up to spells of n/11 requests).  It FAILs where the
    effective-sample rule cannot: a step to 2x the budget from 45% of the run on read "design
    effect 200, needs about 80,000 requests" and passed (review55).
    """
    from scipy import stats as _st

    q = min(1.0, (1.0 - p) / share)
    cut = _end_blocks(own, margin * budget)
    if cut is None or q >= 1.0:
        return 1.0, 0, min(SLOW_BLOCKS_MAX, own.size // SLOW_BLOCK_MIN), None
    over, skip, m = cut
    k = over.shape[0]
    frac = over.mean(axis=1)
    bad = np.flatnonzero(frac >= share)
    tail = float(_st.binom.sf(bad.size - 1, k, q)) if bad.size else 1.0
    return tail, int(bad.size), k, (skip + int(bad[0]) * m if bad.size else None)


def trailing_stretch(x: npt.NDArray[np.float64], budget: float, share: float = 0.5,
                     margin: float = 1.25) -> int | None:
    """Where a stretch of slow requests that lasts to the end of the run begins: the first of the
    trailing ``slow_stretch`` blocks that each have ``share`` of their requests over ``margin`` x the
    budget, at least two of them; None otherwise."""
    cut = _end_blocks(x, margin * budget)
    if cut is None:
        return None
    over, skip, m = cut
    good = np.flatnonzero(over.mean(axis=1) < share)
    first = int(good[-1]) + 1 if good.size else 0
    return skip + first * m if over.shape[0] - first >= 2 else None


def slow_run_needed(onset: int, p: float, alpha: float, share: float = 0.5) -> int | None:
    """The run ``slow_stretch`` FAILs if the own times stay over the budget from ``onset`` on: its
    28 blocks must hold as many bad ones as the rule needs, one more for where the step falls in
    a block; None where the rule never decides (p50 and below)."""
    from scipy import stats as _st

    q = min(1.0, (1.0 - p) / share)
    k = SLOW_BLOCKS_MAX
    if q >= 1.0:
        return None
    bad = next((b for b in range(1, k + 1) if _st.binom.sf(b - 1, k, q) <= alpha / 50.0), k + 1)
    if bad + 1 >= k:
        return None
    return max(k * SLOW_BLOCK_MIN, int(math.ceil(onset / (1.0 - (bad + 1) / k))))


def warm_up_end(x: npt.NDArray[np.float64], budget: float, p: float, share: float = 0.5) -> int | None:
    """Where a run that started over budget got within it for good (the requests a longer warm-up
    would take), or None where it is no warm-up.  A warm-up too short is not a steady state, so
    the rules that read a run's shape (``clear_violation``, ``slow_stretch``) do not FAIL it
    (review56: a cache cold for the first 45% of a run, warm after, FAILed "the bodies themselves
    got slow").

    Its ``slow_stretch`` blocks with ``share`` of their requests over the budget are one stretch
    from the start: no block within the allowance (1 - p over) comes before the last of them
    (review57: slow for 0-5% and 20-70% of a run read "warm-up" and passed).  The share over budget
    fitted non-increasing over the run (isotonic regression: it falls and stays fallen) reaches
    twice the allowance with at least one ``clear_violation`` block (n / 7) of the run left,
    however late (review57: cold to 77-80% FAILed on a fixed last quarter; twice, because the
    fitted share of a steady state at the allowance wanders over it).  It ends where that share
    is within the allowance, and no earlier than the last slow block (review57: "raise by 33"
    where the share stayed over 5% to 82% of the run); what follows that end is not clearly over
    the allowance (review58: cold for half a run, then 9% over to its end, passed as a warm-up)."""
    from scipy.optimize import isotonic_regression

    cut = _end_blocks(x, budget)
    if cut is None:
        return None
    over, skip, m = cut
    frac = over.mean(axis=1)
    slow = np.flatnonzero(frac >= share)
    fast = np.flatnonzero(frac <= 1.0 - p)
    if not slow.size or (fast.size and fast[0] < slow[-1]):
        return None
    last = skip + (int(slow[-1]) + 1) * m
    fit = isotonic_regression((x > budget).astype(np.float64), increasing=False).x

    def falls_to(level: float) -> int:
        under = np.flatnonzero(fit <= level + 1e-12)
        return max(last, int(under[0]) if under.size else x.size)

    tail, fallen = x.size - x.size // 7, falls_to(2.0 * (1.0 - p))
    if fallen > tail:
        return None
    # What follows must not be clearly over the allowance (one-sided 1%, as if independent): a body
    # cold for half a run and then 9% over to its end read "within it after" and passed (review58).
    rest = x[fallen:]
    beyond, allowed = float(np.count_nonzero(rest > budget)), (1.0 - p) * rest.size
    if beyond > allowed + 2.33 * math.sqrt(allowed * p):
        return None
    return min(falls_to(1.0 - p), tail)  # a few requests over late in the run do not push it to the end


#: The words every warm-up reason holds (``warm_up_words``): reports put it in a row's few words.
WARM_UP_TOO_SHORT = "a warm-up too short"


def warm_up_words(end: int, n: int, raised: int = 0, busy: str = "") -> str:
    """Why a run over budget only at its start is INCONCLUSIVE (``warm_up_end``); ``raised``: how
    many of those first ``end`` requests raised, which no longer warm-up should hide (review104:
    "raise warmup_requests by about 200" where the first 200 measured requests raised); ``busy``:
    the neighbours' load during the run, which may have been the slow start (review171 F1: a
    constant loop told to add 1,279 warm-up requests beside 1.8 of 2 CPUs busy)."""
    if raised:
        return (f"{raised:,} of the run's first {end:,} requests raised: an error at the start is no "
                f"warm-up, and a longer one would hide it; fix what raised")
    if busy:
        return (f"the run was over the budget from its start to {end / n:.0%} of it and within it after, and "
                f"{busy}: their load then or {WARM_UP_TOO_SHORT}, not a steady state; run again on a quieter "
                f"machine, and if it starts slow there too, raise warmup_requests by about {end}")
    return (f"the run was over the budget from its start to {end / n:.0%} of it and within it after: "
            f"{WARM_UP_TOO_SHORT}, not a steady state; raise warmup_requests by about {end} and run again")


def slow_stretches(x: npt.NDArray[np.float64], budget: float, share: float = 0.5,
                   most: int = 3) -> list[tuple[int, int]] | None:
    """(first, end) of each stretch that holds the run's slow requests: runs of contiguous
    ``slow_stretch`` blocks with ``share`` of their requests over the budget, at least two blocks
    in all, at most ``most`` stretches, holding most of the requests over it; None otherwise.
    Episodes: whether they recur is what a longer run shows (review59: two spells over 30% of a
    run read only "needs about 82,000 requests", and at twice the run twice that)."""
    cut = _end_blocks(x, budget)
    if cut is None:
        return None
    over, skip, m = cut
    bad = np.flatnonzero(over.mean(axis=1) >= share)
    if bad.size < 2 or over[bad].sum() * 2 < over.sum():
        return None
    breaks = np.flatnonzero(np.diff(bad) > 1)
    firsts, lasts = np.concatenate(([bad[0]], bad[breaks + 1])), np.concatenate((bad[breaks], [bad[-1]]))
    if firsts.size > most:
        return None
    return [(skip + int(f) * m, skip + (int(e) + 1) * m) for f, e in zip(firsts, lasts)]


def _blocks_words(bad: int, blocks: int = 7) -> str:
    """"each of 7 consecutive blocks has" / "5 or more of 7 consecutive blocks have"."""
    return (f"each of {blocks} consecutive blocks has" if bad >= blocks
            else f"{bad} or more of {blocks} consecutive blocks have")


def clear_blocks(p: float, alpha: float, blocks: int = 7, share: float = 0.5) -> int:
    """How many of ``blocks`` blocks ``clear_violation`` needs bad to FAIL (``blocks + 1``: never)."""
    from scipy import stats as _st

    q = min(1.0, (1.0 - p) / share)
    return next((b for b in range(1, blocks + 1) if _st.binom.sf(b - 1, blocks, q) <= alpha / 50.0), blocks + 1)


def n_batches(n: int, p: float) -> int:
    """Sectioning batch count K for n samples at percentile p, or 0 when fewer than 8 fit."""
    # rounded first: 2,000 x (1 - 0.9) is 199.99999999999994 in floats, and read 7 batches (review94)
    k = min(K_MAX, int(round(n * (1.0 - p), 6) // MIN_EXC_PER_BATCH))
    return k if k >= K_MIN else 0


def batch_log_quantiles(x: npt.NDArray[np.float64], p: float, k: int) -> npt.NDArray[np.float64]:
    """ln of the p-quantile of each of k contiguous batches (the sectioning statistics)."""
    m = x.size // k
    q = np.quantile(x[: m * k].reshape(k, m), p, axis=1)
    return np.log(np.maximum(q, np.finfo(np.float64).tiny))


def order_bound(x: npt.NDArray[np.float64], p: float, d: float, confidence: float, upper: bool) -> float:
    """Dependence-adjusted one-sided bound on q_p from order statistics (§2.4 point 4).

    Lower: the binomial FAIL test inverted.  With k* the fewest requests over a level for which
    ``betainc(k/D, (n - k)/D + 1, 1 - p)`` (the D-adjusted binomial ``budget_test`` FAILs by) is at
    most 1 - confidence, the bound is the k*-th largest request: it lies over a budget exactly when
    that test rejects q_p <= budget.  (The normal approximation used before printed a 99% lower
    bound of 64 ms over a 40 ms budget on a run of 3 effective requests that the binomial called
    INCONCLUSIVE; a first beta version still disagreed with the test near the boundary in 9% of
    FAILs, both found by independent reviewers.)  Upper: the order statistic at the beta quantile of
    the share under q_p on n/D effective requests.  ``inf`` (upper) or ``0`` (lower) when the sample
    cannot bound the quantile.
    """
    from scipy import special
    from scipy import stats as _st

    n = x.size
    if n == 0:
        return math.inf if upper else 0.0
    dd = max(d, 1.0)
    xs = np.sort(x)
    if upper:
        ne = n / dd
        share = float(_st.beta.ppf(confidence, ne * p + 1.0, ne * (1.0 - p))) if p < 1.0 else math.nan
        rank = math.ceil(n * share + 1.0) if math.isfinite(share) else n + 1
        return float(xs[rank - 1]) if rank <= n else math.inf
    if not 0.0 < p < 1.0:
        return 0.0
    alpha = 1.0 - confidence

    def rejects(k: int) -> bool:
        return float(special.betainc(k / dd, (n - k) / dd + 1.0, 1.0 - p)) <= alpha

    if not rejects(n):
        return 0.0
    lo, hi = 1, n  # the fewest exceedances that reject: monotone in k, so bisect
    while lo < hi:
        mid = (lo + hi) // 2
        if rejects(mid):
            hi = mid
        else:
            lo = mid + 1
    return float(xs[n - lo])


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
    #: ``needed_n`` is what any PASS needs of the run's length (its blocks', or sectioning's
    #: batches'), which no quieter machine changes.
    length_only: bool = False
    #: A PASS on its blocks alone (``clear_pass``): every block far under the budget, the bounds
    #: above resting on a design effect the run holds too few effective exceedances to show.
    on_blocks: bool = False

    @property
    def headroom(self) -> float:
        """budget / upper bound: above 1 means room to spare at the stated confidence."""
        if self.upper <= 0 or math.isinf(self.upper) or math.isnan(self.upper):
            return 0.0 if math.isinf(self.upper) else math.nan
        return self.budget / self.upper


def confidence(alpha: float) -> str:
    """1 - alpha with the digits alpha needs: 99%, 99.99% (review83: "at 100%" at alpha 1e-4)."""
    digits = max(0, math.ceil(-math.log10(alpha)) - 2) if 0.0 < alpha < 1.0 else 0
    return f"{1.0 - alpha:.{digits}%}"


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


def raised_span(latency_ms: npt.ArrayLike, timeout_s: float, raised: int) -> tuple[float, float]:
    """Where a quantile is no latency: above the slowest measured one and up to the timeout that
    ``raised`` requests hold as their stand-in latency (a quantile there is interpolated toward, or
    is, that stand-in: review85, review99 #2).  ``(inf, inf)`` (empty) where nothing raised.  Where
    requests also completed after the timeout, the stand-ins rank below them though they are no
    faster (one that never completed waited longer than any that did, in a queue), so every rank
    from theirs up is no latency either (review107 F3: "p90 3501 ms" where a quarter of the
    requests never completed)."""
    if not raised:
        return (math.inf, math.inf)
    lat = np.asarray(latency_ms, dtype=np.float64)
    stand_in = 1000.0 * timeout_s
    measured = lat[lat < stand_in * (1.0 - 1e-9)]
    late = bool(np.any(lat > stand_in * (1.0 + 1e-9)))
    return (float(measured.max()) if measured.size else -math.inf, math.inf if late else stand_in * (1.0 + 1e-9))


def stand_ins(latency_ms: npt.ArrayLike, timeout_s: float) -> int:
    """How many of a run's latencies are the stand-in a raised request holds (the timeout in ms):
    a stored or base run keeps no count of its raised requests, only their stand-in."""
    lat = np.asarray(latency_ms, dtype=np.float64)
    stand_in = 1000.0 * timeout_s
    return int(np.count_nonzero(np.abs(lat - stand_in) <= stand_in * 1e-9))


def raised_at(latency_ms: npt.ArrayLike, p: float, timeout_s: float) -> bool:
    """A run's p-quantile lies among its raised requests' stand-in (``raised_span``): no latency."""
    lat = np.asarray(latency_ms, dtype=np.float64)
    low, high = raised_span(lat, timeout_s, stand_ins(lat, timeout_s))
    return bool(lat.size) and low < quantile(lat, p) <= high


def stand_in_words(raised: int, unfinished: int) -> tuple[str, str]:
    """(word, requests): what holds the timeout as its latency, for a table cell and a sentence.
    A hang's requests that never completed hold it as raised ones do, but they never raised
    (review104 F6: "p95 500 ms" and "+208.0%" from a hang's stand-ins)."""
    if unfinished and not raised:
        return "timed out", "requests that never completed"
    if unfinished:
        return "raised or timed out", "requests that raised or never completed"
    return "raised", "raised requests"


def within_span(x: npt.NDArray[np.float64], span: tuple[float, float]) -> int:
    """How many of ``x`` lie in a ``raised_span``: raised requests' stand-ins."""
    return int(np.count_nonzero((x > span[0]) & (x <= span[1])))


def budget_test(x: npt.ArrayLike, budget: float, p: float, *, alpha: float = 0.01, raised: int = 0,
                raised_span: tuple[float, float] = (math.inf, math.inf), unfinished: int = 0) -> BudgetTest:
    """Test ``q_p(x) <= budget`` on latencies in scheduled order (statistics.md §2.4).

    FAIL needs the D-adjusted exact binomial tail ``p_fail <= alpha``.  PASS needs both the
    D-adjusted binomial (with the 1.5 safety factor on D) and sectioning to agree.  Too few
    effective exceedances, or a sample that cannot be cut into 8 batches, is INCONCLUSIVE.
    ``raised`` requests hold a stand-in latency (the timeout), as do ``unfinished`` ones (they never
    completed: a hang's); an estimate inside ``raised_span`` (above the slowest measured latency,
    up to that stand-in) is no latency, and the reasons say so rather than quote it (review85,
    review86).
    """
    from scipy import special
    from scipy import stats as _st

    arr = np.asarray(x, dtype=np.float64)
    n = int(arr.size)
    if n == 0 or not np.all(np.isfinite(arr)):
        bad = "no requests" if n == 0 else "non-finite latencies"
        return BudgetTest(p, budget, n, 0, math.nan, 0.0, math.inf, 1.0, 0.0, 0, 1.0, 1.0,
                          "INCONCLUSIVE", f"{bad}: nothing to decide on", None)
    d = budget_design_effect(arr, budget, p)
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
    undecided = n_eff * star < E_MIN or kk == 0
    gross = undecided and gross_violation(arr, budget, p, alpha)
    clear_tail = clear_violation_p(arr, budget, p)  # ``clear_violation``, its tail read once
    # The thin share only where the run is too short for the binomial: a longer run's FAIL and its
    # words stay the binomial's.
    thin_tail = clear_violation_p(arr, budget, p, share=THIN_SHARE) if n_eff * star < E_MIN else 1.0
    thin = clear_tail > alpha / 50.0 and thin_tail <= alpha / 50.0
    clear_tail = min(clear_tail, thin_tail)
    # A warm-up too short is no steady state over budget: none of the shape rules FAILs it (the
    # block sign test included: a cold start over six of its blocks and a seventh over by chance).
    cold = warm_up_end(arr, budget, p) if undecided and (gross or clear_tail <= alpha / 50.0) else None
    if cold is not None:
        return BudgetTest(**base, outcome="INCONCLUSIVE",  # type: ignore[arg-type]
                          reason=warm_up_words(cold, n, within_span(arr[:cold], raised_span)), needed_n=None)
    if gross:
        why = (f"every one of {sign_test_blocks(alpha)} consecutive blocks has its {_label(p)} over "
               f"the budget (block sign test, p <= {0.5 ** sign_test_blocks(alpha):.2g})")
        # The rule's own p-value, not the binomial's that the rule overrode: the suite's Holm
        # adjustment read such FAILs as "could be chance" (review51).
        base.update(p_fail=min(p_fail, 0.5 ** sign_test_blocks(alpha)))
        return BudgetTest(**base, outcome="FAIL", reason=why, needed_n=None)  # type: ignore[arg-type]
    if clear_tail <= alpha / 50.0:
        why = (f"a clear violation: most of 7 consecutive blocks have half their requests over "
               f"1.25 x the budget ({k} of {n} requests over it)") if not thin else \
            (f"a clear violation through the run: {_blocks_words(clear_blocks(p, alpha, share=THIN_SHARE))} a "
             f"fifth of its requests over 1.25 x the budget ({k} of {n} requests over it)")
        base.update(p_fail=min(p_fail, clear_tail * 50.0))
        return BudgetTest(**base, outcome="FAIL", reason=why, needed_n=None)  # type: ignore[arg-type]
    margin = clear_pass_margin(n_eff * star)
    few_to_pass = n * star / (d * GAMMA_PASS) < E_MIN
    if few_to_pass and kk and p_sect <= alpha and clear_pass(arr, budget, p, alpha, margin):
        why = (f"far under budget: each of {sign_test_blocks(alpha) + 1} consecutive blocks has its "
               f"{_label(p)} under {'half' if margin == 2 else f'1/{margin:.3g} of'} the budget, "
               f"and sectioning agrees")
        return BudgetTest(**base, outcome="PASS", reason=why, needed_n=None, on_blocks=True)  # type: ignore[arg-type]
    need = int(math.ceil(round(max(E_MIN * d * GAMMA_PASS / star, (K_MIN * MIN_EXC_PER_BATCH) / star), 6)))
    # A run far under its budget passes on its blocks alone once each block is long enough
    # (``clear_pass``, which sectioning must back): say so where that is fewer requests (a p95 19x
    # under its budget read "needs about 5,351" at 3,000 requests, where 4,000 do: the session-12
    # check).
    clear_n = max((sign_test_blocks(alpha) + 1) * math.ceil(20.0 / star),  # blocks long enough
                  math.ceil(K_MIN * MIN_EXC_PER_BATCH / star))  # and sectioning's batches
    # Promised only this far under (10x): the margin a longer run must clear depends on its own
    # effective exceedances, and 2x under at 3,000 requests needed 10x at 4,000 in a recheck.
    # "At least" the design effect's count: a short run's D is low where slow requests cluster
    # (benchmarks/validity/advice_counts.py: runs of that count PASSed in 0-57% of cases on most
    # families at 3x the true p95; review76 G11, D6).
    length_only = False
    if few_to_pass and n < clear_n < need and est * CLEAR_PASS_MARGIN_FEW < budget:
        need_text = (f"at least about {about(need)} requests, or {about(clear_n)} if it stays this far under budget (each of "
                     f"{sign_test_blocks(alpha) + 1} blocks under 1/{CLEAR_PASS_MARGIN_FEW:g} of the budget "
                     f"passes without the design effect)")
        need, length_only = clear_n, True
    else:
        need_text = f"at least about {about(need)} requests"
    if n_eff * star < E_MIN:
        if est > budget:
            # Leaning FAIL: a FAIL needs E_min effective exceedances at the budget, not the PASS's
            # gamma-inflated count; and say why a run this far over is not one (review50: p95 110 ms
            # against 40, 556 of 1,500 over, read only "needs about 86,537 requests").
            # Enough effective exceedances, and enough to separate their rate from the allowance
            # (review56: "needs about 929", then at 929 "needs about 25,000": both now).
            need = max(n, int(math.ceil(E_MIN * d / star)), _needed_n(p, k / n, d, alpha) or 0)
            onset, need_bad = trailing_stretch(arr, budget), clear_blocks(p, alpha)
            near = trailing_stretch(arr, budget, margin=GROSS_BUDGET_MARGIN)
            spells = slow_stretches(arr, budget)
            kk7 = sign_test_blocks(alpha)
            cold = warm_up_end(arr, budget, p)
            if cold is not None:
                # Over budget only at its start: the warm-up is what to fix first, not a run 100x
                # longer (review58: a cache cold for 30% of a run read "needs about 65,000 requests").
                return BudgetTest(**base, outcome="INCONCLUSIVE",  # type: ignore[arg-type]
                                  reason=warm_up_words(cold, n, within_span(arr[:cold], raised_span)), needed_n=None)
            if k / d >= E_MIN and p_fail <= alpha / 50.0:
                # The run shows E_min effective exceedances itself, though it could hold too few at
                # the budget for its design effect to be trusted there: the binomial at alpha / 50
                # (review165 F1, review166 F9: every 5th of 200 requests raising, 40 over, design
                # effect 1.0, read INCONCLUSIVE; no false FAIL added on the grid at the true p95 or
                # p99, n = 200-3,000, benchmarks/validity/spread_violation.py).
                why = (f"{k} of {n} requests are over the budget, about {k / d:.0f} independent exceedances by the "
                       f"run's own design effect ({d:.1f}), {E_MIN:g} or more, where a run that met the budget would "
                       f"hold about {n_eff * star:.3g} (binomial p {p_fail:.2g}, under alpha / 50)")
                base.update(p_fail=min(1.0, p_fail * 50.0))
                return BudgetTest(**base, outcome="FAIL", reason=why, needed_n=None)  # type: ignore[arg-type]
            if onset is not None and need_bad < 7:
                # One slow stretch to the end of the run: more requests average nothing away, they
                # show whether it lasts (review55: "needs about 80,000" for a step at 45% of 600).
                need = int(math.ceil(onset / (1.0 - need_bad / 7.0)))
                advice = (f"most of them in its last {n - onset} requests; if that lasts, a run of about {about(need)} "
                          f"requests FAILs (half of {need_bad} of its 7 blocks over 1.25 x the budget)")
            elif near is not None and 2.0 * p > 1.0:
                # Under 1.25x: the block sign test decides once its first block holds twice the
                # allowance of slow requests (review56: a step to 1.2x read "needs about 60,000").
                need = int(math.ceil(near * kk7 / (2.0 * p - 1.0)))
                advice = (f"most of them in its last {n - near} requests; if that lasts, a run of about {about(need)} "
                          f"requests FAILs (every one of its {kk7} blocks with its {_label(p)} over "
                          f"{GROSS_BUDGET_MARGIN:g} x the budget)")
            elif spells is not None and len(spells) == 1:
                # One episode that ended: whether such episodes recur is what a longer run shows.
                first, end = spells[0]
                advice = (f"most of them in one stretch, from {first / n:.0%} to {end / n:.0%} of the "
                          f"run, which ended before it did: one episode cannot be told from a rare long burst; "
                          f"if such stretches recur as often, about {about(need)} requests hold enough of them")
            elif spells is not None:
                where = ", ".join(f"{a / n:.0%}-{b / n:.0%}" for a, b in spells)
                advice = (f"most of them in {len(spells)} stretches ({where} of the run): so few episodes cannot "
                          f"be told from rare long bursts; if such stretches recur as often (every "
                          f"{n // len(spells)} requests or so), about {about(need)} requests hold enough of them; "
                          f"a run that holds the same {len(spells)} stretches however long it is never will")
            else:
                advice = f"needs about {about(need)} requests"
            # review104: "(p95 500 > 30)", the timeout the raised requests hold
            level = (f"{_label(p)} among the {stand_in_words(raised, unfinished)[1]}"
                     if raised_span[0] < est <= raised_span[1]
                     else f"{_label(p)} {est:.3g} > {budget:g}")
            # review164 F3, review166 F10: "in clusters (design effect 1.0: about 66.0 independent
            # exceedances), too few ..." where the run was too short for its design effect, not clustered
            what = (f"{k} of {n} requests are over the budget ({level}), but in "
                    f"clusters (design effect {d:.1f}: about {k / d:.1f} independent exceedances), too few "
                    f"to tell a lasting violation from a few long bursts; {advice}") if d >= 2.0 and k / d < E_MIN else \
                (f"{k} of {n} requests are over the budget ({level}), but a run this short could hold only "
                 f"about {n_eff * star:.1f} effective exceedances at the budget, too few to show whether those "
                 f"{k} come in clusters (design effect {d:.1f} as measured); {advice}")
        elif k == 0 and d >= 2.0:
            # review186 F1: "design effect 151" and "~460,000 requests" beside a p99 a quarter of its
            # budget, no request over it, read as arbitrary: the bunching is the run's own tail's
            what = (f"none of the {n} requests is over the budget, but its slowest come in bunches (design "
                    f"effect {d:.1f}, read at its own tail), so they weigh as about {n_eff:.0f} independent "
                    f"ones, too few to show its slowest {100 * (1.0 - p):.3g}% under it; needs {need_text}")
        else:
            what = f"n={n}, design effect {d:.1f}, n_eff={n_eff:.0f}; needs {need_text}"
        why = (f"too few effective samples for {_label(p)}: {what} (the bounds shown take the design "
               f"effect as right, which fewer than {E_MIN:g} effective exceedances cannot show)")
        return BudgetTest(**base, outcome="INCONCLUSIVE", reason=why, needed_n=need,  # type: ignore[arg-type]
                          length_only=length_only)
    # A FAIL needs the binomial only: sectioning (kk batches) is the PASS's second opinion.  Below
    # 8 batches (n < 4,000 at p95) a run 3x over its allowance was INCONCLUSIVE; allowing the FAIL
    # there kept false FAIL at the true p95 at 0-0.7% on the grid at n = 1,000-3,000.
    if p_fail <= alpha:
        return BudgetTest(**base, outcome="FAIL", reason="", needed_n=None)  # type: ignore[arg-type]
    if kk == 0 and est <= budget:
        # (Over the budget, the FAIL is what is undecided: the gap to the budget says what decides it,
        # not sectioning's batches: review56's "needs about 4,000 for a PASS" beside a p95 over budget.)
        why = (f"too few requests for a PASS of {_label(p)}: n={n} cannot be cut into {K_MIN} batches of "
               f"{MIN_EXC_PER_BATCH} expected exceedances; needs about {about(need)} requests")
        return BudgetTest(**base, outcome="INCONCLUSIVE", reason=why, needed_n=need,  # type: ignore[arg-type]
                          length_only=True)
    # A PASS counts its effective exceedances at the budget from the null side with the safety
    # factor too: the run must be able to show E_MIN of them if the budget were only just met.
    if p_pass <= alpha and n * star / (d * GAMMA_PASS) >= E_MIN:
        return BudgetTest(**base, outcome="PASS", reason="", needed_n=None)  # type: ignore[arg-type]
    held = raised + unfinished
    at_raised = held > 0 and raised_span[0] < est <= raised_span[1]
    word, requests = stand_in_words(raised, unfinished)
    lead = (f"{_label(p)} (at the {requests}: {held} of {n} {word}, each counted as over budget)"
            if at_raised else f"{_label(p)} {est:.3g}")
    if p_pass <= alpha:
        why = (f"{lead} is under the budget {budget:g}, but the run holds too few effective "
               f"samples to PASS (design effect {d:.1f}); needs {need_text}")
        return BudgetTest(**base, outcome="INCONCLUSIVE", reason=why, needed_n=need,  # type: ignore[arg-type]
                          length_only=length_only)
    need_n = _needed_n(p, k / n, d, alpha)
    if held and not at_raised and 2 * held >= k and est <= budget:
        # What is close is the share over budget the raised requests make, not the latency
        # (review86: "p95 2.01 is too close to the budget 40" with 134 of 4,000 raised).
        why = (f"{lead} is under the budget {budget:g}, but with the {held} {requests} (each counted as "
               f"over budget) {k} of {n} are over it ({k / n:.2%}, against the {1.0 - p:.0%} allowed): too close "
               f"to decide at {confidence(alpha)}")
    elif at_raised:
        why = f"{lead} is too close to the budget {budget:g} to decide at {confidence(alpha)}"
    else:
        # What is close is the share over the budget, not the latency: "p95 32.3 is too close to
        # the budget 20" read as nonsense where 7% were over it against 5% allowed (review129 F6).
        side = "over" if est > budget else "under"
        why = (f"{lead} is {side} the budget {budget:g}, but {k} of {n} requests over it ({100 * k / n:.2g}%, "
               f"against the {100 * (1.0 - p):g}% allowed; design effect {d:.1f}) are too close to the "
               f"allowance to decide at {confidence(alpha)}")
    if p_pass_binom <= alpha:
        # Sectioning holds it back, not the count over budget, so the binomial's "needs" means
        # nothing here (review55: "needs about 4,000 requests (ran 4,000)").  Its spread does not
        # shrink by a rule a projection could trust (a quantile in a sparse part of the
        # distribution jumps between batches): a longer run, no number promised.
        why += (f": the count over the budget says PASS, but sectioning's {kk} batches do not agree (their "
                f"{_label(p)}s spread too widely, as where the {_label(p)} sits in a sparse part of the "
                f"latencies); a longer run narrows them: try about {about(2 * n)} requests")
        need_n = 2 * n
    elif need_n is not None and need_n <= n:
        # At the gap seen this run should have decided; it did not, so the gap is likely smaller.
        why += (f"; at the gap seen about {need_n} requests would usually decide, and these {n} did not, "
                f"so it is likely closer: try about {about(2 * n)}")
        need_n = 2 * n
    elif need_n is not None:
        why += f"; needs about {about(need_n)} requests"
    return BudgetTest(**base, outcome="INCONCLUSIVE", reason=why, needed_n=need_n)  # type: ignore[arg-type]


def batch_mean_bound(x: npt.ArrayLike, alpha: float, batches: int = 20) -> tuple[float, float]:
    """(mean, its one-sided lower bound at 1 - alpha) from the means of ``batches`` contiguous
    batches: neighbouring values may depend on each other (services of a busy period), batches of
    a hundred and more far less.  The batch means' spread is read about their straight-line trend
    (a t interval on the line's value at their centre, k - 2 degrees of freedom): a service that
    keeps getting slower is no noise about its mean (review92: services growing through the run
    widened the interval past the rate they could not keep up with).  Without a trend the line is
    flat and the interval is the plain one's, one degree of freedom fewer.  NaN: too few values."""
    from scipy import stats as _st

    arr = np.asarray(x, dtype=np.float64)
    if arr.size < 10 * batches:
        return math.nan, math.nan
    means = np.array([b.mean() for b in np.array_split(arr, batches)])
    at = np.arange(batches, dtype=np.float64) - (batches - 1) / 2.0
    mean = float(means.mean())
    slope = float(at @ (means - mean) / (at @ at))
    resid = means - mean - slope * at
    se = math.sqrt(float(resid @ resid) / (batches - 2)) / math.sqrt(batches)
    return mean, mean - float(_st.t.ppf(1.0 - alpha, batches - 2)) * se


def about(n: int) -> str:
    """A request count to two significant figures, rounded up (24,922 -> "25,000"): what a longer
    run needs is an estimate, and the reason and the summary table must say the same number
    (review67: "~44,000" in the table, "about 43205" in the reason)."""
    n = int(n)
    scale = 10 ** max(0, len(str(abs(n))) - 2)
    return f"{-(-n // scale) * scale:,}"


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


#: A PASS without a trusted design effect needs every block's quantile this many times under the
#: budget: ``CLEAR_PASS_MARGIN`` for a run holding ``CLEAR_PASS_MIN_EFF`` effective exceedances of its
#: own quantile or more, ``CLEAR_PASS_MARGIN_FEW`` for one holding ``CLEAR_PASS_FEW_EFF`` or fewer,
#: log-linear between (statistics.md, "Far under budget").
CLEAR_PASS_MARGIN = 2.0
CLEAR_PASS_MARGIN_FEW = 10.0
CLEAR_PASS_MIN_EFF = E_MIN / 2
CLEAR_PASS_FEW_EFF = 4.0


def clear_pass_margin(n_eff_exceedances: float) -> float:
    """The far-under-budget margin for a run with this many effective exceedances (n/D (1-p)).

    Hiccups cluster the exceedances of the sample quantile (D of 20-130 on CI VMs), which says
    little about a budget many times higher: a 2x margin is enough when the run still holds 10
    effective exceedances.  With fewer the run may have seen only a few of a queue's bursts: at a
    true p95 equal to the budget, runs holding 0-4 of them had every block up to 8.6x under it,
    runs holding 4-5 up to 5.1x, and 5-10 up to 2.8x (``benchmarks/validity/clear_margin.py``,
    84,000 runs).  So 10x up to 4, 2x from 10, and between them a margin falling log-linearly,
    which passed none of those runs the step (10x below 10) did not; the step flipped a p95 10.6x
    under its budget between PASS and INCONCLUSIVE as its runs held 9.2 or 10 (review123 F9).
    """
    e = n_eff_exceedances
    if e >= CLEAR_PASS_MIN_EFF:
        return CLEAR_PASS_MARGIN
    if e <= CLEAR_PASS_FEW_EFF:
        return CLEAR_PASS_MARGIN_FEW
    share = (e - CLEAR_PASS_FEW_EFF) / (CLEAR_PASS_MIN_EFF - CLEAR_PASS_FEW_EFF)
    return CLEAR_PASS_MARGIN_FEW * (CLEAR_PASS_MARGIN / CLEAR_PASS_MARGIN_FEW) ** share


def clear_pass(x: npt.NDArray[np.float64], budget: float, p: float, alpha: float,
               margin: float = CLEAR_PASS_MARGIN) -> bool:
    """The mirror of ``gross_violation`` for PASS: far under budget in every block.

    Used only when the design effect leaves too few effective exceedances (E_min) to trust the
    binomial.  Every one of K+1 contiguous blocks must have its p-quantile under ``budget /
    margin``, each block holding at least 20/(1-p) requests so its quantile is not biased low;
    sectioning must agree as well (the caller checks it).
    """
    k = sign_test_blocks(alpha) + 1
    m = x.size // k
    if m < 20.0 / (1.0 - p):
        return False
    q = np.quantile(x[: m * k].reshape(k, m), p, axis=1)
    return bool(np.all(q < budget / margin))


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
    #: A/B: runs a side that would show a change of the size seen with 80% power (None: not
    #: estimated, e.g. a change within the noise floor).
    runs_needed: int | None = None
    #: A/B: the runs a side the reason advises (``gpuslo ab --runs N``), for the reports' time
    #: estimate (None: none advised).
    runs_advised: int | None = None
    #: A/B: the candidate's runs spread ``UNSTABLE_SPREAD`` times as widely as the base's, which
    #: the reason says (with ``ab_test``'s ``stalled`` words where given).
    unstable: bool = False
    #: the level the claim was judged at (a prediction from stored runs: alpha x ``PI_ALPHA_FACTOR``);
    #: NaN where nothing was tested.  Reports give it beside ``p_regress`` (review98 #2: "p_regress
    #: 0.0098" under "alpha 0.01" read as a contradiction of an INCONCLUSIVE).
    alpha: float = math.nan


def _t_sf(x: float, df: float) -> float:
    from scipy import stats as _st

    return float(_st.t.sf(x, df))


def _decided(p: float, theta: float, se: float, df: float, *, alpha: float, delta: float, Delta: float,
             what: str, n_base: int, n_cand: int, paired: bool, per_side: str) -> RegressionTest:
    """The four-way verdict on a log ratio theta with standard error se and t(df)."""
    from scipy import stats as _st

    se = max(se, 1e-12)
    up, lo = math.log1p(delta), math.log1p(Delta)
    tq = float(_st.t.ppf(1.0 - alpha, df))
    return _verdict(p, ratio=math.exp(theta), ci_low=math.exp(theta - tq * se), ci_high=math.exp(theta + tq * se),
                    se=se, df=df, p_reg=_t_sf((theta - up) / se, df), p_ok=float(_st.t.cdf((theta - lo) / se, df)),
                    p_imp=float(_st.t.cdf((theta + up) / se, df)),
                    mde=math.exp(up + (tq + float(_st.norm.ppf(0.8))) * se) - 1.0, alpha=alpha, delta=delta,
                    Delta=Delta, what=what, n_base=n_base, n_cand=n_cand, paired=paired, per_side=per_side)


def _verdict(p: float, *, ratio: float, ci_low: float, ci_high: float, se: float, df: float, p_reg: float,
             p_ok: float, p_imp: float, mde: float, alpha: float, delta: float, Delta: float, what: str,
             n_base: int, n_cand: int, paired: bool, per_side: str, wide: str = "") -> RegressionTest:
    """REGRESSED when the regression claim's p-value (the change over 1+delta) is at most alpha,
    IMPROVED symmetrically, OK when the change is shown under 1+Delta, else INCONCLUSIVE with the
    smallest change this comparison could detect (``mde``, a fraction)."""
    fields = dict(p=p, ratio=ratio, ci_low=ci_low, ci_high=ci_high, se=se, df=df, p_regress=p_reg, p_ok=p_ok,
                  p_improve=p_imp, paired=paired, n_base=n_base, n_cand=n_cand, mde=mde, needed_n=None,
                  alpha=alpha)
    detect = (f"can detect >= {mde:.0%} {per_side}" if mde < 10.0
              else f"cannot detect even a 10x change {per_side}: " + (wide or "the runs differ too much; more runs, "
                                                                           "or more requests per run, narrow it"))
    if p_reg <= alpha:
        return RegressionTest(outcome="REGRESSED", reason=f"{_label(p)} is {ratio - 1:+.1%} {what}, the lower "
                              f"bound above +{delta:.0%}", **fields)  # type: ignore[arg-type]
    if p_imp <= alpha:
        return RegressionTest(outcome="IMPROVED", reason=f"{_label(p)} is {ratio - 1:+.1%} {what}",
                              **fields)  # type: ignore[arg-type]
    if p_ok <= alpha:
        return RegressionTest(outcome="OK", reason=f"no regression of {Delta:.0%} or more ({detect})",
                              **fields)  # type: ignore[arg-type]
    # review69: "+345% is within the noise" read as a verdict on the code where the runs' spread
    # rules out any verdict; that case says so first.
    # review91: "+34.5% is within the noise" read as "no change"; it is a change not yet told from none.
    said = "cannot yet be told from no change" if mde < 10.0 else "cannot be judged"
    return RegressionTest(outcome="INCONCLUSIVE", reason=f"the change {ratio - 1:+.1%} {said}; {detect}",
                          **fields)  # type: ignore[arg-type]


def _undecided(p: float, reason: str, *, n_base: int, n_cand: int, paired: bool, ratio: float = math.nan,
               needed_n: int | None = None, runs_advised: int | None = None) -> RegressionTest:
    nan = math.nan
    return RegressionTest(p=p, ratio=ratio, ci_low=nan, ci_high=nan, se=nan, df=nan, p_regress=1.0, p_ok=1.0,
                          p_improve=1.0, outcome="INCONCLUSIVE", reason=reason, paired=paired, n_base=n_base,
                          n_cand=n_cand, mde=nan, needed_n=needed_n, runs_advised=runs_advised)


def gross_test(x: npt.NDArray[np.float64], y: npt.NDArray[np.float64], p: float, *, alpha: float,
               delta: float, paired: bool, margin: float = GROSS_MARGIN) -> RegressionTest | None:
    """REGRESSED or IMPROVED when every block moved beyond ``margin`` (``gross_shift``), as a
    ``RegressionTest``; None otherwise.  It needs no variance estimate, so it decides on any sample;
    against run-to-run noise it holds only up to the margin (``gate`` uses a larger one when the
    stored runs cannot show that noise)."""
    gross = gross_shift(x, y, p, alpha=alpha, delta=delta, paired=paired, margin=margin)
    if gross is None:
        return None
    k = sign_test_blocks(alpha)
    ratio = quantile(y, p) / quantile(x, p)
    return RegressionTest(p=p, ratio=ratio, ci_low=math.nan, ci_high=math.nan, se=math.nan, df=math.nan,
                          p_regress=0.5 ** k if gross == "REGRESSED" else 1.0, p_ok=1.0,
                          p_improve=0.5 ** k if gross == "IMPROVED" else 1.0, outcome=gross,
                          reason=f"every one of {k} consecutive blocks moved the same way by "
                          f"{max(1.0 + delta, margin) - 1:.0%} or more (block sign test, "
                          f"p <= {0.5 ** k:.2g}); ratio {ratio:.2f}", paired=paired, n_base=int(x.size),
                          n_cand=int(y.size), mde=math.nan, needed_n=None, alpha=alpha)


def idle_points(t: npt.ArrayLike, lats: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Indices i at whose scheduled arrival every run's system was empty.

    Run r's system is empty at ``t[i]`` when every earlier request had completed:
    ``max_{j<i}(t[j] + L_r[j]) <= t[i]``.  This reads completions off the data, with no model of
    the server (any number of lanes, any discipline).  Given the schedule, what happens after such a
    point does not depend on what happened before (a regeneration point), so batches cut there are
    independent given the schedule.
    """
    tt = np.asarray(t, dtype=np.float64)
    lat2 = np.atleast_2d(np.asarray(lats, dtype=np.float64))
    done = np.maximum.accumulate(tt[None, :] + lat2, axis=1)
    ok = np.all(done[:, :-1] <= tt[None, 1:], axis=0)
    return np.flatnonzero(ok) + 1


def regen_edges(idle: npt.NDArray[np.int64], n: int, k: int, lo: float = 0.8) -> npt.NDArray[np.int64]:
    """Batch edges at idle points: cut at the first idle point at least ``lo * n / k`` requests
    after the previous cut (batches at least 0.8x the fixed length), a short tail joining the last."""
    m = lo * n / k
    edges = [0]
    while True:
        j = int(np.searchsorted(idle, edges[-1] + m, side="left"))
        if j >= idle.size:
            break
        edges.append(int(idle[j]))
    if n - edges[-1] < m and len(edges) > 1:
        edges.pop()
    edges.append(n)
    return np.asarray(edges, dtype=np.int64)


#: Fewer independent batches than this and a paired within-run test says nothing (a run that is
#: one long busy period).
MIN_REGEN_BATCHES = 4


def paired_regen(x: npt.NDArray[np.float64], y: npt.NDArray[np.float64], t: npt.ArrayLike, p: float,
                 k: int) -> tuple[float, float, float, int]:
    """Two runs of one schedule, compared on batches cut where both systems were empty:
    (theta, var, df, batches).  theta = mean of the batch log-ratios; var = their variance / K;
    df = K - 1.  Fixed batches of a queue are not independent (busy periods span several): their
    spread under-estimated the statistic's variance 1.1-6.2x on the validity grid (up to 7.2% false
    REGRESSED at nominal 1%); batches cut at common idle points are independent given the
    schedule (0.84-1.56x, no cell over 1.5 alpha).  ``var`` is NaN below ``MIN_REGEN_BATCHES``."""
    n = min(x.size, y.size)
    edges = regen_edges(idle_points(np.asarray(t)[:n], np.vstack([x[:n], y[:n]])), n, k)
    kk = edges.size - 1
    d = np.array([math.log(float(np.quantile(y[e0:e1], p))) - math.log(float(np.quantile(x[e0:e1], p)))
                  for e0, e1 in zip(edges[:-1], edges[1:])])
    if kk < MIN_REGEN_BATCHES:
        return float(d.mean()), math.nan, math.nan, kk
    return float(d.mean()), float(d.var(ddof=1)) / kk, float(kk - 1), kk


def paired_lag_window(x: npt.NDArray[np.float64], y: npt.NDArray[np.float64], p: float, k: int,
                      lags: int = 3) -> tuple[float, float, float, int]:
    """Without the schedule: fixed batches, the variance of their mean log-ratio by a Bartlett lag
    window (Newey-West, ``lags`` lags), df = K / (1 + 2 lags): valid on the grid, weaker."""
    n = min(x.size, y.size)
    d = batch_log_quantiles(y[:n], p, k) - batch_log_quantiles(x[:n], p, k)
    dc = d - d.mean()
    g0 = float(dc @ dc) / k
    lrv = g0 + sum(2.0 * (1.0 - ell / (lags + 1.0)) * float(dc[ell:] @ dc[:-ell]) / k for ell in range(1, lags + 1))
    lrv = max(lrv, g0 / (1 + 2 * lags))
    return float(d.mean()), lrv / (k - 1), max(1.0, k / (1.0 + 2.0 * lags)), k


def welch_df(va: float, ka: int, vb: float, kb: int) -> float:
    """Welch-Satterthwaite degrees of freedom of a difference of two batch means whose variances
    (of the mean) are ``va``, ``vb`` from ``ka``, ``kb`` batches; ka + kb - 2 where both are 0."""
    denom = (va * va / (ka - 1) if va else 0.0) + (vb * vb / (kb - 1) if vb else 0.0)
    return (va + vb) ** 2 / denom if denom > 0 else float(ka + kb - 2)


def regression_test(
    base: npt.ArrayLike,
    cand: npt.ArrayLike,
    p: float,
    *,
    alpha: float = 0.01,
    delta: float = 0.02,
    Delta: float = 0.05,
    paired: bool = False,
    schedule_ms: npt.ArrayLike | None = None,
) -> RegressionTest:
    """Did q_p regress from one run ``base`` to one run ``cand``?  Both in scheduled order.

    This sees only the noise *within* the two runs: the gate uses it with fewer than three stored
    runs, where it may say OK but not REGRESSED (a machine factor constant within a run is invisible
    to it).  ``paired``: both replayed the identical schedule; batches are then cut at the requests
    where both systems were empty (``schedule_ms``: the scheduled arrivals), else a lag-window
    variance of fixed batches.  Unpaired: each side's sectioning variance (Welch).  A change of 25%
    or more in every block (``gross_shift``) decides on any sample.
    """
    x = np.asarray(base, dtype=np.float64)
    y = np.asarray(cand, dtype=np.float64)
    nx, ny = int(x.size), int(y.size)

    def nothing(reason: str, **kw: Any) -> RegressionTest:
        return _undecided(p, reason, n_base=nx, n_cand=ny, paired=paired, **kw)

    if nx == 0 or ny == 0 or not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        return nothing("a sample is empty or holds non-finite latencies")
    if np.any(x <= 0) or np.any(y <= 0):
        return nothing("latencies must be positive to compare on a log scale")
    if paired and nx != ny:
        # The same schedule: the shorter run is a prefix of the longer one, so pair on it.
        nx = ny = min(nx, ny)
        x, y = x[:nx], y[:ny]
    ratio = quantile(y, p) / quantile(x, p)
    dx, dy = design_effect(x, p), design_effect(y, p)
    kx, ky = n_batches(nx, p), n_batches(ny, p)
    star = 1.0 - p
    thin = (not paired) and min(nx / dx, ny / dy) * star < E_MIN
    if thin or 0 in (kx, ky):
        gross = gross_test(x, y, p, alpha=alpha, delta=delta, paired=paired)
        if gross is not None:
            return gross
        need = int(math.ceil(round(max(E_MIN * max(dx, dy), K_MIN * MIN_EXC_PER_BATCH) / star, 6)))
        return nothing(f"too few effective samples for {_label(p)} on one side (design effects "
                       f"{dx:.1f} / {dy:.1f}); needs about {about(need)} requests per side", ratio=ratio, needed_n=need)
    if paired:
        k = min(kx, ky)
        if schedule_ms is not None and np.size(schedule_ms) >= nx:
            theta, var, df, kk = paired_regen(x, y, np.asarray(schedule_ms, dtype=np.float64), p, k)
            if not math.isfinite(var):
                pieces = "one stretch" if kk == 1 else f"{kk} stretches"
                return nothing(f"the stored run and this one share only {pieces} starting with an empty "
                               f"system (the queue rarely drained): too few independent pieces to compare "
                               f"within the runs", ratio=math.exp(theta))
        else:
            theta, var, df, kk = paired_lag_window(x, y, p, k)
    else:
        theta = math.log(ratio)
        vx = float(batch_log_quantiles(x, p, kx).var(ddof=1)) / kx
        vy = float(batch_log_quantiles(y, p, ky).var(ddof=1)) / ky
        var, df = vx + vy, welch_df(vx, kx, vy, ky)
    return _decided(p, theta, math.sqrt(var), df, alpha=alpha, delta=delta, Delta=Delta, what="within the runs",
                    n_base=nx, n_cand=ny, paired=paired, per_side=f"at n={max(nx, ny)}")


#: The per-run statistic: the mean log p-quantile of this many contiguous batches, without the
#: ``RUN_STAT_TRIM`` highest and lowest.
RUN_STAT_BATCHES = 20
RUN_STAT_TRIM = 2


def run_statistic(x: npt.ArrayLike, p: float, k: int = RUN_STAT_BATCHES, trim: int = RUN_STAT_TRIM) -> float:
    """One run's level of q_p: the 10%-trimmed mean of the log p-quantiles of ``k`` contiguous
    batches.

    Of the run-level statistics measured on the validity grid it has the smallest spread between
    runs of one schedule (1.1-2.7x less than the pooled log-quantile, which sits in a thin part of
    Pareto and bimodal distributions); trimming removes the single huge services that made the
    untrimmed mean skewed and heavy-tailed across runs (excess kurtosis 2-75 on Pareto service),
    which a t interval from a few runs cannot absorb.
    """
    arr = np.asarray(x, dtype=np.float64)
    k = max(1, min(k, arr.size))
    b = np.sort(batch_log_quantiles(arr, p, k))
    if trim and k > 2 * trim:
        b = b[trim:k - trim]
    return float(b.mean())


#: The prediction interval is judged at alpha times this: even on the reciprocal scale the run
#: statistic keeps some skew on heavy-tailed service, which a t interval from a few runs cannot see;
#: at nominal alpha 5 of 40 cells with no or Gaussian machine noise were over 1.5 alpha, at alpha/2
#: 1 (M/M/16 at utilisation 0.93, 2.2%; benchmarks/validity/results/pi_scale.md).
PI_ALPHA_FACTOR = 0.5


#: The most runs a baseline file keeps (``baseline.MAX_RUNS``): what the prediction interval's
#: advice can promise from more history.
STORE_RUNS = 8


#: The scale of the prediction interval when the stored runs carry none (``replay.scale``): 1/q,
#: straight near saturation on one server (files written before the replay, a batcher's lanes).
DEFAULT_SCALE = -1.0
#: |lambda| below this is computed as this (same sign): the Box-Cox scale tends to ln q as lambda
#: tends to 0, and at 0.05 it differs from ln q by under 0.1% of a run's spread.
MIN_ABS_SCALE = 0.05


#: The share of Satterthwaite's degrees of freedom beyond (sessions - 1) that the session
#: interval keeps: 1 read up to 1.65% at nominal 0.5% on normal sessions, 0.25 at most 0.85%.
SESSION_DF_SHARE = 0.25


def stand_in_batches(x: npt.ArrayLike, p: float, timeout_s: float, k: int = RUN_STAT_BATCHES) -> int:
    """How many of ``run_statistic``'s ``k`` batches have a p-quantile that is, or is interpolated
    toward, a raised request's stand-in (the timeout): more than ``RUN_STAT_TRIM`` of them, and the
    run's level is partly the timeout's (review104 second pass: one batch p95 of 28.9 ms, between a
    2-ms latency and the 500-ms stand-in, made "+40.7%"; read from the order statistics the quantile
    takes, so a real 300-ms request elsewhere does not hide it)."""
    arr = np.asarray(x, dtype=np.float64)
    stand_in = 1000.0 * timeout_s
    if arr.size < k or not stand_ins(arr, timeout_s):
        return 0
    m = arr.size // k
    b = np.sort(arr[: m * k].reshape(k, m), axis=1)
    h = (m - 1) * p  # numpy's 'linear' method: between order statistics floor(h) and ceil(h)
    lo, hi, w = int(math.floor(h)), int(math.ceil(h)), h - math.floor(h)
    at = np.abs(b - stand_in) <= stand_in * 1e-9
    return int(np.count_nonzero(at[:, lo] | (at[:, hi] & (w > 1e-12))))


def _session_interval(u: npt.NDArray[np.float64], labels: Sequence[str]) -> tuple[float, float, float]:
    """Centre, prediction sd and Satterthwaite df for a new run on a new day from runs clustered in
    sessions (one-way random effects, unbalanced).

    A session's mean varies by the day's shift plus its own runs' noise: E[S_m^2] = s_d^2 + s_r^2
    mean(1/n_i).  The centre is the mean of the session means, so a new run on a new session varies
    about it by (1 + 1/k) s_d^2 + (1 + mean(1/n_i)/k) s_r^2 = (1 + 1/k) E[S_m^2] + (1 - mean(1/n_i))
    s_r^2, estimated with the runs' spread within sessions for s_r^2.  Both terms are non-negative,
    so Welch-Satterthwaite gives the df: near k - 1 where the days differ, near r - 1 where they do
    not.  Its df are liberal here (a day spread low by chance also raises the df): at nominal 0.5%
    normal sessions read up to 1.65%, so only ``SESSION_DF_SHARE`` of the df beyond k - 1 is kept
    (``python -m benchmarks.validity.uneven_days --normal``).  The rule before it (the session
    means alone, k - 1 df) was safe but lost all power on grouped days with no day noise (0-5% of
    +10% caught, now 26-34% on M/D/1-like 0.9, against 79-81% as 8 days;
    ``benchmarks/validity/results/uneven_days.md``)."""
    keys = list(dict.fromkeys(labels))
    idx = [np.array([i for i, g in enumerate(labels) if g == key]) for key in keys]
    k, r = len(keys), u.size
    means = np.array([u[ix].mean() for ix in idx])
    within = float(sum(((u[ix] - u[ix].mean()) ** 2).sum() for ix in idx)) / (r - k)
    hbar = float(np.mean([1.0 / ix.size for ix in idx]))
    a = (1.0 + 1.0 / k) * float(means.var(ddof=1))
    b = (1.0 - hbar) * within
    v = a + b
    den = a * a / (k - 1) + b * b / (r - k)
    df = v * v / den if den > 0 else float(k - 1)
    df = (k - 1) + SESSION_DF_SHARE * (min(max(df, k - 1.0), r - 1.0) - (k - 1))
    return float(means.mean()), math.sqrt(v), float(df)


def _new_run_interval(u: npt.NDArray[np.float64], labels: Sequence[str]) -> tuple[float, float, float, int]:
    """(centre, prediction sd, df, sessions) for a new run from stored runs' levels ``u``: the runs'
    mean and spread x sqrt(1 + 1/R) on R - 1 df, or, where they cluster in fewer sessions than runs,
    ``_session_interval``'s.  One rule for the gate (``prediction_test``) and for what a save says
    its runs can show (``stored_power``), so the two never drift apart."""
    r, k = u.size, len(set(labels))
    if labels and 2 <= k < r:
        level, s, df = _session_interval(u, labels)
    else:
        level, s, df = float(u.mean()), float(u.std(ddof=1)) * math.sqrt(1.0 + 1.0 / r), float(r - 1)
    return level, max(s, 1e-12 * level), df, k


def _box_cox(scale: float) -> float:
    """The interval's Box-Cox lambda: ``scale``, or ``DEFAULT_SCALE`` where not finite, kept at least
    ``MIN_ABS_SCALE`` from 0 (one rule for the interval and what a save says it can show)."""
    lam = float(scale) if math.isfinite(scale) else DEFAULT_SCALE
    return math.copysign(max(abs(lam), MIN_ABS_SCALE), lam)


def _detectable(t: float, spread: float, lam: float, up: float) -> float:
    """The smallest change of q_p that 80% of runs would show REGRESSED: for a t quantile, a
    prediction sd ``spread`` of u relative to its level, on the Box-Cox scale ``lam``, past the
    noise floor ``up`` (1 + delta); ``inf`` where no change could."""
    from scipy import stats as _st

    f = 1.0 + math.copysign(1.0, lam) * (t + float(_st.norm.ppf(0.8))) * spread  # the u it reaches
    return up * f ** (1.0 / lam) - 1.0 if f > 0 else math.inf


def stored_power(stored: Sequence[npt.ArrayLike], p: float, *, alpha: float = 0.01, delta: float = 0.02,
                 groups: Sequence[str] | None = None, scale: float = DEFAULT_SCALE,
                 levels: Sequence[float] | None = None) -> tuple[float, float, float] | None:
    """What stored runs of one schedule can gate, for the message of a save (review138 F1: "3 runs
    from 3 sessions" read as enough, where their 10% spread let no change under 10x through):
    their spread (a run's sd on the scale ``scale`` over its level, as ``prediction_test`` measures
    it), the smallest change they could show REGRESSED (``inf`` under 3 runs or past 10x), and what
    ``STORE_RUNS`` runs from as many sessions, spread alike, could.  None: under 2 runs, or runs too
    short to measure a level.  ``alpha``: the interval's (the caller's alpha x ``PI_ALPHA_FACTOR``);
    ``levels``: the runs' replayed statistics, where the gate would take them (``replay.shuffled``)."""
    from scipy import stats as _st

    xs = [np.asarray(x, dtype=np.float64) for x in stored]
    if len(xs) < 2:
        return None
    n = min(x.size for x in xs)
    if n < 2 * RUN_STAT_BATCHES or any(np.any(x[:n] <= 0) or not np.all(np.isfinite(x[:n])) for x in xs):
        return None
    lam = _box_cox(scale)
    ts = (np.asarray(levels, dtype=np.float64) if levels is not None and len(levels) == len(xs)
          else np.array([run_statistic(x[:n], p) for x in xs]))
    u = np.exp(lam * (ts - float(ts.mean())))
    level, r = float(u.mean()), len(xs)
    sd = max(float(u.std(ddof=1)), 1e-12 * level)
    up = 1.0 + delta
    most = _detectable(float(_st.t.ppf(1.0 - alpha, STORE_RUNS - 1)), sd / level * math.sqrt(1.0 + 1.0 / STORE_RUNS),
                       lam, up)
    now = math.inf
    if r >= 3:
        labels = list(groups) if groups is not None and len(groups) == r else []
        level, s, df, k = _new_run_interval(u, labels)
        if labels and k < 2:
            df = 0.0  # one session: its runs show no day's shift (the gate holds a REGRESSED back)
        if df > 0:
            now = _detectable(float(_st.t.ppf(1.0 - alpha, df)), s / level, lam, up)
    return sd / level / abs(lam), now if now < 10.0 else math.inf, most if most < 10.0 else math.inf


def prediction_test(stored: Sequence[npt.ArrayLike], cand: npt.ArrayLike, p: float, *, alpha: float = 0.01,
                    delta: float = 0.02, Delta: float = 0.05,
                    groups: Sequence[str] | None = None, scale: float = DEFAULT_SCALE,
                    levels: tuple[Sequence[float], float] | None = None) -> RegressionTest:
    """The candidate against R >= 3 stored runs of the same schedule: a prediction interval on the
    Box-Cox scale ``scale`` (lambda; -1 is 1/q).

    Each run's level is u = exp(lambda (T - c)) (T = ``run_statistic``, about ln q_p; c the stored
    runs' mean, so nothing overflows), i.e. u ~ q^lambda.  The interval must be built where a
    machine factor moves the level linearly, or a slightly slow day moves the candidate further than
    the stored runs' spread says: near saturation on one server q_p goes as 1 / (1 - rho f), so
    1/q is straight (lambda = -1) and ln q is convex (2-5% false REGRESSED at utilisation
    0.93-0.95 under 2% Gaussian machine noise); many servers near saturation bend more (lambda -2
    to -3); bursty or light queues are straight on ln q or flatter.  ``replay.scale`` measures
    lambda on each stored run; the caller passes the median of the latest ones (``gate.compare``).
    A multiplicative change g of q_p multiplies u by g^lambda, so u_cand g^-lambda - mean(u) is the
    pivot: se = s_u sqrt(1 + 1/R), t with R - 1 df, and the bounds on g are (u_cand / (mean(u)
    -+ t se))^(1/lambda).  Every run-level noise is in s_u and counted once; with more runs the
    interval narrows.  ``groups``: each stored run's session.  Runs of one session share its machine
    shift, so when they cluster (fewer sessions than runs) the interval is for a new run on a new
    session (``_session_interval``: the session means' spread and the runs' spread within
    sessions, Satterthwaite df; 8 runs from 3 sessions, treated as 8, gave 2-6% false alarms under
    a 3% day shift in an independent check).  The caller passes ``alpha * PI_ALPHA_FACTOR``.  ``levels``: the stored
    runs' and the candidate's statistics computed elsewhere (``replay.shuffled``) in place of
    ``run_statistic`` of the latencies.
    """
    from scipy import stats as _st

    y = np.asarray(cand, dtype=np.float64)
    xs = [np.asarray(x, dtype=np.float64)[: y.size] for x in stored]
    n = min([y.size, *(x.size for x in xs)])
    r = len(xs)
    if r < 3:
        return _undecided(p, "a prediction interval needs 3 stored runs", n_base=n, n_cand=y.size, paired=True)
    if n < 2 * RUN_STAT_BATCHES or any(np.any(x[:n] <= 0) for x in xs) or np.any(y[:n] <= 0):
        return _undecided(p, "too few requests, or non-positive latencies", n_base=n, n_cand=y.size, paired=True)
    lam = _box_cox(scale)
    sign = 1.0 if lam > 0 else -1.0  # +1: a slower run has a larger u
    if levels is not None and len(levels[0]) == r:
        ts, t_cand = np.asarray(levels[0], dtype=np.float64), float(levels[1])
    else:
        ts, t_cand = np.array([run_statistic(x[:n], p) for x in xs]), run_statistic(y[:n], p)
    centre = float(ts.mean())
    u = np.exp(lam * (ts - centre))
    u_cand = math.exp(lam * (t_cand - centre))
    labels = list(groups) if groups is not None and len(groups) == r else []
    level, s, df, k = _new_run_interval(u, labels)
    grouped = bool(labels) and 2 <= k < r
    what = f"{r} stored runs" + (f" from {k} sessions" if grouped else "")
    up, lo = 1.0 + delta, 1.0 + Delta
    tq = float(_st.t.ppf(1.0 - alpha, df))

    def change(level_u: float) -> float:
        """The change g of q_p that brings the candidate's u to ``level_u`` (0 or inf past the end)."""
        if level_u <= 0.0:
            return 0.0 if lam < 0 else math.inf
        return float((u_cand / level_u) ** (1.0 / lam))

    bounds = sorted((change(level - tq * s), change(level + tq * s)))

    def detectable(t: float, spread: float) -> float:
        return _detectable(t, spread / level, lam, up)

    mde = detectable(tq, s)
    wide = ""
    if mde >= 10.0:
        # Why the interval is too wide to decide, in numbers: few degrees of freedom (3 runs within
        # 12% of each other read "the runs differ too much": the session-12 check) or the spread.
        most = (detectable(float(_st.t.ppf(1.0 - alpha, STORE_RUNS - 1)),
                           s / math.sqrt(1.0 + 1.0 / r) * math.sqrt(1.0 + 1.0 / STORE_RUNS))
                if r < STORE_RUNS or grouped else math.inf)
        # review73: "3 stored runs from 2 sessions: t with 1.00202 degrees of freedom" read as opaque
        few = (f"runs of only {k} sessions weigh about as {k} runs, so " if grouped else "")
        wide = (f"{few}t with {df:.3g} degrees of freedom ({tq:.3g} at alpha {alpha:g}) times the runs' spread "
                f"({s / level:.1%} a run on the scale used) reaches past zero; "
                + (f"{STORE_RUNS} stored runs from as many sessions (the most the store keeps), spread alike, "
                   f"could detect >= {most:.0%}" if most < 10.0
                   else "that spread is too wide for stored runs to resolve: compare interleaved with gpuslo ab, "
                        "or lengthen the runs"))
    return _verdict(p, ratio=change(level), ci_low=bounds[0], ci_high=bounds[1], se=s / level / abs(lam), df=df,
                    p_reg=_t_sf(sign * (u_cand * up ** -lam - level) / s, df),
                    p_ok=_t_sf(sign * (level - u_cand * lo ** -lam) / s, df),
                    p_imp=_t_sf(sign * (level - u_cand * up ** lam) / s, df),
                    mde=mde, alpha=alpha, delta=delta,
                    Delta=Delta, what=f"against {what}", n_base=n, n_cand=n, paired=True,
                    per_side=f"with {what}",  # review66: "from 3 sessions" is what limits it
                    wide=wide)


#: Above this many runs a side the A/B reason no longer names a count (a change that small is out
#: of this machine's reach with runs alone).
AB_RUNS_SAID = 50


#: A candidate whose runs spread this many times as widely as the base's, at a change of
#: ``UNSTABLE_CHANGE`` or more, is said to be unstable (``ab_test``): with 3 runs a side a sd ratio
#: of 10 arises by chance in 1% of unchanged pairs (F(2, 2) over 100), one of 4 in an eighth.
UNSTABLE_SPREAD = 10.0
UNSTABLE_CHANGE = 1.5


def _runs_for_power(sd: float, target: float, alpha: float) -> int:
    """Runs a side for 80% power against a shift ``target`` (log scale) of runs spread ``sd``: the
    smallest R with (t(1-alpha) + t(0.8)) * sd * sqrt(2/R) <= target at 2R - 2 df, or
    ``AB_RUNS_SAID + 1`` past that.  With t, not the normal: at 2+2 runs (2 df) the normal's count
    came out at or under 2 for a 2x change the t interval could not resolve, so no advice was
    given at all (review81)."""
    from scipy import stats as _st

    for runs in range(2, AB_RUNS_SAID + 1):
        df = 2 * runs - 2
        if (float(_st.t.ppf(1.0 - alpha, df)) + float(_st.t.ppf(0.8, df))) * sd * math.sqrt(2.0 / runs) <= target:
            return runs
    return AB_RUNS_SAID + 1


def ab_test(base: Sequence[npt.ArrayLike], cand: Sequence[npt.ArrayLike], p: float, *, alpha: float = 0.01,
            delta: float = 0.02, Delta: float = 0.05,
            levels: tuple[Sequence[float], Sequence[float]] | None = None, stalled: str = "") -> RegressionTest:
    """Same-machine A/B: base runs A_1..A_R and candidate runs B_1..B_R, interleaved ABAB.. and
    replaying one schedule.  theta = mean T(B) - mean T(A) (T = ``run_statistic``); se from the
    pooled spread of the 2R runs, t with 2R - 2 df: exact under exchangeability, every run-level
    noise counted once, and a shift of the machine shared by the session cancels.  One run a side
    has no run-level spread: INCONCLUSIVE, whatever the shift.  ``levels``: each side's run
    statistics computed elsewhere (``replay.shuffled``) in place of ``run_statistic``.  ``stalled``:
    why a candidate run's tail is a stall of the harness rather than the queue's (a generator that
    fell behind, in words), said in place of "overloaded or unstable" where the candidate's runs
    spread far more than the base's."""
    xs = [np.asarray(x, dtype=np.float64) for x in base]
    ys = [np.asarray(y, dtype=np.float64) for y in cand]
    ra, rb = len(xs), len(ys)
    n = min(min(x.size for x in xs), min(y.size for y in ys)) if ra and rb else 0
    if not ra or not rb or n < 2 * RUN_STAT_BATCHES:
        return _undecided(p, "too few runs or requests for an A/B comparison", n_base=n, n_cand=n, paired=True)
    xs, ys = [x[:n] for x in xs], [y[:n] for y in ys]
    if any(not np.all(np.isfinite(a)) or np.any(a <= 0) for a in xs + ys):
        return _undecided(p, "a run holds non-finite or non-positive latencies", n_base=n, n_cand=n, paired=True)
    dfp = ra + rb - 2
    if dfp < 1:  # no run-level spread; near saturation even a 2x shift can be one slower run
        ratio = quantile(ys[0], p) / quantile(xs[0], p)
        return _undecided(p, f"{_label(p)} {ratio - 1:+.1%} with one run a side, which cannot show run-to-run "
                          f"noise; use --runs 3 or more", n_base=n, n_cand=n, paired=True, ratio=ratio,
                          runs_advised=3)  # (review159 F2: advised in words, not in the JSON)
    if levels is not None and len(levels[0]) == ra and len(levels[1]) == rb:
        ta, tb = np.asarray(levels[0], dtype=np.float64), np.asarray(levels[1], dtype=np.float64)
    else:
        ta = np.array([run_statistic(x, p) for x in xs])
        tb = np.array([run_statistic(y, p) for y in ys])
    theta = float(tb.mean() - ta.mean())
    ss = float(((ta - ta.mean()) ** 2).sum() + ((tb - tb.mean()) ** 2).sum())
    se = math.sqrt(ss / dfp * (1.0 / ra + 1.0 / rb))
    out = _decided(p, theta, se, float(dfp), alpha=alpha, delta=delta, Delta=Delta,
                   what=f"against the base ({ra}+{rb} interleaved runs)", n_base=n, n_cand=n, paired=True,
                   per_side=f"with {ra}+{rb} runs")
    # A side whose runs spread far more than the other's (review43: an overloaded candidate read
    # "+189% within the noise") is said: its tail moves from run to run, and more runs average that.
    sa, sb = float(ta.std(ddof=1)) if ra > 1 else 0.0, float(tb.std(ddof=1)) if rb > 1 else 0.0
    unstable = (out.outcome == "INCONCLUSIVE" and theta >= math.log(UNSTABLE_CHANGE) and sa > 0
                and sb >= UNSTABLE_SPREAD * sa)
    if unstable:
        # review122 F7: a 1-s stall of a busy machine in one run of unchanged code read as an
        # "overloaded or unstable" queue, with "about 40 runs a side" as the way out.
        cause = stalled or "its queue may be overloaded or unstable, so its tail moves from run to run"
        out = replace(out, unstable=True,
                      reason=out.reason + f"; the candidate's runs spread {sb / sa:.0f}x as widely as the base's: {cause}")
    # Runs a side for 80% power (t, ``_runs_for_power``): against the change seen, or, for a change
    # within the noise floor, to show that it stays under Delta (an OK).
    gap = abs(theta) - math.log1p(delta)
    target = gap if gap > 0 else math.log1p(Delta) - theta
    if out.outcome == "INCONCLUSIVE" and target > 0 and ss > 0:
        from scipy import stats as _st

        # Two counts.  The normal approximation's, optimistic at few runs, decides whether --max-runs
        # goes on (``runs_needed``, ``gate.ab_wants_more``): with the t count instead, power at
        # +10% on the bursty cells fell from 95% to 90% at the median (ab_sequential, 400 reps).
        # The t count, which a user can act on, is the one said.
        z = float(_st.norm.ppf(1.0 - alpha) + _st.norm.ppf(0.8))
        go_on = math.ceil(2.0 * (z * math.sqrt(ss / dfp) / target) ** 2)
        # Said as a session of that many runs a side (``gpuslo ab --runs N``, one look at this
        # alpha), which runs them whatever its first runs read.  Advised as --max-runs N it was
        # not: a session's first look reads the change anew, and a smaller reading stops it there
        # for futility (review123 F6: "about 6 (--max-runs 6)" after +66%; the next session read
        # +20% and stopped after 3).
        need = _runs_for_power(math.sqrt(ss / dfp), target, alpha)
        if unstable:
            # A rough count, promised to no look (``runs_needed`` stays unset, so --max-runs goes
            # on): an unstable side's run statistics are heavy-tailed.  But said (review81: at 2+2
            # a 2x slower body read only the spread; 5+5 then read REGRESSED); not for a stall,
            # which the way out ``stalled`` names is a rerun, not a count of runs.
            if not stalled and max(ra, rb) < need <= AB_RUNS_SAID:
                out = replace(out, reason=out.reason + f"; more runs average it: about {need} a side might show a "
                                                       f"change of {math.exp(theta) - 1:+.0%}, if real")
        elif gap <= 0:
            out = replace(out, runs_needed=go_on)
        elif need > AB_RUNS_SAID:
            # "about 665322 runs a side" is arithmetic, not advice (the session-12 check).
            out = replace(out, reason=out.reason + f"; a change as small as {math.exp(theta) - 1:+.0%} would take "
                                                   f"over {AB_RUNS_SAID} runs a side to show on this machine",
                          runs_needed=go_on)
        elif need > min(ra, rb):  # (review148: 2+3 runs, a base run set aside, advised none)
            out = replace(out, reason=out.reason + f"; if a change of {math.exp(theta) - 1:+.0%} were real, "
                                                   f"about {need} runs a side would show it (gpuslo ab --runs {need} "
                                                   f"runs them)", runs_needed=go_on, runs_advised=need)
        else:
            out = replace(out, runs_needed=go_on)
    return out


def gross_shift(x: npt.NDArray[np.float64], y: npt.NDArray[np.float64], p: float, *,
                alpha: float, delta: float, paired: bool, margin: float = GROSS_MARGIN) -> str | None:
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
    # only a shift of at least ``margin`` in every block counts (validity grid, n=2,000 cells).
    up = max(1.0 + delta, margin)
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
        # quantiles still counts, which catches an overloaded queue that grows through the run.
        drift, pv = trend(arr, p, alpha=alpha)
        return drift, r.ratio, pv
    pval = halves_exceedance_p(arr[:half], arr[half:2 * half], p)
    return pval <= alpha, r.ratio, pval


def halves_exceedance_p(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64], p: float) -> float:
    """Two-sided p-value that the share of requests over the whole run's p-quantile differs
    between halves ``a`` and ``b`` (equal sizes): Welch's t on the shares of their batches.

    Where the latencies have a density at q_p this is the quantiles' comparison (a quantile moves
    by the share over it divided by the density).  Where they have a gap there (95% 1 ms, 5% 20 ms
    at p95) each half's quantile jumps between the modes, 20x apart, on a share that moved by a
    fraction of a point, which no spread of the batches' quantiles describes (review62: i.i.d.
    services read "drifted" in half of runs of 10,000); the share over a fixed threshold has no gap.
    """
    from scipy import stats as _st

    k = n_batches(a.size, p)
    if k == 0:
        return 1.0
    m = a.size // k
    q = float(np.quantile(np.concatenate([a, b]), p))
    ea = (a[: m * k] > q).reshape(k, m).mean(axis=1)
    eb = (b[: m * k] > q).reshape(k, m).mean(axis=1)
    va, vb = float(ea.var(ddof=1)) / k, float(eb.var(ddof=1)) / k
    d, var = float(eb.mean() - ea.mean()), va + vb
    if var <= 0.0:
        return 1.0 if d == 0.0 else 0.0
    return float(2.0 * _st.t.sf(abs(d) / math.sqrt(var), welch_df(va, k, vb, k)))


def trend(x: npt.ArrayLike, p: float, *, alpha: float = 0.001) -> tuple[bool, float]:
    """A steady trend through the run: Kendall's tau of the p-quantiles of 16 contiguous blocks
    at p <= alpha, the last 4 blocks 25% or more away from the first 4.  (trending, p-value).
    An overloaded queue grows so (a schedule whose rate steps up at its half can too: the gate's
    ``schedule_drift`` tells them apart by whether the queue still empties)."""
    arr = np.asarray(x, dtype=np.float64)
    k = 16
    m = arr.size // k
    if m < 2.0 / (1.0 - p) or not np.all(np.isfinite(arr)):
        return False, 1.0
    from scipy import stats as _st

    q = np.quantile(arr[: m * k].reshape(k, m), p, axis=1)
    tau = _st.kendalltau(np.arange(k), q)
    moved = q[-4:].mean() / q[:4].mean() if q[:4].mean() > 0 else math.inf
    pv = float(tau.pvalue) if math.isfinite(tau.pvalue) else 1.0
    return bool(pv <= alpha and (moved >= GROSS_MARGIN or moved <= 1.0 / GROSS_MARGIN)), pv


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



#: A run is load-dependent when service time rises with the requests in service at that
#: moment by at least this Spearman correlation (an effect size: stamps are autocorrelated).
LOAD_DEPENDENCE_RHO = 0.1


def in_flight(start: npt.NDArray[np.float64], end: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    """How many requests were in service when each began, itself included."""
    return np.searchsorted(np.sort(start), start, side="right") - np.searchsorted(np.sort(end), start, side="right")


def load_dependence(start: npt.ArrayLike, end: npt.ArrayLike) -> tuple[bool, float]:
    """Does a request's service time grow with the number of requests in service when it started?
    Returns (dependent, Spearman rho).

    Latency charged from the schedule can only grow with a late dispatch on FIFO lanes whose
    service does not depend on load (completions are max-plus functions of the arrivals), so lag
    then makes a PASS harder, never easier.  Only service that speeds up with fewer requests in
    flight (lanes sharing one interpreter or core, thrashing) lets a late, smoothed dispatch flatter
    the latencies.  Measured on the validity grid: FIFO lanes rho 0.00, never flagged in 150 runs;
    processor-sharing and thrashing lanes 0.40-0.56, flagged in every run.
    """
    from scipy import stats as _st

    s = np.asarray(start, dtype=np.float64)
    e = np.asarray(end, dtype=np.float64)
    ok = (s >= 0) & (e >= s)
    s, e = s[ok], e[ok]
    if s.size < 10:
        return False, 0.0
    inflight = in_flight(s, e)
    if np.ptp(inflight) == 0 or np.ptp(e - s) == 0:  # a constant service cannot grow with load
        return False, 0.0
    rho = float(_st.spearmanr(inflight, e - s).statistic)
    return bool(rho >= LOAD_DEPENDENCE_RHO), rho

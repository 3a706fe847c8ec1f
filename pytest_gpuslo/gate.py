"""The one decision function: measurements + spec + policy -> verdict (layer 2, pure).

The marker, ``slo_run`` results and the command line all call ``decide``; nothing else turns
numbers into PASS, FAIL or INCONCLUSIVE.  An INCONCLUSIVE always carries its reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from pytest_gpuslo import stats
from pytest_gpuslo.spec import SloSpec, percentile_label

PASS, FAIL, INCONCLUSIVE = "PASS", "FAIL", "INCONCLUSIVE"

#: Schedule lag p99 above this fraction of the tightest budget means the load generator could not
#: keep up (load-and-batching.md §4.4), and the run says nothing reliable about the workload.
MAX_LAG_FRACTION = 0.05
#: Lag allowance for a test with no latency budget (perf_analyzer treats <= 1 ms as on time).
MAX_LAG_NO_BUDGET_MS = 1.0


@dataclass(frozen=True, slots=True)
class Policy:
    """Run policy: set by ini or command line, never by a marker (a test may not loosen the gate)."""

    #: one-sided error rate per claim.
    alpha: float = 0.01
    max_lag_fraction: float = MAX_LAG_FRACTION
    #: "warn" or "fail": what an INCONCLUSIVE verdict does to the test.
    inconclusive: str = "warn"
    #: decide even when the GPU was throttled or shared during the run.
    allow_disturbances: bool = False


@dataclass(frozen=True, slots=True)
class Measurements:
    """What the gate needs from a run, all in scheduled order over the measured window."""

    #: end-to-end latency from the scheduled arrival; failed and timed-out requests hold a value at
    #: or above the timeout, so they count as exceedances of every budget.
    latency_ms: npt.NDArray[np.float64]
    lag_ms: npt.NDArray[np.float64]
    failed: int = 0
    timed_out: int = 0
    achieved_hz: float = math.nan
    offered_hz: float = math.nan
    first_error: str | None = None
    #: reasons the machine misbehaved during the run (throttling, a foreign process on the GPU).
    disturbances: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Check:
    """One claim of a test (a budget or the throughput) and its outcome."""

    name: str
    outcome: str
    #: one line: estimate, bounds, n and the like.
    detail: str
    reason: str = ""
    budget: stats.BudgetTest | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "outcome": self.outcome, "detail": self.detail,
                               "reason": self.reason}
        b = self.budget
        if b is not None:
            out.update(p=b.p, budget_ms=b.budget, n=b.n, exceed=b.exceed, estimate_ms=_num(b.estimate),
                       lower_ms=_num(b.lower), upper_ms=_num(b.upper), design_effect=b.design_effect,
                       n_eff=b.n_eff, p_fail=b.p_fail, p_pass=b.p_pass, headroom=_num(b.headroom),
                       needed_n=b.needed_n)
        return out


def _num(x: float) -> float | None:
    return None if (isinstance(x, float) and (math.isnan(x) or math.isinf(x))) else x


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of a test and every claim behind it."""

    outcome: str
    checks: tuple[Check, ...] = ()
    #: why the outcome is INCONCLUSIVE or FAIL, in words a user can act on.
    reasons: tuple[str, ...] = field(default_factory=tuple)

    @property
    def passed(self) -> bool:
        return self.outcome == PASS

    def as_dict(self) -> dict[str, Any]:
        return {"outcome": self.outcome, "reasons": list(self.reasons),
                "checks": [c.as_dict() for c in self.checks]}


def _fmt_ms(x: float) -> str:
    if math.isinf(x):
        return "unbounded"
    if math.isnan(x):
        return "n/a"
    return f"{x:.3g}ms" if x < 100 else f"{x:.0f}ms"


def decide(spec: SloSpec, m: Measurements, policy: Policy = Policy()) -> Verdict:
    """Turn one run's measurements into a verdict.

    Order of precedence: a generator that fell behind makes every latency claim INCONCLUSIVE (the
    arrivals it offered were not the promised ones); otherwise any FAIL fails the test; otherwise
    any INCONCLUSIVE makes it inconclusive; otherwise PASS.
    """
    checks: list[Check] = []
    reasons: list[str] = []
    lat = np.asarray(m.latency_ms, dtype=np.float64)
    lag = np.asarray(m.lag_ms, dtype=np.float64)
    conf = 1.0 - policy.alpha

    generator_note = ""
    if lag.size:
        lag_p99 = float(np.quantile(lag, 0.99))
        tight = spec.tightest_budget_ms
        limit = tight * policy.max_lag_fraction if tight else MAX_LAG_NO_BUDGET_MS
        if lag_p99 > limit:
            generator_note = (
                f"the load generator fell behind: schedule lag p99 {lag_p99:.3g} ms exceeds "
                f"{limit:.3g} ms"
                + (f" ({policy.max_lag_fraction:.0%} of the tightest budget)" if tight else "")
                + "; the offered load was not the promised one (see docs: GIL and dispatch)"
            )

    disturbed = "" if policy.allow_disturbances or not m.disturbances else (
        "; ".join(m.disturbances) + " (the run does not represent the workload; "
        "--gpuslo-allow-throttle decides anyway)")

    for p, budget in spec.budgets_ms.items():
        bt = stats.budget_test(lat, budget, p, alpha=policy.alpha)
        label = percentile_label(p)
        detail = (f"{label}={_fmt_ms(bt.estimate)} [{_fmt_ms(bt.lower)}, {_fmt_ms(bt.upper)}] "
                  f"({conf:.0%} bounds) vs budget {budget:g}ms; n={bt.n}, "
                  f"over budget {bt.exceed}, design effect {bt.design_effect:.1f}")
        outcome, reason = bt.outcome, bt.reason
        if generator_note and outcome == PASS:
            outcome, reason = INCONCLUSIVE, generator_note
        elif generator_note and outcome == FAIL:
            # Lateness inflates latency charged from the schedule.  A FAIL stands only if it also
            # holds on latency charged from the (late) dispatch, which the lag cannot explain.
            from_dispatch = stats.budget_test(lat - np.clip(lag, 0.0, None), budget, p, alpha=policy.alpha)
            if from_dispatch.outcome != FAIL:
                outcome, reason = INCONCLUSIVE, generator_note
            else:
                reason = (reason + "; " if reason else "") + (
                    "it fails even on latency counted from the late dispatch")
        if disturbed and outcome != INCONCLUSIVE:
            outcome, reason = INCONCLUSIVE, disturbed
        checks.append(Check(f"{label}<={budget:g}ms", outcome, detail, reason, bt))

    if spec.throughput_hz is not None:
        target = spec.throughput_hz
        detail = (f"achieved {m.achieved_hz:.4g}/s (offered {m.offered_hz:.4g}/s) vs promised "
                  f"{target:g}/s")
        if math.isnan(m.achieved_hz):
            checks.append(Check(f"throughput>={target:g}/s", INCONCLUSIVE, detail, "no completions"))
        elif m.achieved_hz >= target:
            checks.append(Check(f"throughput>={target:g}/s", PASS, detail))
        elif m.offered_hz < target:
            checks.append(Check(f"throughput>={target:g}/s", INCONCLUSIVE, detail,
                                f"this schedule offered only {m.offered_hz:.4g}/s; "
                                f"raise rate_hz or run longer"))
        elif generator_note or disturbed:
            checks.append(Check(f"throughput>={target:g}/s", INCONCLUSIVE, detail,
                                generator_note or disturbed))
        else:
            checks.append(Check(f"throughput>={target:g}/s", FAIL, detail,
                                f"completed {m.achieved_hz:.4g}/s, below the promised {target:g}/s"))

    if m.failed or m.timed_out:
        what = []
        if m.failed:
            what.append(f"{m.failed} raised")
        if m.timed_out:
            what.append(f"{m.timed_out} ran past timeout_s={spec.timeout_s:g}")
        reasons.append(f"requests counted as over budget: {', '.join(what)}")

    if lat.size and m.failed + m.timed_out >= lat.size:
        checks.append(Check("requests complete", FAIL, f"all {lat.size} measured requests failed",
                            "every request raised or timed out"))
    outcomes = [c.outcome for c in checks]
    if FAIL in outcomes:
        outcome = FAIL
        reasons[:0] = [f"{c.name}: {c.reason or c.detail}" for c in checks if c.outcome == FAIL]
    elif INCONCLUSIVE in outcomes or not checks:
        outcome = INCONCLUSIVE
        if generator_note:
            reasons.insert(0, generator_note)
        if disturbed:
            reasons.insert(0, disturbed)
        reasons[:0] = [f"{c.name}: {c.reason}" for c in checks
                       if c.outcome == INCONCLUSIVE and c.reason not in (generator_note, disturbed)]
        if not checks:
            reasons.append("the test promises nothing (no budget and no throughput_hz)")
    else:
        outcome = PASS
    return Verdict(outcome, tuple(checks), tuple(reasons))

"""The terminal report: summary table, per-stage lines, a failed test's message (layer 2, pure).

Returns strings, never touches a terminal.

Works on the JSON-ready summaries (``SloResult.summary()``), so the same code renders results
measured in this process, results that came back from an xdist worker and results read from a file.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pytest_gpuslo.gate import (
    LATE_STEP_WORDS,
    OWN_THREADS_CPUS,
    cpu_contention,
    figure,
    stopped_words,
    with_cause,
)
from pytest_gpuslo.reports import view
from pytest_gpuslo.reports.view import budgets, change, error_words, fmt_ms, fmt_rate, label, ordered, outcome
from pytest_gpuslo.spec import replays_trace
from pytest_gpuslo.stats import WARM_UP_TOO_SHORT


def table(header: Sequence[str], rows: Iterable[Sequence[str]], right: Sequence[bool] | None = None) -> list[str]:
    """A plain aligned table; ``right[i]`` right-aligns column i (numbers)."""
    rows = [list(r) for r in rows]
    widths = [len(h) for h in header]
    for r in rows:
        widths = [max(w, len(c)) for w, c in zip(widths, r)]
    right = right or [False] * len(header)

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right)).rstrip()

    return [line(header)] + [line(r) for r in rows]


#: A parametrize id longer than this is cut in the middle in the terminal's table (review85: one of
#: 300 characters made every row 330 columns wide); the JSON, markdown and HTML keep it whole.
LONGEST_PARAMS = 40


def short_id(nodeid: str, width: int = 64) -> str:
    """A long test id without the middle of its folder path (``tests/…/test_x.py::test_y``) or of a
    very long parametrize id (``test_y[abc…xyz]``): the file name and the test's own name are
    always kept."""
    path, sep, rest = nodeid.partition("::")
    name_, bracket, params = rest.partition("[")
    if bracket and params.endswith("]") and len(params) - 1 > LONGEST_PARAMS:
        keep = (LONGEST_PARAMS - 1) // 2
        rest = f"{name_}[{params[:keep]}…{params[-1 - keep:-1]}]"
        nodeid = path + sep + rest
    parts = path.split("/")
    if len(nodeid) <= width or len(parts) <= 2:
        return nodeid
    head, dirs, name = parts[0], parts[1:-1], parts[-1]
    while dirs and len("/".join([head, "…", *dirs, name]) + sep + rest) > width:
        dirs = dirs[1:]
    return "/".join([head, "…", *dirs, name]) + sep + rest


def _bounded(summary: dict[str, Any], name: str) -> str:
    """``0.685 (<0.749)``: the measured percentile and, where it has a budget, its upper
    confidence bound (``(<?)``: too few requests above it to bound it)."""
    shown = view.shown_latency(summary, name)
    if shown in view.STAND_INS:
        return shown
    verdict = summary.get("verdict") or {}
    for check in verdict.get("checks", []):
        if check.get("p") is not None and label(check["p"]) == name:
            hi = check.get("upper_ms")
            if check.get("upper_raised"):  # the bound is a raised request's timeout (review84)
                return f"{shown} (<raised)"
            mark = "?" if _unproven(check) else "*" if view.on_blocks(check) else ""
            return f"{shown} (<{fmt_ms(hi) if hi is not None else '?'}{mark})"
    return shown


def _unproven(check: dict[str, Any]) -> bool:
    """An undecided claim's upper end under its budget: no PASS (too few effective samples to show
    the design effect it takes as right, or a condition such as lag), so it is marked (review98 #7:
    "(<4.5)" beside a 20-ms budget read as a PASS at 99%)."""
    hi, budget = check.get("upper_ms"), check.get("budget_ms")
    return check.get("outcome") == "INCONCLUSIVE" and hi is not None and budget is not None and hi <= budget


def _count(n: int) -> str:
    return f"{n:,}"


def _about(n: int) -> str:
    """A request count to two significant figures, rounded up (24,922 -> 25,000), as the reasons
    say it (``stats.about``)."""
    from pytest_gpuslo.stats import about

    return about(n)


def _claim_failed(check: dict[str, Any], summary: dict[str, Any]) -> str:
    """One failed budget claim in words: ``p95 3.1 ms > 1 ms budget``."""
    if check.get("p") is not None and check.get("budget_ms") is not None:
        est = check.get("estimate_ms")
        reason = str(check.get("reason") or "")
        failed, timed_out = int(summary.get("failed") or 0), int(summary.get("timed_out") or 0)
        n = int(summary.get("n") or 0)
        if check.get("estimate_raised"):
            # A percentile at the timeout is the raised requests, which hold it as their latency,
            # not a latency (review81: "p95 10000 ms > 5 ms budget" where 30 of 300 requests raised).
            also = f", {timed_out} timed out" if timed_out else ""
            if not failed:  # a hang's requests that never completed (review104 F6: "p95 500 ms > 30 ms")
                return (f"{label(check['p'])} <= {check['budget_ms']:g} ms broken: {view.late_words(summary)} "
                        f"(each counted as over budget)")
            return (f"{label(check['p'])} <= {check['budget_ms']:g} ms broken: {failed} of {n} requests raised{also} "
                    f"(each counted as over budget)")
        if est is not None and timed_out and est > check["budget_ms"]:
            return f"{label(check['p'])} {fmt_ms(est)} ms > {check['budget_ms']:g} ms budget ({view.late_words(summary)})"
        if est is not None and est <= check["budget_ms"] and reason.startswith("the candidate's run"):
            # An A/B claim an earlier candidate run FAILed: not "2.37 ms > 50 ms" (review82)
            return f"{label(check['p'])} <= {check['budget_ms']:g} ms broken in {reason.split(' FAILed it')[0]}"
        if est is not None and est <= check["budget_ms"] and reason.startswith(("a hang", "every lane")):
            # A hang's FAIL of a percentile under budget: say the hang, not "5.08 ms > 50 ms" (review54).
            why = "every lane hung" if reason.startswith("every lane") else "a hung body"
            return f"{label(check['p'])} <= {check['budget_ms']:g} ms broken by {why}"
        return f"{label(check['p'])} {fmt_ms(est)} ms > {check['budget_ms']:g} ms budget"
    return f"{check['name']}: {check.get('reason') or check.get('detail', '')}"


def _machine(summary: dict[str, Any]) -> dict[str, Any]:
    """``stopped_words``' keywords from a run's telemetry: were its neighbours busy, or its CPUs
    stolen (``gate.cpu_contention``), and how long its threads waited for CPUs."""
    tel = summary.get("telemetry") or {}
    return {"busy": bool(cpu_contention(tel.get("other_cpu_load"), tel.get("cpus"), tel.get("other_cpu_load_mean"),
                                        tel.get("steal_cpus"))),
            "stretch": figure(tel.get("run_queue_stretch"))}


def _load_words(summary: dict[str, Any]) -> str:
    """Why the generator was late, as far as the machine shows: a stop, busy neighbours, or (a quiet
    machine) this process itself ("other processes kept 0.0 of 2 CPUs busy" read as a cause)."""
    stopped = frozen_words(summary.get("lag_ms"), **_machine(summary))
    if stopped:
        return f"; {stopped}"
    tel = summary.get("telemetry") or {}
    other, cpus = tel.get("other_cpu_load"), tel.get("cpus")
    if other is None or not cpus:
        return ""
    if cpu_contention(other, cpus):
        mean = tel.get("other_cpu_load_mean")
        up_to = "up to " if mean is not None and other - mean >= 0.25 else ""  # the busiest window
        steal = tel.get("steal_cpus")
        stolen = f", {steal:.1f} of them the hypervisor's (steal time)" if steal is not None and steal >= 0.25 else ""
        # (review129 F7: beside the A/B header's "up to 1.3 ... during these runs", its last run's 0.6 unnamed)
        last = " in the candidate's last run" if summary.get("ab") else ""
        return f"; other processes kept {up_to}{other:.1f} of {cpus} CPUs busy{stolen}{last}"
    # review69 W7: a 21-ms lag spike read as this process's precision alone; a burst of other
    # load shorter than the sampling window averages away in it
    return ("; the machine was otherwise quiet as far as its load sampling shows: this process's own dispatch "
            "and lanes (gpuslo capacity), or other load too brief to show in it")


#: Words for the codes of ``verdict.conditions`` (what went wrong with the run itself).
CONDITIONS = {
    "generator_late": "the load generator fell behind (lag p99 {lag} ms{load})",
    "disturbed": "the machine was disturbed during the run",
    # (review181 F3: "the machine was disturbed" and "needs a quieter machine" of a run under --cov)
    "traced": "run under a Python tracer ({tracer}), which slows Python code: run SLO tests without it (--no-cov)",
    "nonstationary": "the run drifted between its halves (lengthen warm-up or the run)",
    "over_capacity": "the service was over capacity in this run: its queue grew with the run, which a longer run only lengthens",
    "slowing": "the run got slower as it went on (a longer warm-up does not settle that)",
}


def why(summary: dict[str, Any]) -> str:
    """The verdict and its reason in a few words, from the verdict's fields (not its wording):
    ``FAIL: p95 3.1 ms > 1 ms budget``, ``REGRESSED: p95 +16% vs baseline``,
    ``INCONCLUSIVE: p99 needs ~26,000 requests (ran 4,000)``.  A test failed by its baseline
    claim alone leads with REGRESSED: "FAIL" there read as a broken budget (review78 #3)."""
    v = summary.get("verdict") or {}
    outcome = str(v.get("outcome", "?"))
    # Requests that raised, in the row whatever the verdict (review123 F1: a race the load found in
    # the user's cache, KeyError in 1 of 4,000, was said under the table only)
    raised = int(summary.get("failed") or 0)
    crashed = f"{raised:,} request{'s' if raised != 1 else ''} raised (the first error below)" if raised else ""
    if outcome == "PASS":
        return "PASS" + view.undecided_against(summary) + (f"; {crashed}" if crashed else "")
    checks, base = v.get("checks", []), v.get("baseline", [])
    parts: list[str] = []
    if outcome == "FAIL":
        parts += [_claim_failed(c, summary) for c in checks if c.get("outcome") == "FAIL"]
        budget_failed = bool(parts)
        for b in base:
            if b.get("outcome") == "REGRESSED":
                ratio = b.get("ratio")
                change_ = f" {ratio - 1:+.0%}" if ratio is not None else ""
                # "p95 +16% vs baseline", or against an A/B base "p95 +16% vs base 1a2b3c4"
                label, _, against = str(b["name"]).partition(" ")
                marked = f"{label} replayed" if b.get("replayed") else label
                parts.append(f"{marked}{change_} {against or 'vs baseline'}" + (" (REGRESSED)" if budget_failed else ""))
        # a stop that made the generator late is in the percentile quoted: said, and that the FAIL,
        # held to the dispatch as every late run's is, stands without it (review153 F3: "p95 849 ms"
        # of a 25-ms body beside a 1.5-s SIGSTOP, and no word of it)
        stop = stopped_words((summary.get("lag_ms") or {}).get("frozen_max"), **_machine(summary))
        if stop and "generator_late" in v.get("conditions", []):
            parts.append(f"{stop}, which that figure holds; the FAIL stands without it")
        outcome = view.shown_outcome(summary)  # REGRESSED where the budgets held, as the reports say
    else:
        lag = fmt_ms((summary.get("lag_ms") or {}).get("p99"))
        conditions = [c for c in v.get("conditions", []) if c in CONDITIONS]
        if {"over_capacity", "slowing"} & set(conditions):  # review87, review88: not "lengthen warm-up"
            conditions.remove("nonstationary")
        # The lateness leads only where it held a claim back (review106 F14: "fell behind (lag p99
        # 0.276 ms)" led a FAIL held back as busy neighbours', 3 ms over budget from the dispatch).
        # (review190 F1: a PASS whose reason says the lateness did not flatter it held nothing)
        late_after = "generator_late" in conditions and not any(
            str(c.get("reason") or "").startswith("the load generator") and c.get("outcome") == "INCONCLUSIVE"
            for c in (*checks, *base))
        # ... and a stop of the whole process leads wherever it made the generator late: the rerun is
        # the fix, and the run's tail is the stop's (review152 F5: "a FAIL needs ~200,000 requests"
        # led a row whose whole excess was a 2-s SIGSTOP)
        stopped = "generator_late" in conditions and bool(frozen_words(summary.get("lag_ms"), **_machine(summary)))
        if stopped:
            late_after = False
            conditions.insert(0, conditions.pop(conditions.index("generator_late")))
        if late_after:
            conditions.remove("generator_late")
        # An A/B left undecided beside runs that stalled says which, and the rerun, first (review152
        # F2: a stop in one run and steal in another held a +57% change at INCONCLUSIVE, and the row
        # named only the budget's request count)
        stalls = view.ab_stalls(summary)
        undecided = [str(b["name"]) for b in base if b.get("outcome") == "INCONCLUSIVE" and b.get("name")]
        if stalls and undecided:
            parts.append(f"{' and '.join(undecided)} undecided ({stalls}): {view.ab_rerun(summary)}")
        if "traced" in conditions and "disturbed" in conditions and \
                len((summary.get("telemetry") or {}).get("disturbances") or []) <= 1:
            conditions.remove("disturbed")  # the tracer was the disturbance: named, first
            conditions.insert(0, conditions.pop(conditions.index("traced")))
        tracer = str((summary.get("telemetry") or {}).get("tracer") or "a tracer")
        parts += [CONDITIONS[c].format(lag=lag, load=_load_words(summary), tracer=tracer) for c in conditions]
        stuck = [h for h in summary.get("stuck", []) if isinstance(h, dict) and "index" in h]
        # A hang that decided no claim is still the first thing to fix (review55: the row read
        # only "needs ~4,000 requests" beside a deadlocked request).
        if summary.get("prime_stuck"):
            parts.append("the priming call hung")
        if stuck:
            first = min(stuck, key=lambda h: int(h["index"]))
            parts.append(f"request {first['index']} hung on lane {first.get('lane', '?')}")
        for c in checks:
            if c.get("outcome") != "INCONCLUSIVE":
                continue
            if c.get("needed_n") and (stuck or summary.get("prime_stuck")):
                continue  # a run with a hang never PASSes: the hang, said above, is the fix (review88 #4)
            if c.get("needed_n") and "traced" in v.get("conditions", []):
                continue  # no run length helps timings a tracer slowed: the tracer, said above, is the fix
            if c.get("needed_n") and stopped:
                est = c.get("estimate_ms")
                level = f" at {fmt_ms(est)} ms" if est is not None else ""
                parts.append(f"{c['name']} undecided{level} with the stop in the run's tail")  # no count: the rerun, said first
            elif c.get("needed_n"):
                need = max(int(c["needed_n"]), int(summary.get("n") or 0))
                est, budget = c.get("estimate_ms"), c.get("budget_ms")
                # review74: "p95<=20ms needs ~26,000 requests" beside a p95 of 226 ms read as if more
                # requests might PASS it: an estimate over budget says so and which way it leans
                over = (f" at {fmt_ms(est)} ms, over budget: a FAIL" if est is not None and budget is not None
                        and c.get("p") is not None and est > budget else "")
                # under budget, a floor: a short run's design effect is low where slow requests
                # cluster (benchmarks/validity/advice_counts.py)
                # review97 #3: a late slowdown's count holds only if it lasts, as its reason says
                lasts = " if the slowdown lasts" if over and "if that lasts" in str(c.get("reason") or "") else ""
                # review122 F10: "needs ~49,000 requests" at a p95 a ninth of its budget, on a run
                # whose few over-budget requests bunched while neighbours held the CPUs: the count
                # is this run's, and a quieter machine is the other way to a decision
                # (the neighbours' load once: the generator's lateness, where said, names it)
                # (review123 F3: not where the run was too short for any PASS, "or 4000 if it stays
                # this far under budget" or too few for sectioning's batches: no machine helps there,
                # ``BudgetTest.length_only``)
                short = bool(c.get("length_only"))
                # review167 F1: where every request over the budget raised, no neighbour made them
                # so, and "needs a quieter machine" was no way out
                raised_only = 0 < int(c.get("exceed") or 0) <= int(summary.get("failed") or 0)
                load = _load_words(summary) if (not over and not short and not raised_only
                                                and "contended" in v.get("conditions", [])) else ""
                said_load = "" if "generator_late" in v.get("conditions", []) else f" ({load[2:]})"
                count = (f"{'~' if over else 'at least ~'}{_about(need)} requests{lasts} "
                         f"(ran {_count(int(summary.get('n') or 0))})")
                # review141 F2: "needs ~170,000 requests, or a quieter machine" offered the count
                # first where the neighbours were the way out (the same code asked 25,000-170,000)
                busy = (_load_words(summary) if over and not short and not raised_only
                        and "contended" in v.get("conditions", []) else "")
                if busy:
                    # review178 F4: "at 224 ms, over budget: a FAIL needs ~420,000 requests" led a
                    # healthy server's row whose neighbours had starved it; they come first now
                    said_busy = "" if "generator_late" in v.get("conditions", []) else f" ({busy[2:]})"
                    parts.append(f"{c['name']} at {fmt_ms(c.get('estimate_ms'))} ms, over budget beside busy "
                                 f"neighbours{said_busy}: rerun on a quieter machine, or a FAIL needs {count} on this one")
                else:
                    parts.append(f"{c['name']}{over} needs a quieter machine{said_load}, or {count} on this one"
                                 if load else f"{c['name']}{over} needs {count}")
            elif c.get("reason") and (not conditions or c.get("held_from") == "FAIL"
                                      or WARM_UP_TOO_SHORT in str(c["reason"])):
                # A FAIL held back for busy neighbours is named even beside other conditions, and
                # a warm-up too short with the requests to add (review58: only "drifted").  A reason
                # an earlier claim gave is said once (review153 F4: 600 characters twice in a row).
                said_before = any(o.get("outcome") == "INCONCLUSIVE" and str(o.get("reason")) == str(c["reason"])
                                  for o in checks[:checks.index(c)])
                parts.append(f"{c['name']}: likewise" if said_before else f"{c['name']}: {c['reason']}")
        if late_after:
            parts.append(CONDITIONS["generator_late"].format(lag=lag, load=_load_words(summary)))
    if not parts:
        # the claim that made it so before a note that sits beside a PASS too (review104: "requests
        # counted as over budget: 48 raised" named for a baseline claim the lateness held back)
        said = [str(r) for r in v.get("reasons", [])]
        # named, its reason in full on the lines below (review104 second pass: 700 characters in the row)
        claims = [f"{b['name']} undecided (why below)" for b in base
                  if any(r.startswith(f"{b.get('name')}:") for r in said)]
        parts = (claims or [r for r in said if not r.startswith("requests counted as over budget")] or said)[:1]
    if crashed:
        at = next((i for i, part in enumerate(parts) if "raised" in part), None)
        if at is None:
            parts.append(crashed)
        else:  # a FAIL's claim says the count already; where to look, too (review125: dropped)
            part = parts[at]
            parts[at] = part[:-1] + "; the first error below)" if part.endswith(")") else part + " (the first error below)"
    return f"{outcome}: " + "; ".join(parts) if parts else outcome


def legend(*, verbose: int = 0, max_lag_fraction: float | None = None, replayed: bool = False,
           against: str = "vs baseline", unproven: bool = False, on_blocks: bool = False,
           compared: bool = True) -> list[str]:
    """What the table's figures mean; every sentence true of every row (``replayed``: a row's
    claim compared replayed levels, which the legend then explains; ``compared``: some row was
    compared, else the column's paragraph is left out: review148, under --gpuslo-no-baseline)."""
    lag_rule = (f"above {max_lag_fraction:.0%} of the tightest budget" if max_lag_fraction
                else "when too large for the budget")
    lines = [
        "0.685 (<0.749): the measured percentile (<the upper end of its confidence interval), for budgeted",
        "  percentiles; (<?): too few requests above it to bound it. verdict: the gate's decision and its",
        "  main reason; every reason is listed under the table.",
        *(["(<4.5?): an upper end under the budget that the run cannot stand behind (too few effective",
           "  samples, or a condition the verdict names): not a PASS."]
          if unproven else []),
        *(["(<27.2*): a PASS on its blocks: each of 8 consecutive blocks has its percentile far under the",
           "  budget (the margin grows as the run holds fewer effective exceedances); the upper end, from a",
           "  design effect too few of them can show, is not what it stands on (-v gives the margin)."]
          if on_blocks else []),
        "lag p99 ms: how late the load generator sent its requests (a busy machine, or a body holding the",
        f"  GIL). Where the delay it added to completions is {lag_rule}, a FAIL must hold",
        "  from the dispatch too and a PASS stands only where service time did not grow with the requests",
        "  in flight; a REGRESSED must hold without any such delay on either side. On CUDA the queue the",
        "  bodies' own host time builds on the launching thread is the code's, not such a delay; on CPU",
        "  lanes, so is a wait for the GIL the bodies held (only a wait for a CPU is the machine's).",
    ]
    lines += [] if not compared else [
        f"{against}: the change of each budgeted percentile's level in the run (a trimmed mean over 20",
        *(["  batches), the candidate's runs' mean level against the base revision's (interleaved runs): not",
           "  one run's raw p95 against another's, which one lucky or unlucky run moves. REGRESSED fails the",
           "  test: it needs the interval's lower end above the noise floor (+2% below p99, +3% from p99), OK",
           "  its upper end under +5% (+10%)."]
          if against == "vs base" else  # review76: an A/B legend spoke of stored runs
          ["  batches) against the stored runs' mean level: not the raw p95 against the latest stored run,",
           "  which one lucky or unlucky run moves. REGRESSED fails the test: it needs the interval's lower",
           "  end above the noise floor (+2% below p99, +3% from p99), OK its upper end under +5% (+10%)."]),
    ]
    if replayed:
        lines += [
            "p95 replayed: each run's level averaged over 16 replays of the run with its service times",
            "  dealt in random orders, which takes out the luck of where its slow requests fell; used where",
            "  every run's service times could be dealt at random ("
            + ("the evidence lines say why a claim did not)." if verbose > 0 else "-v says why a claim did not)."),
        ]
    if verbose > 0:
        lines += [
            "design effect: how much queueing makes neighbouring requests alike; n requests weigh as",
            "  n / design effect independent ones, which sets how many requests a verdict needs.",
        ]
    return lines


def stalled(lag: dict[str, Any] | None) -> bool:
    """Did one stall of the generator delay a few requests far more than its p99 shows?  Fewer
    than 1% of the requests are invisible at p99; the queue behind them is not."""
    lag = lag or {}
    # The lateness that delayed completions and was not the code's (a body holding the GIL on a
    # CPU lane is the code's: review57), where the run says; the lag itself before.
    p99 = lag.get("delay_p99", lag.get("p99"))
    top = lag.get("delay_max", lag.get("max"))
    return (isinstance(top, (int, float)) and isinstance(p99, (int, float))
            and top >= 1.0 and top > 5 * max(p99, 0.0))


def frozen_words(lag: dict[str, Any] | None, *, busy: bool = False, stretch: float | None = None) -> str:
    """'' unless the dispatcher was found stopped (``lag_ms.frozen_max``, ``gate.stopped_words``):
    then how long, and what stops a whole process; that lateness is the machine's, not the code's
    (review148 F1: a 2-s SIGSTOP read "this process's own dispatch").  ``busy``, ``stretch``: the
    run's machine (``_machine``), by which ``gate.stopped_words`` may name no stop."""
    stopped = stopped_words((lag or {}).get("frozen_max"), busy=busy, stretch=stretch)
    return (with_cause(stopped, "its dispatcher neither ran, waited for a CPU, nor woke for the GIL: a SIGSTOP, a "
                       "paused VM, hypervisor steal") + ": the machine's, rerun") if stopped else ""


def stall_words(lag: dict[str, Any] | None, *, busy: bool = False, stretch: float | None = None) -> str:
    """The note under a verdict that is not a PASS where one stall delayed a few requests far more
    than the lag p99 shows (``stalled``; '' otherwise): the terminal's, and ``gpuslo compare``'s
    of the same record (review146 N1).  ``busy``, ``stretch``: as ``frozen_words``."""
    if not stalled(lag):
        return ""
    lag = lag or {}
    stopped = frozen_words(lag, busy=busy, stretch=stretch)
    delay, late = lag.get("delay_p99"), lag.get("p99")
    # (review190 F2: "one or a few completions by up to 2.37 ms (lag p99 124 ms)" on one lane busy
    # with its own queue: the lag that delayed no completion is said as such)
    said = (f"completions delayed {fmt_ms(delay)} ms at p99; the lag itself, p99 {fmt_ms(late)} ms, mostly fell "
            f"on requests that would have waited for a busy lane anyway" if isinstance(delay, (int, float))
            and isinstance(late, (int, float)) and late > 2 * max(delay, 0.0) + 1.0 else f"lag p99 {fmt_ms(late)} ms")
    return (f"the load generator stalled: it delayed one or a few completions by up to "
            f"{fmt_ms(lag.get('delay_max', lag['max']))} ms ({said}); "
            f"the queue behind them is in the tail" + (f"; {stopped}" if stopped else ""))


def stall_note(summary: dict[str, Any]) -> str:
    """``stall_words`` of a verdict that is not a PASS ('' for a PASS or a run with no stall): every
    report lists it among the reasons (review182 F5: the terminal's only)."""
    if (summary.get("verdict") or {}).get("outcome") == "PASS":
        return ""
    return stall_words(summary.get("lag_ms"), **_machine(summary))


def summary_lines(summaries: Sequence[dict[str, Any]], *, verbose: int = 0,
                  max_lag_fraction: float | None = None) -> list[str]:
    """The terminal summary: one row per SLO test, failures first, each with its reason in words;
    ``verbose`` adds the claims' evidence and the stages."""
    ordered_ = ordered(summaries)
    cols = view.percentile_columns(ordered_, ('p50', 'p95', 'p99'))
    # review69: an A/B table's rows read "p95 vs base 6af957b"; its column said "vs baseline"
    against = "vs base" if view.is_ab(ordered_) else "vs baseline"
    header = ["test", "n", *(f"{c} ms" for c in cols), "budget ms", "lag p99 ms", against, "verdict"]
    rows = []
    for s in ordered_:
        rows.append([
            short_id(s["nodeid"]), _count(int(s["n"])), *(_bounded(s, c) for c in cols), budgets(s),
            fmt_ms((s.get("lag_ms") or {}).get("p99")), change(s, band=verbose > 0), why(s) + view.pytest_note(s),
        ])
    lines = table(header, rows, [False, True, *([True] * len(cols)), False, True, False, False])
    replayed = view.any_replayed(ordered_)
    unproven = any(_unproven(c) for s in ordered_ for c in (s.get("verdict") or {}).get("checks", []))
    on_blocks = view.any_on_blocks(ordered_)
    compared = any((s.get("verdict") or {}).get("baseline") for s in ordered_)
    lines += legend(verbose=verbose, max_lag_fraction=max_lag_fraction, replayed=replayed, against=against,
                    unproven=unproven, on_blocks=on_blocks, compared=compared)
    for s in ordered_:
        v = s.get("verdict") or {}
        detail: list[str] = []
        # the verdict's reasons, printed first; a baseline claim's reason among them is said once
        said = v.get("reasons", []) if v.get("outcome") != "PASS" else []
        if v.get("outcome") != "PASS":
            detail += [f"    {r}" for r in v.get("reasons", [])]
            stall = stall_note(s)
            if stall:
                detail.append(f"    {stall}")
        else:
            # A PASS beside requests that raised or timed out says so (review82: 80 of 4,000 raised,
            # and the terminal said nothing, even with -v)
            # ... and beside a late step in the bodies' own times it stood on the level before (review97 #2)
            detail += [f"    {r}" for r in v.get("reasons", [])
                       if r.startswith(("requests counted as over budget", LATE_STEP_WORDS))]
        first = view.first_error(s)
        if first:  # ... and the error itself, whatever the verdict (review83: gpuslo ab never named it)
            detail.append(f"    {first} (its traceback is in the JSON report)")
        if verbose <= 0:  # an undecided baseline claim says why even when the budget decided
            detail += [f"    {line}" for line in view.undecided_baseline(s, said=said)]
        if verbose > 0:
            detail.append(f"    n={_count(int(s['n']))} (+{s.get('warmup', 0)} warm-up), offered "
                          f"{fmt_rate(s.get('offered_hz'))}, {view.achieved(s)}")
            threads = (s.get("telemetry") or {}).get("own_threads_cpus")
            if isinstance(threads, (int, float)) and threads >= OWN_THREADS_CPUS:
                # (review188 F2: 0.92 of a CPU on OpenBLAS's threads, in the JSON alone)
                detail.append(f"    this process's own threads outside the lanes kept {threads:.2f} of a CPU busy "
                              f"on average (a native pool such as numpy's BLAS, or a worker of the code's): work "
                              f"the bodies' own times leave out")
            # a FAIL without a reason of its own was said by its detail among the reasons above
            # a PASS's own route where it has one (review126 F3a: "far under budget: each of 8
            # blocks ... under 1/2.5 of the budget" was said nowhere, so a flip read unexplained)
            detail += [f"    {c['outcome']:<12} {c['detail']}"
                       + (f"; {c['reason']}" if c.get("outcome") == "PASS" and c.get("reason") else "")
                       for c in v.get("checks", []) if f"{c.get('name')}: {c['detail']}" not in said]
            detail += [f"    {b['outcome']:<12} {b['name']}: {b['detail']}"
                       + ("" if view.already_said(b, said) else f"; {b['reason']}")
                       for b in v.get("baseline", [])]
            detail += stage_lines(s.get("stages", {}), (s.get("ab") or {}).get("stages"),
                                  (s.get("lag_ms") or {}).get("p99"))
            ov = s.get("overlap")
            if ov:
                detail.append(f"    copy/compute overlap {fmt_ms(ov['percent'])}% of copy time "
                              f"(copies {fmt_ms(ov['copy_ms'])} ms, compute {fmt_ms(ov['compute_ms'])} ms)")
            for occ in s.get("occupancy", []):
                detail.append(f"    occupancy {occ['kernel']} block={occ['block']}: "
                              f"{occ['occupancy']:.0%} ({occ['blocks_per_sm']} blocks/SM, "
                              f"{occ['registers_per_thread']} regs, limited by {occ['limiter']})")
            each = view.run_p95s(s)
            if each:
                detail.append(f"    {each}")
            tel = s.get("telemetry") or {}
            if tel.get("sm_mhz"):
                detail.append(f"    GPU SM clock {tel['sm_mhz']['min']:.0f}-{tel['sm_mhz']['max']:.0f} MHz, "
                              f"reasons {', '.join(tel.get('clock_event_reasons') or ['none'])}")
            if tel.get("control"):
                from pytest_gpuslo.control import NAMES

                # an A/B test's latest candidate run: said so under the range of every run (review69 W4)
                which = " (the latest candidate run)" if s.get("ab") else ""
                detail.append(f"    machine control{which}: " + ", ".join(
                    f"{NAMES.get(k, k)} {v:.4g} ms" for k, v in sorted(tel["control"].items())))
            if s.get("max_backlog"):
                detail.append(f"    dispatcher max backlog: {s['max_backlog']} requests")
        if detail:
            lines.append(f"  {s['nodeid']}:")
            lines.extend(detail)
    return lines


def ab_control_line(summaries: Sequence[dict[str, Any]]) -> str | None:
    """The machine control across an A/B session's runs, when it moved by 5% or more between
    them: the host's speed changed from run to run, which interleaving does not cancel and which
    widens the intervals; whether it, more than the code, set a verdict is not said (review94: a 7%
    spread read so beside a 24% change) (``None`` when steady or not measured)."""
    from pytest_gpuslo import control

    worst: tuple[float, str, float, float, str] | None = None
    tests = 0
    for s in summaries:
        tests += bool((s.get("ab") or {}).get("control_ms"))
        for name, sides in ((s.get("ab") or {}).get("control_ms") or {}).items():
            values = [float(v) for side in ("base", "candidate") for v in sides.get(side) or []
                      if isinstance(v, (int, float)) and v > 0]
            if len(values) < 2:
                continue
            lo, hi = min(values), max(values)
            if worst is None or hi / lo > worst[0]:
                worst = (hi / lo, name, lo, hi, str(s.get("nodeid", "")))
    if worst is None or worst[0] < 1.0 + control.DRIFTING:
        return None
    ratio, name, lo, hi, nodeid = worst
    # review98: the widest of several tests' spreads read as every run's
    runs = f"{nodeid}'s runs (the widest spread of {tests} tests)" if tests > 1 and nodeid else "these runs"
    return (f"machine control: the {control.NAMES.get(name, name)} took {lo:.3g}-{hi:.3g} ms across {runs} "
            f"({ratio:.2g}x): this machine's speed changed from run to run, which interleaving does not cancel; "
            f"it widens each change's interval below")


def busy_line(summaries: Sequence[dict[str, Any]], ab: bool = False) -> str | None:
    """Say so when other processes kept the CPUs busy during the runs: CPU timings need a quiet
    machine (``None`` when they were quiet or nobody measured).  ``ab``: interleaved runs, where
    a neighbour's load falls on both sides alike and only widens the interval."""
    loads = [(tel["other_cpu_load"], tel.get("cpus") or 0) for s in summaries
             for tel in [s.get("telemetry") or {}] if tel.get("other_cpu_load") is not None]
    # an A/B test's every run on both sides, not only its latest candidate run (review69)
    loads += [(float(x), (s.get("telemetry") or {}).get("cpus") or 0) for s in summaries
              for side in ((s.get("ab") or {}).get("other_cpu_load") or {}).values() for x in side
              if isinstance(x, (int, float))]
    if not loads:
        return None
    other, cpus = max(loads)
    if not cpu_contention(other, cpus):
        return None
    steals = [tel["steal_cpus"] for s in summaries for tel in [s.get("telemetry") or {}]
              if tel.get("steal_cpus") is not None]
    steal = (f" (the hypervisor's steal time up to {max(steals):.1f} of them: other machines share this VM's "
             f"CPUs, which no process inside it shows)" if steals and max(steals) >= 0.25 else "")
    head = f"machine: busy, other processes kept up to {other:.1f} of {cpus} CPUs busy during these runs{steal}; "
    # interleaving speaks for compared tests only (review81: said of an A/B of only new tests)
    if ab and any(not (s.get("ab") or {}).get("new") for s in summaries):
        return head + ("the runs alternate base and candidate, so load that lasted across runs fell on both "
                       "sides alike, and load that changed from run to run is in the runs' spread, which widens "
                       "the interval: an OK, REGRESSED or IMPROVED stands (a budget FAIL measured then is INCONCLUSIVE unless "
                       "they cannot explain it, as a hang or requests that raised); an "
                       "INCONCLUSIVE may decide when rerun on a quieter machine, whose runs spread less")
    return head + ("CPU timings need a quiet machine, and a FAIL measured then is INCONCLUSIVE unless they "
                   "cannot explain it (a hang, requests that raised, a service over budget on its own, or lanes too "
                   "slow for the rate)")


def holm_lines(summaries: Sequence[dict[str, Any]], holm: dict[str, float], alpha: float) -> list[str]:
    """Which failed claims still fail when the whole suite's chance of a false alarm is held at
    ``alpha`` (Holm's method over every claim that can fail a test), in words; nothing when no
    claim failed or the suite has a single claim."""
    failed = []
    for s in summaries:
        v = s.get("verdict") or {}
        for c in (*v.get("checks", []), *v.get("baseline", [])):
            key = f"{s['nodeid']} {c['name']}"
            if c.get("outcome") in ("FAIL", "REGRESSED") and key in holm:
                # (review109 F2: a 70x overload read "could be chance"; its block sign test's p
                # cannot go under 1/2^blocks, however far over budget every block is)
                failed.append((holm[key], key, "(block sign test" in str(c.get("reason") or "")))
    if len(holm) < 2 or not failed:
        return []
    lines = [f"suite: {len(holm)} claims could fail a test, {len(failed)} failed at alpha {alpha:g} each;",
             f"  with the chance of any false alarm among all {len(holm)} held at {alpha:g} (Holm's method):"]
    for adj, key, blocks in sorted(failed):
        if adj <= alpha:
            lines.append(f"  still fails     {key} (adjusted p {view.fmt_p(adj)})")
        elif blocks:
            lines.append(f"  could be chance {key} (adjusted p {view.fmt_p(adj)} > {alpha:g}): every block of the "
                         f"run was over budget, and that test's p can go no lower however far over; a longer run "
                         f"or fewer claims in the suite decide it")
        else:
            lines.append(f"  could be chance {key} (adjusted p {view.fmt_p(adj)} > {alpha:g}): rerun it before "
                         f"blaming the change")
    return lines


def section(summaries: Sequence[dict[str, Any]], *, verbose: int = 0, holm: dict[str, float] | None = None,
            alpha: float = 0.01, inconclusive: str = "warn", seed: int | None = None,
            max_lag_fraction: float | None = None, errors: Sequence[tuple[str, str]] = (),
            notes: Sequence[tuple[str, str]] = ()) -> list[str]:
    """Everything under the ``gpuslo: tail-latency SLOs`` rule of the terminal summary (``errors``:
    SLO tests that ended in an error, before or after their verdict, named first; ``notes``: those
    not judged, an xfail-marked test's XFAIL before a verdict, named next, as the reports list them)."""
    lines = [f"{word} {n} {rest}" for n, (word, rest) in ((n, error_words(e)) for n, e in errors)]
    lines += [f"NOT JUDGED {n} {w}" for n, w in notes]
    if not summaries:
        return lines
    machines = {json.dumps(s.get("machine", {}), sort_keys=True) for s in summaries}
    for m in sorted(machines):
        desc = ", ".join(f"{k}={v}" for k, v in json.loads(m).items() if v not in (None, ""))
        lines.append(f"device: {desc}")
    busy = busy_line(summaries)
    if busy:
        lines.append(busy)
    # review98 #2: a claim judged at a share of alpha (a prediction from stored runs) said so
    # only in its detail, and its p 0.0098 read as under "alpha 0.01"
    shares = sorted({float(b["alpha"]) for s in summaries for b in (s.get("verdict") or {}).get("baseline", [])
                     if b.get("alpha") is not None and float(b["alpha"]) < alpha * (1 - 1e-9)})
    judged = (f" ({' or '.join(f'{a:g}' for a in shares)} for a change judged against the stored runs' spread)"
              if shares else "")
    lines.append(f"seed: {seed if seed is not None else 'from each node id'}; alpha {alpha:g} per claim{judged}; "
                 f"INCONCLUSIVE -> {'fail' if inconclusive == 'fail' else 'warning'}")
    lines += summary_lines(summaries, verbose=verbose, max_lag_fraction=max_lag_fraction)
    if any(outcome(s) == "INCONCLUSIVE" for s in summaries):
        lines.append("hint: pytest --gpuslo-suggest -m slo runs each SLO test briefly and suggests budgets and "
                     "sizes this machine can decide")
    lines += holm_lines(summaries, holm or {}, alpha)
    lines += saved_lines(summaries)
    return lines


def saved_lines(summaries: Sequence[dict[str, Any]]) -> list[str]:
    """What --gpuslo-save did, a line per test; one refusal shared by several tests is said once
    with their names (review46: three tests on a busy machine printed one long reason three times)."""
    refused: dict[str, list[str]] = {}
    lines: list[str] = []
    for s in summaries:
        saved = s.get("baseline_saved")
        if not saved:
            continue
        if saved.startswith("not saved: "):
            refused.setdefault(saved, []).append(str(s["nodeid"]))
        else:
            lines.append(f"baseline {s['nodeid']}: {saved}")
    for why, tests in refused.items():
        # one form whatever the count (review163 F1: "baseline not saved for 2 tests (...)" beside
        # "baseline X: not saved: ..." in one summary)
        lines.append(f"baseline {', '.join(tests)}: {why}")
    return lines


def tail_stage(stages: dict[str, Any]) -> str:
    """The service's own stage with the most time in the run's slowest requests (``tail_ms``, at
    the tightest budgeted percentile), or, in summaries from before it was kept, the largest p95
    (``admission`` only when it is alone); '' where no stage has time in the slowest requests
    (they never completed: a hung batch stamps none, review106 F5 read "0 ms <- holds the tail").
    A stage some request entered and never left (``open``: a hung call) comes first, a service
    before a queue: the hang is there, whatever the completed requests did (review111 F2)."""
    own = [k for k in stages if k != "admission"] or list(stages)
    stuck = [k for k in own if stages[k].get("open")]
    if stuck:
        return max(stuck, key=lambda k: (k.endswith(".service"), stages[k]["open"]))
    own = [k for k in own if stages[k].get("p95_ms") is not None]
    if not own:
        return ""
    key = "tail_ms" if all(stages[k].get("tail_ms") is not None for k in own) else "p95_ms"
    worst = max(own, key=lambda k: stages[k][key])
    return worst if key == "p95_ms" or stages[worst][key] > 0 else ""


def admission_backlog(stages: dict[str, Any], lag_p99_ms: float | None = None) -> bool:
    """Every lane was busy: the wait for one (``admission``) is longer at p95 than the stage that
    holds the tail; the symptom, whose cause is that stage.  Not where the load generator's own
    lateness (``lag_p99_ms``) is half that wait or more: admission counts it too, and no stage of
    the service built it (review194 F2: "the cause is below" pointed at a 0.046-ms stage, the wait
    a generator 2.3 ms late on a busy machine)."""
    worst = tail_stage(stages)
    wait = stages.get("admission", {}).get("p95_ms") or 0.0
    if isinstance(lag_p99_ms, (int, float)) and lag_p99_ms >= 0.5 * wait:
        return False
    return "admission" in stages and worst not in ("admission", "") and \
        wait > (stages[worst].get("p95_ms") or 0.0)


def stage_lines(stages: dict[str, Any], against: Mapping[str, Any] | None = None,
                lag_p99_ms: float | None = None) -> list[str]:
    """One line per stage, and which of the service's own stages holds the tail (largest p95).

    ``admission`` is not a candidate: a long wait for a lane means every lane was busy inside the
    service, and the stage they were stuck in is the culprit; it is marked as the symptom.
    ``against``: an A/B's ``stage_medians`` (``ab.stage_medians``): each row then gives the base's
    p50 and p95 and the change, and the service stage that grew most is marked.
    """
    if not stages:
        return []
    against = {k: v for k, v in (against or {}).items() if k in stages}
    grew = view.grew_most(against)
    worst = tail_stage(stages)
    backlog = admission_backlog(stages, lag_p99_ms)
    width = max(14, *(len(k) for k in stages))

    def note(name: str) -> str:
        if name == worst and stages[name].get("open"):
            held = stages[name]["open"]
            return (f"  <- holds the tail: {held} request{'s' if held > 1 else ''} entered it and never "
                    f"left (the row's times count only those that did)")
        if name == worst and stages[name].get("max_wait_ms") is not None:
            # (review174 F4: an adaptive batcher's 150-ms timer behind a 140-ms queue went unnamed)
            return (f"  <- holds the tail: its batcher holds a first request up to max_wait_ms="
                    f"{stages[name]['max_wait_ms']:g} ms for a fuller batch")
        if name == worst:
            return "  <- holds the tail"
        if name == "admission" and backlog:
            return "  <- every lane busy: requests queued before the service (the cause is below)"
        if name == "admission" and admission_backlog(stages) and lag_p99_ms is not None:
            return (f"  <- mostly the load generator's own lateness (lag p99 {fmt_ms(lag_p99_ms)} ms), which no stage "
                    f"of the service built")
        return ""

    def versus(name: str) -> str:
        if name not in against:
            return ""
        b, c = against[name]["base"], against[name]["candidate"]
        # both sides' medians on the row, so that its change is read off its own numbers (review199
        # F1: the latest run's p95 4.21 ms beside the base's 2.21 ms read "+1%")
        return "; medians " + ", ".join(
            f"{q} {fmt_ms(c[k])} ms against the base's {fmt_ms(b[k])} ms "
            + (f"({c[k] / b[k] - 1.0:+.0%})" if b[k] > 0 else "(from 0)")
            for q, k in (("p50", "p50_ms"), ("p95", "p95_ms")))

    def marks(name: str) -> str:
        said = note(name)
        if name != grew:
            return said
        return f"{said}; its own time grew most against the base" if said else "  <- grew most against the base"

    lines = [f"    stage {name:<{width}} n={st['n']:<6} p50 {fmt_ms(st['p50_ms'])} ms  "
             f"p95 {fmt_ms(st['p95_ms'])} ms"
             + (f"  in the slowest requests {fmt_ms(st['tail_ms'])} ms" if st.get("tail_ms") is not None else "")
             + versus(name) + marks(name) for name, st in stages.items()]
    if against:
        runs = next(iter(against.values()))
        lines.insert(0, f"    stages (the latest candidate run; then the medians over the candidate's "
                        f"{runs['candidate']['runs']} runs and the base's {runs['base']['runs']}, and the change)")
    if not worst:  # (review111 F1: "0 ms" in every row, and no word why)
        lines.append("    (the slowest requests have no stage times: they never completed, and the rows count "
                     "only the requests that did)")
    return lines


def failure_message(summary: dict[str, Any]) -> str:
    """The short message of a failed or inconclusive SLO test."""
    v = summary.get("verdict") or {}
    spec = summary["spec"]
    # as every table names it (review104: "SLO FAIL" for a test each report called REGRESSED)
    lines = [f"SLO {v.get('shown') or v.get('outcome', '?')}: {summary['nodeid']}"]
    for c in v.get("checks", []):
        lines.append(f"  {c['outcome']:<12} {c['name']}: {c['detail']}")
        if c.get("reason"):
            lines.append(f"  {'':<12} {c['reason']}")
    for r in v.get("reasons", []):
        if not any(r.endswith(c.get("reason") or "\0") or r.startswith(c["name"]) for c in v.get("checks", [])):
            lines.append(f"  {r}")
    lag = summary["lag_ms"]
    p99 = lag.get("p99")
    stall = f" (max {fmt_ms(lag['max'])} ms: a stall)" if stalled(lag) else ""  # the machine's, not the GIL's
    offered, rate = summary.get("offered_hz"), spec.get("rate_hz")
    # review141 F8: "offered 389/s" of a trace replayed at rate_hz=357.5 was not explained: a
    # window of a trace offers what that stretch of it holds
    window = (f" (this stretch of the trace; {fmt_rate(rate)} is the whole trace's rate)"
              if replays_trace(spec.get("arrivals")) and isinstance(offered, (int, float))
              and isinstance(rate, (int, float)) and rate > 0 and abs(offered / rate - 1.0) > 0.05 else "")
    lines.append(
        f"  n={summary['n']} (+{summary['warmup']} warm-up), offered {fmt_rate(offered)}{window}, "
        f"{view.achieved(summary)}, streams={spec['streams']}, "
        f"schedule lag p99 {fmt_ms(p99)} ms{stall}, seed={spec['seed']}, backend={summary['backend']}")
    if summary.get("stages"):
        lines.append("  where the time went (per stage; admission = waiting to start on a lane):")
        lines.extend("  " + ln for ln in stage_lines(summary["stages"], lag_p99_ms=lag.get("p99")))
    if summary.get("first_error"):
        # review104: an error in the warm-up only read "counts as over budget", which it does not
        warm = int(summary.get("warmup_failed") or 0)
        lines.append("  first error (the request counts as over budget):" if summary.get("failed") else
                     f"  first error ({warm:,} of the {summary['warmup']:,} warm-up requests raised; no verdict "
                     f"counts them, but a body that fails on its first requests fails its first users):"
                     if warm else "  first error:")
        # A message line such as "::error ..." would read as a GitHub command once the runner trims
        # the indent (review169 F4): such a line is printed behind "| ".
        lines.extend("    " + ("| " + ln if ln.lstrip().startswith("::") else ln)
                     for ln in summary["first_error"].rstrip().splitlines())
    lines += stuck_lines(summary)
    return "\n".join(lines)


def stuck_lines(summary: dict[str, Any], most: int = 2) -> list[str]:
    """Where the run's hung bodies were stuck (``view.hung_stacks``), indented for a terminal: the
    test's result under pytest, and ``gpuslo ab``'s summary (review107 F7: its reason said the stack
    "is printed with the test's result", and the A/B terminal printed none)."""
    lines = []
    stacks, more = view.hung_stacks(summary, most)
    for words, stack in stacks:
        lines.append(f"  {words}")
        lines.extend("    " + ln for ln in stack.rstrip().splitlines())
    if more:
        lines.append(f"  {view.more_hung(more)}")
    return lines

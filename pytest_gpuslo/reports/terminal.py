"""The terminal report: summary table, per-stage lines, a failed test's message (layer 2, pure).

Returns strings, never touches a terminal.

Works on the JSON-ready summaries (``SloResult.summary()``), so the same code renders results
measured in this process, results that came back from an xdist worker and results read from a file.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pytest_gpuslo.reports.view import budgets, fmt_ms, fmt_rate, label, ordered


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


def _short(nodeid: str, width: int = 48) -> str:
    return nodeid if len(nodeid) <= width else "..." + nodeid[-(width - 3):]


def _bounded(summary: dict[str, Any], name: str) -> str:
    value = summary["latency_ms"].get(name)
    verdict = summary.get("verdict") or {}
    for check in verdict.get("checks", []):
        if check.get("p") is not None and label(check["p"]) == name:
            hi = check.get("upper_ms")
            return f"{fmt_ms(value)} (<{fmt_ms(hi)})" if hi is not None else f"{fmt_ms(value)} (<inf)"
    return fmt_ms(value)


def summary_lines(summaries: Sequence[dict[str, Any]], *, verbose: int = 0) -> list[str]:
    """The terminal summary: one row per SLO test, failures first; ``verbose`` adds claims and stages."""
    ordered_ = ordered(summaries)
    header = ["test", "n", "offered", "achieved", "p50 ms", "p95 ms", "p99 ms", "budget ms",
              "lag p99", "verdict"]
    rows = []
    for s in ordered_:
        verdict = (s.get("verdict") or {}).get("outcome", "-")
        rows.append([
            _short(s["nodeid"]), str(s["n"]), fmt_rate(s.get("offered_hz")),
            fmt_rate(s.get("throughput_hz")),
            _bounded(s, "p50"), _bounded(s, "p95"), _bounded(s, "p99"), budgets(s),
            fmt_ms(s["lag_ms"].get("p99")), verdict,
        ])
    lines = table(header, rows, [False, True, True, True, True, True, True, False, True, False])
    lines.append("(x) after a percentile: its upper confidence bound; a claim passes when that "
                 "bound is under budget.")
    for s in ordered_:
        v = s.get("verdict") or {}
        detail: list[str] = []
        if v.get("outcome") != "PASS":
            detail += [f"    {r}" for r in v.get("reasons", [])]
        if verbose > 0:
            detail += [f"    {c['outcome']:<12} {c['detail']}" for c in v.get("checks", [])]
            detail += [f"    {b['outcome']:<12} {b['name']}: {b['detail']}; {b['reason']}"
                       for b in v.get("baseline", [])]
            detail += stage_lines(s.get("stages", {}))
            ov = s.get("overlap")
            if ov:
                detail.append(f"    copy/compute overlap {fmt_ms(ov['percent'])}% of copy time "
                              f"(copies {fmt_ms(ov['copy_ms'])} ms, compute {fmt_ms(ov['compute_ms'])} ms)")
            for occ in s.get("occupancy", []):
                detail.append(f"    occupancy {occ['kernel']} block={occ['block']}: "
                              f"{occ['occupancy']:.0%} ({occ['blocks_per_sm']} blocks/SM, "
                              f"{occ['registers_per_thread']} regs, limited by {occ['limiter']})")
            tel = s.get("telemetry") or {}
            if tel.get("sm_mhz"):
                detail.append(f"    GPU SM clock {tel['sm_mhz']['min']:.0f}-{tel['sm_mhz']['max']:.0f} MHz, "
                              f"reasons {', '.join(tel.get('clock_event_reasons') or ['none'])}")
            if s.get("max_backlog"):
                detail.append(f"    dispatcher max backlog: {s['max_backlog']} requests")
        if detail:
            lines.append(f"  {s['nodeid']}:")
            lines.extend(detail)
    return lines


def tail_stage(stages: dict[str, Any]) -> str:
    """The service's own stage with the largest p95 (``admission`` only when it is alone)."""
    own = [k for k in stages if k != "admission"] or list(stages)
    return max(own, key=lambda k: stages[k]["p95_ms"])


def admission_backlog(stages: dict[str, Any]) -> bool:
    """Every lane was busy: the wait for one (``admission``) is longer at p95 than the stage that
    holds the tail; the symptom, whose cause is that stage."""
    worst = tail_stage(stages)
    return "admission" in stages and worst != "admission" and \
        stages["admission"]["p95_ms"] > stages[worst]["p95_ms"]


def stage_lines(stages: dict[str, Any]) -> list[str]:
    """One line per stage, and which of the service's own stages holds the tail (largest p95).

    ``admission`` is not a candidate: a long wait for a lane means every lane was busy inside the
    service, and the stage they were stuck in is the culprit; it is marked as the symptom.
    """
    if not stages:
        return []
    worst = tail_stage(stages)
    backlog = admission_backlog(stages)
    width = max(14, *(len(k) for k in stages))

    def note(name: str) -> str:
        if name == worst:
            return "  <- holds the tail"
        if name == "admission" and backlog:
            return "  <- every lane busy: requests queued before the service (the cause is below)"
        return ""

    return [f"    stage {name:<{width}} n={st['n']:<6} p50 {fmt_ms(st['p50_ms'])} ms  "
            f"p95 {fmt_ms(st['p95_ms'])} ms" + note(name) for name, st in stages.items()]


def failure_message(summary: dict[str, Any]) -> str:
    """The short message of a failed or inconclusive SLO test."""
    v = summary.get("verdict") or {}
    spec = summary["spec"]
    lines = [f"SLO {v.get('outcome', '?')}: {summary['nodeid']}"]
    for c in v.get("checks", []):
        lines.append(f"  {c['outcome']:<12} {c['name']}: {c['detail']}")
        if c.get("reason"):
            lines.append(f"  {'':<12} {c['reason']}")
    for r in v.get("reasons", []):
        if not any(r.endswith(c.get("reason") or "\0") or r.startswith(c["name"]) for c in v.get("checks", [])):
            lines.append(f"  {r}")
    lag = summary["lag_ms"]
    lines.append(
        f"  n={summary['n']} (+{summary['warmup']} warm-up), offered {fmt_rate(summary.get('offered_hz'))}, "
        f"achieved {fmt_rate(summary.get('throughput_hz'))}, streams={spec['streams']}, "
        f"schedule lag p99 {fmt_ms(lag.get('p99'))} ms, seed={spec['seed']}, backend={summary['backend']}")
    if summary.get("stages"):
        lines.append("  where the time went (per stage; admission = waiting to start on a lane):")
        lines.extend("  " + ln for ln in stage_lines(summary["stages"]))
    if summary.get("first_error"):
        lines.append("  first error (the request counts as over budget):")
        lines.extend("    " + ln for ln in summary["first_error"].rstrip().splitlines())
    for hung in summary.get("stuck", [])[:2]:
        lines.append(f"  request {hung['index']} never returned (past timeout_s); lane {hung['lane']} "
                     f"was abandoned here:")
        lines.extend("    " + ln for ln in hung["stack"].rstrip().splitlines())
    if len(summary.get("stuck", [])) > 2:
        lines.append(f"  ... and {len(summary['stuck']) - 2} more lanes hung (the JSON report lists them)")
    return "\n".join(lines)

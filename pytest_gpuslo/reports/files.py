"""Report files: JSON results, a markdown table for pull requests, a pytest-benchmark export.

Layer 2, pure: works on the JSON-ready summaries the plugin collects, so a serial run and a
pytest-xdist run write the same files.  Schema of the JSON file: docs/reports.md.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import platform
import re
from collections.abc import Sequence
from typing import Any

from pytest_gpuslo.reports import BENCHMARK_TOOL, Context, view
from pytest_gpuslo.reports.terminal import ab_control_line, busy_line, stall_note
from pytest_gpuslo.reports.view import budgets, change, fmt_headroom, ordered

SCHEMA = 1


def results_json(summaries: Sequence[dict[str, Any]], *, holm: dict[str, float] | None = None,
                 errors: Sequence[tuple[str, str]] = (), interrupted: str = "",
                 notes: Sequence[tuple[str, str]] = (), recorded: str = "") -> dict[str, Any]:
    """The --gpuslo-json document."""
    return {
        "schema": SCHEMA,
        "tool": "pytest-gpuslo",
        "created": _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
        "holm_adjusted_p": holm or {},
        "results": list(summaries),
        "errors": [{"nodeid": n, "error": e} for n, e in errors],
        "interrupted": interrupted or None,
        "recorded_nothing": recorded or None,
        "not_judged": [{"nodeid": n, "why": w} for n, w in notes],
        # the terminal's "machine: busy" line, which a PR comment built from this file needs too (review63)
        "machine": busy_line(summaries, ab=view.is_ab(summaries)),
    }


def md_code(text: str) -> str:
    """``text`` as a markdown code span, fenced by more backticks than it holds in a row."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def md_cell(text: str) -> str:
    """``text`` safe in a GitHub table cell: a ``|`` escaped (GFM unescapes it inside code spans
    too), a line break as a space, so a test id such as ``test_mode[a|b]`` keeps the table whole;
    a ``<`` that could open a tag, and an ``@`` that could mention someone, as entities: a body's
    error message ``</details><img src=...>`` closed the Reasons block and loaded an image in the
    pull request comment (review172 F9)."""
    one_line = re.sub(r"\s*[\r\n\u2028\u2029]+\s*", " ", text)
    # outside code spans only (``md_code``: a test id is shown as it is there); a mark that could
    # open emphasis or close a link's text escaped too (review175 F1: "**bold**" and
    # "[link](http://x)" in a message rendered), not this report's own "[+8.0%, +16.0%]" or "0.74x*"
    parts = re.split(r"((`+).*?(?<!`)\2(?!`))", one_line)
    return "".join(part if i % 3 == 1 else "" if i % 3 == 2 else _md_text(part)
                   for i, part in enumerate(parts)).replace("|", "\\|")


def _md_text(text: str) -> str:
    """``md_cell``'s escapes for text outside code spans."""
    text = re.sub(r"(?<![\w\\])([*_~])(?=\S)", r"\\\1", text)  # an opener of emphasis or strikethrough
    text = text.replace("](", "\\](")  # a link's or image's text ending
    return re.sub(r"@(?=\w)", "&#64;", re.sub(r"<(?=[A-Za-z/!?])", "&lt;", text))


def markdown(summaries: Sequence[dict[str, Any]], errors: Sequence[tuple[str, str]] = (),
             interrupted: str = "", notes: Sequence[tuple[str, str]] = (), inconclusive: str | None = None,
             recorded: str = "") -> str:
    """A table for a PR comment or job summary: failures and regressions first; SLO tests that
    ended in an error above it.  ``inconclusive``: the session's ``--gpuslo-inconclusive``, "fail"
    marking an INCONCLUSIVE as the failure it was (review156 F2: a warning sign on the test that
    turned the job red)."""
    head = view.tally(summaries, inconclusive)
    cols = view.percentile_columns(summaries)
    said = (f"{len(summaries)} SLO test{'' if len(summaries) == 1 else 's'}: {head}." if summaries
            else view.no_verdict(errors=bool(errors) or bool(notes), interrupted=bool(interrupted)) + ".")
    commits = view.ab_commits(summaries)
    if commits:
        # as many digits of each (review177 F4: 10 and 12 digits of one commit read as two)
        said += (f" Base {md_code(commits[0][:len(commits[1].partition('+')[0]) or 12])} against the working tree "
                 f"at {md_code(commits[1])}, interleaved.")
    if notes:  # (review159 F8: the count named only the judged tests)
        said += f" {len(notes)} SLO test{'' if len(notes) == 1 else 's'} not judged (➖ below)."
    if errors:  # (after the A/B's sentence: its list follows; review157 F4: "an error: Base ...")
        said += f" {len(errors)} SLO test{'' if len(errors) == 1 else 's'} ended in an error:"
    lines = ["## pytest-gpuslo: tail-latency SLOs", "", said, ""]
    # The terminal's machine lines: busy neighbours, and an A/B host whose speed moved between runs
    # (review65: the markdown left the second out, which is what explains a wide A/B interval).
    for warn in (ab_control_line(summaries), busy_line(summaries, ab=view.is_ab(summaries))):
        if warn:
            lines[4:4] = [f"⚠️ {md_cell(warn)}", ""]
    if recorded:
        lines[2:2] = [f"⛔ **Recorded nothing:** {md_cell(recorded)}.", ""]
    if interrupted:
        lines[2:2] = [f"⛔ **Not a whole run:** {md_cell(interrupted)}.", ""]
    if errors:
        lines += [f"- ❗ {md_code(n)} {md_cell(e)}" for n, e in errors] + [""]
    if notes:
        lines += [f"- ➖ {md_code(n)} {md_cell(w)}" for n, w in notes] + [""]
    if not summaries:
        return "\n".join(lines)
    # review74: an A/B report's column said "vs baseline", where the terminal's says "vs base"
    against, whom = ("vs base", "the base revision's interleaved runs") if view.is_ab(summaries) else \
        ("vs baseline", "the baseline")
    lines += ["| verdict | test | budget | " + " | ".join(f"{c} ms" for c in cols) + f" | headroom | {against} [interval] |",
              "|---|---|---|" + "---|" * len(cols) + "---|---|"]
    icon = {"PASS": "✅ PASS", "FAIL": "❌ FAIL", "REGRESSED": "❌ REGRESSED", "INCONCLUSIVE": "⚠️ INCONCLUSIVE"}
    for s in ordered(summaries):
        outcome = view.shown_outcome(s)
        failed = view.failed_note(s, inconclusive)
        ran = str(s.get("pytest_outcome") or "")
        # the mark follows what pytest made of the test (review162 F4, F5: "✅" on a strict XPASS that
        # failed the build, "❌" on an expected XFAIL)
        undecided = view.undecided_against(s)
        # a PASS whose comparison was left undecided is no green check (review177 F4: two ✅ on a
        # PR that made a hot path 25% slower, its A/B undecided): the annotation's warning
        shown = (f"❌ INCONCLUSIVE{failed}" if failed else f"❌ {outcome}" if ran == "xpassed (strict)"
                 else f"➖ {outcome}" if ran == "xfailed" else f"⚠️ {outcome}" if undecided
                 else icon.get(outcome, outcome)) \
            + undecided + view.pytest_note(s)  # review91: "✅ PASS" beside +34.5% INCONCLUSIVE vs base
        cells = [shown, md_code(s["nodeid"]), budgets(s, le="≤"),
                 *(view.shown_latency(s, c) for c in cols), fmt_headroom(s), change(s)]
        lines.append("| " + " | ".join(md_cell(c) for c in cells) + " |")
    lines += ["", "*Latency from each request's scheduled arrival. headroom: the budget over the upper end of "
                  "its percentile's confidence interval, the tightest claim's (above 1x: room to spare; 0x: "
                  f"failed with no upper end; - where an undecided claim's run cannot show the room). {against}: the "
                  f"change of each budgeted percentile's level against {whom}, its interval at the level its claim is "
                  f"judged at ({'1-2α' if against == 'vs base' else '1-α for a prediction from stored runs, 1-2α otherwise'}).*"]
    pace = view.ab_pace(summaries)
    if pace:
        lines += ["", f"*{md_cell(pace[0].upper() + pace[1:])}.*"]
    if view.any_on_blocks(summaries):
        lines += ["", f"*{view.ON_BLOCKS_NOTE}.*"]
    if view.any_replayed(summaries):
        lines += ["", f"*{view.REPLAYED_NOTE}.*"]
    # As the terminal does: an undecided baseline claim says what would decide it even when the
    # budget decided the test (an A/B's "about 9 runs a side would show it" was left out).
    notes = []
    for s in ordered(summaries):
        reasons = (s.get("verdict") or {}).get("reasons", [])
        notes += [(s["nodeid"], r) for r in reasons]
        notes += [(s["nodeid"], u) for u in view.undecided_baseline(s, said=reasons)]
        notes += [(s["nodeid"], each) for each in [stall_note(s), view.base_words(s), view.run_p95s(s),
                                                    view.grew_words(s), view.first_error(s)] if each]
    if notes:
        lines += ["", "<details><summary>Reasons</summary>", ""]
        lines += [f"- {md_code(n)}: {md_cell(r)}" for n, r in notes]
        lines += ["", "</details>"]
    lines += _hung_stacks(summaries)
    lines.append("")
    return "\n".join(lines)


def _hung_stacks(summaries: Sequence[dict[str, Any]], most: int = 2) -> list[str]:
    """Where each test's first hung lanes were stuck, as the terminal shows it: a PR comment
    named the hang but not the line to fix (review52)."""
    out: list[str] = []
    for s in ordered(summaries):
        stacks, more = view.hung_stacks(s, most)
        for words, stack in stacks:
            stack = stack.rstrip()
            fence = "`" * max(3, 1 + max((len(r) for r in re.findall(r"`+", stack)), default=0))
            out += [f"- {md_code(s['nodeid'])}: {words}", "",
                    f"  {fence}", *(f"  {ln}" for ln in stack.splitlines()), f"  {fence}"]
        if more:
            out.append(f"- {md_code(s['nodeid'])}: {md_cell(view.more_hung(more))}")
    return ["", "<details><summary>Where hung lanes were stuck</summary>", "", *out, "", "</details>"] if out else []


def _stats_block(value_ms: float, n: int) -> dict[str, Any]:
    v = value_ms / 1000.0
    return {"min": v, "max": v, "mean": v, "stddev": 0.0, "rounds": n, "median": v, "iqr": 0.0,
            "q1": v, "q3": v, "iqr_outliers": 0, "stddev_outliers": 0, "outliers": "0;0",
            "ld15iqr": v, "hd15iqr": v, "ops": (1.0 / v) if v > 0 else 0.0, "total": v * n,
            "iterations": 1}


def benchmark_json(summaries: Sequence[dict[str, Any]], *, commit: str | None = None) -> dict[str, Any]:
    """pytest-benchmark's JSON format: one benchmark per test (its p50 as the statistic) plus one
    per percentile (``nodeid[p95]``, ``nodeid[p99]``) so dashboards that keep one number per
    benchmark keep the tails too."""
    benches = []
    for s in summaries:
        lat = s["latency_ms"]
        for label in ("p50", "p95", "p99"):
            value = lat.get(label)
            if value is None or not math.isfinite(value) or view.shown_latency(s, label) in view.STAND_INS:
                continue  # a percentile at the raised requests' timeout is no latency (review86: "p95 = 10 s")
            name = s["nodeid"].split("::")[-1]
            suffix = "" if label == "p50" else f"[{label}]"
            benches.append({
                "group": "gpuslo", "name": name + suffix, "fullname": s["nodeid"] + suffix,
                "params": None, "param": None,
                "extra_info": {"percentile": label, "unit": "seconds", "verdict":  # REGRESSED as the tables say (review103 F8)
                               view.shown_outcome(s) if s.get("verdict") else None, "backend": s.get("backend")},
                "options": {"disable_gc": True, "timer": "open-loop latency from the scheduled arrival",
                            "min_rounds": s["n"], "max_time": 0, "min_time": 0, "warmup": s["warmup"]},
                "stats": _stats_block(value, int(s["n"])),
            })
    return {
        "tool": BENCHMARK_TOOL,  # the signature ``reports.unwritable`` finds before writing over a file
        "machine_info": {"node": platform.node(), "processor": platform.processor(),
                         "machine": platform.machine(), "python_implementation": platform.python_implementation(),
                         "python_version": platform.python_version(), "release": platform.release(),
                         "system": platform.system(), "cpu": {}},
        "commit_info": {"id": commit, "time": None, "author_time": None, "dirty": False,
                        "project": None, "branch": None},
        "benchmarks": benches,
        "datetime": _dt.datetime.now(_dt.timezone.utc).isoformat(),
        "version": "5.1.0",
    }


def dumps(data: Any) -> str:
    return json.dumps(data, indent=1, default=str) + "\n"


def render_json(summaries: Sequence[dict[str, Any]], context: Context) -> str:
    return dumps(results_json(summaries, holm=context.holm, errors=context.errors, interrupted=context.interrupted,
                              notes=context.notes, recorded=context.recorded))


def render_markdown(summaries: Sequence[dict[str, Any]], context: Context) -> str:
    return markdown(summaries, context.errors, context.interrupted, context.notes, context.inconclusive,
                    context.recorded)


def render_benchmark_json(summaries: Sequence[dict[str, Any]], context: Context) -> str:
    return dumps(benchmark_json(summaries, commit=context.commit))

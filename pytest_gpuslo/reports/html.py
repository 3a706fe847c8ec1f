"""The HTML report: one self-contained file a reviewer reads first (layer 2, pure stdlib).

An overview (one row per test, worst first, each linking to its section), then a section per test,
open when the test failed or regressed: the percentile spectrum against the reference (stored
baseline, or an A/B run's base revision) with every budget and its verdict, latency over time with
the budget, the schedule lag and the arrival bursts, where the time went per stage, and the
dashboard (offered and achieved rate, queue depth per stage, occupancy and copy/compute overlap,
GPU telemetry), the time charts on one zoomable time axis.

Charts are drawn in the browser by uPlot (MIT, vendored in ``vendor/`` and inlined once), from each
test's chart data (``summary["series"]``, built by ``pytest_gpuslo.series``) inlined as JSON; bar
charts are plain HTML.  The file fetches nothing: it opens from a CI artifact or an email.  Every
panel without data says "not measured" and why.  docs/reports.md says why uPlot and what is drawn.
"""

from __future__ import annotations

import datetime as _dt
import html
import json
import math
from collections.abc import Mapping, Sequence
from functools import cache
from importlib import resources
from typing import Any

from pytest_gpuslo.reports import Context, view
from pytest_gpuslo.reports.terminal import (
    ab_control_line,
    admission_backlog,
    busy_line,
    stall_note,
    tail_stage,
)
from pytest_gpuslo.reports.view import change, fmt_headroom, fmt_ms, fmt_rate, label, ordered

#: Arrival bursts are shaded where the rate is over this multiple of the mean (series.BURST_FACTOR).
BURST_FACTOR = 2.0
#: The widest bar of a bar chart fills this share of its column (room for its value).
BAR_SPAN = 82.0

esc = html.escape


@cache
def _asset(folder: str, name: str) -> str:
    return (resources.files("pytest_gpuslo.reports") / folder / name).read_text(encoding="utf-8")


def _json(data: Any) -> str:
    """JSON safe inside a <script> element (no "</script>", no NaN)."""
    def clean(x: Any) -> Any:
        if isinstance(x, float):
            return x if math.isfinite(x) else None
        if isinstance(x, Mapping):
            return {str(k): clean(v) for k, v in x.items()}
        if isinstance(x, (list, tuple)):
            return [clean(v) for v in x]
        return x
    return json.dumps(clean(data), separators=(",", ":")).replace("<", "\\u003c")


def _badge(word: str) -> str:
    return f'<span class="badge b-{esc(word.replace(" ", "."))}">{esc(word)}</span>'


def _panel(kind: str, title: str, body: str, sub: str = "", *, static: bool = False) -> str:
    attrs = f'data-chart="{kind}" data-title="{esc(title)}"' + (" data-static" if static else "")
    return (f'<div class="panel" {attrs}><h3>{esc(title)}</h3>'
            + (f'<p class="sub">{sub}</p>' if sub else "") + body + "</div>")


def _plot(kind: str, title: str, sub: str = "") -> str:
    return _panel(kind, title, f'<div class="plot" data-plot="{kind}" data-title="{esc(title)}"></div>', sub)


def _missing(title: str, why: str) -> str:
    return _panel("missing", title, f'<div class="not-measured">not measured: {esc(why)}</div>')


def _claims(s: dict[str, Any]) -> list[dict[str, Any]]:
    """The budget claims the charts draw: percentile, budget and verdict."""
    return [{"p": c["p"], "budget_ms": c["budget_ms"], "outcome": c["outcome"]}
            for c in (s.get("verdict") or {}).get("checks", []) if c.get("p") is not None]


def _reference_label(s: dict[str, Any]) -> str:
    ref = (s.get("series") or {}).get("reference")
    # an A/B test with no reference series (new, or its base ended before a verdict) is still the
    # base's (review160 F4: "vs baseline:" beside the other rows' "vs base:")
    return str(ref["label"]) if ref else "base" if "ab" in s else "baseline"


# -- where the time went ------------------------------------------------------------------------

def _stage_rows(stages: Mapping[str, Any]) -> dict[str, dict[str, tuple[float, float]]]:
    """Stages grouped as ``{stage: {"queue": (p50, p95), "service": (p50, p95)}}``: a batcher's or
    pool's ``x.queue`` and ``x.service`` become one stage, ``admission`` is a wait, the rest service."""
    rows: dict[str, dict[str, tuple[float, float]]] = {}
    for name, st in stages.items():
        if st.get("p50_ms") is None or st.get("p95_ms") is None:
            continue
        base, part = name, "service"
        if name == "admission":
            part = "queue"
        elif name.endswith((".queue", ".service")):
            base, _, part = name.rpartition(".")
        rows.setdefault(base, {})[part] = (float(st["p50_ms"]), float(st["p95_ms"]))
    return rows


def _bar(parts: dict[str, tuple[float, float]], k: int, scale: float, who: str, pct: str, ref: bool) -> str:
    q, sv = parts.get("queue", (0.0, 0.0))[k], parts.get("service", (0.0, 0.0))[k]
    total = parts["total"][k] if "total" in parts else q + sv
    spans = ("".join(f'<span class="{c}" style="width:{BAR_SPAN * v / scale:.2f}%"></span>'
                     for c, v in (("q", q), ("s", sv)) if v > 0) if "total" not in parts
             else f'<span class="t" style="width:{BAR_SPAN * total / scale:.2f}%"></span>')
    what = (f"waiting {fmt_ms(q)} ms + service {fmt_ms(sv)} ms" if "total" not in parts
            else f"{fmt_ms(total)} ms end to end")
    value = "" if ref else f"<em>{fmt_ms(total)}</em>"
    return (f'<div class="bar{" ref" if ref else ""}" title="{esc(who)} {pct}: {esc(what)}">'
            f"{spans}{value}</div>")


def _where(s: dict[str, Any]) -> str:
    title = "Where the time went: waiting and service per stage"
    ser = s.get("series") or {}
    ref = ser.get("reference") or {}
    stages = dict(s.get("stages") or {})
    if not stages:
        body = ser.get("body_ms") or {}
        q = s.get("queue_ms") or {}
        if body.get("p50") is None and q.get("p50") is None:
            return _missing(title, "no request completed")
        stages = {"admission": {"p50_ms": q.get("p50"), "p95_ms": q.get("p95")},
                  "body (on a lane)": {"p50_ms": body.get("p50"), "p95_ms": body.get("p95")}}
    rows = _stage_rows(stages)
    ref_rows = _stage_rows(ref.get("stages") or {})
    lat, rlat = s["latency_ms"], ref.get("latency_ms") or {}
    # An end-to-end percentile among the raised requests' stand-in latency is no latency: no bar
    # (review99 #2: it drew the 10-s timeout, or with the JSON's null a bar of 0)
    raised = [k for k in ("p50", "p95") if view.raised(s, k)]
    e2e = {"total": (lat.get("p50") or 0.0, 0.0 if raised else lat.get("p95") or 0.0)}
    # (none where the reference's p95 lies among raised requests: ``series.reference`` gives null)
    ref_e2e = ({"total": (rlat["p50"], rlat["p95"])} if rlat.get("p50") is not None and rlat.get("p95") is not None
               else None)
    own = {k: v for k, v in (s.get("stages") or {}).items() if v.get("p95_ms") is not None or v.get("open")}
    tail = tail_stage(own) if own else ""
    tail_base, _, tail_part = tail.rpartition(".") if tail.endswith((".queue", ".service")) else (tail, "", "")
    backlog = bool(own) and admission_backlog(own, (s.get("lag_ms") or {}).get("p99"))
    grown = str((s.get("ab") or {}).get("stage_grew") or "")
    scale = max([sum(p[k] for p in parts.values()) for parts in (*rows.values(), *ref_rows.values())
                 for k in (0, 1)] + [e2e["total"][1], (ref_e2e or {"total": (0, 0)})["total"][1], 1e-9])
    rlabel = str(ref.get("label", "baseline"))
    cells = ['<div class="hdr y-label">stage</div><div class="hdr">p50</div><div class="hdr">p95</div>']
    for name, parts in [*rows.items(), *([] if raised else [("end to end", e2e)])]:
        mark = ""
        if name == tail_base and tail:
            part = f" ({tail_part})" if tail_part else ""
            mark = (f' <span class="tail" title="the stage with the most time in the slowest requests">◀ holds the '
                    f'tail{part}</span>')
        elif name == "admission" and backlog:
            mark = ' <span class="tail" title="every lane was busy: the cause is the stage below that holds the tail">◀ every lane busy</span>'
        if grown and name == (grown.rpartition(".")[0] if grown.endswith(".service") else grown):
            mark += (' <span class="tail" title="its own time (p50, each side\'s median over its runs) grew most '
                     'against the base">◀ grew most vs base</span>')
        rparts = ref_e2e if name == "end to end" else ref_rows.get(name)
        cols = []
        for k, pct in ((0, "p50"), (1, "p95")):
            inner = _bar(parts, k, scale, str((ser.get("spectrum") or {}).get("label", "this run")), pct, False)
            if rparts:
                inner += _bar(rparts, k, scale, rlabel, pct, True)
            cols.append(f'<div class="cell">{inner}</div>')
        cells.append(f'<div class="name">{esc(name)}{mark}</div>{"".join(cols)}')
    axis = ('<div></div>' + 2 * (f'<div class="axis" style="width:{BAR_SPAN}%"><span>0</span>'
                                  f"<span>{fmt_ms(scale / 2)}</span><span>{fmt_ms(scale)}</span></div>"))
    legend = ('<div class="legend"><span class="item" style="--c:#f0a35e">waiting (queue)</span>'
              '<span class="item" style="--c:#4a78c2">in service</span>'
              '<span class="item" style="--c:#555">end to end</span>'
              + (f'<span class="item" style="--c:#bcd0ee;--o:1px solid #6d8fc8">{esc(rlabel)} '
                 f'(thin bar below)</span>' if ref else "") + "</div>")
    body = (f'<div class="hbars plot-area">{"".join(cells)}{axis}</div>'
            '<div class="axis-label">time per request in the stage (ms)</div>' + legend)
    sub = ("admission = scheduled arrival to the start on a lane; each part at its own percentile, "
           "so parts need not add up to the end-to-end bar")
    if raised:
        sub += (f"; no end-to-end bar: its {' and '.join(raised)} lie{'s' if len(raised) == 1 else ''} among the "
                f"requests that raised, which hold the timeout as their latency")
    return _panel("where", title, body, sub, static=True)


# -- occupancy and overlap ----------------------------------------------------------------------

def _occupancy(s: dict[str, Any]) -> str:
    title = "Occupancy and HtoD/DtoH overlap"
    occ = s.get("occupancy") or []
    ov = s.get("overlap")
    rows = [(f"{o['kernel']} ({o['limiter']})", 100.0 * o["occupancy"], "#4a78c2") for o in occ]
    if ov and ov.get("percent") is not None:
        rows.append(("copy hidden behind compute", float(ov["percent"]), "#f0a35e"))
    if not rows:
        return _missing(title, "no slo_occupancy call and no h2d/compute/d2h stages (CPU run or plain body)")
    cells = ['<div class="hdr y-label">kernel or copy</div><div class="hdr">%</div><div></div>']
    for name, v, color in rows:
        cells.append(f'<div class="name">{esc(name)}</div><div class="cell"><div class="bar" title="{v:.0f}%">'
                     f'<span style="width:{BAR_SPAN * v / 100:.2f}%;background:{color}"></span><em>{v:.0f}%</em>'
                     f"</div></div><div></div>")
    axis = f'<div></div><div class="axis" style="width:{BAR_SPAN}%"><span>0</span><span>50</span><span>100</span></div>'
    legend = ('<div class="legend"><span class="item" style="--c:#4a78c2">theoretical occupancy (limiter)</span>'
              '<span class="item" style="--c:#f0a35e">copy time hidden behind compute</span></div>')
    body = (f'<div class="hbars plot-area">{"".join(cells)}{axis}<div></div></div>'
            '<div class="axis-label">share (%); achieved occupancy is not measured (needs CUPTI)</div>' + legend)
    return _panel("occupancy", title, body, static=True)


# -- one test -----------------------------------------------------------------------------------

def _telemetry(s: dict[str, Any]) -> str:
    title = "GPU telemetry: SM clock, power, temperature and clock-event reasons"
    if (s.get("series") or {}).get("telemetry"):
        return _plot("telemetry", title, "shaded: clocks held down by a power cap, heat or a hardware slowdown")
    tel = s.get("telemetry") or {}
    why = (f"NVML unavailable: {tel['unavailable']}" if tel.get("unavailable")
           else f"no GPU samples (backend {s.get('backend')}: CPU run or NVML unavailable)")
    return _missing(title, why)


def _claim_lines(s: dict[str, Any], holm: Mapping[str, float]) -> str:
    v = s.get("verdict") or {}
    items = []
    for c in [*v.get("checks", []), *v.get("baseline", [])]:
        adj = holm.get(f"{s['nodeid']} {c['name']}")
        why = c.get("reason") or ""
        items.append(f"<li>{_badge(c['outcome'])} <b>{esc(c['name'])}</b> "
                     f'<span class="mono">{esc(c["detail"])}</span>'
                     + (f' <span class="why">{esc(why)}</span>' if why else "")
                     + (f' <span class="why">(suite Holm-adjusted p {view.fmt_p(adj)})</span>' if adj is not None else "")
                     + "</li>")
    for r in v.get("reasons", []):
        if not any(r.startswith(c["name"]) or (c.get("reason") and c["reason"] in r)
                   for c in [*v.get("checks", []), *v.get("baseline", [])]):
            items.append(f'<li><span class="why">{esc(r)}</span></li>')
    stall = stall_note(s)
    if stall:  # as the terminal and the markdown say it (review182 F5)
        items.append(f'<li><span class="why">{esc(stall)}</span></li>')
    first = view.first_error(s)
    if first:  # as the terminal and the markdown say it (review104: warm-up errors in no HTML line)
        items.append(f'<li><span class="why">{esc(first)}</span></li>')
    based = view.base_words(s)
    if based:  # as the terminal and the markdown say it (review159 F1)
        items.append(f'<li><span class="why">{esc(based)}</span></li>')
    each = view.run_p95s(s)
    if each:  # as the terminal and the markdown list them (review111 F5)
        items.append(f'<li><span class="why">{esc(each)}</span></li>')
    grew = view.grew_words(s)
    if grew:  # (review189 F1)
        items.append(f'<li><span class="why">{esc(grew)}</span></li>')
    stacks, more = view.hung_stacks(s)
    for words, stack in stacks:
        # Where a hung body was stuck, as the terminal shows it (review52: the report named the hang only).
        items.append(f'<li><span class="why">{esc(words)}</span><pre class="mono">{esc(stack.rstrip())}</pre></li>')
    if more:
        items.append(f'<li><span class="why">{esc(view.more_hung(more))}</span></li>')
    return f'<ul class="claims">{"".join(items)}</ul>'


def _facts(s: dict[str, Any]) -> str:
    parts = []
    for c in _claims(s):
        name = label(c["p"])
        shown = view.shown_latency(s, name)  # review102 F2: "p95 - ms" where the tables said "raised"
        parts.append(f"{name} {shown}{'' if shown in view.STAND_INS else ' ms'} (budget {c['budget_ms']:g})")
    if fmt_headroom(s) != "-":
        parts.append(f"headroom {fmt_headroom(s)}")
    ch = change(s)
    if ch not in (view.NO_BASELINE, view.NOT_COMPARED):
        parts.append(f"vs {_reference_label(s)}: {ch}")
    return " · ".join(parts)


def _section(i: int, s: dict[str, Any], holm: Mapping[str, float], inconclusive: str | None = None) -> str:
    v = view.shown_outcome(s)
    ser = s.get("series") or {}
    spec = s["spec"]
    machine = s.get("machine") or {}
    dev = machine.get("gpu") or machine.get("cpu") or s.get("backend")
    meta = (f"n={s['n']} (+{s['warmup']} warm-up), arrivals {esc(str(spec.get('arrivals')))}, offered "
            f"{fmt_rate(s.get('offered_hz'))}, {view.achieved(s)}, "
            f"streams={spec['streams']}, schedule lag p99 {fmt_ms((s.get('lag_ms') or {}).get('p99'))} ms, "
            f"seed={spec['seed']}, device: {esc(str(dev))}")
    if ser.get("t_s"):
        ref = ser.get("reference")
        rsub = (f"dashed: {esc(ref['label'])} ({esc(ref.get('detail') or '')})" if ref
                else "no reference: no stored baseline for this test and machine")
        band = f"{100 * (ser.get('spectrum') or {}).get('confidence', 0.99):.0f}%"
        spectrum = _plot("spectrum", "Percentile spectrum: latency at each percentile",
                         f"bands: {band} bounds (order statistics with the design effect); {rsub}")
        over = _plot("over-time", "Latency over time: when the budget broke",
                     "per time bin of scheduled arrivals: p50, p99 and the slowest request"
                     + (f" that returned ({int(s['failed']):,} raised, which hold no latency, are left out)"
                        if s.get("failed") else "") + "; drag to zoom every time chart, double-click to reset")
        rate = _plot("rate", "Offered and achieved rate", "scheduled arrivals and completions per time bin")
        depth = _plot("depth", "Queue depth per stage", "requests inside, the most at any moment of each time bin")
    else:
        why = "no chart data in this result (it was not run with --gpuslo-html, or measured fewer than 2 requests)"
        spectrum = _missing("Percentile spectrum", why)
        over = _missing("Latency over time", why)
        rate = _missing("Offered and achieved rate", why)
        depth = _missing("Queue depth per stage", why)
    data = {"claims": _claims(s), "throughput_hz": spec.get("throughput_hz"), "burst_factor": BURST_FACTOR,
            "series": ser}
    return (f'<details class="test" id="t{i}" data-json="data-{i}"{" open" if view.fails_test(s, inconclusive) else ""}>'
            f'<summary>{_badge(v)}{esc(view.failed_note(s, inconclusive) + view.pytest_note(s))} <span class="nodeid">{esc(s["nodeid"])}</span>'
            f'<span class="facts">{esc(_facts(s))}</span></summary>'
            f'<p class="note">{meta}</p>{_claim_lines(s, holm)}'
            f'<div class="row two">{spectrum}{_where(s)}</div>'
            f"<div class=\"row\">{over}</div>"
            f'<div class="row three">{rate}{depth}{_occupancy(s)}</div>'
            f'<div class="row">{_telemetry(s)}</div>'
            f'<script type="application/json" id="data-{i}">{_json(data)}</script></details>')


def _breakable(nodeid: str) -> str:
    """A node id that may wrap after '/', '::' and '[' (never inside a name)."""
    out = esc(nodeid)
    for sep in ("/", "::", "["):
        out = out.replace(sep, sep + "<wbr>")
    return out


def _tail(s: dict[str, Any]) -> str:
    grew = view.grew_words(s)
    held = _held(s)
    return f"{held}; {grew}" if grew else held


def _held(s: dict[str, Any]) -> str:
    own = {k: v for k, v in (s.get("stages") or {}).items() if v.get("p95_ms") is not None}
    stuck = {k: v for k, v in (s.get("stages") or {}).items() if v.get("open")}
    if not own and not stuck:
        return "-"
    name = tail_stage({**own, **stuck})
    if name in stuck:
        held = stuck[name]["open"]
        return f"{name}: {held} request{'s' if held > 1 else ''} entered it and never left"
    if not name:
        return "- (the slowest requests have no stage times)"
    if own[name].get("tail_ms") is not None:
        return f"{name} {fmt_ms(own[name]['tail_ms'])} ms in the slowest requests"
    return f"{name} {fmt_ms(own[name]['p95_ms'])} ms"


def _overview(tests: Sequence[dict[str, Any]], inconclusive: str | None = None) -> str:
    cols = view.percentile_columns(tests)
    rows = []
    for i, s in enumerate(tests):
        claims = " ".join(f'<span class="claim {esc(c["outcome"])}">{esc(label(c["p"]))}≤{c["budget_ms"]:g} '
                          f'{esc(c["outcome"])}</span>' for c in _claims(s))
        for c in (s.get("verdict") or {}).get("checks", []):
            if c.get("p") is None:
                claims += f' <span class="claim {esc(c["outcome"])}">{esc(c["name"])} {esc(c["outcome"])}</span>'
        values = "".join(f'<td class="num">{view.shown_latency(s, c)}</td>' for c in cols)  # "raised", as the tables
        # review91: a green PASS beside +34.5% INCONCLUSIVE vs base read as "no regression"
        rows.append(f'<tr><td>{_badge(view.shown_outcome(s))}{esc(view.failed_note(s, inconclusive) + view.undecided_against(s) + view.pytest_note(s))}</td><td class="test"><a href="#t{i}">{_breakable(s["nodeid"])}</a></td>'
                    f"<td>{claims or '-'}</td>{values}<td class=\"num\">{fmt_headroom(s)}</td>"
                    f"<td>{esc(change(s, named=True))}</td><td>{esc(_tail(s))}</td></tr>")
    ref = sorted({_reference_label(s) for s in tests}) or ["baseline"]
    heads = "".join(f"<th>{c} ms</th>" for c in cols)
    return (f'<table class="overview"><tr><th>verdict</th><th>test</th><th>claims</th>{heads}'
            f"<th>headroom</th><th>change against the {esc(' / '.join(ref))}</th>"
            "<th>stage holding the tail</th></tr>"
            f"{''.join(rows)}</table>"
            + (f'<p class="note">{esc(view.ON_BLOCKS_NOTE)}.</p>' if view.any_on_blocks(tests) else "")
            + (f'<p class="note">{esc(view.REPLAYED_NOTE)}.</p>' if view.any_replayed(tests) else ""))


def render(summaries: Sequence[dict[str, Any]], context: Context | None = None) -> str:
    """The whole report as one HTML string."""
    context = context or Context()
    tests = ordered(summaries)
    created = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    tally = view.tally(tests, context.inconclusive)
    # review87: "0 SLO tests ()" where the markdown says no SLO test ran
    said = (f"{len(tests)} SLO test{'' if len(tests) == 1 else 's'} ({esc(tally)})" if tests else
            view.no_verdict(errors=bool(context.errors) or bool(context.notes),
                          interrupted=bool(context.interrupted)))
    commit = f", commit {esc(context.commit[:18])}" if context.commit else ""
    sections = "".join(_section(i, s, context.holm, context.inconclusive) for i, s in enumerate(tests))
    busy, moved = busy_line(tests, ab=view.is_ab(tests)), ab_control_line(tests)
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            "<title>pytest-gpuslo report</title>"
            f"<style>{_asset('vendor', 'uPlot.min.css')}\n{_asset('assets', 'report.css')}</style></head><body>"
            "<h1>pytest-gpuslo: tail-latency SLOs</h1>"
            f'<p class="note">{said}, {created}{commit}. Latency is measured '
            "from each request's scheduled arrival; headroom is the budget over the upper confidence "
            "bound (0x: failed with no upper end; none where an undecided claim's run cannot show the room); worst first. A failed or regressed test opens below; click any test to open it.</p>"
            + (f'<p class="note"><strong>NOT A WHOLE RUN</strong> {esc(context.interrupted)}.</p>'
               if context.interrupted else "")
            + (f'<p class="note"><strong>RECORDED NOTHING</strong> {esc(context.recorded)}.</p>'
               if context.recorded else "")
            + "".join(f'<p class="note"><strong>{w}</strong> {esc(n)} {esc(rest)}</p>'
                      for n, (w, rest) in ((n, view.error_words(e)) for n, e in context.errors))
            + "".join(f'<p class="note"><strong>NOT JUDGED</strong> {esc(n)} {esc(w)}</p>' for n, w in context.notes)
            + (f'<p class="note"><strong>BUSY MACHINE</strong> {esc(busy)}</p>' if busy else "")
            + (f'<p class="note"><strong>MACHINE SPEED MOVED</strong> {esc(moved)}</p>' if moved else "")
            + (f'<p class="note"><strong>MORE RUNS</strong> {esc(pace)}</p>' if (pace := view.ab_pace(tests)) else "")
            + f"{_overview(tests, context.inconclusive)}"
            '<div class="toolbar"><button id="expand-all">open all</button>'
            '<button id="collapse-all">close all</button></div>'
            "<noscript><p class=\"note\">Charts need JavaScript; the tables and verdicts do not.</p></noscript>"
            f"{sections}"
            f"<script>{_asset('vendor', 'uPlot.iife.min.js')}</script>"
            f"<script>{_asset('assets', 'report.js')}</script></body></html>")


def render_html(summaries: Sequence[dict[str, Any]], context: Context) -> str:
    return render(summaries, context)

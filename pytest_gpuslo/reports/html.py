"""The five-chart dashboard: one self-contained HTML file for a run (layer 2, pure).

Charts are drawn by matplotlib and inlined as SVG, so the file needs no network: it opens from a
CI artifact or an email.  Every panel without data says "not measured" and why, never an empty
or misleading chart.  Input: the JSON summaries the plugin collects, with their ``series``.
"""

from __future__ import annotations

import datetime as _dt
import html
import io
import math
from collections.abc import Sequence
from typing import Any

from pytest_gpuslo.reports import Context
from pytest_gpuslo.reports.view import change, fmt_headroom, fmt_ms, ordered

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#111;max-width:1280px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 6px;border-top:1px solid #ccc;padding-top:14px}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}
th{background:#f3f3f3}.FAIL{color:#b00020;font-weight:600}.PASS{color:#1b5e20;font-weight:600}
.INCONCLUSIVE{color:#8a5a00;font-weight:600}.grid{display:grid;grid-template-columns:repeat(3,1fr);gap:10px}
.panel{border:1px solid #ddd;padding:6px;min-height:120px}.panel h3{font-size:13px;margin:0 0 4px}
.not-measured{color:#666;font-size:13px;padding:30px 10px;text-align:center;background:#fafafa}
.note{color:#444;font-size:12px;margin:4px 0}.mono{font-family:ui-monospace,monospace;font-size:12px}
svg{max-width:100%;height:auto}
"""


def _svg(fig: Any) -> str:
    buf = io.StringIO()
    # No RDF metadata block: the report must not mention outside resources at all.
    fig.savefig(buf, format="svg", bbox_inches="tight",
                metadata={"Creator": None, "Date": None, "Format": None, "Type": None})
    import matplotlib.pyplot as plt

    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]


def _fig(w: float = 4.0, h: float = 2.6) -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 8, "svg.fonttype": "none", "axes.spines.top": False,
                         "axes.spines.right": False})
    return plt.subplots(figsize=(w, h))


def _panel(title: str, body: str) -> str:
    return f'<div class="panel"><h3>{html.escape(title)}</h3>{body}</div>'


def _missing(title: str, why: str) -> str:
    return _panel(title, f'<div class="not-measured" data-chart="missing">not measured: {html.escape(why)}</div>')


def _chart(title: str, fig: Any) -> str:
    return _panel(title, f'<div data-chart="svg">{_svg(fig)}</div>')


def _arrivals(s: dict[str, Any]) -> str:
    ser = s.get("series") or {}
    if not ser.get("t_s"):
        return _missing("1. Arrivals: offered and achieved rate", "no time series in this result")
    fig, ax = _fig()
    ax.step(ser["t_s"], ser["offered_hz"], where="mid", label="offered", lw=1)
    ax.step(ser["t_s"], ser["achieved_hz"], where="mid", label="completed", lw=1)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("requests / s")
    ax.legend(fontsize=7)
    return _chart("1. Arrivals: offered and achieved rate", fig)


def _queue(s: dict[str, Any]) -> str:
    ser = s.get("series") or {}
    if not ser.get("t_s"):
        return _missing("2. Queue depth over time", "no time series in this result")
    fig, ax = _fig()
    ax.plot(ser["t_s"], ser["in_system"], lw=1, label="in system (end to end)")
    for name, depth in (ser.get("in_stage") or {}).items():
        ax.plot(ser["t_s"], depth, lw=0.8, label=f"in {name}")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("requests")
    ax.legend(fontsize=6)
    return _chart("2. Queue depth over time" + ("" if ser.get("in_stage") else " (no stages)"), fig)


def _latency(s: dict[str, Any]) -> str:
    stages = s.get("stages") or {}
    lat = s["latency_ms"]
    names = list(stages) + ["end to end"]
    p50 = [stages[n]["p50_ms"] for n in stages] + [lat.get("p50") or math.nan]
    p95 = [stages[n]["p95_ms"] for n in stages] + [lat.get("p95") or math.nan]
    fig, ax = _fig()
    x = range(len(names))
    ax.bar([i - 0.2 for i in x], p50, width=0.4, label="p50")
    ax.bar([i + 0.2 for i in x], p95, width=0.4, label="p95")
    budget = s["spec"]["budgets_ms"].get("p95")
    if budget:
        ax.axhline(budget, color="#b00020", lw=1, ls="--", label=f"p95 budget {budget:g} ms")
    base = (s.get("series") or {}).get("baseline_p95_ms")
    if base:
        ax.plot([len(names) - 1 + 0.2], [base], marker="D", color="black", ls="none", label="baseline p95")
    ax.set_xticks(list(x), names, rotation=20, fontsize=7)
    ax.set_ylabel("ms")
    ax.set_yscale("log")
    ax.legend(fontsize=6)
    return _chart("3. p50 and p95 per stage and end to end", fig)


def _occupancy_overlap(s: dict[str, Any]) -> str:
    occ = s.get("occupancy") or []
    ov = s.get("overlap")
    if not occ and not ov:
        return _missing("4. Occupancy and HtoD/DtoH overlap",
                        "no slo_occupancy call and no h2d/compute/d2h stages (CPU run or plain body)")
    labels, values = [], []
    for o in occ:
        labels.append(f"occupancy {o['kernel']}\n(theoretical, {o['limiter']})")
        values.append(100.0 * o["occupancy"])
    if ov and ov.get("percent") is not None:
        labels.append("copy hidden\nbehind compute")
        values.append(ov["percent"])
    fig, ax = _fig()
    ax.barh(labels, values, color="#4c72b0")
    for i, v in enumerate(values):
        ax.text(min(v, 95), i, f" {v:.0f}%", va="center", fontsize=7)
    ax.set_xlim(0, 100)
    ax.set_xlabel("%  (achieved occupancy: not measured; CUPTI needed)")
    return _chart("4. Occupancy and HtoD/DtoH overlap", fig)


def _cdf(s: dict[str, Any]) -> str:
    ser = s.get("series") or {}
    if not ser.get("cdf_ms"):
        return _missing("5. Latency CDF against the baseline", "no latency sample")
    fig, ax = _fig()
    qs = ser["cdf_q"]
    ax.plot(ser["cdf_ms"], qs, lw=1.2, label="this run")
    if ser.get("baseline_cdf_ms"):
        ax.plot(ser["baseline_cdf_ms"], qs, lw=1, ls="--", label="baseline")
    budget = s["spec"]["budgets_ms"]
    for b in budget.values():
        ax.axvline(b, color="#b00020", lw=0.8, ls=":")
    ax.set_xscale("log")
    ax.set_xlabel("latency from scheduled arrival (ms)")
    ax.set_ylabel("fraction of requests")
    ax.legend(fontsize=7)
    title = "5. Latency CDF" + (" against the baseline" if ser.get("baseline_cdf_ms") else " (no baseline)")
    return _chart(title, fig)


def _telemetry(s: dict[str, Any]) -> str:
    tel = s.get("telemetry") or {}
    trace = tel.get("trace") or []
    if not trace or all(t.get("sm_mhz") is None for t in trace):
        return _missing("Telemetry: clocks and throttle reasons", "CPU run or NVML unavailable")
    t0 = trace[0]["t_ns"]
    fig, ax = _fig(8.5, 1.8)
    ts = [(t["t_ns"] - t0) / 1e9 for t in trace]
    ax.plot(ts, [t.get("sm_mhz") or math.nan for t in trace], lw=1, label="SM clock (MHz)")
    bad = [x for x, t in zip(ts, trace) if (t.get("reasons") or 0) & 0xE8]
    if bad:
        ax.plot(bad, [0] * len(bad), "rx", label="throttled")
    ax.set_xlabel("time (s)")
    ax.legend(fontsize=6)
    reasons = ", ".join(tel.get("clock_event_reasons") or []) or "none"
    return _chart(f"Telemetry: SM clock; clock-event reasons seen: {reasons}", fig)


def _statement(s: dict[str, Any]) -> str:
    v = s.get("verdict") or {}
    parts = []
    for c in v.get("checks", []):
        parts.append(f"{c['outcome']} {c['name']}: {c['detail']}" + (f" ({c['reason']})" if c.get("reason") else ""))
    for b in v.get("baseline", []):
        parts.append(f"{b['outcome']} {b['name']}: {b['detail']}; {b['reason']}")
    return "".join(f'<p class="note mono">{html.escape(p)}</p>' for p in parts)


def render(summaries: Sequence[dict[str, Any]]) -> str:
    """The whole report as one HTML string."""
    tests = ordered(summaries)
    rows = []
    for i, s in enumerate(tests):
        v = (s.get("verdict") or {}).get("outcome", "?")
        budgets = " ".join(f"{k}≤{b:g}" for k, b in s["spec"]["budgets_ms"].items())
        rows.append(f'<tr><td class="{v}">{v}</td><td><a href="#t{i}">{html.escape(s["nodeid"])}</a></td>'
                    f"<td>{html.escape(budgets)}</td><td>{fmt_ms(s['latency_ms'].get('p95'))}</td>"
                    f"<td>{fmt_ms(s['latency_ms'].get('p99'))}</td>"
                    f"<td>{fmt_headroom(s)}</td><td>{html.escape(change(s, named=False))}</td></tr>")
    sections = []
    for i, s in enumerate(tests):
        v = (s.get("verdict") or {}).get("outcome", "?")
        machine = s.get("machine") or {}
        dev = machine.get("gpu") or machine.get("cpu") or s.get("backend")
        panels = [_arrivals(s), _queue(s), _latency(s), _occupancy_overlap(s), _cdf(s)]
        sections.append(
            f'<section id="t{i}"><h2><span class="{v}">{v}</span> {html.escape(s["nodeid"])}</h2>'
            f'<p class="note">n={s["n"]} (+{s["warmup"]} warm-up), offered {fmt_ms(s.get("offered_hz"))}/s, '
            f'streams={s["spec"]["streams"]}, seed={s["spec"]["seed"]}, device: {html.escape(str(dev))}</p>'
            f'{_statement(s)}<div class="grid">{"".join(panels)}</div>'
            f'<div style="margin-top:10px">{_telemetry(s)}</div></section>')
    created = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<title>pytest-gpuslo report</title>"
            f"<style>{CSS}</style></head><body><h1>pytest-gpuslo: tail-latency SLOs</h1>"
            f'<p class="note">{len(tests)} SLO tests, {created}. Latency is measured from each '
            f"request's scheduled arrival; headroom is the budget over the upper confidence bound.</p>"
            "<table><tr><th>verdict</th><th>test</th><th>budget ms</th><th>p95 ms</th><th>p99 ms</th>"
            f"<th>headroom</th><th>vs baseline</th></tr>{''.join(rows)}</table>"
            f"{''.join(sections)}</body></html>")


def render_html(summaries: Sequence[dict[str, Any]], context: Context) -> str:
    return render(summaries)

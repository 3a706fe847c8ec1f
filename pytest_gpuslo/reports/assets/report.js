/* pytest-gpuslo HTML report: draws each test's charts with uPlot when its section opens.
   Data: <script type="application/json" id="data-N"> per test (schema in docs/reports.md).
   Every chart records its title, axis labels, legend and layout in data-audit, which the
   rendering test reads from Chromium's DOM. */
"use strict";
(function () {
  const C = {
    run: "#1f5fbf", runBand: "rgba(31,95,191,0.16)", ref: "#d9730d", refBand: "rgba(217,115,13,0.14)",
    budget: "#c62828", p50: "#1f5fbf", p99: "#7b1fa2", max: "#8d8d8d", lag: "#2e7d32",
    burst: "rgba(255,170,0,0.16)", throttle: "rgba(198,40,40,0.14)",
  };
  const STAGE = ["#d9730d", "#7b1fa2", "#00838f", "#6d4c41", "#c2185b", "#558b2f", "#5e35b1", "#f9a825", "#455a64"];
  const VERDICT = { PASS: "#1b5e20", FAIL: "#b00020", INCONCLUSIVE: "#8a5a00" };
  // NVML clock-event reasons that hold clocks down (power cap, thermal, hardware slowdown):
  // backends/nvml.py REASONS bits 0x4, 0x8, 0x20, 0x40, 0x80.
  const HELD = { 0x4: "sw_power_cap", 0x8: "hw_slowdown", 0x20: "sw_thermal_slowdown",
                 0x40: "hw_thermal_slowdown", 0x80: "hw_power_brake_slowdown" };
  const HELD_MASK = 0x4 | 0x8 | 0x20 | 0x40 | 0x80;
  const charts = [];

  const fin = (v) => v != null && isFinite(v);
  function sig(v) {
    if (!fin(v)) return "–";
    const a = Math.abs(v);
    return a >= 100 ? v.toFixed(0) : String(+v.toPrecision(3));
  }
  const withUnit = (unit) => (u, v) => (fin(v) ? sig(v) + " " + unit : "–");
  const X = (p) => 1 / (1 - p);
  const P = (x) => 1 - 1 / x;
  function pct(p) {
    if (p <= 0) return "0%";
    return String(+(100 * p).toPrecision(6)) + "%";
  }
  const pctShort = (p) => "p" + String(+(100 * p).toPrecision(6));

  // -- axes ---------------------------------------------------------------------------------
  function pctSplits(u, ai, min, max) {
    return [2, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7].filter((x) => x >= min * 0.999 && x <= max * 1.001);
  }
  function logSplits(u, ai, min, max) {
    const out = [];
    for (let d = Math.pow(10, Math.floor(Math.log10(min))); d <= max * 1.001; d *= 10)
      for (const m of [1, 2, 5]) {
        const v = +(d * m).toPrecision(3);
        if (v >= min * 0.999 && v <= max * 1.001) out.push(v);
      }
    return out;
  }
  // uPlot's log filter blanks the 2s and 5s (null) where they would crowd the axis.
  const logValues = (u, splits) => splits.map((v) => (v == null ? null : sig(v)));
  function logRange(vals) {
    const pos = vals.filter((v) => fin(v) && v > 0);
    if (!pos.length) return [0.1, 1];
    const lo = Math.min(...pos), hi = Math.max(...pos);
    return [lo / 1.6, hi * 1.6];
  }
  function linRange(vals) {
    const ok = vals.filter(fin);
    const hi = ok.length ? Math.max(...ok) : 1;
    return [0, hi > 0 ? hi * 1.12 : 1];
  }

  // -- one chart ----------------------------------------------------------------------------
  function plot(el, o) {
    const width = Math.max(260, el.clientWidth);
    const xlog = !!o.xlog, ylog = !!o.ylog;
    const opts = {
      width, height: o.height || 230,
      padding: [10, o.padRight || 14, 0, 0],
      legend: { live: true },
      cursor: { drag: { x: o.zoom !== false, y: false }, sync: o.group ? { key: o.group, scales: ["x", null] } : undefined },
      scales: {
        x: { time: false, distr: xlog ? 3 : 1, log: 10, range: o.xrange ? () => o.xrange : undefined },
        y: { distr: ylog ? 3 : 1, log: 10, range: () => o.yrange },
      },
      axes: [
        { label: o.xlabel, labelSize: 18, size: 34, space: 56, labelFont: "12px system-ui", font: "11px system-ui",
          splits: o.xsplits, values: o.xvalues, filter: o.xsplits ? (u, sp) => sp : undefined },
        { label: o.ylabel, labelSize: 18, size: 52, space: 18, labelFont: "12px system-ui", font: "11px system-ui",
          splits: ylog ? logSplits : undefined, values: ylog ? logValues : (u, s) => s.map((v) => (v == null ? null : sig(v))) },
      ],
      series: [{ label: o.xname, value: o.xfmt }].concat(o.series),
      bands: o.bands || [],
      hooks: o.hooks || {},
    };
    if (o.group) opts.hooks.setScale = (opts.hooks.setScale || []).concat([follow(o.group)]);
    // recorded once uPlot has laid the chart out (it commits in a microtask)
    opts.hooks.ready = (opts.hooks.ready || []).concat([(u) => audit(
      el, "uplot", o.title, o.xlabel, o.ylabel, u.over, u.root.querySelector(".u-legend"),
      o.series.map((s) => s.label))]);
    const u = new uPlot(opts, o.data, el);
    charts.push({ u, el, height: opts.height });
    if (o.group) (groups[o.group] = groups[o.group] || []).push(u);
    return u;
  }

  function audit(el, kind, title, xlabel, ylabel, plotEl, legendEl, legend) {
    const box = (e) => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; };
    el.dataset.audit = JSON.stringify({
      kind, title, x: xlabel, y: ylabel, legend,
      plot: box(plotEl), legend_box: legendEl ? box(legendEl) : null,
    });
  }

  // Zooming one time chart zooms the test's others to the same window (a double click resets
  // them all: every time chart spans [0, end of run], so their full ranges agree).
  const groups = {};
  function follow(key) {
    return (self, k) => {
      if (k !== "x") return;
      const { min, max } = self.scales.x;
      for (const other of groups[key] || []) {
        const o = other.scales.x;
        if (other !== self && (Math.abs(o.min - min) > 1e-9 || Math.abs(o.max - max) > 1e-9))
          other.setScale("x", { min, max });
      }
    };
  }

  // -- drawing helpers ----------------------------------------------------------------------
  function shade(spans, color) {
    return (u) => {
      const ctx = u.ctx, { left, top, width, height } = u.bbox;
      ctx.save();
      ctx.beginPath(); ctx.rect(left, top, width, height); ctx.clip();
      ctx.fillStyle = color;
      for (const [a, b] of spans) {
        const x0 = u.valToPos(a, "x", true), x1 = u.valToPos(b, "x", true);
        ctx.fillRect(x0, top, Math.max(x1 - x0, 1), height);
      }
      ctx.restore();
    };
  }
  const pseudo = (label, color) => ({ label, stroke: color, fill: color, width: 0, points: { show: false },
                                     value: () => "" });
  const line = (label, color, extra) => Object.assign({ label, stroke: color, width: 1.5, spanGaps: true,
                                                        points: { show: false } }, extra || {});
  const stepped = () => uPlot.paths.stepped({ align: 1 });
  // Every time chart of a test spans [0, end of the last bin]: bins start at t_s.
  const timeAxis = (S) => S.t_s.concat([+(S.t_s[S.t_s.length - 1] + S.bin_s).toPrecision(6)]);
  const hold = (a) => a.concat([a[a.length - 1]]);

  // -- charts -------------------------------------------------------------------------------
  function spectrum(el, D) {
    const run = D.series.spectrum, ref = D.series.reference;
    const ps = new Set(run.p);
    if (ref) ref.p.forEach((p) => ps.add(p));
    D.claims.forEach((c) => ps.add(c.p));
    const grid = [...ps].sort((a, b) => a - b);
    const at = (curve, key) => {
      const m = new Map(curve.p.map((p, i) => [p, curve[key][i]]));
      return grid.map((p) => (m.has(p) ? m.get(p) : null));
    };
    const conf = Math.round(100 * (run.confidence || 0.99)) + "%";
    const series = [
      line(run.label, C.run, { width: 2, value: withUnit("ms") }),
      line(`${run.label}: lower ${conf}`, C.runBand, { width: 1, value: withUnit("ms") }),
      line(`${run.label}: upper ${conf}`, C.runBand, { width: 1, value: withUnit("ms") }),
    ];
    const data = [grid.map(X), at(run, "ms"), at(run, "lo"), at(run, "hi")];
    const bands = [{ series: [3, 2], fill: C.runBand }];
    if (ref) {
      const what = ref.comparable === false ? `${ref.label} (other machine)` : ref.label;
      series.push(line(what, C.ref, { width: 1.6, dash: [6, 4], value: withUnit("ms") }),
                  line(`${ref.label}: lower ${conf}`, C.refBand, { width: 1, value: withUnit("ms") }),
                  line(`${ref.label}: upper ${conf}`, C.refBand, { width: 1, value: withUnit("ms") }));
      data.push(at(ref, "ms"), at(ref, "lo"), at(ref, "hi"));
      bands.push({ series: [6, 5], fill: C.refBand });
    }
    for (const c of D.claims) {
      series.push(line(`${pctShort(c.p)} budget ${sig(c.budget_ms)} ms: ${c.outcome}`, C.budget,
                       { width: 1.2, dash: [3, 3], spanGaps: false, value: withUnit("ms") }));
      data.push(grid.map((p) => (p <= c.p + 1e-12 ? c.budget_ms : null)));
    }
    const all = data.slice(1).flat();
    const maxX = X(grid[grid.length - 1]);
    const chart = plot(el, {
      title: el.dataset.title, xname: "percentile", xfmt: (u, x) => (fin(x) ? pct(P(x)) : "–"),
      xlabel: "percentile (%, on a log scale of 1/(1-p))", ylabel: "latency from scheduled arrival (ms)",
      xlog: true, ylog: true, xsplits: pctSplits, xvalues: (u, s) => s.map((x) => pct(P(x))),
      xrange: [1, maxX * 1.6], yrange: logRange(all), series, data, bands, zoom: false, padRight: 20,
      height: 260,
      hooks: { draw: [(u) => claimMarks(u, D.claims)] },
    });
    return chart;
  }

  function claimMarks(u, claims) {
    const ctx = u.ctx, r = uPlot.pxRatio;
    ctx.save();
    ctx.font = `600 ${11 * r}px system-ui`;
    ctx.textBaseline = "bottom";
    ctx.textAlign = "left";
    for (const c of claims) {
      const x = u.valToPos(X(c.p), "x", true), y = u.valToPos(c.budget_ms, "y", true);
      ctx.strokeStyle = C.budget; ctx.fillStyle = C.budget; ctx.lineWidth = 1.2 * r;
      ctx.setLineDash([2 * r, 3 * r]);
      ctx.beginPath(); ctx.moveTo(x, y); ctx.lineTo(x, u.bbox.top + u.bbox.height); ctx.stroke();
      ctx.setLineDash([]);
      ctx.beginPath(); ctx.moveTo(x - 5 * r, y - 7 * r); ctx.lineTo(x + 5 * r, y - 7 * r); ctx.lineTo(x, y);
      ctx.closePath(); ctx.fill();
      // the label left of the marker, above the line; right of it, or below, where that has no room
      const text = `${pctShort(c.p)} ≤ ${sig(c.budget_ms)} ms: ${c.outcome}`;
      const w = ctx.measureText(text).width, h = 13 * r, { left, top, width } = u.bbox;
      let tx = x - w - 8 * r;
      if (tx < left + 2 * r) tx = Math.min(x + 8 * r, left + width - w - 2 * r);
      const ty = y - 9 * r - h < top ? y + 4 * r + h : y - 9 * r;
      ctx.fillStyle = "rgba(255,255,255,0.85)";
      ctx.fillRect(tx - 2 * r, ty - h, w + 4 * r, h + 2 * r);
      ctx.fillStyle = VERDICT[c.outcome] || "#333";
      ctx.fillText(text, tx, ty);
    }
    ctx.restore();
  }

  function overTime(el, D, group) {
    const S = D.series, L = S.latency_ms;
    // no line across bins without arrivals (an on-off process's calm): a gap, not a made-up value
    const series = [
      line("p50 per bin", C.p50, { spanGaps: false, value: withUnit("ms") }),
      line("p99 per bin", C.p99, { spanGaps: false, value: withUnit("ms") }),
      line("slowest per bin", C.max, { width: 0, paths: () => null, points: { show: true, size: 4, fill: C.max, stroke: C.max },
                                       value: withUnit("ms") }),
      line("schedule lag (max per bin)", C.lag, { width: 1.2, dash: [4, 3], spanGaps: false, value: withUnit("ms") }),
    ];
    // each bin's values at its middle, inside the same [0, end] window as the other time charts
    const end = timeAxis(S)[S.t_s.length];
    const tx = [0].concat(S.t_s.map((t) => +(t + S.bin_s / 2).toPrecision(6)), [end]);
    const pad = (a) => [null].concat(a, [null]);
    const data = [tx, pad(L.p50), pad(L.p99), pad(L.max), pad(S.lag_max_ms.map((v) => (fin(v) && v > 0 ? v : null)))];
    for (const c of D.claims) {
      series.push(line(`${pctShort(c.p)} budget ${sig(c.budget_ms)} ms`, C.budget, { width: 1.2, dash: [3, 3],
                                                                                 value: withUnit("ms") }));
      data.push(tx.map(() => c.budget_ms));
    }
    series.push(pseudo(`arrival bursts (> ${D.burst_factor}x the mean rate)`, C.burst));
    data.push(tx.map(() => null));
    return plot(el, {
      title: el.dataset.title, xname: "time", xfmt: withUnit("s"), xlabel: "scheduled arrival (s from the first measured request)",
      ylabel: "latency (ms)", ylog: true, yrange: logRange(data.slice(1).flat()), series, data, group, height: 250,
      hooks: { drawClear: [shade(S.bursts || [], C.burst)] },
    });
  }

  function rate(el, D, group) {
    const S = D.series;
    const series = [line("offered (scheduled)", C.run, { paths: stepped(), value: withUnit("/s") }),
                    line("completed", C.ref, { paths: stepped(), value: withUnit("/s") })];
    const tx = timeAxis(S);
    const data = [tx, hold(S.offered_hz), hold(S.achieved_hz)];
    if (D.throughput_hz) {
      series.push(line(`promised ${sig(D.throughput_hz)}/s`, C.budget, { dash: [3, 3], value: withUnit("/s") }));
      data.push(tx.map(() => D.throughput_hz));
    }
    return plot(el, { title: el.dataset.title, xname: "time", xfmt: withUnit("s"), xlabel: "time (s)",
                      ylabel: "rate (requests/s)", yrange: linRange(data.slice(1).flat()), series, data, group });
  }

  function depth(el, D, group) {
    const S = D.series, names = Object.keys(S.depth);
    const label = (n) => (n === "in system" ? "in system (end to end)"
                          : n === "admission" ? "waiting for a free lane (admission)" : "in " + n);
    const series = names.map((n, i) => line(label(n), i === 0 ? "#222" : STAGE[(i - 1) % STAGE.length],
                                            { paths: stepped(), width: i === 0 ? 1.8 : 1.3, value: (u, v) => (fin(v) ? String(v) : "–") }));
    const data = [timeAxis(S)].concat(names.map((n) => hold(S.depth[n])));
    return plot(el, { title: el.dataset.title, xname: "time", xfmt: withUnit("s"), xlabel: "time (s)",
                      ylabel: "depth (requests)", yrange: linRange(data.slice(1).flat()), series, data, group });
  }

  function heldSpans(T) {
    const out = [];
    T.t_s.forEach((t, i) => {
      if (!(T.reasons[i] & HELD_MASK)) return;
      const next = i + 1 < T.t_s.length ? T.t_s[i + 1] : t + (T.t_s[1] - T.t_s[0] || 0.1);
      if (out.length && Math.abs(out[out.length - 1][1] - t) < 1e-9) out[out.length - 1][1] = next;
      else out.push([t, next]);
    });
    return out;
  }

  function telemetry(el, D, group) {
    // samples inside the run's window, on the same [0, end] axis as the other time charts
    const raw = D.series.telemetry, tx = timeAxis(D.series), end = tx[tx.length - 1];
    const keep = raw.t_s.map((t, i) => i).filter((i) => raw.t_s[i] > 0 && raw.t_s[i] < end);
    const T = { t_s: [0].concat(keep.map((i) => raw.t_s[i]), [end]) };
    for (const k of ["sm_mhz", "power_w", "temp_c", "reasons"]) T[k] = [null].concat(keep.map((i) => raw[k][i]), [null]);
    T.reasons = T.reasons.map((r) => r || 0);
    const spans = heldSpans(T);
    let seen = 0;
    T.reasons.forEach((r) => { seen |= r; });
    const names = Object.entries(HELD).filter(([b]) => seen & +b).map(([, n]) => n);
    const heldLabel = "clocks held down" + (names.length ? ": " + names.join(", ") : " (never)");
    const strips = [["sm_mhz", "SM clock", "MHz", C.run], ["power_w", "power", "W", C.ref],
                    ["temp_c", "temperature", "°C", C.p99]];
    for (const [key, what, unit, color] of strips) {
      const box = document.createElement("div");
      box.className = "plot";
      box.dataset.title = `${el.dataset.title}: ${what}`;
      el.appendChild(box);
      const vals = T[key];
      if (!vals.some(fin)) {
        box.innerHTML = `<div class="not-measured">${what}: not measured (NVML gave no value)</div>`;
        continue;
      }
      const [lo, hi] = linRange(vals);
      const mn = Math.min(...vals.filter(fin));
      plot(box, { title: box.dataset.title, xname: "time", xfmt: withUnit("s"), xlabel: "time (s)",
                  ylabel: `${what} (${unit})`, height: 150, yrange: [Math.max(0, mn - (hi - mn) * 0.3), hi],
                  series: [line(`${what} (${unit})`, color, { value: withUnit(unit) }), pseudo(heldLabel, C.throttle)],
                  data: [T.t_s, vals, T.t_s.map(() => null)], group,
                  hooks: { drawClear: [shade(spans, C.throttle)] } });
    }
  }

  function staticAudit(el) {
    const q = (s) => el.querySelector(s);
    audit(el, "bars", el.dataset.title, q(".axis-label") && q(".axis-label").textContent,
          q(".y-label") && q(".y-label").textContent, q(".plot-area"), q(".legend"),
          [...el.querySelectorAll(".legend .item")].map((e) => e.textContent));
  }

  // -- sections -----------------------------------------------------------------------------
  function render(det) {
    if (det.dataset.drawn) return;
    det.dataset.drawn = "1";
    const src = document.getElementById(det.dataset.json);
    if (!src) return;
    const D = JSON.parse(src.textContent);
    const group = "g-" + det.id;
    const draw = { spectrum, "over-time": overTime, rate, depth, telemetry };
    for (const el of det.querySelectorAll("[data-plot]")) {
      const fn = draw[el.dataset.plot];
      try {
        if (fn) fn(el, D, group);
      } catch (e) {
        el.innerHTML = `<div class="not-measured">chart failed: ${String(e).replace(/</g, "&lt;")}</div>`;
      }
    }
    for (const el of det.querySelectorAll("[data-static]")) staticAudit(el);
  }

  // #tN opens that test's section, #all every section, #only-tN that one alone (screenshots).
  function openTarget() {
    const id = decodeURIComponent(location.hash.slice(1));
    const all = document.querySelectorAll("details.test");
    if (id === "all") { all.forEach((d) => { d.open = true; }); return; }
    const only = id.startsWith("only-");
    const det = document.getElementById(only ? id.slice(5) : id);
    if (!det || det.tagName !== "DETAILS") return;
    if (only) all.forEach((d) => { d.open = d === det; });
    else { det.open = true; det.scrollIntoView(); }
  }

  function init() {
    openTarget();
    for (const det of document.querySelectorAll("details.test")) {
      if (det.open) render(det);
      det.addEventListener("toggle", () => { if (det.open) render(det); });
    }
    window.addEventListener("hashchange", openTarget);
    for (const [id, open] of [["expand-all", true], ["collapse-all", false]]) {
      const b = document.getElementById(id);
      if (b) b.addEventListener("click", () => document.querySelectorAll("details.test").forEach((d) => { d.open = open; }));
    }
    let t = null;
    window.addEventListener("resize", () => {
      clearTimeout(t);
      t = setTimeout(() => charts.forEach(({ u, el, height }) => u.setSize({ width: Math.max(260, el.clientWidth), height })), 150);
    });
    document.body.dataset.rendered = String(charts.length);
    window.gpusloCharts = charts;  // for the rendering test (zoom) and anyone debugging a report
    // the laid-out height once uPlot has drawn (it commits in a microtask): for screenshots
    setTimeout(() => { document.body.dataset.height = String(Math.ceil(document.body.getBoundingClientRect().bottom + 20)); }, 0);
  }
  init();
})();

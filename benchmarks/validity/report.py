"""Tables from the grid's CSV files (python -m benchmarks.validity.report [csv ...]).

For every method and R: in each noise setting, the cells whose A/A false REGRESSED is over
1.5 alpha (point estimate) and whose Wilson 95% upper bound is over 3 alpha, the worst cell with
its Wilson interval, and the power at +10% service on the bursty families next to the oracle
(a z-test that knew the run-to-run sd of the statistic).  Absolute cells likewise.
"""

from __future__ import annotations

import csv
import os
import sys
from collections import defaultdict

from benchmarks.validity import sim
from benchmarks.validity.grid import ALPHA, wilson

HERE = os.path.dirname(os.path.abspath(__file__))


def load(paths: list[str]) -> list[dict]:
    rows = []
    for p in paths:
        with open(p) as fh:
            rows.extend(csv.DictReader(fh))
    return rows


def pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def regression_tables(rows: list[dict]) -> None:
    cnt: dict = defaultdict(int)
    reps: dict = {}
    diag: dict = {}
    for r in rows:
        if r["part"] == "regression":
            key = (r["family"], r["noise"], r["method"], int(r["R"]), float(r["effect"]) > 0)
            cnt[key + (r["outcome"],)] += int(r["count"])
            reps[(r["family"], r["noise"])] = int(r["reps"])
        elif r["part"] == "diag":
            diag[(r["family"], r["noise"], r["method"])] = r["outcome"]
    if not reps:
        return
    fams = [f for f in sim.FAMILIES if any((f, nz) in reps for nz in ("none", "run", "day"))]
    bursty = [f for f in fams if sim.FAMILIES[f].bursty]
    methods = sorted({(k[2], k[3]) for k in cnt})
    print("\n## Regression: A/A false REGRESSED (alpha = 1%) and power at +10% service, n = 10,000\n")
    print("cells: families with 400 replications each; 'over' = point estimate > 1.5 alpha; "
          "'ub>3a' = Wilson 95% upper bound > 3 alpha; power = min / median over the bursty families\n")
    print("| method | R | noise | cells over 1.5a | ub>3a | worst A/A [Wilson 95%] | false IMPROVED worst | "
          "false OK at +10% worst | bursty power min / median |")
    print("|---|---|---|---|---|---|---|---|---|")
    for m, R in methods:
        for noise in ("none", "run", "day"):
            cells = [f for f in fams if (f, noise) in reps]
            if not cells:
                continue
            fa = [(cnt[(f, noise, m, R, False, "REGRESSED")], reps[(f, noise)], f) for f in cells]
            fi = [(cnt[(f, noise, m, R, False, "IMPROVED")], reps[(f, noise)], f) for f in cells]
            over = sum(1 for k, n, _ in fa if k / n > 1.5 * ALPHA)
            ub = sum(1 for k, n, _ in fa if wilson(k, n)[1] > 3 * ALPHA)
            k, n, f = max(fa, key=lambda z: z[0] / z[1])
            lo, hi = wilson(k, n)
            ki, ni, fii = max(fi, key=lambda z: z[0] / z[1])
            fo = max((cnt[(f, noise, m, R, True, "OK")] / reps[(f, noise)], f) for f in cells)
            pw = sorted(cnt[(b, noise, m, R, True, "REGRESSED")] / reps[(b, noise)] for b in bursty
                        if (b, noise) in reps)
            pws = f"{pct(pw[0])} / {pct(pw[len(pw) // 2])}" if pw else "-"
            print(f"| {m} | {R} | {noise} | {over}/{len(cells)} | {ub} | {pct(k / n)} [{pct(lo)}, {pct(hi)}] {f} "
                  f"| {pct(ki / ni)} {fii} | {pct(fo[0])} {fo[1]} | {pws} |")
    # power per bursty family for the headline methods, with the oracle
    print("\n## Power at +10% service on the bursty families (noise none / run), with the oracle\n")
    heads = [("current", 1), ("current", 8), ("predict-untrimmed", 8), ("predict", 8), ("predict-adj", 8),
             ("ab-pooled", 3)]
    print("| family | noise | " + " | ".join(f"{m} R{R}" for m, R in heads) +
          " | oracle R8 | oracle A/B 3 | run sd of T | effect on T |")
    print("|---" * (len(heads) + 6) + "|")
    for f in bursty:
        for noise in ("none", "run"):
            if (f, noise) not in reps:
                continue
            n = reps[(f, noise)]
            vals = [pct(cnt[(f, noise, m, R, True, "REGRESSED")] / n) for m, R in heads]
            o8 = diag.get((f, noise, "oracle_power_R8"), "nan")
            o3 = diag.get((f, noise, "oracle_power_AB3"), "nan")
            print(f"| {f} | {noise} | " + " | ".join(vals) + f" | {pct(float(o8))} | {pct(float(o3))} | "
                  f"{diag.get((f, noise, 'run_sd_T'), '')} | {diag.get((f, noise, 'effect_T'), '')} |")
    print("\n## Paired within-run variance: true var(theta) / mean estimated var (A/A, noise none)\n")
    print("| family | fixed 20 batches (today) | regenerative batches | mean regenerative batches | elasticity |")
    print("|---|---|---|---|---|")
    for f in fams:
        print(f"| {f} | {diag.get((f, 'none', 'var_ratio_fixed'), '')} | {diag.get((f, 'none', 'var_ratio_regen'), '')} "
              f"| {diag.get((f, 'none', 'k_regen_mean'), '')} | {diag.get((f, 'none', 'eps_median'), '')} |")


def absolute_tables(rows: list[dict]) -> None:
    cnt: dict = defaultdict(int)
    reps: dict = {}
    dtrue: dict = {}
    for r in rows:
        if r["part"] == "absolute":
            cnt[(r["family"], int(r["n"]), r["method"], r["effect"], r["outcome"])] += int(r["count"])
            reps[(r["family"], int(r["n"]))] = int(r["reps"])
        elif r["part"] == "diag" and r["method"] == "D_true_at_q":
            dtrue[(r["family"], int(r["n"]))] = r["outcome"]
    if not reps:
        return
    methods = sorted({k[2] for k in cnt})
    sizes = sorted({n for _, n in reps})
    print("\n## Absolute budget: error rates (alpha = 1%)\n")
    print("false PASS at the boundary (true q_p = B) and 5% over; false FAIL at the boundary and 5% under\n")
    print("| method | n | false PASS at q: over 1.5a / ub>3a / worst | false PASS 5% over: worst | "
          "false FAIL at q / 5% under: worst | PASS power (half allowance) median | FAIL power (2x) median |")
    print("|---|---|---|---|---|---|---|")
    for m in methods:
        for n in sizes:
            cells = [f for f in sim.FAMILIES if (f, n) in reps]

            def worst(label: str, outcome: str) -> tuple[float, str, int, int]:
                v = [(cnt[(f, n, m, label, outcome)] / reps[(f, n)], f, cnt[(f, n, m, label, outcome)], reps[(f, n)])
                     for f in cells]
                return max(v)

            fp = [(cnt[(f, n, m, "at-q", "PASS")], reps[(f, n)]) for f in cells]
            over = sum(1 for k, r in fp if k / r > 1.5 * ALPHA)
            ub = sum(1 for k, r in fp if wilson(k, r)[1] > 3 * ALPHA)
            w = worst("at-q", "PASS")
            lo, hi = wilson(w[2], w[3])
            w5 = worst("q-5%over", "PASS")
            wf = worst("at-q", "FAIL")
            wf5 = worst("q-5%under", "FAIL")
            pp = sorted(cnt[(f, n, m, "pass-power", "PASS")] / reps[(f, n)] for f in cells)
            fpw = sorted(cnt[(f, n, m, "fail-power", "FAIL")] / reps[(f, n)] for f in cells)
            print(f"| {m} | {n} | {over}/{len(cells)} / {ub} / {pct(w[0])} [{pct(lo)}, {pct(hi)}] {w[1]} | "
                  f"{pct(w5[0])} {w5[1]} | {pct(wf[0])} {wf[1]} / {pct(wf5[0])} | {pct(pp[len(pp) // 2])} | "
                  f"{pct(fpw[len(fpw) // 2])} |")
    print("\nPer family (false PASS at q / PASS power at half allowance / D_true at q):\n")
    print("| family | n | " + " | ".join(methods) + " | D_true |")
    print("|---" * (len(methods) + 3) + "|")
    for f in sim.FAMILIES:
        for n in sizes:
            if (f, n) not in reps:
                continue
            r = reps[(f, n)]
            vals = [f"{pct(cnt[(f, n, m, 'at-q', 'PASS')] / r)} / {pct(cnt[(f, n, m, 'pass-power', 'PASS')] / r)}"
                    for m in methods]
            print(f"| {f} | {n} | " + " | ".join(vals) + f" | {dtrue.get((f, n), '')} |")


def main() -> int:
    paths = sys.argv[1:] or [os.path.join(HERE, "results", p) for p in sorted(os.listdir(os.path.join(HERE, "results")))
                             if p.endswith(".csv")]
    rows = load(paths)
    regression_tables(rows)
    absolute_tables(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Markdown tables from docs/gate_validity.csv for docs/statistics.md.

Usage: python benchmarks/summarize_validity.py [docs/gate_validity.csv]
"""

from __future__ import annotations

import csv
import os
import sys
from collections import defaultdict

METHODS = ["ours-paired", "ours-unpaired", "naive-p>1.05", "mean:5%", "median:5%", "mannwhitney-0.05", "iid-bootstrap"]


def main() -> None:
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "docs", "gate_validity.csv")
    rows = list(csv.DictReader(open(path)))
    null = defaultdict(list)
    for r in rows:
        if r["kind"] == "false-alarm":
            null[r["method"]].append(r)
    print("A/A false alarms (and body-shift cells, where the tail does not move), nominal alpha = 0.01:\n")
    print("| method | null cells | worst cell rate | worst 95% upper bound | cells over 1.5 alpha (upper bound) |")
    print("|---|---|---|---|---|")
    for m in METHODS:
        cells = null.get(m, [])
        if not cells:
            continue
        worst = max(cells, key=lambda r: float(r["flag_rate"]))
        over = sum(1 for r in cells if float(r["upper95"]) > 0.015)
        print(f"| {m} | {len(cells)} | {float(worst['flag_rate']):.1%} ({worst['scenario']}, n={worst['n']}, "
              f"p={worst['p']}, noise={worst['run_noise']}) | {max(float(r['upper95']) for r in cells):.3f} | {over} |")
    print("\nPower: share of runs flagged at a true service-time slowdown, p95, 10,000 requests per side:\n")
    scen = ["mg1-rho0.5", "mg1-rho0.7", "mmpp-bursty-rho0.6", "gpu-like-rho0.7", "lognormal-iid", "pareto-mixture"]
    for eff in ("0.05", "0.1", "0.2"):
        print(f"\n+{float(eff):.0%}:\n")
        print("| scenario | " + " | ".join(METHODS) + " |")
        print("|---|" + "---|" * len(METHODS))
        for s in scen:
            cells = {r["method"]: r for r in rows if r["scenario"] == s and r["n"] == "10000" and r["p"] == "0.95"
                     and r["effect"] == eff and r["run_noise"] == "0.0"}
            if cells:
                print(f"| {s} | " + " | ".join(f"{float(cells[m]['flag_rate']):.0%}" if m in cells else "-"
                                              for m in METHODS) + " |")
    print("\nA/A false alarms of the other rules on the queueing scenarios (p95, n = 10,000):\n")
    print("| scenario | " + " | ".join(METHODS) + " |")
    print("|---|" + "---|" * len(METHODS))
    for s in scen + ["body-shift"]:
        eff = "0.1" if s == "body-shift" else "0.0"
        cells = {r["method"]: r for r in rows if r["scenario"] == s and r["n"] == "10000" and r["p"] == "0.95"
                 and r["effect"] == eff and r["run_noise"] == "0.0"}
        if cells:
            label = s + (" (+10% body, tail unchanged)" if s == "body-shift" else "")
            print(f"| {label} | " + " | ".join(f"{float(cells[m]['flag_rate']):.1%}" if m in cells else "-"
                                              for m in METHODS) + " |")


if __name__ == "__main__":
    main()

"""Could the machine control sharpen an A/B as a covariate?  Within-side correlation of each run's
level with its CPU-loop control, over kept ``gpuslo ab`` sessions.

An A/B interval comes from the spread of the 2R run levels.  Where a run's level moved with the
machine's speed, and the control read that speed, regressing the levels on the control would
take that part out of the spread: at best a share r**2 of the variance, for one degree of
freedom (at 3+3 runs, t(0.99) with 3 df is 4.54 against 3.75 with 4: intervals 21% wider before
any gain).  So it pays only where |r| is well above 0.5 run after run.  This script reads kept
sessions (``gpuslo ab --keep DIR``) and prints, per test, the correlation of the runs' levels
(``stats.run_statistic`` at p95) with the log of their CPU-loop control, each side centred on its
own mean (the code's change is not the machine's).

Usage: python benchmarks/control_covariate.py KEPT_DIR [KEPT_DIR ...]
"""

from __future__ import annotations

import argparse
import math
import statistics
from pathlib import Path

import numpy as np

from pytest_gpuslo import ab, stats


def rows(folder: Path) -> list[tuple[str, int, float, float, float]]:
    """(test, runs, r, sd of the levels, sd of the log controls) of each test of one kept session."""
    session = ab.load(folder)
    out = []
    for node in sorted(set(session.cand.summaries[-1]) & set(session.base.summaries[-1])):
        levels, controls, sides = [], [], []
        for side, runs in (("base", ab._samples(session.base, node)), ("cand", ab._samples(session.cand, node))):
            for run in runs:
                cpu = (run.summary.get("control") or {}).get("cpu_ms")
                if cpu is None or run.latency_ms.size < 2 * stats.RUN_STAT_BATCHES:
                    continue
                levels.append(stats.run_statistic(run.latency_ms, 0.95))
                controls.append(math.log(cpu))
                sides.append(side)
        if len(levels) < 6:
            continue
        lv, cv, sd = np.array(levels), np.array(controls), np.array(sides)
        for side in ("base", "cand"):
            lv[sd == side] -= lv[sd == side].mean()
            cv[sd == side] -= cv[sd == side].mean()
        if lv.std() == 0 or cv.std() == 0:
            continue
        out.append((node, len(levels), float(np.corrcoef(lv, cv)[0, 1]), float(lv.std()), float(cv.std())))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kept", nargs="+", type=Path, help="kept gpuslo ab sessions (folders with session.json)")
    args = parser.parse_args()
    print(f"| {'session':<28} | {'test':<34} | runs | r (level, control) | sd level | sd log control |")
    print(f"|{'-' * 30}|{'-' * 36}|------|--------------------|----------|----------------|")
    rs = []
    for folder in args.kept:
        try:
            found = rows(folder)
        except ab.ABError as exc:  # a damaged or hand-edited session: said, and passed over
            print(f"(skipped {folder}: {str(exc)[:100]})")
            continue
        for node, n, r, sl, sc in found:
            rs.append(r)
            print(f"| {str(folder)[-28:]:<28} | {node.split('::')[-1][:34]:<34} | {n:4d} | {r:+18.2f} | {sl:8.3f} | "
                  f"{sc:14.3f} |")
    if rs:
        print(f"\n{len(rs)} tests: median r {statistics.median(rs):+.2f}, |r| > 0.5 in {sum(abs(r) > 0.5 for r in rs)}")


if __name__ == "__main__":
    main()

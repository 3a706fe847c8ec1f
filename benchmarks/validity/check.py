"""The plugin's gate on the validity grid's hardest cells, with pass/fail bounds (CI: < 60 s).

    python -m benchmarks.validity.check          # exit 1 when a bound is broken

Every decision goes through the plugin's own path (``current.py``). Cells (100 replications each,
n = 10,000, p95, alpha 1%, +10% service as the regression):

* on-off arrivals (20x peak), bimodal service, one server, utilisation 0.8, no machine noise:
  the cell where 20 fixed batches under-estimated the paired variance (finding 1); also decided
  on the replayed statistic (``replay.shuffled``), which must hold the bound and catch at least
  what the latencies' statistic catches;
* Poisson, near-deterministic service, utilisation 0.9, per-run machine noise: where a constant
  sigma_run gave 36% false REGRESSED with one stored run (finding 2);
* the same with per-day noise, all stored runs from one session: a shift the stored runs cannot
  show must never make an A/A run REGRESSED (finding 4). From one session only a gross change
  (p95 at least 2x the stored one) is REGRESSED; at utilisation 0.9 a +10% service time is such
  a change, so the "+10% caught" column is a true detection there, not a leak. A/B cancels the
  day shift;
* ``gpuslo ab --max-runs 8`` (looks 3, 6, 8) on on-off bimodal service with per-run noise: false
  REGRESSED within the bound, and at least the power of a fixed 3+3;
* the machine control on M/D/1 at 0.95 with a heavy-tailed per-run machine factor, 8 stored runs
  from 8 sessions, the control's noise 0.3%: false REGRESSED within the bound (without the
  control: 7 of 100 on the log scale, 4 on 1/q);
* absolute claims at the true p95 (false PASS, finding 5) and finding 6 (must FAIL).

Bounds: A/A false REGRESSED and false PASS at most 3 of 100 (an exact 1% test exceeds that in
1.8% of cells by chance); per-day A/A REGRESSED 0 of 100 on the stored path; finding 6 FAIL.
"""

from __future__ import annotations

import sys
import time
from collections import defaultdict

import numpy as np

from benchmarks.validity import ab_sequential, control_check, current, grid, sim

REPS = 100
MAX_FALSE = 3


def regression(fam_name: str, noise: str, seed: int, shuffled: bool = False) -> dict[tuple[str, int], list[int]]:
    """(path, effect) -> [REGRESSED count, reps] for the stored path (R = 1 and 8) and A/B 3+3; with
    ``shuffled`` also both on the replayed statistic (``replay.shuffled``) of the same runs."""
    fam = sim.FAMILIES[fam_name]
    rng = np.random.default_rng(seed)
    n = 10_000
    out: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0, 0])

    def add(path: str, eff: int, outcome: str) -> None:
        cell = out[(path, eff)]
        cell[0] += outcome == "REGRESSED"
        cell[1] += 1

    for _ in range(REPS):
        t, lat, lv = grid.draw_runs(fam, noise, n, rng, shuffled=shuffled)
        stored, cands, bruns = lat[:8], lat[8:10], lat[10:]
        sessions = 1 if noise == "day" else 3
        for eff in (0, 1):
            for r in (1, 8):
                add(f"stored R={r}", eff, current.stored_path(list(stored[-r:]), cands[eff], t, sessions=sessions))
            add("A/B 3+3", eff, current.ab_path(list(stored[5:8]), list(bruns[3 * eff:3 * eff + 3])))
            if lv is not None:
                add("stored R=8 replayed", eff, current.stored_path(list(stored), cands[eff], t, sessions=sessions,
                                                                    levels=list(lv[:8]), level=float(lv[8 + eff])))
                add("A/B 3+3 replayed", eff, current.ab_path(list(stored[5:8]), list(bruns[3 * eff:3 * eff + 3]),
                                                             0.95, list(lv[5:8]), list(lv[10 + 3 * eff:13 + 3 * eff])))
    return out


def main() -> int:
    t0 = time.time()
    broken: list[str] = []
    print("| cell | path | A/A false REGRESSED | +10% caught |")
    print("|---|---|---|---|")
    for i, (fam, noise) in enumerate((("onoff-bimodal-c1-r.8", "none"), ("poi-neardet-c1-r.9", "run"),
                                      ("poi-neardet-c1-r.9", "day"))):
        res = regression(fam, noise, 20261130 + i, shuffled=i == 0)
        for path in ("stored R=1", "stored R=8", "A/B 3+3") + (("stored R=8 replayed", "A/B 3+3 replayed") if i == 0 else ()):
            aa, hit = res[(path, 0)], res[(path, 1)]
            print(f"| {fam} {noise} | {path} | {aa[0]}/{aa[1]} | {hit[0]}/{hit[1]} |", flush=True)
            if aa[0] > MAX_FALSE:
                broken.append(f"{fam} {noise} {path}: {aa[0]} false REGRESSED of {aa[1]}")
            if noise == "day" and path.startswith("stored") and aa[0] > 0:
                broken.append(f"{fam} {noise} {path}: A/A REGRESSED {aa[0]} times from a one-session baseline")
            if path.endswith("replayed") and hit[0] < res[(path.removesuffix(" replayed"), 1)][0]:
                broken.append(f"{fam} {noise} {path}: caught {hit[0]}, fewer than on the latencies' statistic")
    # gpuslo ab --max-runs 8: alpha held over the looks, and more power than a fixed 3+3.
    seq = ab_sequential.cell(("onoff-bimodal-c1-r.8", "run", REPS, 20261203, False))[2]
    aa, hit, fixed = (int(seq.get(k, 0)) for k in ("seq aa REGRESSED", "seq slow REGRESSED", "fixed slow REGRESSED"))
    print(f"| onoff-bimodal-c1-r.8 run | A/B --max-runs 8 | {aa}/{REPS} | {hit}/{REPS} (fixed 3+3: {fixed}) |")
    if aa > MAX_FALSE:
        broken.append(f"A/B --max-runs: {aa} false REGRESSED of {REPS}")
    if hit < fixed:
        broken.append(f"A/B --max-runs caught {hit} of {REPS}, fewer than a fixed 3+3 ({fixed})")
    # The machine control: heavy-tailed machine noise near saturation, 8 runs from 8 sessions.
    ctl = control_check.cell(("M/D/1 0.95, t3 factor", REPS, 20261202))[1]
    aa = ctl.get((0.003, 0, "REGRESSED"), 0)
    print(f"| M/D/1 0.95, t3 machine factor | stored R=8 + control (sd 0.3%) | {aa}/{REPS} | "
          f"{ctl.get((0.003, 1, 'REGRESSED'), 0)}/{REPS} (no control: {ctl.get((None, 0, 'REGRESSED'), 0)} false) |")
    if aa > MAX_FALSE:
        broken.append(f"machine control: {aa} false REGRESSED of {REPS}")
    fam = sim.FAMILIES["poi-logn-c4-r.8"]
    rng = np.random.default_rng(4)
    q = grid.truth(fam, 4000, 200, 11, (0.95,))[0.95]
    passes = 0
    for _ in range(REPS):
        t = fam.schedule(rng, sim.total(4000))
        passes += current.absolute(sim.simulate(fam, t, rng, np.ones(1), 4000)[0], q) == "PASS"
    print(f"| poi-logn-c4-r.8, n=4000 | budget = true p95 | false PASS {passes}/{REPS} | |")
    if passes > MAX_FALSE:
        broken.append(f"absolute: {passes} false PASS of {REPS} at the true p95")
    for line in grid.findings_6():
        print(line)
        if "FAIL" not in line.split("(plugin)")[0].split(":")[-1]:
            broken.append(f"finding 6 not FAILed: {line}")
    print(f"total {time.time() - t0:.0f} s")
    for b in broken:
        print(f"BROKEN: {b}")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())

"""Finding 7 in the simulator: one GPU stream (c = 1), near-deterministic 200 us kernel
(lognormal jitter sigma 0.05), gamma cv = 2 arrivals at utilisation 0.7, 5,000 requests.

Six same-schedule runs of the baseline, one candidate with a 2% slower kernel: the spread of the
runs' p95, the plugin's paired CI (R = 1), its verdicts at R = 1 and R = 6 and in A/B and the prediction interval.
"""

from __future__ import annotations

import numpy as np

from benchmarks.validity import candidates as C
from benchmarks.validity import current, sim


def main(reps: int = 200) -> None:
    fam = sim.Family("gpu", "gamma2", "neardet", 1, 0.7)
    rng = np.random.default_rng(77)
    n = 5000
    spread, half, ratio = [], [], []
    out = {k: {} for k in ("plugin R=1", "plugin R=6", "plugin A/B 3+3", "PI R=6 (alpha/2)", "A/B 3+3")}
    for _ in range(reps):
        t = fam.schedule(rng, sim.total(n)) * 0.2  # 200 us kernel: time in ms
        s = fam.services(rng, 10, t.size) * 0.2 * np.r_[np.ones(6), 1.02, 1.02, 1.02, 1.02][:, None]
        lat = sim.fifo(t, s, 1)[:, -n:]
        q = np.quantile(lat[:6], 0.95, axis=1)
        spread.append(q.max() / q.min() - 1)
        ratio.append(np.quantile(lat[6], 0.95) / q.mean() - 1)
        tm = t[-n:]
        tr = current.stored_test([lat[5]], lat[6], tm).test
        half.append((tr.ci_high - tr.ci_low) / 2)
        out["plugin R=1"][tr.outcome] = out["plugin R=1"].get(tr.outcome, 0) + 1
        o = current.stored_path(list(lat[:6]), lat[6], tm, sessions=3)
        out["plugin R=6"][o] = out["plugin R=6"].get(o, 0) + 1
        o = current.ab_path(list(lat[3:6]), list(lat[7:10]))
        out["plugin A/B 3+3"][o] = out["plugin A/B 3+3"].get(o, 0) + 1
        U = C.run_stat(lat, 0.95)
        o = C.prediction(U[:6], U[6], alpha=0.005).outcome
        out["PI R=6 (alpha/2)"][o] = out["PI R=6 (alpha/2)"].get(o, 0) + 1
        o = C.ab_test(U[3:6], U[7:10]).outcome
        out["A/B 3+3"][o] = out["A/B 3+3"].get(o, 0) + 1
    print(f"p95 spread of 6 same-schedule runs (max/min - 1): median {np.median(spread):.2%}")
    print(f"the paired within-run CI half-width (R=1): median {np.median(half):.2%}")
    print(f"2% slower kernel moves p95 by: median {np.median(ratio):+.1%}")
    for k, v in out.items():
        print(f"  {k:<18} " + ", ".join(f"{o} {c / reps:.0%}" for o, c in sorted(v.items())))


if __name__ == "__main__":
    main()

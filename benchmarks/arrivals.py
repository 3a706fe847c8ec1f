"""Arrival processes: generation speed (1M arrivals each) and the rate-over-time figure.

Usage: python benchmarks/arrivals.py [--plot docs/arrivals.png]
Target: one million arrivals of any process in under 0.5 s on one CPU core.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from pytest_gpuslo import arrivals as A  # noqa: E402

PROCESSES = {
    "constant": "constant",
    "poisson": "poisson",
    "gamma(cv=3)": "gamma(cv=3)",
    "mmpp2": "mmpp2(peak_to_mean=4, burst_s=2, calm_s=8)",
    "onoff": "onoff(burst_s=1, calm_s=3)",
    "pareto(alpha=1.5)": "pareto(alpha=1.5)",
    "diurnal": "diurnal(amplitude=0.8, period_s=20)",
    "ramp": "ramp(points=[(0, 200), (30, 1800)])",
    "superpose": "superpose(parts=[poisson(rate_hz=700), gamma(rate_hz=300, cv=4)])",
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--plot", default=None, help="write the rate-over-time figure to this PNG")
    a = ap.parse_args()
    worst = 0.0
    print(f"{'process':<22}{'1M arrivals (s)':>16}{'realised rate':>15}{'cv of gaps':>12}")
    for label, text in PROCESSES.items():
        proc = A.parse(text, rate_hz=1000.0)
        rng = A.make_rngs(1)["arrivals"]
        t = time.perf_counter()
        s = proc.schedule(n=1_000_000, rng=rng)  # type: ignore[union-attr]
        dt = time.perf_counter() - t
        worst = max(worst, dt)
        g = np.diff(s) / 1e9
        print(f"{label:<22}{dt:>16.3f}{1e9 * (s.size - 1) / s[-1]:>15.1f}{g.std() / g.mean():>12.2f}")
    print(f"slowest: {worst:.3f} s (target < 0.5 s)")
    if a.plot:
        plot(a.plot)
    return 0 if worst < 0.5 else 1


def plot(path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(3, 3, figsize=(11, 7.5), sharex=True)
    for ax, (label, text) in zip(axes.ravel(), PROCESSES.items()):
        proc = A.parse(text, rate_hz=1000.0)
        s = proc.schedule(duration_s=60.0, rng=A.make_rngs(7)["arrivals"]) / 1e9  # type: ignore[union-attr]
        counts, edges = np.histogram(s, bins=np.arange(0, 60.5, 0.5))
        ax.step(edges[:-1], counts / 0.5, where="post", lw=0.9)
        ax.axhline(1000, color="grey", lw=0.6, ls="--")
        ax.set_title(label, fontsize=9)
        ax.set_ylim(0, max(3000, counts.max() / 0.5 * 1.05))
    for ax in axes[-1]:
        ax.set_xlabel("time (s)")
    for ax in axes[:, 0]:
        ax.set_ylabel("arrivals / s (0.5 s bins)")
    fig.suptitle("Offered rate over time, mean 1,000 requests/s (dashed), seed 7", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    print(f"wrote {path}")


if __name__ == "__main__":
    sys.exit(main())

"""The plugin's gate, called exactly as the plugin and ``gpuslo compare`` call it.

* ``stored_path``: ``gate.baseline_input`` over every stored run (oldest first) and how many
  sessions they span -> ``gate.compare`` with the candidate's ``Measurements`` (its schedule for
  the paired batches; FIFO lanes, so not load-dependent).
* ``ab_path``: ``gate.ABInput`` of interleaved base and candidate runs -> ``gate.compare``.
* ``absolute``: ``gate.decide`` on the run alone (budget test, stationarity, lag policy).

Nothing here re-implements a rule: when the plugin changes, these adapters follow it.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import numpy as np

from pytest_gpuslo import gate
from pytest_gpuslo.spec import SloSpec, percentile_label, resolve

POLICY = gate.Policy(alpha=0.01)


@cache
def spec(p: float = 0.95, budget: float = 1.0) -> SloSpec:
    key = {0.95: "p95_ms", 0.99: "p99_ms"}[p]
    return resolve({key: float(budget), "rate_hz": 100.0}, nodeid="validity::grid")


Levels = Sequence[float] | None


def _maps(levels: Levels, p: float) -> tuple[dict[str, float], ...]:
    """Replayed statistics (``sim.shuffled``) as the runs' ``Measurements.shuffled`` carry them."""
    return () if levels is None else tuple({percentile_label(p): float(v)} for v in levels)


def _measurements(cand: np.ndarray, t: np.ndarray | None, level: float | None = None,
                  p: float = 0.95) -> gate.Measurements:
    y = np.asarray(cand, dtype=np.float64)
    return gate.Measurements(y, np.zeros(y.size), scheduled_ms=None if t is None else np.asarray(t),
                             load_dependent=False,
                             shuffled=None if level is None else {percentile_label(p): float(level)})


def stored_test(stored: list[np.ndarray], cand: np.ndarray, t: np.ndarray | None = None, p: float = 0.95,
                sessions: int = 3, levels: Levels = None, level: float | None = None) -> gate.BaselineCheck:
    """The plugin's baseline comparison of ``cand`` against ``stored`` (same schedule ``t``); with
    ``levels`` (the stored runs') and ``level`` (the candidate's), on the replayed statistic."""
    base = gate.baseline_input([np.asarray(x) for x in stored], spec(p), paired=True, sessions=sessions,
                               shuffled=_maps(levels, p))
    return gate.compare(spec(p), _measurements(cand, t, level, p), base, POLICY)[0]


def stored_path(stored: list[np.ndarray], cand: np.ndarray, t: np.ndarray | None = None, p: float = 0.95,
                sessions: int = 3, levels: Levels = None, level: float | None = None) -> str:
    """Outcome of the plugin's baseline comparison (REGRESSED / OK / IMPROVED / INCONCLUSIVE)."""
    return stored_test(stored, cand, t, p, sessions, levels, level).outcome


def ab_check(a_runs: list[np.ndarray], b_runs: list[np.ndarray], p: float = 0.95, a_levels: Levels = None,
             b_levels: Levels = None, policy: gate.Policy = POLICY) -> gate.BaselineCheck:
    """``gpuslo ab``'s decision on interleaved runs of one schedule (on the replayed statistic when
    both sides' ``levels`` are given)."""
    ab = gate.ABInput(tuple(np.asarray(x) for x in a_runs), tuple(np.asarray(y) for y in b_runs),
                      base_shuffled=_maps(a_levels, p), cand_shuffled=_maps(b_levels, p))
    return gate.compare(spec(p), _measurements(b_runs[-1], None), ab, policy)[0]


def ab_path(a_runs: list[np.ndarray], b_runs: list[np.ndarray], p: float = 0.95, a_levels: Levels = None,
            b_levels: Levels = None) -> str:
    """Outcome of ``gpuslo ab``'s decision on interleaved runs of one schedule."""
    return ab_check(a_runs, b_runs, p, a_levels, b_levels).outcome


def absolute(x: np.ndarray, budget: float, p: float = 0.95, lag: np.ndarray | None = None,
             load_dependent: bool | None = False) -> str:
    """Outcome of the budget claim through ``gate.decide`` (stationarity and lag rules included)."""
    lat = np.asarray(x, dtype=np.float64)
    m = gate.Measurements(lat, np.zeros(lat.size) if lag is None else np.asarray(lag),
                          load_dependent=load_dependent)
    v = gate.decide(spec(p, budget), m, POLICY)
    return v.checks[0].outcome

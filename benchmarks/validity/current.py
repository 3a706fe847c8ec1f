"""Today's gate, called exactly as the plugin and ``gpuslo compare`` call it.

* ``stored_path``: ``plugin.baseline_input`` -> ``gate.compare``: a BaselineInput built from the
  stored runs with ``plugin._sigma_run`` (only the LATEST stored run is compared; all of them feed
  sigma_run, which is a constant 0.01 below 3 runs), ``runs=1``, ``sigma_df=None``.
* ``cli_path``: ``cli._cmd_compare``: the latest runs of two files, sigma_run constant 0.01
  (paired) whatever the history.
* ``absolute``: ``gate.decide`` on the run alone (budget test, stationarity), lag zero.

Nothing here re-implements a rule: if the plugin changes, these adapters follow it.
"""

from __future__ import annotations

from functools import lru_cache
from types import SimpleNamespace

import numpy as np

from pytest_gpuslo import gate, plugin
from pytest_gpuslo.spec import resolve

POLICY = gate.Policy(alpha=0.01)


@lru_cache(maxsize=None)
def spec(p: float = 0.95, budget: float = 1.0):
    key = {0.95: "p95_ms", 0.99: "p99_ms"}[p]
    return resolve({key: float(budget), "rate_hz": 100.0}, nodeid="validity::grid")


def baseline_input(stored: list[np.ndarray], p: float = 0.95, paired: bool = True) -> gate.BaselineInput:
    """As ``plugin.SloPlugin.baseline_input`` builds it from a store holding ``stored`` (oldest first)."""
    found = SimpleNamespace(runs=[SimpleNamespace(latency_ms=np.asarray(x)) for x in stored])
    sigma, source = plugin._sigma_run(found, spec(p), paired)
    return gate.BaselineInput(np.asarray(stored[-1]), paired, sigma, source, 1, None)


def stored_path(stored: list[np.ndarray], cand: np.ndarray, p: float = 0.95) -> str:
    """Outcome of the plugin's baseline comparison (REGRESSED / OK / IMPROVED / INCONCLUSIVE)."""
    b = baseline_input(stored, p, paired=True)
    return gate.compare(spec(p), np.asarray(cand), b, POLICY)[0].outcome


def stored_test(stored: list[np.ndarray], cand: np.ndarray, p: float = 0.95):
    """The RegressionTest behind ``stored_path`` (for diagnostics)."""
    b = baseline_input(stored, p, paired=True)
    return gate.compare(spec(p), np.asarray(cand), b, POLICY)[0].test


def cli_path(base_latest: np.ndarray, cand: np.ndarray, p: float = 0.95) -> str:
    """``gpuslo compare``: same fingerprints -> paired, sigma_run 0.01, runs 1."""
    b = gate.BaselineInput(np.asarray(base_latest), True, 0.01, "default", 1, None)
    return gate.compare(spec(p), np.asarray(cand), b, POLICY)[0].outcome


def absolute(x: np.ndarray, budget: float, p: float = 0.95, lag: np.ndarray | None = None) -> str:
    """Outcome of the budget claim through ``gate.decide`` (stationarity and lag rules included)."""
    lat = np.asarray(x, dtype=np.float64)
    m = gate.Measurements(lat, np.zeros(lat.size) if lag is None else np.asarray(lag))
    v = gate.decide(spec(p, budget), m, POLICY)
    return v.checks[0].outcome

"""Arrival processes (layer 1, numpy): the processes, their registry and a test's schedule.

``registry.parse`` reads the marker's ``arrivals=``; ``schedule.plan(spec)`` draws a test's whole
arrival schedule.  Adding a process: a module with the class, plus one line in
``registry.PROCESSES``.
"""

from __future__ import annotations

from pytest_gpuslo.arrivals.processes import (
    MMPP2,
    ArrivalProcess,
    Constant,
    Diurnal,
    Gamma,
    OnOff,
    Pareto,
    Poisson,
    Process,
    Ramp,
    Superpose,
    to_ns,
)
from pytest_gpuslo.arrivals.registry import PROCESSES, caution, parse, steady_load
from pytest_gpuslo.arrivals.schedule import build_schedule, fingerprint, make_rngs, plan
from pytest_gpuslo.arrivals.trace import Trace, describe

__all__ = [
    "MMPP2", "PROCESSES", "ArrivalProcess", "Constant", "Diurnal", "Gamma", "OnOff", "Pareto",
    "Poisson", "Process", "Ramp", "Superpose", "Trace", "build_schedule", "describe",
    "caution", "fingerprint", "make_rngs", "parse", "plan", "steady_load", "to_ns",
]

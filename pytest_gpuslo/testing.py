"""Helpers for testing GPU harnesses (the GPU code lives in ``backends.cuda``)."""

from __future__ import annotations

from typing import Any


def spin_kernel() -> Any:
    """A compiled CuPy kernel that spins for a chosen number of nanoseconds on the GPU's
    global timer (``backends.cuda.spin_kernel``): ``k((1,), (1,), (cupy.int64(ns),))``."""
    from pytest_gpuslo.backends.cuda import spin_kernel as make

    return make()

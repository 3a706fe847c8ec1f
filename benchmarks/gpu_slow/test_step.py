"""A GPU body that gets slow mid-run (statistics.md, "A body that got slow"): a 200 us spin kernel
that spins 2.5 ms (2.5x the 1 ms p95 budget) from ``SLOW_FROM`` of the schedule on; ``STREAMS``
streams.  Run by ``benchmarks/gpu_slow_stretch.sh``."""

import os

import cupy as cp
import pytest

from pytest_gpuslo.testing import spin_kernel

KERNEL = spin_kernel()
REQUESTS = 2000
SLOW_FROM = int(float(os.environ.get("SLOW_FROM", "2")) * REQUESTS)


@pytest.mark.slo(p95_ms=1, rate_hz=200, requests=REQUESTS, streams=int(os.environ.get("STREAMS", "1")),
                 backend="cuda")
def test_step(slo_request) -> None:
    ns = 2_500_000 if slo_request.index >= SLOW_FROM else 200_000
    KERNEL((1,), (1,), (cp.int64(ns),))

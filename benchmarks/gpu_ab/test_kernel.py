"""The GPU A/B case of docs/statistics.md (finding 7): one stream, a 200 us spin kernel, gamma
cv = 2 arrivals, 5,000 requests; ``benchmarks/gpu_ab.sh`` makes the candidate 2% slower."""

import cupy as cp
import pytest
import spin_conf

from pytest_gpuslo.testing import spin_kernel

KERNEL = spin_kernel()


@pytest.mark.slo(p95_ms=20, rate_hz=3000, requests=5000, arrivals="gamma(cv=2)", backend="cuda")
def test_kernel() -> None:
    KERNEL((1,), (1,), (cp.int64(spin_conf.SPIN_NS),))

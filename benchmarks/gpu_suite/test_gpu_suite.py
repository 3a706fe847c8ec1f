"""A small GPU SLO suite for the multi-GPU proof (benchmarks/gpu_xdist.py); not collected by default."""

from __future__ import annotations

import cupy as cp
import pytest

from pytest_gpuslo.testing import spin_kernel

SPIN = spin_kernel()


@pytest.mark.parametrize("kernel_us", [100, 150, 200, 250])
@pytest.mark.slo(p95_ms=5, rate_hz=2000, requests=6000, streams=4, backend="cuda")
def test_kernel_slo(slo_request, kernel_us):
    SPIN((1,), (1,), (cp.int64(kernel_us * 1000),))


@pytest.mark.slo(p95_ms=5, rate_hz=1000, requests=4000, streams=2, backend="cuda", devices=2)
def test_two_gpu_workload(slo_request):
    """A model split over two GPUs: a kernel on each, the second after a peer copy."""
    with cp.cuda.Device(0):
        x = cp.ones(1024, dtype=cp.float32)
        SPIN((1,), (1,), (cp.int64(50_000),))
    with cp.cuda.Device(1):
        y = cp.empty_like(x)
    y.data.copy_from_device_async(x.data, x.nbytes)

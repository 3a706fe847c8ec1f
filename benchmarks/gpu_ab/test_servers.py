"""Four independent servers near saturation on a GPU (``benchmarks/gpu_replay_gate.sh``): a
one-block 400 us spin kernel on 4 streams at utilisation 0.9, Poisson arrivals, so the saved runs'
replay finds the steep scale of a many-server queue and the stored-baseline interval uses it."""

import cupy as cp
import pytest
import spin_conf

from pytest_gpuslo.testing import spin_kernel

KERNEL = spin_kernel()


@pytest.mark.slo(p95_ms=50, rate_hz=9000, requests=20000, streams=4, arrivals="poisson", backend="cuda")
def test_servers() -> None:
    KERNEL((1,), (1,), (cp.int64(spin_conf.SPIN_NS),))

"""A pure-Python CPU body at 300/s on one lane: the run benchmarks/freeze.sh freezes for 2 s."""
import pytest


def work() -> int:
    s = 0
    for i in range(3000):
        s += i * i
    return s


@pytest.mark.slo(p95_ms=20, rate_hz=300, streams=1, requests=3000)
def test_freeze(slo_request):
    work()

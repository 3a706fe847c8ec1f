"""GPU tests: marked ``gpu`` and skipped, with the precise reason, where CUDA cannot run."""

from __future__ import annotations

import pytest

from pytest_gpuslo.backends import probe


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = probe("cuda")
    for item in items:
        if "tests/gpu/" in item.nodeid.replace("\\", "/"):
            item.add_marker(pytest.mark.gpu)
            if reason is not None:
                item.add_marker(pytest.mark.skip(reason=f"no usable GPU: {reason}"))


SPIN = r"""
extern "C" __global__ void spin(long long cycles) {
    long long start = clock64();
    while (clock64() - start < cycles) { }
}
"""


@pytest.fixture(scope="session")
def spin_kernel():  # type: ignore[no-untyped-def]
    """A kernel that busy-waits a given number of SM clock cycles: a service time we choose."""
    import cupy as cp

    k = cp.RawKernel(SPIN, "spin")
    k((1,), (1,), (cp.int64(1000),))
    cp.cuda.Device().synchronize()
    return k

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


@pytest.fixture(scope="session")
def spin_kernel():  # type: ignore[no-untyped-def]
    """A kernel that busy-waits a given number of nanoseconds: a service time we choose."""
    from pytest_gpuslo.testing import spin_kernel as make

    return make()

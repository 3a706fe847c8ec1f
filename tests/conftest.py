"""Shared fixtures for the suite (map of the suite: tests/README.md)."""

from __future__ import annotations

# In-process pytester runs restore sys.modules afterwards; numpy and scipy cannot be imported twice
# in one process, so load them (and the modules that use them) once here, before any inner run.
import numpy  # noqa: F401
import pytest
import scipy.special  # noqa: F401
import scipy.stats  # noqa: F401

import pytest_gpuslo.backends.cpu  # noqa: F401
import pytest_gpuslo.measurement  # noqa: F401
import pytest_gpuslo.report  # noqa: F401


@pytest.fixture
def gputester(pytester: pytest.Pytester) -> pytest.Pytester:
    """A pytester whose ini selects the CPU backend and classic output, so runs are comparable."""
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider\ngpuslo_backend = cpu\n")
    return pytester

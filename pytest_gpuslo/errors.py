"""Exception hierarchy for pytest-gpuslo (layer 0: imports nothing of the project).

Every user-facing error names the value, where it came from and how to fix it.  The warning
class, ``GpuSloWarning``, is a ``pytest.PytestWarning`` and so lives in the pytest layer
(``session.py``; ``pytest_gpuslo.GpuSloWarning``).
"""

from __future__ import annotations


class GpuSloError(Exception):
    """Base class of every error raised by pytest-gpuslo."""


class InvalidArgument(GpuSloError, ValueError):
    """A marker argument, option or library argument is wrong (value, source and fix in the message)."""


class BackendUnavailable(GpuSloError, RuntimeError):
    """The requested backend cannot run here (no CuPy, no driver, no device); the message says which."""


class BaselineError(GpuSloError):
    """A stored baseline cannot be used."""


class BaselineFormatError(BaselineError, ValueError):
    """A baseline file is corrupt, truncated, not JSON, or of a newer schema."""


class WorkloadError(GpuSloError, RuntimeError):
    """The workload under test broke in a way that makes the run unusable (e.g. a lost CUDA context)."""


"""pytest-gpuslo: gate GPU (and CPU) code on tail-latency promises, measured open-loop.

The public API, re-exported lazily so that importing the package stays cheap and never imports a
GPU library.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "GpuSloError",
    "GpuSloSaveWarning",
    "GpuSloWarning",
    "InvalidArgument",
    "SloResult",
    "SloSpec",
    "Verdict",
    "__version__",
    "decide",
]

_LAZY = {
    "GpuSloError": "pytest_gpuslo.errors",
    "GpuSloSaveWarning": "pytest_gpuslo.session",
    "GpuSloWarning": "pytest_gpuslo.session",
    "InvalidArgument": "pytest_gpuslo.errors",
    "SloSpec": "pytest_gpuslo.spec",
    "SloResult": "pytest_gpuslo.result",
    "Verdict": "pytest_gpuslo.gate",
    "decide": "pytest_gpuslo.gate",
}


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("pytest-gpuslo")
        except PackageNotFoundError:  # running from a checkout that is not installed
            return "0+unknown"
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'pytest_gpuslo' has no attribute {name!r}")

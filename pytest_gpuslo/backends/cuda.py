"""CUDA backend (CuPy): lanes are non-blocking CUDA streams; completion is a CUDA event.

The only module besides ``telemetry`` that imports a GPU library, and only when a test runs.
"""

from __future__ import annotations

from typing import Any


def probe() -> str | None:
    """``None`` when CuPy can use a GPU here, else the precise reason (no CuPy, driver or device)."""
    try:
        import cupy
    except ImportError as exc:
        return (f"CuPy is not installed ({exc}); install pytest-gpuslo[cuda13] or [cuda12] on a "
                f"machine with an NVIDIA GPU")
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # noqa: BLE001 - CUDARuntimeError carries the reason we report
        status = getattr(exc, "status", None)
        if status == 35:
            return f"no usable NVIDIA driver (CUDA status 35, cudaErrorInsufficientDriver: {exc})"
        if status == 100:
            return f"the driver sees no CUDA device (status 100; CUDA_VISIBLE_DEVICES?): {exc}"
        return f"CUDA cannot start: {type(exc).__name__}: {exc}"
    if count < 1:
        return "the driver reports no CUDA device"
    return None


class Backend:  # pragma: no cover - replaced by the full implementation
    name = "cuda"
    spin_ns = 200_000

    def __init__(self, **_: Any) -> None:
        raise NotImplementedError

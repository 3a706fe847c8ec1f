"""Which GPUs a process sees, and who holds them: at most one SLO test per GPU at a time.

pytest-xdist workers are pinned to GPUs, but when workers outnumber GPUs two of them share one.
An exclusive ``flock`` on a file named after the GPU's PCI bus id (the same physical card in every
process, whatever CUDA_VISIBLE_DEVICES says) serialises their SLO tests; tests without the marker
never take it.  The lock dies with its process, so a crashed worker cannot leave a GPU locked.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no cross-process GPU lane (documented)
    fcntl = None  # type: ignore[assignment]


def lock_dir() -> Path:
    d = Path(tempfile.gettempdir()) / "gpuslo-gpu-lanes"
    d.mkdir(parents=True, exist_ok=True)
    return d


@contextlib.contextmanager
def hold(keys: list[str]) -> Iterator[None]:
    """Hold the lanes of these GPUs (sorted, so two tests never deadlock on each other)."""
    handles = []
    try:
        for key in sorted(set(keys)):
            name = re.sub(r"[^A-Za-z0-9._-]", "_", key)
            fh = open(lock_dir() / f"{name}.lock", "a+")
            if fcntl is not None:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            handles.append(fh)
        yield
    finally:
        for fh in reversed(handles):
            if fcntl is not None:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
            fh.close()


def rotated(devices: list[int], home_index: int) -> str:
    """CUDA_VISIBLE_DEVICES for a worker: its home GPU first (device 0), the others after it, so a
    test needing two GPUs gets its home and the next one."""
    k = home_index % len(devices)
    return ",".join(str(d) for d in devices[k:] + devices[:k])


def worker_index(worker_id: str) -> int:
    m = re.search(r"(\d+)$", worker_id)
    return int(m.group(1)) if m else 0


def count_gpus() -> int:
    """GPUs on this host, from NVML (no CUDA context in the controller); 0 when none."""
    from pytest_gpuslo.backends.nvml import count_devices

    return count_devices()


def visible_env() -> str | None:
    return os.environ.get("CUDA_VISIBLE_DEVICES")

"""Which GPUs a process sees, and who holds them: at most one SLO test per GPU at a time.

pytest-xdist workers are pinned to GPUs, but when workers outnumber GPUs two of them share one.
An exclusive ``filelock`` lock on a file named after the GPU's PCI bus id (the same physical card in
every process, whatever CUDA_VISIBLE_DEVICES says) serialises their SLO tests; tests without the
marker never take it.  It is an OS lock (``flock``; ``msvcrt`` on Windows), so a crashed worker
cannot leave a GPU locked.  The CPU backend holds one host-wide lane the same way.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import filelock


def lock_dir() -> Path:
    d = Path(tempfile.gettempdir()) / "gpuslo-gpu-lanes"
    d.mkdir(parents=True, exist_ok=True)
    return d


@contextlib.contextmanager
def hold(keys: list[str]) -> Iterator[None]:
    """Hold these lanes (sorted, so two tests never deadlock on each other); waits for a holder."""
    locks: list[filelock.BaseFileLock] = []
    try:
        for key in sorted(set(keys)):
            name = re.sub(r"[^A-Za-z0-9._-]", "_", key)
            lock: filelock.BaseFileLock = filelock.FileLock(lock_dir() / f"{name}.lock")
            lock.acquire()
            locks.append(lock)
        yield
    finally:
        for lock in reversed(locks):
            lock.release()


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

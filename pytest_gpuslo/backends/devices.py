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
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import filelock


def lock_dir() -> Path:
    d = Path(tempfile.gettempdir()) / "gpuslo-gpu-lanes"
    d.mkdir(parents=True, exist_ok=True)
    return d


#: A lane not free after this many seconds is said to be waited for (``set_wait_notice``), with
#: who holds it; the wait then goes on (an independent check sat silent behind another session).
NOTICE_AFTER_S = 5.0
_notice: list[Callable[[str], None]] = []
#: Who this process measures for (the pytest invocation, shared by its xdist workers): a lane
#: held by the same owner is a sibling worker's, waited for by design and not said.
_owner: list[str] = [""]
#: test node id -> seconds it waited for lanes (``hold``), so that a test a timer ends while it
#: waited (pytest-timeout) can say where its time went (review179 F6).
WAITED: dict[str, float] = {}


def set_wait_notice(say: Callable[[str], None] | None, owner: str = "") -> None:
    """Where a long wait for a lane is said (the pytest layer: its terminal); None: nowhere.
    ``owner``: this process's invocation; waits for a holder of the same owner are not said."""
    _notice[:] = [say] if say is not None else []
    _owner[0] = owner


def _holder_path(name: str) -> Path:
    # Not the lock file itself: filelock truncates that on every attempt, a waiter's included.
    return lock_dir() / f"{name}.holder"


def _holder(name: str) -> tuple[str, str] | None:
    """Who holds lane ``name``, as its holder wrote it (pid, test, since when), and its owner;
    None when it is not known or no longer running."""
    try:
        pid, since, test, *owner = _holder_path(name).read_text(encoding="utf-8").split("\t", 3)
        os.kill(int(pid), 0)  # still running (a crashed holder's lock is already free)
    except (OSError, ValueError):
        return None
    who = f"process {pid}" + (f" (running {test.strip()})" if test.strip() else "") + f" since {since}"
    return who, (owner[0].strip() if owner else "")


def _what(key: str) -> str:
    return "the host-wide CPU lane" if key == "cpu-host" else f"GPU {key}"


@contextlib.contextmanager
def hold(keys: list[str]) -> Iterator[None]:
    """Hold these lanes (sorted, so two tests never deadlock on each other); waits for a holder,
    and says so after ``NOTICE_AFTER_S``."""
    locks: list[filelock.BaseFileLock] = []
    began, test = time.monotonic(), os.environ.get("PYTEST_CURRENT_TEST", "").split(" ")[0]
    try:
        for key in sorted(set(keys)):
            name = re.sub(r"[^A-Za-z0-9._-]", "_", key)
            lock: filelock.BaseFileLock = filelock.FileLock(lock_dir() / f"{name}.lock")
            said: set[str] = set()
            while True:
                try:
                    lock.acquire(timeout=NOTICE_AFTER_S if _notice else -1)
                    break
                except filelock.Timeout:
                    # Looked at again every NOTICE_AFTER_S: a sibling xdist worker (waited for by
                    # design, not said) can hand the lane to another pytest's test (review44).
                    who, owner = _holder(name) or ("another process", "")
                    if not (owner and owner == _owner[0]) and who not in said:
                        said.add(who)
                        _notice[0](f"gpuslo: waiting for {_what(key)}, held by {who}: one SLO test measures "
                                   f"on it at a time on this host; this test starts when it is free")
            locks.append(lock)
            WAITED[test] = WAITED.get(test, 0.0) + time.monotonic() - began
            began = time.monotonic()
            with contextlib.suppress(OSError):
                _holder_path(name).write_text(f"{os.getpid()}\t{time.strftime('%H:%M:%S')}\t"
                                              f"{os.environ.get('PYTEST_CURRENT_TEST', '').split(' ')[0]}\t"
                                              f"{_owner[0]}", encoding="utf-8")
        yield
    finally:
        if len(locks) < len(set(keys)):  # ended while it waited (a timer's exception)
            WAITED[test] = WAITED.get(test, 0.0) + time.monotonic() - began
        for lock in reversed(locks):
            with contextlib.suppress(OSError):  # before the release: a waiter reads it once it holds the lane
                _released_path(Path(lock.lock_file).stem).write_text(f"{os.getpid()}\t{time.time():.3f}",
                                                                     encoding="utf-8")
            lock.release()


def _released_path(name: str) -> Path:
    return lock_dir() / f"{name}.released"


def released_by_another(key: str, within_s: float) -> int | None:
    """The process that released lane ``key`` in the last ``within_s`` seconds, where it is another
    one: it may still be ending its own session (``cpu.settle``); else None."""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", key)
    try:
        pid, when = _released_path(name).read_text(encoding="utf-8").split("\t")
        # (-1: the stamp is rounded to the millisecond, so one read at once may be a little ahead)
        recent = int(pid) != os.getpid() and -1.0 <= time.time() - float(when) <= within_s
    except (OSError, ValueError):
        return None
    return int(pid) if recent else None


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

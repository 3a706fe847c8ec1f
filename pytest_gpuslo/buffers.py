"""Host buffers a body may ask for on every request without allocating on every request.

Pinning host memory costs about 0.35 ms per MiB, so ``slo_pinned(...)`` called inside a body
(as the fixture list invites) must not pin afresh each time: at 10,000 requests/s that put schedule
lag p99 at 197 ms on an H200.  Inside a body a buffer is handed out per lane and per
(shape, dtype, kind, n-th call in the request), from a small ring: an entry is reused once the
lane's earlier request that used it has completed (its copies out of and into it are done), and a
new entry is made only while that has not happened yet (usually while priming), up to ``ring``;
past that, the oldest is waited for, which shows as schedule lag.  Outside a body (set-up) every
call gets a buffer of its own, kept until teardown.  Layer 2: no GPU library; ``make`` is the
backend's allocator and completion comes from the request's recorder.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from pytest_gpuslo.recorder import current_request

Key = tuple[Any, ...]


class LaneBuffers:
    """``get(shape, dtype, like)``: a reusable buffer per lane inside a body, a fresh one outside."""

    def __init__(self, make: Callable[[Any, Any, str], Any], ring: int = 8) -> None:
        self.make, self.ring = make, ring
        #: set-up buffers, kept alive until teardown (their DMA may still be in flight).
        self.kept: list[Any] = []
        #: allocations and waits made while a run was measured (should both stay 0).
        self.allocated_in_run = 0
        self.waited_in_run = 0
        self._rings: dict[Key, list[list[Any]]] = {}
        self._calls: dict[int, tuple[int, dict[Key, int]]] = {}
        self._lock = threading.Lock()

    def get(self, shape: Any, dtype: Any = "float32", like: str = "numpy") -> Any:
        req = current_request()
        if req is None:
            buf = self.make(shape, dtype, like)
            self.kept.append(buf)
            return buf
        what = (tuple(shape) if isinstance(shape, (list, tuple)) else (int(shape),), str(dtype), like)
        with self._lock:
            index, counts = self._calls.get(req.lane, (None, {}))
            if index != req.index:
                counts = {}
                self._calls[req.lane] = (req.index, counts)
            nth = counts.get(what, 0)
            counts[what] = nth + 1
            ring = self._rings.setdefault((req.lane, *what, nth), [])
        complete = req._recorder.is_complete
        for entry in ring:
            if entry[1] < 0 or complete(entry[1]):
                entry[1] = req.index
                return entry[0]
        if len(ring) < self.ring:
            entry = [self.make(shape, dtype, like), req.index]
            ring.append(entry)
            if req.index >= 0:
                self.allocated_in_run += 1
            return entry[0]
        oldest = min(ring, key=lambda e: e[1])
        req._recorder.wait_complete(oldest[1])
        if req.index >= 0:
            self.waited_in_run += 1
        oldest[1] = req.index
        return oldest[0]

    def clear(self) -> None:
        self.kept.clear()
        self._rings.clear()
        self._calls.clear()

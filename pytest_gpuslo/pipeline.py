"""An H2D -> compute -> D2H pipeline over the backend's lanes, with per-stage timing.

Each lane (CUDA stream) owns a small ring of slots: a host input and output buffer (pinned by
default) and device buffers.  All of a slot's work runs in order on its lane's stream, so device
buffers are reused safely; before the host overwrites a slot's input, the previous copy out of it
must have run (a ``mark`` after the H2D is waited for, which is usually already done and otherwise
shows as schedule lag).  Stages are named ``h2d``, ``compute`` and ``d2h``, which is what the
overlap report looks for.  Layer 3: GPU work only through a backend's ``DeviceOps``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pytest_gpuslo.measurement import Request


@dataclass
class _Slot:
    h_in: Any
    h_out: Any
    d_in: Any
    d_out: Any
    h2d_done: Any = None


@dataclass
class Pipeline:
    """``pipe(req, host_input)`` enqueues one request's copies and compute on its lane."""

    ops: Any
    compute: Callable[[Any, Any], Any]
    in_shape: Any
    out_shape: Any
    dtype: Any
    lanes: int
    pinned: bool = True
    depth: int = 2
    _slots: dict[int, list[_Slot]] = field(default_factory=dict)
    _uses: dict[int, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Allocate every buffer now, outside the measured window (pinning costs ~0.35 ms/MiB).
        for lane in range(self.lanes):
            self._slots[lane] = [
                _Slot(self.ops.host(self.in_shape, self.dtype, pinned=self.pinned),
                      self.ops.host(self.out_shape, self.dtype, pinned=self.pinned),
                      self.ops.device(self.in_shape, self.dtype),
                      self.ops.device(self.out_shape, self.dtype))
                for _ in range(self.depth)]
            self._uses[lane] = 0

    def __call__(self, req: "Request", host_input: Any = None) -> Any:
        lane = max(req.lane, 0) % self.lanes
        k = self._uses[lane]
        self._uses[lane] = k + 1
        slot = self._slots[lane][k % self.depth]
        self.ops.wait(slot.h2d_done)
        if host_input is not None:
            slot.h_in[...] = host_input
        with req.stage("h2d"):
            self.ops.h2d(slot.h_in, slot.d_in)
        slot.h2d_done = self.ops.mark()
        with req.stage("compute"):
            self.compute(slot.d_in, slot.d_out)
        with req.stage("d2h"):
            self.ops.d2h(slot.d_out, slot.h_out)
        return slot.h_out

    @property
    def host_buffers_pinned(self) -> bool:
        return all(self.ops.is_pinned(s.h_in) for slots in self._slots.values() for s in slots)

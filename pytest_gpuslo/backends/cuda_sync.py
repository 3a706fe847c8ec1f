"""The CUDA "sync" completion mode: correct whatever the body does, at the cost of a sync.

For frameworks whose stream cannot be set from outside (JAX, ONNX Runtime, TensorRT, a C++
extension with its own streams).  Lanes are host threads (as on the CPU backend), each with its
own non-blocking stream made current for CuPy and PyTorch; after the body, the lane waits for the
framework's own "block until ready" on the body's return value (JAX) and then for the whole device
(``cudaDeviceSynchronize``), and stamps completion on the host clock.  A request therefore never
completes before any GPU work it started, wherever that work ran.  With several lanes, the device
sync also waits for other lanes' work in flight, so latencies can only be overstated, never
understated (use ``streams=1`` for an exact figure).  Its overhead is in docs/validation.md.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import AbstractContextManager as ContextManager
from typing import TYPE_CHECKING, Any

from pytest_gpuslo.backends import cpu, cuda

if TYPE_CHECKING:
    from pytest_gpuslo.recorder import Recorder, Request

probe = cuda.probe
DeviceOps = cuda.DeviceOps
graph_replay = cuda.graph_replay


def hold(count: int) -> ContextManager[None]:
    return cuda.hold(count)


def wait_for(result: Any) -> None:
    """The framework's own wait on a body's result: ``jax.block_until_ready`` on any pytree, else
    a ``block_until_ready`` or ``synchronize`` method of the value."""
    jax = sys.modules.get("jax")
    if jax is not None and result is not None:
        jax.block_until_ready(result)
    elif hasattr(result, "block_until_ready"):
        result.block_until_ready()


class Backend(cpu.Backend):
    """Host-thread lanes with a stream each; a request completes when the device is idle."""

    name = "cuda-sync"
    #: The lanes are Python threads: the dispatcher must not spin (cpu.Backend's reasoning).
    spin_ns = 0

    def __init__(self, device: int = 0, nvtx: bool = False) -> None:
        import cupy as cp

        super().__init__()
        self.cp = cp
        self.device = cp.cuda.Device(device)
        self.nvtx = nvtx

    def open(self, lanes: int, body: Callable[["Request"], Any], recorder: "Recorder") -> None:
        self.device.use()
        self.lane_streams = cuda.LaneStreams(cuda.streams(lanes), self.device.id)
        super().open(lanes, body, recorder)

    def _lane_setup(self, lane: int) -> None:
        self.device.use()
        self.lane_streams.refresh(self.device.id)
        self.lane_streams.use(lane)

    def _run(self, req: "Request") -> None:
        nvtx = self.cp.cuda.nvtx if self.nvtx else None
        if nvtx is not None:
            nvtx.RangePush(f"gpuslo request {req.index} lane {req.lane}")
        try:
            wait_for(self._body(req))
            self.cp.cuda.runtime.deviceSynchronize()
        finally:
            if nvtx is not None:
                nvtx.RangePop()

    def describe(self) -> dict[str, Any]:
        return cuda.fingerprint(self.device.id, self.name)

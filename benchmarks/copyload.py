"""The capacity workload shared by the GPU benchmarks: 64 KB H2D, a short kernel, D2H per request.

One pinned input and output buffer pair and one device pair per lane (request i uses lane
i mod lanes), so no request allocates.  ``closed_loop`` is the bare CuPy loop issuing as fast as it
can; ``paced`` is the same bare loop spinning to each deadline of an open-loop schedule.
"""

from __future__ import annotations

import time

import cupy as cp
import numpy as np

from pytest_gpuslo.backends import cuda
from pytest_gpuslo.capacity import paced_loop

SCALE = cp.RawKernel(r"""
extern "C" __global__ void scale(const float* x, float* y, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = 2.0f * x[i] + 1.0f;
}""", "scale")


class CopyWork:
    def __init__(self, lanes: int = 64, n_floats: int = 16384) -> None:
        self.lanes, self.n = lanes, n_floats
        self.streams = cuda.streams(lanes)
        self._pinned = [(cp.cuda.alloc_pinned_memory(n_floats * 4), cp.cuda.alloc_pinned_memory(n_floats * 4))
                        for _ in range(lanes)]  # kept alive as long as the views below
        self.slots = [(cp.zeros(n_floats, cp.float32), cp.zeros(n_floats, cp.float32),
                       np.frombuffer(hi, np.float32, n_floats), np.frombuffer(ho, np.float32, n_floats))
                      for hi, ho in self._pinned]
        self.grid, self.block = ((n_floats + 255) // 256,), (256,)

    def __call__(self, i: int, stream: object = None, copies: bool = True) -> None:
        """Request i's work on ``stream`` (None: the current stream, as inside a harness body)."""
        d_in, d_out, h_in, h_out = self.slots[i % self.lanes]
        if copies:
            d_in.set(h_in, stream=stream)
        SCALE(self.grid, self.block, (d_in, d_out, np.int32(self.n)), stream=stream)
        if copies:
            d_out.get(out=h_out, stream=stream, blocking=False)

    def closed_loop(self, m: int, warm: int = 300) -> tuple[float, float]:
        """(sustained, issue-only) requests/s of the bare loop: as fast as one thread can issue."""
        for i in range(warm):
            self(i, self.streams[i % self.lanes])
        cp.cuda.Device().synchronize()
        t0 = time.perf_counter()
        for i in range(m):
            self(i, self.streams[i % self.lanes])
        t1 = time.perf_counter()
        cp.cuda.Device().synchronize()
        return m / (time.perf_counter() - t0), m / (t1 - t0)

    def paced(self, schedule_ns: np.ndarray, before: object = None, after: object = None) -> np.ndarray:
        """Lag in us of the bare loop spinning to each deadline; ``before(i, stream)`` and
        ``after(i, stream)`` add per-request steps (events, say) around the work."""
        def issue(i: int) -> None:
            s = self.streams[i % self.lanes]
            if before is not None:
                before(i, s)  # type: ignore[operator]
            self(i, s)
            if after is not None:
                after(i, s)  # type: ignore[operator]

        return paced_loop(issue, cp.cuda.Device().synchronize)(schedule_ns)

"""Helpers for testing GPU harnesses (imports CuPy on call, never at import).

``spin_kernel()`` returns a kernel that busy-waits on the GPU's global nanosecond timer: a
service time you choose, independent of the SM clock (a ``clock64()`` spin runs longer when the
GPU idles at a lower clock between sparse requests, which skews timing comparisons).
"""

from __future__ import annotations

from typing import Any

SPIN_SOURCE = r"""
extern "C" __global__ void spin(long long ns) {
    unsigned long long start, now;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(start));
    do { asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(now)); } while (now - start < (unsigned long long)ns);
}
"""


def spin_kernel() -> Any:
    """A compiled ``cupy.RawKernel``: launch as ``k((1,), (1,), (cupy.int64(ns),))``."""
    import cupy as cp

    k = cp.RawKernel(SPIN_SOURCE, "spin")
    k((1,), (1,), (cp.int64(1000),))  # compile and load now, outside any measured window
    cp.cuda.Device().synchronize()
    return k

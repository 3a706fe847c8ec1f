"""Per-request overhead of the batchers (docs/validation.md): submit -> result with a no-op step.

Usage: python benchmarks/batcher_overhead.py
"""

from __future__ import annotations

import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from pytest_gpuslo.batching import AdaptiveBatcher, FixedBatcher  # noqa: E402


def noop(batch):  # type: ignore[no-untyped-def]
    return batch


def one_by_one(b, n: int) -> float:  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    for i in range(n):
        b.submit(i).result()
    return (time.perf_counter() - t) / n * 1e6


def concurrent(b, n: int, threads: int) -> float:  # type: ignore[no-untyped-def]
    def worker() -> None:
        for i in range(n // threads):
            b.submit(i).result()

    ts = [threading.Thread(target=worker) for _ in range(threads)]
    t = time.perf_counter()
    for th in ts:
        th.start()
    for th in ts:
        th.join()
    return (time.perf_counter() - t) / n * 1e6


def main() -> None:
    n = 20000
    print(f"{'batcher':<36}{'sequential us/req':>18}{'8 threads us/req':>18}{'mean batch (8 thr)':>20}")
    for label, make in (
        ("AdaptiveBatcher(max_wait_ms=0)", lambda: AdaptiveBatcher(noop, max_size=32, max_wait_ms=0.0, target_size=1)),
        ("AdaptiveBatcher(max_wait_ms=1)", lambda: AdaptiveBatcher(noop, max_size=32, max_wait_ms=1.0, target_size=4)),
        ("FixedBatcher(size=8, timeout=1ms)", lambda: FixedBatcher(noop, max_size=8, max_wait_ms=1.0)),
    ):
        b = make()
        seq = one_by_one(b, n // 4)
        b.close()
        b = make()
        conc = concurrent(b, n, 8)
        sizes = [r.size for r in b.records]
        b.close()
        print(f"{label:<36}{seq:>18.1f}{conc:>18.1f}{sum(sizes) / len(sizes):>20.2f}")


if __name__ == "__main__":
    main()

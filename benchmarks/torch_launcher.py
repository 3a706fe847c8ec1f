"""Eager PyTorch bodies that the launching thread cannot keep up with: FAIL, and the fix the reason names.

The CUDA backend runs each body on the launching thread; an eager forward pass of the example
project's encoder (``example_project/torchpipe``) keeps that thread for its launches (about 2.5 ms
for 8 layers on an H200 host).  Offered faster than that, requests queue on the thread itself:
the code's cost, which a server's launching thread pays too.  Until session 11 the gate held such
a FAIL back as "the load generator fell behind" (INCONCLUSIVE; the test passed).

Three runs of one generated SLO test file (4 streams, Poisson arrivals, 4,000 requests, p95 budget
``--budget``), the rate set from the measured host time h of one forward pass:

1. eager at 1.3 / h (130% of the thread): expected FAIL, naming the bodies' host time;
2. eager at 0.5 / h: the queue on the thread is short;
3. the same forward captured in a CUDA graph per lane (``slo_graph``) at 1.3 / h: a few
   microseconds of host time a request.

    python3 benchmarks/torch_launcher.py [--layers 8] [--batch 16] [--budget 20]

Needs torch with CUDA and CuPy; prints one table.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

TEST = '''"""Written by benchmarks/torch_launcher.py."""
import sys

import pytest
import torch

sys.path.insert(0, {bench!r})
from torch_ab import model_and_batch  # noqa: E402

LANES = 4


@pytest.fixture(scope="module")
def model():
    enc, x = model_and_batch({layers}, {batch})
    return enc, [tuple(t.clone() for t in x) for _ in range(LANES)]


@pytest.mark.slo(p95_ms={budget}, rate_hz={fast}, streams=LANES, backend="cuda", requests=4000)
def test_eager_fast(model):
    enc, xs = model
    with torch.inference_mode():
        enc(*xs[0])


@pytest.mark.slo(p95_ms={budget}, rate_hz={slow}, streams=LANES, backend="cuda", requests=4000)
def test_eager_slow(model):
    enc, xs = model
    with torch.inference_mode():
        enc(*xs[0])


@pytest.fixture
def replay(model, slo_graph):
    enc, xs = model

    def fn(lane):
        with torch.inference_mode():
            enc(*xs[lane])

    return slo_graph(fn, lanes=LANES)


@pytest.mark.slo(p95_ms={budget}, rate_hz={fast}, streams=LANES, backend="cuda", requests=4000)
def test_graph_fast(slo_request, replay):
    replay(slo_request)
'''


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--layers", type=int, default=8)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--budget", type=float, default=20.0)
    a = ap.parse_args()

    import torch
    from torch_ab import model_and_batch

    enc, x = model_and_batch(a.layers, a.batch)
    host = []
    with torch.inference_mode():
        for _ in range(10):
            enc(*x)
        torch.cuda.synchronize()
        for _ in range(50):
            t = time.perf_counter()
            enc(*x)
            host.append((time.perf_counter() - t) * 1e3)
            torch.cuda.synchronize()
    h = sorted(host)[len(host) // 2]
    fast, slow = round(1.3 / h * 1e3), round(0.5 / h * 1e3)
    print(f"{a.layers} layers, batch {a.batch}: eager host time per forward {h:.3f} ms (median of 50); "
          f"rates {fast}/s (1.3/h) and {slow}/s (0.5/h); p95 budget {a.budget:g} ms\n")
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "test_launcher.py").write_text(TEST.format(bench=str(ROOT / "benchmarks"), layers=a.layers,
                                                             batch=a.batch, budget=a.budget, fast=fast, slow=slow))
        out = Path(tmp, "r.json")
        t = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_launcher.py",
                               f"--gpuslo-json={out}"], cwd=tmp, capture_output=True, text=True)
        wall = time.perf_counter() - t
        if not out.exists():
            print(proc.stdout[-3000:], proc.stderr[-3000:])
            return 1
        results = json.loads(out.read_text())["results"]
    print("| test | rate/s | p95 ms | lag p99 ms | launcher waited for a CPU | verdict | reason (first 700 characters) |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        name = r["nodeid"].split("::")[-1]
        reasons = " ".join(r["verdict"]["reasons"]).replace("|", "/")
        p95 = r.get("latency_ms", {}).get("p95")
        wait = (r.get("telemetry") or {}).get("launcher_wait_share")
        print(f"| {name} | {r['spec']['rate_hz']:g} | {p95 if p95 is None else f'{p95:.4g}'} | "
              f"{r['lag_ms']['p99']:.3g} | {'-' if wait is None else f'{wait:.2%}'} | {r['verdict']['outcome']} | "
              f"{reasons[:700]} |")
    print(f"\npytest exit {proc.returncode}, {wall:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

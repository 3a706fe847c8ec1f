"""`gpuslo ab` on a real PyTorch workload on the GPU: the base against itself, then one more layer.

The gate's grid is simulated; this is the same gate on real streams with a real model: the example
project's transformer encoder (``example_project/torchpipe``), bf16, one forward pass per request
enqueued on the lane's CUDA stream (the CUDA backend times it with its own events), one stream,
gamma (cv = 2) arrivals at 60% of the measured service rate, 4,000 requests a run.  A throwaway
git repository holds the SLO test; ``gpuslo ab HEAD`` runs base and candidate interleaved:

1. A/A: the working tree is the base (nothing changed): the verdict must not be REGRESSED.
2. A/B: the candidate's encoder has one layer more (``--layers`` + 1, about 1/layers more GPU
   work): the verdict should be REGRESSED.

    python3 benchmarks/torch_ab.py [--layers 8] [--batch 1024] [--runs 3] [--requests 2500]

The batch is large so that the GPU, not eager PyTorch's host-side launch (2.2-2.7 ms a forward
pass of 8 layers on an H200 host, ``--probe``), sets the service time: with a small batch the
two are alike and the A/B intervals are wide.

Needs torch with CUDA and CuPy (the CUDA backend); prints one table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "example_project"

TEST = '''"""One encoder forward per request on the lane's stream (written by benchmarks/torch_ab.py)."""
import sys

import pytest
import torch

sys.path.insert(0, {bench!r})
from torch_ab import model_and_batch  # noqa: E402

LAYERS = {layers}
BATCH = {batch}


@pytest.fixture(scope="module")
def model_and_inputs():
    return model_and_batch(LAYERS, BATCH)


@pytest.mark.slo(p95_ms={budget}, rate_hz={rate}, streams=1, backend="cuda", arrivals="gamma(cv=2)",
                 requests={requests})
def test_encoder_forward(model_and_inputs):
    enc, batch = model_and_inputs
    with torch.inference_mode():
        enc(*batch)
'''


def model_and_batch(layers: int, batch: int) -> tuple[Any, tuple[Any, Any]]:
    """The example project's encoder (bf16, on the GPU) and a fixed batch of 16-64-token texts on
    the device: the same for every measurement here and for the generated SLO test."""
    import torch

    sys.path.insert(0, str(EXAMPLE))
    from torchpipe.encoder import make_encoder, pad

    enc = make_encoder(1000, device="cuda", layers=layers)
    g = torch.Generator().manual_seed(0)
    rows = [torch.randint(1, 1000, (int(n),), generator=g).tolist()
            for n in torch.randint(16, 64, (batch,), generator=g)]
    ids, padding = pad(rows)
    x = torch.from_numpy(ids).cuda(), torch.from_numpy(padding).cuda()
    torch.cuda.synchronize()
    return enc, x


def service_ms(layers: int, batch: int) -> float:
    """The median GPU time of one forward pass, back to back on one stream (torch's own events)."""
    import torch

    enc, x = model_and_batch(layers, batch)
    times = []
    with torch.inference_mode():
        for _ in range(20):
            enc(*x)
        for _ in range(100):
            e0, e1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            e0.record()
            enc(*x)
            e1.record()
            e1.synchronize()
            times.append(e0.elapsed_time(e1))
    times.sort()
    return times[len(times) // 2]


def host_probe(layers: int, batch: int) -> None:
    """What one forward pass costs the launching thread: host time without a sync, and whether
    torch reports a synchronising call inside it (``set_sync_debug_mode``)."""
    import warnings

    import torch

    enc, x = model_and_batch(layers, batch)
    host = []
    with torch.inference_mode():
        for _ in range(10):
            enc(*x)
        torch.cuda.synchronize()
        for _ in range(30):
            t = time.perf_counter()
            enc(*x)
            host.append((time.perf_counter() - t) * 1e3)
            torch.cuda.synchronize()
        torch.cuda.set_sync_debug_mode("warn")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            enc(*x)
        torch.cuda.set_sync_debug_mode(0)
    host.sort()
    syncs = sorted({str(w.message).split("\n")[0][:120] for w in caught})
    print(f"probe: {layers} layers, batch {batch}: host time per forward, idle GPU: median {host[15]:.3f} ms "
          f"(min {host[0]:.3f}, max {host[-1]:.3f}); synchronising calls inside: {syncs or 'none'}")


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=bench", "-c", "user.email=bench@localhost", *args],
                   cwd=repo, check=True, capture_output=True)


def ab(repo: Path, name: str, runs: int) -> dict:
    out = repo / f"{name}.json"
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pytest_gpuslo", "ab", "HEAD", "--runs", str(runs),
                           "--json", str(out), "--", "-q", "-p", "no:cacheprovider", "test_enc.py"],
                          cwd=repo, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if not out.exists():
        print(proc.stdout[-3000:], proc.stderr[-3000:])
        raise SystemExit(f"{name}: gpuslo ab wrote no JSON (exit {proc.returncode})")
    print(proc.stdout[-2500:])
    return {"name": name, "exit": proc.returncode, "wall_s": wall, "doc": json.loads(out.read_text())}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--layers", type=int, default=8)
    p.add_argument("--batch", type=int, default=1024)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--requests", type=int, default=4000)
    p.add_argument("--measure", action="store_true", help="print one forward pass's GPU ms and exit")
    p.add_argument("--once", action="store_true", help="one plugin run of the base test, no A/B")
    p.add_argument("--probe", action="store_true", help="print one forward pass's host time and syncs, and exit")
    a = p.parse_args()

    if a.measure:
        print(service_ms(a.layers, a.batch))
        return
    if a.probe:
        host_probe(a.layers, a.batch)
        return
    # In a child process: a CUDA context left open here would be a foreign process on the GPU for
    # every run below (the plugin reports it, rightly, as a disturbance).
    base_ms, more_ms = (float(subprocess.run(
        [sys.executable, __file__, "--measure", "--layers", str(n), "--batch", str(a.batch)],
        capture_output=True, text=True, check=True).stdout.split()[-1]) for n in (a.layers, a.layers + 1))
    rate = int(0.6 * 1000 / base_ms)
    budget = round(20 * base_ms, 1)  # far above: this is about the regression claim
    print(f"service (torch events, back to back): {a.layers} layers {base_ms:.3f} ms, {a.layers + 1} layers "
          f"{more_ms:.3f} ms (+{(more_ms / base_ms - 1) * 100:.1f}%); rate {rate}/s, budget p95 {budget} ms")

    repo = Path(tempfile.mkdtemp(prefix="gpuslo-torch-ab-"))
    test = repo / "test_enc.py"

    def write(layers: int) -> None:
        test.write_text(TEST.format(bench=str(Path(__file__).resolve().parent), layers=layers, batch=a.batch, budget=budget,
                                    rate=rate, requests=a.requests))

    write(a.layers)
    if a.once:  # one plain plugin run of the base, verbose: the verdict and its reasons
        proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rA",
                               "test_enc.py"], cwd=repo, capture_output=True, text=True)
        print(proc.stdout[-4000:])
        return
    git(repo, "init", "-q")
    git(repo, "add", "test_enc.py")
    git(repo, "commit", "-q", "-m", "base")
    results = [ab(repo, "A/A (unchanged)", a.runs)]
    write(a.layers + 1)
    results.append(ab(repo, f"A/B ({a.layers + 1} layers)", a.runs))

    print("\n| comparison | exit | outcome | baseline claims (ratio [CI]) | p95 ms | lag p99 ms | wall |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        for res in r["doc"].get("results", []):
            v = res.get("verdict", {})
            claims = "; ".join(f"{b['name']} {b['outcome']} {b.get('ratio', float('nan')):.3f} "
                               f"[{(b.get('ci') or [None, None])[0]}, {(b.get('ci') or [None, None])[1]}]"
                               for b in v.get("baseline", []))
            print(f"| {r['name']} | {r['exit']} | {v.get('outcome')} | {claims} | "
                  f"{res.get('latency_ms', {}).get('p95')} | {res.get('lag_ms', {}).get('p99')} | "
                  f"{r['wall_s']:.0f} s |")
            for reason in v.get("reasons", []):
                print(f"  reason: {reason}")
    print(f"\n(GPU service +{(more_ms / base_ms - 1) * 100:.1f}% with one more layer; {os.cpu_count()} CPUs)")


if __name__ == "__main__":
    main()

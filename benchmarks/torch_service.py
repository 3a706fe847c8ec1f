"""The PyTorch example's budgets, checked on the card: the model step by batch size, then each SLO test.

Part 1 times the encoder of ``example_project/torchpipe`` (bf16, 64 tokens a row) for batch sizes
1 to 64: the GPU time of one forward pass (CUDA events, with the passes queued behind a sleep
kernel so that gaps between launches do not count), the host time to launch it, and the whole
model step as the batcher runs it (pad, copy in, forward, copy out and wait) on the host clock.
Part 2 runs ``example_project/tests/test_torch_service.py`` through pytest and prints each SLO
test's p50 and p95 against its budget (the service at two rates, the model step, one forward pass
on the CUDA backend).  About a minute on an H200.

Usage, on a GPU machine with torch (and CuPy for the CUDA-backend test):
    python benchmarks/torch_service.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
EXAMPLE = os.path.join(ROOT, "example_project")


def percentiles(ms: list[float]) -> str:
    return f"{np.percentile(ms, 50):.3f} | {np.percentile(ms, 95):.3f}"


def model_step_table(reps: int = 100) -> None:
    import torch

    sys.path.insert(0, EXAMPLE)
    from conftest import sentences
    from textpipe import Tokenizer
    from torchpipe import EmbedStep, encode, make_encoder, pad

    tokenizer = Tokenizer(sentences(300, seed=1))
    encoder = make_encoder(tokenizer.size, device="cuda")
    step = EmbedStep(encoder)
    texts = [encode(tokenizer, text) for text in sentences(64, seed=2)]
    print(f"{torch.cuda.get_device_name()}, torch {torch.__version__}; encoder d_model 256, 4 layers, bf16")
    print()
    print("| batch | tokens | forward GPU p50 ms | p95 | launch host p50 ms | p95 | model step p50 ms | p95 |")
    print("|---|---|---|---|---|---|---|---|")
    for size in (1, 4, 8, 16, 32, 64):
        batch = texts[:size]
        ids, padding = (torch.from_numpy(a).cuda() for a in pad(batch))
        gpu, launch, whole = [], [], []
        with torch.inference_mode():
            for _ in range(10):
                encoder(ids, padding)
            for _ in range(reps // 10):
                torch.cuda.synchronize()
                # About 50 ms of GPU sleep: the 10 passes below (1-2 ms each to launch) queue behind it.
                torch.cuda._sleep(100_000_000)
                for _ in range(10):
                    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                    t0 = time.perf_counter()
                    start.record()
                    encoder(ids, padding)
                    end.record()
                    launch.append((time.perf_counter() - t0) * 1e3)
                    gpu.append((start, end))
                torch.cuda.synchronize()
        for _ in range(reps):
            t0 = time.perf_counter()
            step(batch)
            whole.append((time.perf_counter() - t0) * 1e3)
        gpu_ms = [s.elapsed_time(e) for s, e in gpu]
        print(f"| {size} | {ids.numel()} | {percentiles(gpu_ms)} | {percentiles(launch)} | {percentiles(whole)} |")


def slo_table() -> int:
    from pytest_gpuslo.reports.terminal import tail_stage

    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "torch.json")
        proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                               "tests/test_torch_service.py", f"--gpuslo-json={out}"],
                              cwd=EXAMPLE, capture_output=True, text=True)
        print()
        print(proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr[-2000:])
        if not os.path.exists(out):
            print(proc.stdout[-3000:], proc.stderr[-3000:])
            return 1
        results = json.load(open(out))["results"]
    print()
    print("| test | backend | offered | p50 ms | p95 ms | budget | verdict | lag p99 ms | stage holding the tail (p95 ms) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in sorted(results, key=lambda r: r["nodeid"]):
        stages = r.get("stages", {})
        worst = f"{tail_stage(stages)} ({stages[tail_stage(stages)]['p95_ms']:.2f})" if stages else "-"
        budget = ", ".join(f"{k}<={v:g}ms" for k, v in r["spec"]["budgets_ms"].items())
        print(f"| {r['nodeid'].split('::', 1)[1]} | {r['backend']} | {r['offered_hz']:.0f}/s | "
              f"{r['latency_ms']['p50']:.2f} | {r['latency_ms']['p95']:.2f} | {budget} | "
              f"{r['verdict']['outcome']} | {r['lag_ms']['p99']:.2f} | {worst} |")
    return proc.returncode


def main() -> int:
    sys.path.insert(0, ROOT)
    try:
        import torch
    except ImportError:
        print("needs torch: pip install -e '.[torch]'")
        return 1
    if not torch.cuda.is_available():
        print(f"torch {torch.__version__} sees no CUDA GPU: run this on a GPU machine")
        return 1
    model_step_table()
    return slo_table()


if __name__ == "__main__":
    raise SystemExit(main())

"""Multi-GPU proof: the same GPU SLO suite serially and with one pytest-xdist worker per GPU.

Prints wall times, the speed-up and whether every test got the same verdict.
Usage: python benchmarks/gpu_xdist.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def run(extra: list[str], out: str) -> tuple[float, dict[str, str], str]:
    cmd = [sys.executable, "-m", "pytest", os.path.join(HERE, "gpu_suite"), "-p", "no:cacheprovider",
           "-q", f"--gpuslo-json={out}", "--gpuslo-no-baseline", *extra]
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t
    with open(out) as fh:
        doc = json.load(fh)
    verdicts = {r["nodeid"]: r["verdict"]["outcome"] for r in doc["results"]}
    return wall, verdicts, proc.stdout[-3000:]


def main() -> int:
    import pynvml

    pynvml.nvmlInit()
    n = pynvml.nvmlDeviceGetCount()
    name = pynvml.nvmlDeviceGetName(pynvml.nvmlDeviceGetHandleByIndex(0))
    tmp = tempfile.mkdtemp()
    serial_t, serial_v, serial_out = run([], os.path.join(tmp, "serial.json"))
    par_t, par_v, par_out = run(["-n", str(n), "--gpuslo-devices=all"], os.path.join(tmp, "par.json"))
    print(serial_out)
    print(par_out)
    print("| run | GPUs | wall s | verdicts |")
    print("|---|---|---|---|")
    print(f"| serial | {n} x {name} | {serial_t:.1f} | {dict(sorted(__import__('collections').Counter(serial_v.values()).items()))} |")
    print(f"| -n {n} --gpuslo-devices=all | {n} x {name} | {par_t:.1f} | {dict(sorted(__import__('collections').Counter(par_v.values()).items()))} |")
    same = serial_v == par_v
    print(f"speed-up {serial_t / par_t:.2f}x with {n} GPUs; verdicts identical: {same}")
    for k in sorted(serial_v):
        print(f"  {k.split('::')[-1]:<40} serial {serial_v[k]:<13} parallel {par_v.get(k)}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())

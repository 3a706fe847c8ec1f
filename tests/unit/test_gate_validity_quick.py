"""The quick cells of the published validity grid run in CI (benchmarks/gate_validity.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quick_grid_keeps_false_alarms_under_one_and_a_half_alpha() -> None:
    """500 A/A pairs per scenario: our gate's 95% upper false-alarm bound stays <= 1.5 alpha,
    paired power at +10% service time stays >= 90% on the bursty queue, and a decision at 100k
    samples takes < 50 ms (the script exits 1 otherwise)."""
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gate_validity.py"), "--quick"],
                         capture_output=True, text=True, timeout=300)

    assert out.returncode == 0, out.stdout + out.stderr
    bursty = [line for line in out.stdout.splitlines() if "mmpp-bursty" in line and "effect=0.1" in line]
    paired = int(bursty[0].split("ours-paired=")[1].split("/")[0])
    assert paired >= 54  # 90% of 60

"""What the plugin costs every pytest start: ``pytest --help`` and a suite without SLO tests,
with the plugin loaded and with ``-p no:gpuslo``, and which heavy modules each imports.

A plugin installed in a CPU team's environment runs at every pytest start, SLO tests or not: it
must not import numpy, scipy or a GPU library there (review119 F6: the store's module, imported
for an environment check, cost every start over a second). Each row is the median wall time of
``--repeats`` fresh processes, run in a scratch folder holding one plain test.

Usage: python benchmarks/startup.py [--repeats 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEAVY = ("numpy", "scipy", "cupy", "torch", "jax", "pytest_gpuslo.gate", "pytest_gpuslo.baseline")
CASES = {
    "pytest --help": ["--help"],
    # the environment check still imports the store where a variable is set (the old cost, always)
    "pytest --help, GPUSLO_SESSION": ["--help"],
    "pytest --help -p no:gpuslo": ["--help", "-p", "no:gpuslo"],
    "one plain test": ["-q"],
    "one plain test -p no:gpuslo": ["-q", "-p", "no:gpuslo"],
}


def _env(name: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GPUSLO_SESSION", "GPUSLO_NOW")}
    return {**env, "GPUSLO_SESSION": "bench"} if "GPUSLO_SESSION" in name else env


def timed(name: str, args: list[str], cwd: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args], cwd=cwd,
                   capture_output=True, check=False, env=_env(name))
    return time.perf_counter() - t0


def imported(name: str, args: list[str], cwd: Path) -> list[str]:
    """The heavy modules a run imports (``-X importtime``'s list)."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "pytest", "-p", "no:cacheprovider", *args],
                          cwd=cwd, capture_output=True, text=True, check=False, env=_env(name))
    names = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    return [m for m in HEAVY if m in names]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    repeats = parser.parse_args().repeats
    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        (cwd / "test_plain.py").write_text("def test_plain():\n    pass\n")
        print(f"{'case':<30} {'median s':>9} {'min s':>7}  heavy modules imported")
        for name, args in CASES.items():
            times = [timed(name, args, cwd) for _ in range(repeats)]
            print(f"{name:<30} {statistics.median(times):>9.2f} {min(times):>7.2f}  "
                  f"{', '.join(imported(name, args, cwd)) or '-'}")


if __name__ == "__main__":
    main()

"""The option vocabulary as data (layer 2, pure stdlib): names, ini keys, parsers and help.

Each option is declared once here; the pytest plugin registers it as ``--gpuslo-<name>`` with an
ini key ``gpuslo_<name>``, and parsers raise ``argparse.ArgumentTypeError`` so pytest prints
"error: argument --gpuslo-...: ..." with the value and the fix.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from pytest_gpuslo.limits import MAX_HORIZON_S
from pytest_gpuslo.reports import FORMATS
from pytest_gpuslo.spec import backend_choices


def parse_backend(text: str) -> str:
    """A name's shape only: pytest parses the command line before it loads conftest.py files, so a
    backend a conftest registers is checked against the registry at configure time
    (``unknown_backend``), when every registration has run (review34)."""
    if not text or not text.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise argparse.ArgumentTypeError(f"{text!r} is not a backend name; choose one of "
                                         f"{', '.join(backend_choices())}")
    return text


def unknown_backend(text: str) -> str | None:
    """Why ``text`` names no registered backend (None when it does)."""
    choices = backend_choices()
    if text in choices:
        return None
    return (f"{text!r} is not a backend; choose one of {', '.join(choices)} (a plugin's backend counts once "
            f"registered in backends.REGISTRY from a conftest.py or a module loaded with -p)")


def parse_seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number; give e.g. 1234") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is negative; give a seed >= 0")
    return value


def parse_inconclusive(text: str) -> str:
    if text.strip().lower() not in ("warn", "fail"):  # review89 #8: "FAIL" was refused
        raise argparse.ArgumentTypeError(f"{text!r} is not 'warn' or 'fail'")
    return text.strip().lower()


def parse_alpha(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number; give e.g. 0.01") from None
    if not (0.0 < value < 0.5):
        raise argparse.ArgumentTypeError(f"{text!r} must lie strictly between 0 and 0.5 (e.g. 0.01)")
    if value < MIN_ALPHA:
        # review95 #10: 1e-300 was taken, and then no run could decide anything
        raise argparse.ArgumentTypeError(f"{text!r} is under {MIN_ALPHA:g}, where no run of practical length "
                                         f"decides a claim; give e.g. 0.01 or 0.001")
    return value


#: The smallest alpha taken: each claim's rules split it further (a lanes-full part decides at
#: alpha / 150), and a run must hold about 1/alpha's worth of evidence.
MIN_ALPHA: Final = 1e-6


def parse_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds; give e.g. 5") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive number of seconds")
    if value > MAX_HORIZON_S:
        # review95 #10: 1e300 errored every SLO test as a "bad slo marker"
        raise argparse.ArgumentTypeError(f"{text!r} is past the {MAX_HORIZON_S:g}-s horizon of any run "
                                         f"(docs/limits.md); give fewer seconds")
    return value


@dataclass(frozen=True, slots=True)
class Option:
    """One setting: ``--gpuslo-<flag>`` on the command line, ``gpuslo_<key>`` in the ini file."""

    flag: str
    key: str
    parse: Callable[[str], Any]
    help: str
    metavar: str
    default: Any = None
    #: the value's type in a TOML config (pytest 9's native ``[tool.pytest]`` table).
    ini_type: type = str

    @property
    def option(self) -> str:
        return f"--gpuslo-{self.flag}"

    @property
    def ini(self) -> str:
        return f"gpuslo_{self.key}"


_CORE = (
    Option("backend", "backend", parse_backend,
           "Where SLO tests run: auto (cuda when a GPU is usable, else cpu), cpu, cuda or cuda-sync "
           "(or a backend registered by a plugin)",
           "NAME", "auto"),
    Option("seed", "seed", parse_seed,
           "Seed of every arrival schedule (default: derived from each test's node id, stable "
           "across runs and machines)", "INT", ini_type=int),
    Option("duration", "duration_s", parse_seconds,
           "Measured seconds for SLO tests whose marker gives neither duration_s nor requests",
           "SECONDS", ini_type=float),
    Option("timeout", "timeout_s", parse_seconds,
           "Per-request timeout for SLO tests whose marker gives none (default 10)", "SECONDS",
           ini_type=float),
    Option("inconclusive", "inconclusive", parse_inconclusive,
           "What an INCONCLUSIVE verdict does: warn (default) or fail", "warn|fail", "warn"),
    Option("alpha", "alpha", parse_alpha,
           "One-sided error rate of each claim (default 0.01)", "ALPHA", 0.01, float),
)


def parse_bool(text: str) -> bool:
    low = text.strip().lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"{text!r} is not a boolean; write true or false")


def parse_path(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty path; give a path")
    return text


def parse_devices(text: str) -> str:
    """'all' or a comma-separated list of CUDA device indices."""
    t = text.strip()
    if t == "all":
        return t
    try:
        ids = [int(x) for x in t.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not 'all' or a list like 0,1") from None
    if not ids or any(i < 0 for i in ids) or len(set(ids)) != len(ids):
        raise argparse.ArgumentTypeError(f"{text!r}: give distinct indices >= 0, e.g. 0,1")
    return ",".join(str(i) for i in ids)


OPTIONS: Final = _CORE + (
    Option("devices", "devices", parse_devices,
           "GPUs for pytest-xdist workers: 'all' or indices like 0,1; each worker is pinned to one "
           "(with -n auto: one worker per GPU)", "all|0,1,..."),
    Option("baseline-dir", "baseline_dir", parse_path,
           "Baseline store, relative to the rootdir (default .gpuslo)", "DIR", ".gpuslo"),
    Option("compare", "compare", parse_path,
           "Compare against the baselines in this folder instead of the store", "DIR"),
    # Report files, one option per registered format (reports.FORMATS).
    *(Option(f.flag, f.key, parse_path, f.help, "PATH") for f in FORMATS),
)

FLAGS: Final = (
    Option("allow-throttle", "allow_throttle", parse_bool,
           "Decide even when the GPU was throttled or shared, or other processes kept the CPUs busy, "
           "during a run (default: INCONCLUSIVE); such a run is still never saved as a baseline",
           "", False, bool),
    Option("save", "save", parse_bool,
           "Record or update the baselines of the SLO tests that ran (a run refused as a baseline "
           "warns: GpuSloSaveWarning)", "", False, bool),
    Option("no-baseline", "no_baseline", parse_bool,
           "Ignore stored baselines (absolute budgets only)", "", False, bool),
    Option("nvtx", "nvtx", parse_bool,
           "Wrap each request and stage in an NVTX range (request index, lane, stage) for Nsight "
           "Systems; off by default, no cost when off", "", False, bool),
    Option("suggest", "suggest", parse_bool,
           "Run each SLO test once as a short pilot and print, per test, the observed percentiles, "
           "the schedule-lag floor, the requests each percentile needs, suggested budgets, the run "
           "time and a marker line to paste (no verdicts enforced, nothing saved)", "", False, bool),
    Option("skip", "skip", parse_bool,
           "Skip every SLO run (marked tests and slo_run) while keeping the slo marker registered, "
           "e.g. for a quick run of the rest of a suite", "", False, bool),
)


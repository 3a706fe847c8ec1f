"""Baseline store: one reviewable JSON file per test and machine class (layer 2, pure).

A file holds a schema version, the test id, the resolved spec, the seed and schedule fingerprint,
the machine fingerprint, and up to ``MAX_RUNS`` runs, each with its latency sample in scheduled
order (0.1 us integers, byte planes, zlib, base64: about 2.3 bytes per request, so 100,000
requests take about 230 KB) and per-stage summaries.  Writes go to a temporary file in the same folder and are
renamed over the target, so a reader never sees half a file; a lock file serialises the
read-modify-write of concurrent savers (pytest-xdist).  Reading is JSON only, size-limited, and
every problem raises ``BaselineFormatError`` naming the file and the fix.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as _dt
import errno
import hashlib
import json
import math
import os
import re
import tempfile
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from pytest_gpuslo.errors import BaselineFormatError
from pytest_gpuslo.gate import Measurements

SCHEMA = 1
MAX_RUNS = 8
#: Files larger than this are refused unread (a baseline of 8 runs of 1M requests is ~22 MB).
MAX_BYTES = 64 * 2**20
#: Fingerprint keys that must match for a regression verdict (gpu-api-notes.md §12).
MUST_MATCH = ("backend", "gpu", "gpu_memory_mib", "sm_count", "compute_capability", "mig_mode",
              "max_sm_clock_mhz", "max_mem_clock_mhz", "cpu", "cpu_count")
#: Keys compared within a tolerance (relative).
CLOSE = {"power_limit_w": 0.01}


#: How samples are stored: unsigned 32-bit tenths of a microsecond (0.1 us resolution, far below
#: the 0.5 us of CUDA events; values clip at 429 s), split into byte planes so that zlib finds the
#: slowly varying high bytes, then base64.  About 2.3 bytes per request.
ENCODING = "u32-decimicroseconds-byteplanes-zlib-base64"
_CLIP = np.iinfo(np.uint32).max


def encode_sample(latency_ms: npt.ArrayLike) -> str:
    """Milliseconds -> the compact text form described by ``ENCODING``."""
    tenths = np.clip(np.rint(np.asarray(latency_ms, dtype=np.float64) * 1e4), 0, _CLIP).astype("<u4")
    planes = tenths.view(np.uint8).reshape(-1, 4).T.tobytes()
    return base64.b64encode(zlib.compress(planes, 9)).decode("ascii")


def decode_sample(text: str) -> npt.NDArray[np.float64]:
    """Inverse of ``encode_sample``: milliseconds as float64."""
    raw = zlib.decompress(base64.b64decode(text.encode("ascii"), validate=True))
    if len(raw) % 4:
        raise ValueError(f"sample holds {len(raw)} bytes, not a multiple of 4")
    planes = np.frombuffer(raw, dtype=np.uint8).reshape(4, -1).T.copy()
    return planes.view("<u4").ravel().astype(np.float64) / 1e4


def machine_key(machine: dict[str, Any]) -> str:
    """A short slug for the machine class: the GPU model, or the CPU model for CPU runs."""
    name = machine.get("gpu") or machine.get("cpu")
    slug = re.sub(r"[^A-Za-z0-9]+", "-", str(name or machine.get("backend", "unknown"))).strip("-").lower()
    return slug[:40] or "unknown"


def file_name(nodeid: str, machine: dict[str, Any]) -> str:
    """``tests-test_x.py--test_a--nvidia-h100-80gb-hbm3--1a2b3c4d.json``: readable and unique."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", nodeid.replace("::", "--")).strip("-")[:100]
    digest = hashlib.sha256(nodeid.encode()).hexdigest()[:8]
    return f"{slug}--{machine_key(machine)}--{digest}.json"


def differing_keys(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """Fingerprint keys on which two machines differ enough to make timings incomparable."""
    out = [k for k in MUST_MATCH if (k in a or k in b) and a.get(k) != b.get(k)]
    for k, tol in CLOSE.items():
        x, y = a.get(k), b.get(k)
        if isinstance(x, (int, float)) and isinstance(y, (int, float)) and y:
            if abs(x - y) / abs(y) > tol:
                out.append(k)
        elif x != y:
            out.append(k)
    drv_a, drv_b = str(a.get("driver", "")).split(".")[0], str(b.get("driver", "")).split(".")[0]
    if drv_a != drv_b:
        out.append("driver (major)")
    return out


@dataclass
class Run:
    """One recorded run: its sample and what is needed to judge it again (``gpuslo compare``)."""

    latency_ms: npt.NDArray[np.float64]
    date: str
    commit: str | None = None
    stages: dict[str, Any] = field(default_factory=dict)
    #: verdict, rates, failed / timed-out counts, disturbances, the alpha it was decided at.
    summary: dict[str, Any] = field(default_factory=dict)
    #: schedule lag per request (absent in files written before it was kept).
    lag_ms: npt.NDArray[np.float64] | None = None

    def to_json(self) -> dict[str, Any]:
        out = {"date": self.date, "commit": self.commit, "n": int(self.latency_ms.size),
               "encoding": ENCODING, "sample": encode_sample(self.latency_ms), "stages": self.stages,
               "summary": self.summary}
        if self.lag_ms is not None:
            # Lag is never negative in a run; clipped at 0 like the latencies.
            out["lag_sample"] = encode_sample(self.lag_ms)
        return out

    def measurements(self) -> Measurements:
        """The gate's view of this stored run, as the plugin saw it when it decided."""
        s = self.summary
        lag = self.lag_ms if self.lag_ms is not None else np.zeros(self.latency_ms.size)
        return Measurements(self.latency_ms, lag, failed=int(s.get("failed") or 0),
                            timed_out=int(s.get("timed_out") or 0),
                            achieved_hz=float(s.get("throughput_hz") or math.nan),
                            offered_hz=float(s.get("offered_hz") or math.nan),
                            disturbances=tuple(s.get("disturbances") or ()),
                            escapes=tuple(s.get("escapes") or ()))


@dataclass
class Baseline:
    """A test's stored baseline on one machine class."""

    nodeid: str
    spec: dict[str, Any]
    seed: int
    schedule_fingerprint: str
    machine: dict[str, Any]
    runs: list[Run]
    telemetry: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    @property
    def latest(self) -> Run:
        return self.runs[-1]

    def to_json(self) -> dict[str, Any]:
        tel = {k: v for k, v in self.telemetry.items() if k != "trace"}
        return {"schema": SCHEMA, "tool": "pytest-gpuslo", "nodeid": self.nodeid, "spec": self.spec,
                "seed": self.seed, "schedule_fingerprint": self.schedule_fingerprint,
                "machine": self.machine, "machine_key": machine_key(self.machine), "telemetry": tel,
                "runs": [r.to_json() for r in self.runs]}


def _fail(path: Path, what: str) -> BaselineFormatError:
    return BaselineFormatError(
        f"baseline {path}: {what}. It was not used and will not be overwritten silently; inspect it "
        f"(git diff / git log), restore it with git, or delete it and record a new one with "
        f"--gpuslo-save.")


def load(path: Path) -> Baseline:
    """Read and check one baseline file; ``BaselineFormatError`` says what is wrong and what to do."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise _fail(path, f"cannot be read ({exc.strerror})") from None
    if size > MAX_BYTES:
        raise _fail(path, f"is {size:,} bytes, over the {MAX_BYTES:,}-byte limit")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _fail(path, f"is not UTF-8 text ({exc})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        hint = " (truncated?)" if not text.rstrip().endswith("}") else ""
        raise _fail(path, f"is not valid JSON{hint}: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    if not isinstance(data, dict) or data.get("tool") != "pytest-gpuslo":
        raise _fail(path, "is not a pytest-gpuslo baseline (no \"tool\": \"pytest-gpuslo\")")
    schema = data.get("schema")
    if not isinstance(schema, int):
        raise _fail(path, f"has no integer schema version (got {schema!r})")
    if schema > SCHEMA:
        raise BaselineFormatError(
            f"baseline {path}: schema {schema} is newer than this pytest-gpuslo understands "
            f"({SCHEMA}); upgrade pytest-gpuslo (pip install -U pytest-gpuslo) to compare against it.")
    try:
        for r in data["runs"]:
            if r.get("encoding") != ENCODING:
                raise ValueError(f"unknown sample encoding {r.get('encoding')!r}")
        runs = [Run(decode_sample(r["sample"]), str(r["date"]), r.get("commit"),
                    dict(r.get("stages") or {}), dict(r.get("summary") or {}),
                    decode_sample(r["lag_sample"]) if r.get("lag_sample") else None)
                for r in data["runs"]]
        if not runs:
            raise ValueError("no runs")
        for r, raw in zip(runs, data["runs"]):
            if "n" in raw and int(raw["n"]) != r.latency_ms.size:
                raise ValueError(f"a run says n={raw['n']} but holds {r.latency_ms.size} samples")
        return Baseline(str(data["nodeid"]), dict(data["spec"]), int(data["seed"]),
                        str(data["schedule_fingerprint"]), dict(data["machine"]), runs,
                        dict(data.get("telemetry") or {}), path)
    except (KeyError, TypeError, ValueError, zlib.error, base64.binascii.Error) as exc:  # type: ignore[attr-defined]
        raise _fail(path, f"is malformed ({type(exc).__name__}: {exc})") from None


@contextlib.contextmanager
def _locked(path: Path, timeout_s: float = 30.0) -> Iterator[None]:
    """An exclusive lock file beside ``path`` (O_EXCL), for the read-modify-write of a save."""
    lock = path.with_name(path.name + ".lock")
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            break
        except OSError as exc:
            if exc.errno != errno.EEXIST:
                raise
            try:  # a lock left by a killed process: older than the timeout, take it over
                if time.time() - lock.stat().st_mtime > timeout_s:
                    lock.unlink()
                    continue
            except OSError:
                continue
            if time.monotonic() > deadline:
                raise TimeoutError(f"could not lock {lock} within {timeout_s:g} s; remove it if stale") from None
            time.sleep(0.01)
    try:
        os.write(fd, str(os.getpid()).encode())
        yield
    finally:
        os.close(fd)
        with contextlib.suppress(OSError):
            lock.unlink()


def write_atomic(path: Path, data: dict[str, Any]) -> None:
    """Write JSON to a temporary file in the same folder, fsync, then rename over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1, sort_keys=False)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; a baseline is an ordinary repo file
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class Store:
    """A folder of baselines (``.gpuslo/`` by default)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path_for(self, nodeid: str, machine: dict[str, Any]) -> Path:
        return self.root / file_name(nodeid, machine)

    def get(self, nodeid: str, machine: dict[str, Any]) -> Baseline | None:
        """This test's baseline for this machine class, or ``None`` when there is none."""
        path = self.path_for(nodeid, machine)
        return load(path) if path.exists() else None

    def others(self, nodeid: str) -> list[str]:
        """Machine classes that do have a baseline for this test."""
        digest = hashlib.sha256(nodeid.encode()).hexdigest()[:8]
        return sorted(p.name.rsplit("--", 2)[-2] for p in self.root.glob(f"*--{digest}.json"))

    def save(self, baseline: Baseline, *, replace: bool = False, history: bool = True) -> tuple[Path, str]:
        """Add ``baseline``'s single run to the stored file (or create it); returns (path, what).

        Runs accumulate (last ``MAX_RUNS`` kept) while spec, seed, schedule and machine agree;
        otherwise the file is replaced and the message says why.  A corrupt existing file is never
        replaced silently: ``BaselineFormatError`` unless ``replace``.
        """
        path = self.path_for(baseline.nodeid, baseline.machine)
        path.parent.mkdir(parents=True, exist_ok=True)
        with _locked(path):
            old: Baseline | None = None
            if path.exists():
                try:
                    old = load(path)
                except BaselineFormatError:
                    if not replace:
                        raise
            what = "created"
            runs = list(baseline.runs)
            if old is not None and history:
                same = (old.spec.get("budgets_ms") == baseline.spec.get("budgets_ms")
                        and {k: v for k, v in old.spec.items() if k != "sources"}
                        == {k: v for k, v in baseline.spec.items() if k != "sources"}
                        and old.schedule_fingerprint == baseline.schedule_fingerprint
                        and not differing_keys(old.machine, baseline.machine))
                if same:
                    runs = (old.runs + runs)[-MAX_RUNS:]
                    what = f"updated ({len(runs)} runs)"
                else:
                    what = "replaced (the spec, schedule or machine changed, so older runs no longer compare)"
            stored = Baseline(baseline.nodeid, baseline.spec, baseline.seed, baseline.schedule_fingerprint,
                              baseline.machine, runs, baseline.telemetry)
            write_atomic(path, stored.to_json())
        return path, what

    def all(self) -> list[tuple[Path, Baseline | BaselineFormatError]]:
        """Every baseline file in the store, loaded, or the error that reading it raised."""
        out: list[tuple[Path, Baseline | BaselineFormatError]] = []
        for p in sorted(self.root.glob("*.json")):
            try:
                out.append((p, load(p)))
            except BaselineFormatError as exc:
                out.append((p, exc))
        return out


def now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()


def git_commit(cwd: Path | None = None) -> str | None:
    """HEAD's commit, when in a git checkout (read from .git, no subprocess)."""
    here = Path(cwd or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        head = folder / ".git" / "HEAD"
        if head.is_file():
            text = head.read_text().strip()
            if text.startswith("ref: "):
                ref = folder / ".git" / text[5:]
                if ref.is_file():
                    return ref.read_text().strip()[:12]
                packed = folder / ".git" / "packed-refs"
                if packed.is_file():
                    for line in packed.read_text().splitlines():
                        if line.endswith(text[5:]):
                            return line.split()[0][:12]
                return None
            return text[:12]
    return None

"""Baseline store: one reviewable JSON file per test and machine class (layer 2, pure).

A file holds a schema version, the test id, the resolved spec, the seed and schedule fingerprint,
the machine fingerprint, and up to ``MAX_RUNS`` runs, each with its latency sample in scheduled
order (0.1 us integers, byte planes, zlib, base64: about 2.3 bytes per request, so 100,000
requests take about 230 KB) and per-stage summaries.  Writes go to a temporary file in the same folder and are
renamed over the target, so a reader never sees half a file; a ``filelock`` lock (an OS lock that
dies with its process, kept in the temporary folder so the store holds only baselines) serialises
the read-modify-write of concurrent savers (pytest-xdist).  Reading is JSON only, from a regular
file, size-, depth- and decompression-limited (``limits``), and the whole schema is checked before
use: every problem raises ``BaselineFormatError`` naming the file and the fix.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as _dt
import hashlib
import json
import math
import os
import re
import shutil
import subprocess
import tempfile
import time
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from dataclasses import replace as _replace
from functools import partial
from pathlib import Path
from typing import Any, Final, TypeGuard

import filelock
import numpy as np
import numpy.typing as npt

from pytest_gpuslo import limits
from pytest_gpuslo.errors import (
    CONTROL_CODES,
    LAST_RUNS,
    BaselineFormatError,
    InvalidArgument,
    brief,
    dangling,
    shown,
)
from pytest_gpuslo.gate import (
    MIN_RUNS_FOR_SPREAD,
    MIN_SESSIONS,
    BaselineInput,
    Measurements,
    Policy,
    baseline_input,
    from_dispatch,
    median_hold,
    session_groups,
    store_note,
)
from pytest_gpuslo.spec import LOAD_FIELDS, PERCENTILE_ARGS, SloSpec, load_changes, percentile_label
from pytest_gpuslo.stats import STORE_RUNS
from pytest_gpuslo.timeline import DISPATCH_PRECISION_NS

SCHEMA = 1
#: Runs kept per baseline file (the prediction interval's advice counts on it).
MAX_RUNS = STORE_RUNS
#: How long a saver waits for another process's save of the same file (a live holder: the lock
#: of a killed process is released by the OS at once).
LOCK_TIMEOUT_S = 60.0
#: Temporary files of an interrupted write older than this are removed by the next save in the folder.
STALE_TMP_S = 3600.0
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


def _raised_service(service_ms: npt.NDArray[np.float64] | None) -> npt.NDArray[np.float64] | None:
    """A stored service time at the encoding's clip is a raised request's (the plugin held it at
    infinity, over every budget, which the encoding clips): infinite again, as the gate saw it when
    it decided.  Read as 429 s, ``gpuslo compare`` FAILed the lanes as over capacity where the
    plugin said INCONCLUSIVE (review103 F5: 5% raised)."""
    if service_ms is None:
        return None
    return np.where(service_ms >= _CLIP / 1e4, np.inf, service_ms)


def decode_sample(text: str, n: int | None = None, max_values: int | None = None) -> npt.NDArray[np.float64]:
    """Inverse of ``encode_sample``: milliseconds as float64.

    Decompression stops at ``n`` values (the run's declared size) or ``max_values`` (default
    ``limits.MAX_REQUESTS``): a small file that inflates to gigabytes is refused, never inflated.
    """
    cap = n if n is not None else (limits.MAX_REQUESTS if max_values is None else max_values)
    inflater = zlib.decompressobj()
    raw = inflater.decompress(base64.b64decode(text.encode("ascii"), validate=True), 4 * cap + 1)
    if len(raw) > 4 * cap or inflater.unconsumed_tail:
        raise ValueError(f"sample inflates past {cap:,} values"
                         + (f" (the run says n={n})" if n is not None else " (the limit)"))
    if not inflater.eof:
        raise ValueError("sample is truncated (its zlib stream does not end)")
    if len(raw) % 4:
        raise ValueError(f"sample holds {len(raw)} bytes, not a multiple of 4")
    if n is not None and len(raw) != 4 * n:
        raise ValueError(f"a run says n={n} but holds {len(raw) // 4} samples")
    planes = np.frombuffer(raw, dtype=np.uint8).reshape(4, -1).T.copy()
    return planes.view("<u4").ravel().astype(np.float64) / 1e4


def machine_key(machine: dict[str, Any]) -> str:
    """A short slug for the machine class: the GPU model, or the CPU model for CPU runs."""
    name = machine.get("gpu") or machine.get("cpu")
    slug = re.sub(r"[^A-Za-z0-9]+", "-", str(name or machine.get("backend", "unknown"))).strip("-").lower()
    return slug[:40] or "unknown"


def class_digest(machine: dict[str, Any]) -> str:
    """Six hex digits over what ``differing_keys`` compares: two machines of one model name that
    differ in CPU count, backend, clocks, driver major or power limit get files of their own, where
    one name made each save replace the other's runs (a pool of 2- and 4-CPU runners of one model).
    A power limit counts by its 1% step on a log scale, so limits more than 1% apart never share a
    file; two within 1% may fall on either side of a step: their files still compare (review44)."""
    keys: dict[str, Any] = {k: machine[k] for k in MUST_MATCH if k in machine}
    drv = _driver_major(machine)
    if drv:
        keys["driver (major)"] = drv
    for k, tol in CLOSE.items():
        x = machine.get(k)
        if isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) and x > 0:
            keys[k] = math.floor(math.log(x) / math.log1p(tol))
        elif x is not None:
            keys[k] = x
    return hashlib.sha256(json.dumps(keys, sort_keys=True, default=str).encode()).hexdigest()[:6]


def file_name(nodeid: str, machine: dict[str, Any], *, legacy: bool = False) -> str:
    """``tests-test_x.py--test_a--nvidia-h100-80gb-hbm3-0c1d2e--1a2b3c4d.json``: readable and
    unique per test and machine class (``legacy``: the name before the class digest, session 17)."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", nodeid.replace("::", "--")).strip("-")[:100]
    digest = hashlib.sha256(nodeid.encode()).hexdigest()[:8]
    machine_part = machine_key(machine) if legacy else f"{machine_key(machine)}-{class_digest(machine)}"
    return f"{slug}--{machine_part}--{digest}.json"


def named_for(path: Path, nodeid: str) -> bool:
    """``path``'s name is ``nodeid``'s (its trailing digest, ``file_name``): a file copied or renamed
    by hand holds another test's runs under this name (review95 #2, review100 F2)."""
    return path.name.endswith(f"--{hashlib.sha256(nodeid.encode()).hexdigest()[:8]}.json")


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
    if _driver_major(a) != _driver_major(b):
        out.append("driver (major)")
    return out


def _driver_major(machine: dict[str, Any]) -> str:
    return str(machine.get("driver", "")).split(".")[0]


#: Per-request samples a run keeps besides its latencies, by file key and ``Run`` field: what the
#: gate reads (``Measurements``), so ``gpuslo compare`` and ``gpuslo ab`` decide a kept run exactly
#: as the plugin did.  Each holds at most the run's ``n`` values.
EXTRA_SAMPLES = {"lag_sample": "lag_ms", "start_delay_sample": "start_delay_ms",
                 "service_sample": "service_ms", "launcher_hold_sample": "launcher_hold_ms",
                 "asleep_sample": "asleep_ms", "own_sample": "own_ms", "own_asleep_sample": "own_asleep_ms"}
#: The samples that hold exactly one value per request.
PER_REQUEST = ("lag_sample", "start_delay_sample", "own_sample", "own_asleep_sample")


#: The request stamps a last-run record (``.last``) keeps, in file order: each request's gap to the
#: previous arrival, its lag, its wait from dispatch to start, its work (start to end), its lane.
STAMP_KEYS = ("arrival_gap", "lag", "wait", "work", "lane")
#: The most lanes a kept stamp may name (the lane is stored like a sample, in whole numbers).
MAX_STAMP_LANE = 1 << 16


@dataclass(frozen=True)
class Stamps:
    """Every request's stamps, the warm-up's too, in ms from the first arrival: what
    ``replay.sped_up`` replays where a machine control moved.  Only the last-run record keeps
    them (the store does not), so ``gpuslo compare`` of a last run replays it as the plugin did
    (review69: the CLI could only hold such a REGRESSED back)."""

    scheduled_ms: npt.NDArray[np.float64]
    dispatch_ms: npt.NDArray[np.float64]
    start_ms: npt.NDArray[np.float64]
    end_ms: npt.NDArray[np.float64]
    lane: npt.NDArray[np.int64]
    warmup: int

    @classmethod
    def of_run(cls, scheduled_ns: npt.ArrayLike, dispatch_ns: npt.ArrayLike, start_ns: npt.ArrayLike,
               end_ns: npt.ArrayLike, lane: npt.ArrayLike, warmup: int) -> Stamps | None:
        """A run's stamps (ns), or None where they cannot be kept exactly (a request that never
        started or ended, a stamp out of order, a gap past what the encoding holds) or the run is
        longer than ``limits.MAX_STAMPED_REQUESTS``."""
        t, d, s, e = (np.asarray(a, dtype=np.float64) / 1e6 for a in (scheduled_ns, dispatch_ns, start_ns, end_ns))
        ln = np.asarray(lane, dtype=np.int64)
        if not (t.size == d.size == s.size == e.size == ln.size) or not 0 <= warmup < t.size \
                or t.size > limits.MAX_STAMPED_REQUESTS:
            return None
        parts = (np.diff(t, prepend=t[0]), d - t, s - d, e - s)
        if any(not np.all(np.isfinite(x) & (x >= 0) & (x < _CLIP / 1e4)) for x in parts) or np.any(ln < 0) \
                or np.any(ln >= MAX_STAMP_LANE):
            return None
        return cls(t - t[0], d - t[0], s - t[0], e - t[0], ln, int(warmup))

    def to_json(self) -> dict[str, Any]:
        t, d, s, e = self.scheduled_ms, self.dispatch_ms, self.start_ms, self.end_ms
        parts = (np.diff(t, prepend=t[0]), d - t, s - d, e - s, self.lane)
        return {"warmup": self.warmup, **{k: encode_sample(x) for k, x in zip(STAMP_KEYS, parts)}}

    @classmethod
    def from_json(cls, raw: Any, n: int) -> Stamps:
        """The stamps of a run of ``n`` measured requests; ``ValueError`` says what is wrong."""
        if not isinstance(raw, dict) or not _is_int(raw.get("warmup")) or not 0 <= raw["warmup"] <= limits.MAX_REQUESTS:
            raise ValueError(f"must be an object with a whole-number \"warmup\" from 0 to {limits.MAX_REQUESTS:,}")
        total = n + raw["warmup"]
        if total > limits.MAX_REQUESTS:
            raise ValueError(f"holds {total:,} requests, over {limits.MAX_REQUESTS:,}")
        got = []
        for key in STAMP_KEYS:
            if not isinstance(raw.get(key), str):
                raise ValueError(f"\"{key}\" must be a string")
            got.append(decode_sample(raw[key], total))
        gap, lag, wait, work, lane = got
        t = np.cumsum(gap)
        d = t + lag
        s = d + wait
        return cls(t, d, s, s + work, np.rint(lane).astype(np.int64), int(raw["warmup"]))

    def sped_up(self, ps: list[float], factor: float, punctual: bool = False) -> dict[str, float] | None:
        """``SloResult.sped_up_levels`` of the run these stamps were taken from."""
        from pytest_gpuslo import replay

        got = replay.sped_up(self.scheduled_ms * 1e6, self.dispatch_ms * 1e6, self.start_ms * 1e6,
                             self.end_ms * 1e6, self.lane, ps, factor, warmup=self.warmup, punctual=punctual)
        return None if got is None else {percentile_label(p): v for p, v in got.items()}


@dataclass
class Run:
    """One recorded run: its sample and what is needed to judge it again (``gpuslo compare``)."""

    latency_ms: npt.NDArray[np.float64]
    date: str
    commit: str | None = None
    stages: dict[str, Any] = field(default_factory=dict)
    #: verdict, rates, failed / timed-out / hung counts, disturbances, contention, the alpha it was
    #: decided at.
    summary: dict[str, Any] = field(default_factory=dict)
    #: schedule lag per request (absent in files written before it was kept).
    lag_ms: npt.NDArray[np.float64] | None = None
    #: what the lag added to each completion (``Measurements.start_delay_ms``; absent before it was kept:
    #: then the whole lag counts, as it did when such a file was written).
    start_delay_ms: npt.NDArray[np.float64] | None = None
    #: the requests' own service times, those that ended (``Measurements.service_ms``).
    service_ms: npt.NDArray[np.float64] | None = None
    #: an inline-body backend's launcher hold per back-to-back request (``Measurements.launcher_hold_ms``).
    launcher_hold_ms: npt.NDArray[np.float64] | None = None
    #: of each of those service times, the time asleep on a timer (``Measurements.asleep_ms``).
    asleep_ms: npt.NDArray[np.float64] | None = None
    #: each request's own time and its time asleep (``Measurements.own_ms``, ``own_asleep_ms``),
    #: kept where the slow-stretch rule (``gate.slow_own``) can read anything in them.
    own_ms: npt.NDArray[np.float64] | None = None
    own_asleep_ms: npt.NDArray[np.float64] | None = None
    #: every request's stamps (``Stamps``): kept in the last-run record only.
    stamps: Stamps | None = None

    def to_json(self) -> dict[str, Any]:
        out = {"date": self.date, "commit": self.commit, "n": int(self.latency_ms.size),
               "encoding": ENCODING, "sample": encode_sample(self.latency_ms), "stages": self.stages,
               "summary": self.summary}
        for key, attr in EXTRA_SAMPLES.items():
            values = getattr(self, attr)
            if values is not None:
                # Never negative in a run; clipped at 0 like the latencies.
                out[key] = encode_sample(values)
        if self.stamps is not None:
            out["stamps"] = self.stamps.to_json()
        return out

    def measurements(self, scheduled_ms: npt.NDArray[np.float64] | None = None,
                     ps: list[float] | None = None) -> Measurements:
        """The gate's view of this stored run, as the plugin saw it when it decided
        (``scheduled_ms``: its schedule's measured window, which the file does not hold; ``ps``: the
        budgeted percentiles, which a replay of its ``stamps`` answers for)."""
        s = self.summary
        stamps, replayable = self.stamps, not (s.get("failed") or s.get("timed_out"))
        sped_up = (partial(stamps.sped_up, ps or [0.95]) if stamps is not None and replayable
                   and stamps.end_ms.size == self.latency_ms.size + stamps.warmup else None)
        lag = self.lag_ms if self.lag_ms is not None else np.zeros(self.latency_ms.size)
        dependent = s.get("load_dependent")
        delay = self.start_delay_ms if self.start_delay_ms is not None and self.start_delay_ms.size == lag.size else None
        stored = s.get("contention_slowdown")
        slowdown = float(stored) if isinstance(stored, (int, float)) and _is_number(stored) and stored >= 1 else 2.0
        service = self.service_ms
        if service is None and stamps is not None and replayable and stamps.end_ms.size == self.latency_ms.size + stamps.warmup:
            # A quiet run's record keeps its stamps, not its service sample: each request's
            # service is its end less its start, as the plugin read it (review145 F2: the lanes-full
            # FAIL read INCONCLUSIVE in gpuslo compare)
            service = (stamps.end_ms - stamps.start_ms)[stamps.warmup:]
        return Measurements(self.latency_ms, lag, start_delay_ms=delay, failed=int(s.get("failed") or 0),
                            scheduled_ms=None if scheduled_ms is None else scheduled_ms[: self.latency_ms.size],
                            load_dependent=dependent if isinstance(dependent, bool) else None,
                            timed_out=int(s.get("timed_out") or 0),
                            achieved_hz=float(s.get("throughput_hz") or math.nan),
                            offered_hz=float(s.get("offered_hz") or math.nan),
                            disturbances=tuple(s.get("disturbances") or ()),
                            escapes=tuple(s.get("escapes") or ()),
                            control=s.get("control") or None,
                            contention=str(s.get("contention") or ""),
                            contention_slowdown=slowdown,
                            frozen_ms=float(s.get("frozen_ms") or 0.0),
                            service_ms=_raised_service(service), hung=int(s.get("hung") or 0),
                            first_hung=(int(s["first_hung"][0]), int(s["first_hung"][1])) if s.get("first_hung") else None,
                            hang_backlog=int(s["hang_backlog"]) if "hang_backlog" in s else (0 if "first_hung" in s else None),
                            lanes_hung=int(s.get("lanes_hung") or 0),
                            asleep_ms=(self.asleep_ms if self.asleep_ms is not None and self.service_ms is not None
                                       and self.asleep_ms.size == self.service_ms.size else None),
                            own_ms=self.own_ms,
                            own_asleep_ms=(self.own_asleep_ms if self.own_ms is not None and self.own_asleep_ms is not None
                                           and self.own_asleep_ms.size == self.own_ms.size else None),
                            time_split=s.get("time_split") or None,
                            first_timed_out=s.get("first_timed_out"), first_error=s.get("first_error"),
                            launcher_hold_ms=self.launcher_hold_ms,
                            launcher_wait=float(s["launcher_wait"]) if _is_number(s.get("launcher_wait")) else None,
                            body_host_ms=float(s["body_host_ms"]) if _is_number(s.get("body_host_ms")) else None,
                            own_mean_ms=float(s["own_mean_ms"]) if _is_number(s.get("own_mean_ms")) else None,
                            shuffled=s.get("shuffled") or None, shuffled_off=str(s.get("shuffled_off") or ""),
                            sped_up=sped_up)


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

    def by_date(self) -> list[Run]:
        """The runs oldest first by their dates (saved in order of saving, which a backdated
        ``GPUSLO_NOW`` save breaks: review86, ``prune`` dropped the newest run); a run whose date
        cannot be read counts as the oldest."""
        oldest = _dt.datetime.min.replace(tzinfo=_dt.timezone.utc)
        return sorted(self.runs, key=lambda r: parse_date(r.date) or oldest)

    def to_json(self) -> dict[str, Any]:
        tel = {k: v for k, v in self.telemetry.items() if k != "trace"}
        return {"schema": SCHEMA, "tool": "pytest-gpuslo", "nodeid": self.nodeid, "spec": self.spec,
                "seed": self.seed, "schedule_fingerprint": self.schedule_fingerprint,
                "machine": self.machine, "machine_key": machine_key(self.machine), "telemetry": tel,
                "runs": [r.to_json() for r in self.runs]}


def _copied_runs(runs: Sequence[Run]) -> tuple[int, int] | None:
    """The numbers (from 1) of two stored runs whose samples are the same, or None: measured runs
    never repeat to the nanosecond, so such a pair is a copy (under another date or session too).
    The virtual backend's runs, a clock of the tests' own, repeat by design and are not asked."""
    seen: dict[bytes, int] = {}
    for k, r in enumerate(runs, 1):
        if r.latency_ms.size < 50:  # (a few requests at 0.1-us steps may repeat by chance)
            continue
        key = hashlib.sha256(np.ascontiguousarray(r.latency_ms).tobytes()).digest()
        if key in seen:
            return seen[key], k
        seen[key] = k
    return None


def _same_run(a: Run, b: Run) -> bool:
    """One recorded run, seen twice: same date, session and sample."""
    return (a.date == b.date and a.summary.get("session") == b.summary.get("session")
            and a.latency_ms.shape == b.latency_ms.shape and bool(np.array_equal(a.latency_ms, b.latency_ms)))


def repair_hint(path: Path) -> str:
    """How to mend a broken baseline file: a stored one may be under git; a last-run record never is."""
    if Path(path).name == LAST_RUNS:
        # review74: a file where the folder of last-run records belongs is no record to rewrite
        return (f"{'A file' if Path(path).is_file() else 'Something that is no folder'} named .last stands "
                "where the SLO tests keep their last-run records (a folder): delete it "
                "and run the SLO tests again.")
    if Path(path).suffix.lower() != ".json":
        # review72: a markdown report given to gpuslo compare was advised to be deleted; review116:
        # so was the .gitignore the plugin writes into .last
        return ("Baseline files and last-run records are .json files in the store (.gpuslo/ and .gpuslo/.last/); "
                "give one of those.")
    if LAST_RUNS in Path(path).parts:
        return "It is the last run's record (git ignores that folder): run the test again to rewrite it, or delete it."
    return ("It was not used and will not be overwritten silently; inspect it (git diff / git log), restore "
            "it with git, or delete it and record a new one with --gpuslo-save.")


def _fail(path: Path, what: str) -> BaselineFormatError:
    """The error naming ``path``, what is wrong and how to mend it; ``.what`` keeps the wrong alone,
    for a caller that names the file and the remedy in its own words (``gpuslo ab --from``)."""
    # a last-run record is no baseline (review120 NEW-8: "skipped X: baseline .gpuslo/.last/X")
    kind = "last-run record" if LAST_RUNS in Path(path).parts[:-1] else "baseline"
    error = BaselineFormatError(f"{kind} {shown(path)}: {what}. {repair_hint(path)}")
    error.what = what
    return error


def _too_deep(value: Any, limit: int) -> bool:
    """Whether JSON ``value`` nests deeper than ``limit`` (iterative: no recursion to exhaust)."""
    stack = [(value, 1)] if isinstance(value, (dict, list)) else []
    while stack:
        v, depth = stack.pop()
        if depth > limit:
            return True
        # containers only: a scalar nests no deeper (a million of them cost seconds pushed one by one)
        stack.extend((x, depth + 1) for x in (v.values() if isinstance(v, dict) else v) if isinstance(x, (dict, list)))
    return False


def _is_int(v: Any) -> TypeGuard[int]:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _want(ok: bool, what: str) -> None:
    if not ok:
        raise ValueError(what)


#: The longest free text a run summary may hold (the plugin writes under 1,000 characters): the
#: reports print it, so a file edited to hold 100 kB or terminal control codes is refused instead.
MAX_SUMMARY_TEXT = 2000
_CONTROL = CONTROL_CODES
_TEXT = f"a string of at most {MAX_SUMMARY_TEXT:,} characters without control codes"


def _is_text(v: Any) -> bool:
    """Free text the reports may print as it is."""
    return isinstance(v, str) and len(v) <= MAX_SUMMARY_TEXT and not _CONTROL.search(v)


def _is_name(v: Any) -> bool:
    """A name the tables print in a row (a node id, a commit, a machine string): free text on one
    line, no newline, tab or other unprintable character (review200 F1: a newline in a machine
    string printed a forged row in `gpuslo show`)."""
    return _is_text(v) and v.isprintable()


_NAME = f"{_TEXT}, on one line"


#: summary key -> (check, what it must be): what ``Run.measurements`` and the CLI read.
_SUMMARY = {
    "failed": (lambda v: _is_int(v) and v >= 0, "a whole number >= 0"),
    "timed_out": (lambda v: _is_int(v) and v >= 0, "a whole number >= 0"),
    "looks": (lambda v: _is_int(v) and v >= 1, "a whole number >= 1"),
    # null (or NaN, as files written before session 9 hold it) where no request completed in time.
    "throughput_hz": (lambda v: _is_number(v) or (isinstance(v, float) and math.isnan(v)), "a number"),
    "offered_hz": (lambda v: _is_number(v) or (isinstance(v, float) and math.isnan(v)), "a number"),
    "disturbances": (lambda v: isinstance(v, list) and len(v) <= 100 and all(_is_text(x) for x in v),
                     f"a list of at most 100 strings, each {_TEXT}"),
    "save_refusal": (_is_text, _TEXT),
    "xfail": (lambda v: isinstance(v, dict) and set(v) <= {"strict", "raises"}
              and all(isinstance(x, bool) for x in v.values()), 'an object {"strict": true or false, "raises": ...}'),
    "control": (lambda v: isinstance(v, dict) and all(isinstance(k, str) and _is_number(x) and x > 0
                                                      for k, x in v.items()),
                "an object of positive numbers (milliseconds)"),
    "verdict": (_is_text, _TEXT),
    # the stored runs' sessions decide whether they span days (``sessions``)
    "session": (_is_text, _TEXT),
    "hung": (lambda v: _is_int(v) and v >= 0, "a whole number >= 0"),
    "hang_backlog": (lambda v: _is_int(v) and v >= 0, "a whole number >= 0"),
    "lanes_hung": (lambda v: _is_int(v) and v >= 0, "a whole number >= 0"),
    "first_hung": (lambda v: isinstance(v, list) and len(v) == 2 and all(_is_int(x) and x >= 0 for x in v),
                   "[request index, lane], whole numbers >= 0"),
    "first_timed_out": (lambda v: _is_int(v) and v >= 0, "a whole number >= 0"),
    "first_error": (_is_text, _TEXT),
    "contention": (_is_text, _TEXT),
    "contention_slowdown": (lambda v: _is_number(v) and v >= 1, "a number >= 1"),
    "frozen_ms": (lambda v: _is_number(v) and v >= 0, "a number >= 0 (milliseconds the process was found stopped)"),
    "launcher_wait": (lambda v: _is_number(v) and 0 <= v <= 1, "a number from 0 to 1"),
    "body_host_ms": (lambda v: _is_number(v) and v >= 0, "a number >= 0 (milliseconds)"),
    "own_mean_ms": (lambda v: _is_number(v) and v >= 0, "a number >= 0 (milliseconds)"),
    "scale": (lambda v: isinstance(v, dict) and all(isinstance(k, str) and _is_number(x) for k, x in v.items()),
              "an object of numbers (the replay's Box-Cox scale per percentile)"),
    "shuffled": (lambda v: isinstance(v, dict) and all(isinstance(k, str) and _is_number(x) for k, x in v.items()),
                 "an object of numbers (the replayed run statistic per percentile)"),
    "shuffled_off": (_is_text, f"{_TEXT} (why the run keeps no replayed statistic)"),
    "time_split": (lambda v: isinstance(v, dict) and len(v) <= 8 and all(
        isinstance(k, str) and _is_number(x) and 0 <= x <= 1 for k, x in v.items()),
        "an object of shares from 0 to 1 (where the bodies spent their time)"),
}


def parse_date(v: Any) -> _dt.datetime | None:
    """An ISO 8601 date and time as ``now_iso`` writes it, in UTC (one without a zone is taken as
    UTC), or None: ``gpuslo show`` and ``prune`` read its age, the session rule its day."""
    if not isinstance(v, str) or len(v) > 40:
        return None
    try:
        when = _dt.datetime.fromisoformat(v)
        # year 1 at +01:00 is before datetime's range in UTC (review66: a bare OverflowError)
        return when.astimezone(_dt.timezone.utc) if when.tzinfo else when.replace(tzinfo=_dt.timezone.utc)
    except (ValueError, OverflowError):
        return None


def _is_date(v: Any) -> bool:
    return parse_date(v) is not None


def utc_day(date: str) -> str:
    """The UTC day of a stored run's (checked) date: runs of one day are one session."""
    when = parse_date(date)
    return when.date().isoformat() if when is not None else date[:10]


def _is_stages(v: Any) -> bool:
    """Per stage, its count and times (the HTML report's stage table reads them)."""
    return isinstance(v, dict) and len(v) <= 64 and all(
        _is_text(k) and isinstance(st, dict)
        and all(x is None or (_is_number(x) and x >= 0) for x in (st.get(f) for f in STAGE_FIELDS))
        for k, st in v.items())


#: The fields of a stored stage that reports read.
STAGE_FIELDS = ("n", "p50_ms", "p95_ms", "mean_ms")

#: telemetry key -> its check: what ``gpuslo ab`` reads of each kept run (the busy-neighbour rule).
_TELEMETRY = {k: (lambda v: _is_number(v) and v >= 0) for k in
              ("other_cpu_load", "other_cpu_load_mean", "cpus", "steal_cpus", "run_queue_stretch")}


def _check_spec(spec: dict[str, Any]) -> None:
    """The promise a stored run was measured under (``gpuslo compare`` judges the budgets it holds)."""
    budgets = spec.get("budgets_ms")
    _want(budgets is None or (isinstance(budgets, dict) and all(
        isinstance(k, str) and _is_number(v) and v > 0 for k, v in budgets.items())),
        f"spec \"budgets_ms\" must map percentiles to finite numbers > 0 (milliseconds), not {brief(budgets)}")
    # review164 F2: an unknown percentile read "its \"spec\" cannot be read (KeyError: 'p42')"
    known = [percentile_label(p) for p in PERCENTILE_ARGS.values()]
    unknown = [k for k in budgets or {} if k not in known]
    _want(not unknown, f"spec \"budgets_ms\" names {brief(unknown[0]) if unknown else ''}, which is no percentile the "
                       f"plugin measures ({', '.join(known)})")
    # Absent is an older or hand-written file; present, the plugin always wrote a value (review74 F12: null passed).
    for key in ("rate_hz", "timeout_s"):
        v = spec.get(key)
        _want(key not in spec or (v is not None and _is_number(v) and v > 0),
              f"spec \"{key}\" must be a finite number > 0, not {brief(v)}")
    v = spec.get("streams")
    _want("streams" not in spec or (_is_int(v) and v >= 1),
          f"spec \"streams\" must be a whole number >= 1, not {brief(v)}")


def _check_top(data: Any) -> None:
    """The file's own fields, before any sample is decoded."""
    # Names the reports and `gpuslo show` print as they are: no terminal escapes (review81).
    _want(_is_name(data.get("nodeid")), f"\"nodeid\" must be {_NAME}, not {brief(data.get('nodeid'))}")
    for key in ("spec", "machine"):
        _want(isinstance(data.get(key), dict), f"\"{key}\" must be an object")
    _want(_is_int(data.get("seed")), "\"seed\" must be a whole number")
    _want(isinstance(data.get("schedule_fingerprint"), str), "\"schedule_fingerprint\" must be a string")
    _want(data.get("telemetry") is None or isinstance(data["telemetry"], dict), "\"telemetry\" must be an object")
    _check_spec(data["spec"])
    _want(all(not isinstance(v, str) or _is_name(v) for v in data["machine"].values()),
          f"\"machine\" must hold strings each {_NAME}")
    for key, check in _TELEMETRY.items():
        v = (data.get("telemetry") or {}).get(key)
        _want(v is None or check(v), f"telemetry \"{key}\" must be a finite number >= 0, not {brief(v)}")
    runs = data.get("runs")
    _want(isinstance(runs, list) and 0 < len(runs) <= limits.MAX_BASELINE_RUNS,
          f"\"runs\" must be a list of 1 to {limits.MAX_BASELINE_RUNS} runs")
    for i, r in enumerate(runs):
        where = f"run {i}"
        _want(isinstance(r, dict), f"{where} must be an object")
        _want(r.get("encoding") == ENCODING, f"{where}: unknown sample encoding {r.get('encoding')!r}")
        _want(isinstance(r.get("sample"), str), f"{where}: \"sample\" must be a string")
        for key in EXTRA_SAMPLES:
            _want(r.get(key) in (None, "") or isinstance(r[key], str), f"{where}: \"{key}\" must be a string")
        _want("n" not in r or (_is_int(r["n"]) and 1 <= r["n"] <= limits.MAX_REQUESTS),
              f"{where}: \"n\" must be a whole number from 1 to {limits.MAX_REQUESTS:,}")
        _want(_is_date(r.get("date")), f"{where}: \"date\" must be an ISO 8601 date and time "
              f"(e.g. 2026-12-02T15:53:39+00:00), not {brief(r.get('date'))}")
        _want(r.get("commit") is None or _is_name(r["commit"]),
              f"{where}: \"commit\" must be {_NAME}, not {brief(r.get('commit'))}")
        said = r.get("summary") if isinstance(r.get("summary"), dict) else {}
        for key in ("failed", "timed_out"):  # review200 F2: "1000000 raised" of 200 decided a FAIL
            _want(not (_is_int(said.get(key)) and _is_int(r.get("n")) and said[key] > r["n"]),
                  f"{where}: summary \"{key}\" {said.get(key)!r} is more than the run's n {r.get('n')!r} requests")
        _want(r.get("stages") is None or _is_stages(r["stages"]),
              f"{where}: \"stages\" must be an object of stages, each with {', '.join(STAGE_FIELDS)} "
              f"numbers >= 0 or null, not {brief(r.get('stages'))}")
        summary = r.get("summary")
        _want(summary is None or isinstance(summary, dict), f"{where}: \"summary\" must be an object")
        for key, (check, what) in _SUMMARY.items():
            v = (summary or {}).get(key)
            _want(v is None or check(v), f"{where}: summary \"{key}\" must be {what}, not {brief(v)}")


def _decode_runs(raw_runs: list[dict[str, Any]]) -> list[Run]:
    """Every run's samples, each inflated no further than its declared ``n`` and all of them
    within ``limits.MAX_REQUESTS`` values per sample."""
    runs = []
    for i, r in enumerate(raw_runs):
        key = "sample"
        try:
            lat = decode_sample(r["sample"], r.get("n"))
            extra: dict[str, Any] = {}
            for key, attr in EXTRA_SAMPLES.items():
                if r.get(key):
                    # The lag and the start delay are per request (exactly n); the others at most n.
                    extra[attr] = (decode_sample(r[key], lat.size) if key in PER_REQUEST
                                   else decode_sample(r[key], max_values=lat.size))
            if r.get("stamps") is not None:
                key = "stamps"
                extra["stamps"] = Stamps.from_json(r["stamps"], lat.size)
        except ValueError as exc:
            raise ValueError(f"run {i}: \"{key}\": {exc}") from None
        _want(lat.size > 0, f"run {i} holds no samples")
        runs.append(Run(lat, r["date"], r.get("commit"), dict(r.get("stages") or {}),
                        dict(r.get("summary") or {}), **extra))
    return runs


def load(path: Path) -> Baseline:
    """Read and check one baseline file; ``BaselineFormatError`` says what is wrong and what to do.

    Only a regular file of at most ``limits.MAX_BASELINE_BYTES`` is read; the JSON must nest at
    most ``limits.MAX_JSON_DEPTH`` deep and match the schema before a sample is decoded.
    """
    path = Path(path)
    raw = limits.read_capped(path, limits.MAX_BASELINE_BYTES, lambda what: _fail(path, what))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _fail(path, f"is not UTF-8 text ({exc})") from None
    values = raw.count(b",") + raw.count(b"[") + raw.count(b"{")
    if values > limits.MAX_JSON_VALUES:
        raise _fail(path, f"holds about {values:,} JSON values (its commas and opening brackets), over the "
                          f"{limits.MAX_JSON_VALUES:,} any baseline holds: something added a large list or "
                          f"object to it, which would cost a read seconds and gigabytes")
    if re.search(r"^(<{7}|>{7}) ", text, re.M) and re.search(r"^={7}$", text, re.M):
        # review202 F1: a merge of two branches' saves read "is not valid JSON ... line 54", and the
        # fixes offered (restore, delete) each threw one branch's runs away
        raise _fail(path, "holds unresolved git merge-conflict markers (<<<<<<< ======= >>>>>>>): two branches "
                          "each saved runs to it. Keep both sides' runs: put the entries of both \"runs\" lists in one "
                          "list (the newest 8 are kept), keep one side's other fields, remove the markers")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        hint = " (truncated?)" if not text.rstrip().endswith("}") else ""
        raise _fail(path, f"is not valid JSON{hint}: {exc.msg.removesuffix(' at')} at line {exc.lineno}, column {exc.colno}") from None
    except RecursionError:
        raise _fail(path, "nests deeper than the JSON reader can follow") from None
    except ValueError as exc:  # e.g. an integer literal of more than 4,300 digits
        raise _fail(path, f"is not valid JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("tool") != "pytest-gpuslo":
        raise _fail(path, "is not a pytest-gpuslo baseline (no \"tool\": \"pytest-gpuslo\")")
    if isinstance(data.get("results"), list) and "runs" not in data:
        # review71: a --gpuslo-json report given to gpuslo compare read "malformed ... delete it"
        raise BaselineFormatError(
            f"{path}: is a pytest-gpuslo report (--gpuslo-json), which keeps each test's summary, not its "
            f"samples; give a baseline file from the store (.gpuslo/) or a last-run record (.gpuslo/.last/"
            f"<test>.json, which every run leaves)")
    schema = data.get("schema")
    if not _is_int(schema):
        raise _fail(path, f"has no integer schema version (got {schema!r})")
    if schema > SCHEMA:
        raise BaselineFormatError(
            f"baseline {path}: schema {schema} is newer than this pytest-gpuslo understands "
            f"({SCHEMA}); upgrade pytest-gpuslo (pip install -U pytest-gpuslo) to compare against it.")
    if schema < 1:
        raise _fail(path, f"has schema {schema}, which no pytest-gpuslo ever wrote (1 to {SCHEMA})")
    if _too_deep(data, limits.MAX_JSON_DEPTH):
        raise _fail(path, f"nests deeper than {limits.MAX_JSON_DEPTH} levels")
    try:
        _check_top(data)
        declared = sum((r.get("n") or limits.MAX_REQUESTS) * (1 + sum(bool(r.get(k)) for k in EXTRA_SAMPLES)
                                                              + (len(STAMP_KEYS) if r.get("stamps") else 0))
                       for r in data["runs"])
        if declared > limits.MAX_REQUESTS * MAX_RUNS:
            raise ValueError(f"its runs declare {declared:,} samples in all, over the "
                             f"{limits.MAX_REQUESTS * MAX_RUNS:,} of {MAX_RUNS} full runs")
        runs = _decode_runs(data["runs"])
        copied = _copied_runs(runs) if (data.get("machine") or {}).get("backend") != "virtual" else None
        if copied:
            # review191 F2: one run copied under eight dates read as eight sessions, and their spread,
            # none, made a zero-width prediction interval that judged any wobble a change
            i, j = copied
            raise ValueError(f"runs {i} and {j} hold the same {runs[j - 1].latency_ms.size:,} samples: one run copied, "
                             f"which would count its noise as many runs'; keep one of them")
    except (ValueError, zlib.error, base64.binascii.Error) as exc:  # type: ignore[attr-defined]
        raise _fail(path, f"is malformed ({exc})") from None
    return Baseline(data["nodeid"], dict(data["spec"]), data["seed"], data["schedule_fingerprint"],
                    dict(data["machine"]), runs, dict(data.get("telemetry") or {}), path)


def _lock(path: Path) -> filelock.BaseFileLock:
    """The lock of one baseline file, for the read-modify-write of a save.

    An OS lock (``flock``; ``msvcrt`` on Windows) that dies with its holder, so the lock of a
    killed process never delays the next save.  Its file lives in the temporary folder, named after
    the baseline's absolute path, so the store itself holds only baselines.
    """
    folder = Path(tempfile.gettempdir()) / "gpuslo-baseline-locks"
    folder.mkdir(parents=True, exist_ok=True)
    try:
        where = path.resolve()
    except (RuntimeError, OSError):  # a link looping back on itself (review120: a raw traceback that failed
        where = path.absolute()      # the test after its measurement); the save then names or replaces it
    digest = hashlib.sha256(str(where).encode()).hexdigest()[:24]
    return filelock.FileLock(folder / f"{digest}.lock", timeout=LOCK_TIMEOUT_S)


def _through_link(path: Path) -> Path:
    """Where a write to ``path`` goes: a link's target, else ``path`` (a loop has no target)."""
    if not path.is_symlink():
        return path
    try:
        return path.resolve()
    except (RuntimeError, OSError):
        return path


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold ``path``'s lock; a save that cannot get it says which file and why."""
    lock = _lock(path)
    try:
        lock.acquire()
    except filelock.Timeout:
        raise TimeoutError(f"another process has held the lock of {path} for {LOCK_TIMEOUT_S:g} s "
                           f"(lock file {lock.lock_file})") from None
    try:
        _remove_stale_tmp(path)
        yield
    finally:
        lock.release()


def _remove_stale_tmp(path: Path) -> None:
    """Remove temporary files an interrupted save left: this file's (its lock is held, so no live
    writer has one) and any other of the folder older than ``STALE_TMP_S``."""
    now = time.time()
    for tmp in path.parent.glob(".*.tmp"):
        with contextlib.suppress(OSError):
            if tmp.name.startswith(f".{path.name}.") or now - tmp.stat().st_mtime > STALE_TMP_S:
                tmp.unlink()


def write_atomic(path: Path, data: dict[str, Any] | str) -> None:
    """Write JSON (or text already written) to a temporary file in the same folder, fsync, then
    rename over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            if isinstance(data, str):
                fh.write(data)
            else:
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


def previous_path(path: Path) -> Path:
    """Where a save that moved the stored level keeps the file as it was (``*.json.prev``: no
    store reads it as a baseline; moving it back over ``path`` undoes the save)."""
    return path.with_name(path.name + ".prev")


def _not_dangling(path: Path) -> None:
    """A test's baseline file that is a link to nothing is an error, not "no baseline": the store
    linked into a mount missing in CI switched the gate off in silence, and a save replaced the
    link (review95 #3)."""
    if dangling(path):
        raise BaselineFormatError(f"baseline {path}: is {dangling(path)}, so it cannot be read; mend the link (is "
                                  f"its folder mounted here?) or delete it and record with --gpuslo-save")


def _of_test(found: Baseline | None, nodeid: str) -> Baseline | None:
    """``found``, unless it holds another test than the one whose file name it has (copied or
    renamed by hand): the plugin compared test_a against test_b's runs without a word, where
    ``gpuslo compare`` said "holds another test" (review95 #2), and a save added runs to them."""
    if found is None or found.nodeid == nodeid:
        return found
    where = found.path or "a baseline file"
    raise BaselineFormatError(
        f"baseline {where}: holds another test's runs ({found.nodeid}), not {nodeid}'s, under {nodeid}'s file "
        f"name (copied or renamed by hand?): not compared. Move it back to {found.nodeid}'s name, or delete it "
        f"and record this test's with --gpuslo-save")


class Store:
    """A folder of baselines (``.gpuslo/`` by default)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path_for(self, nodeid: str, machine: dict[str, Any]) -> Path:
        """This test's file for this machine class: a file of the name used before the class
        digest is kept (and goes on accumulating) when it holds this class, or cannot be read
        (then saving reports it, as it always did)."""
        return self._find(nodeid, machine)[0]

    def _find(self, nodeid: str, machine: dict[str, Any]) -> tuple[Path, Baseline | None]:
        """``path_for``, with the old-named file's contents when it had to be read to decide."""
        path = self.root / file_name(nodeid, machine)
        legacy = self.root / file_name(nodeid, machine, legacy=True)
        if path.exists() or not legacy.exists():
            return path, None
        try:
            old = load(legacy)
        except (BaselineFormatError, OSError):
            return legacy, None
        return (path, None) if differing_keys(old.machine, machine) else (legacy, old)

    def get(self, nodeid: str, machine: dict[str, Any]) -> Baseline | None:
        """This test's baseline for this machine class, or ``None`` when there is none (an
        old-named file is read once, not once to find it and again to load it)."""
        path, loaded = self._find(nodeid, machine)
        _not_dangling(path)
        found = loaded if loaded is not None else load(path) if path.exists() else None
        if found is not None:
            self._no_refused_run(path, found)
        return _of_test(found, nodeid)

    def _no_refused_run(self, path: Path, found: Baseline) -> None:
        """A run the save refused keeps why (and, beside busy neighbours, their load: review204 F1,
        the refusal deleted by hand), so no save put it in a store: such a file is refused where it
        is read as one (review202 F3: a refused last-run record copied in by hand was the level later
        runs were judged against, without a word); a last-run record keeps its refusal as it is."""
        if self.root.name == LAST_RUNS:
            return
        refused = next((k for k, r in enumerate(found.runs, 1)
                        if r.summary.get("save_refusal") or r.summary.get("contention")), None)
        if refused is not None:
            said = found.runs[refused - 1].summary
            raise _fail(path, f"holds run {refused}, which was refused as a baseline when it was measured "
                              f"({brief(said.get('save_refusal') or said.get('contention'), 120)}), so no save put "
                              f"it here: remove that run, or record one where the machine is quiet")

    def holds(self, baseline: Baseline) -> bool:
        """Whether ``baseline``'s latest run is already in this store (an unreadable file: no)."""
        try:
            stored = self.get(baseline.nodeid, baseline.machine)
        except BaselineFormatError:
            return False
        return stored is not None and any(_same_run(baseline.latest, r) for r in stored.runs)

    def files_of(self, nodeid: str) -> list[Path]:
        """This test's baseline files, one per machine class, newest first."""
        digest = hashlib.sha256(nodeid.encode()).hexdigest()[:8]
        found = [p for p in self.root.glob(f"*--{digest}.json") if p.is_file()]
        return sorted(found, key=lambda p: (-p.stat().st_mtime, p.name))

    def save(self, baseline: Baseline, *, replace: bool = False, history: bool = True,
             keep_previous: bool = False) -> tuple[Path, str]:
        """Add ``baseline``'s single run to the stored file (or create it); returns (path, what).

        Runs accumulate (last ``MAX_RUNS`` kept) while spec, seed, schedule and machine agree;
        otherwise the file is replaced and the message says why.  A corrupt existing file is never
        replaced silently: ``BaselineFormatError`` unless ``replace``.  ``keep_previous``: the file
        as it was is kept beside it (``previous_path``), for a save that moves the stored level,
        which git cannot undo in a store not yet committed (review98 #3).
        """
        path = self.path_for(baseline.nodeid, baseline.machine)
        path.parent.mkdir(parents=True, exist_ok=True)
        if not replace:
            _not_dangling(path)
        with _locked(path):
            old: Baseline | None = None
            if path.exists():
                try:
                    old = _of_test(load(path), baseline.nodeid)
                except BaselineFormatError:
                    if not replace:
                        raise
            # the request stamps stay in the last-run record: a store committed to git need not hold them
            runs = list(baseline.runs) if not history else [_replace(r, stamps=None) for r in baseline.runs]
            # review83: the first save said only "created", where the README promises every save
            # says what a REGRESSED still needs
            what = f"created ({stored_runs(runs)})"
            if old is not None and history:
                # The budgets shape no load: the stored runs still compare under new ones (as the
                # README promises), so they are kept and the file takes the new budgets (review187
                # F3: p95_ms 20 -> 200 "replaced" two days' runs with one).
                same = ({k: v for k, v in old.spec.items() if k not in UNSTORED_SPEC}
                        == {k: v for k, v in baseline.spec.items() if k not in UNSTORED_SPEC}
                        and old.schedule_fingerprint == baseline.schedule_fingerprint
                        and not differing_keys(old.machine, baseline.machine))
                if same:
                    # A run already stored (``gpuslo accept`` of a run --gpuslo-save kept) is not added
                    # twice, nor its copy under another date (which ``load`` refuses: review191 F2).
                    copy = (lambda r, o: False) if baseline.machine.get("backend") == "virtual" else (
                        lambda r, o: _copied_runs([o, r]) is not None)
                    new_runs = [r for r in runs if not any(_same_run(r, o) or copy(r, o) for o in old.runs)]
                    runs, dropped = keep_sessions(old.runs + new_runs)
                    what = (f"updated ({stored_runs(runs)})" if new_runs
                            else f"already stored ({stored_runs(runs)})")
                    if dropped:
                        # (review202 F2: one busy day of saves pushed every older day out, unsaid)
                        what += (f"; {len(dropped)} older run{'s' if len(dropped) != 1 else ''} dropped to keep "
                                 f"{MAX_RUNS} ({', '.join(r.date[:16] for r in dropped)}), each from a session "
                                 f"that keeps another where one does")
                    if old.spec.get("budgets_ms") != baseline.spec.get("budgets_ms"):
                        what += (f"; its budgets are now {_budgets(baseline.spec)} (were {_budgets(old.spec)}), "
                                 f"which shape no load, so the runs stored before still compare")
                else:
                    # what changed, and what went (review191 F5: "replaced" alone, 2 runs gone after rate_hz 400 -> 300)
                    from pytest_gpuslo.spec import load_changes

                    changed = [*load_changes(old.spec, baseline.spec, tuple(
                        k for k in {**old.spec, **baseline.spec} if k not in UNSTORED_SPEC))]
                    if old.schedule_fingerprint != baseline.schedule_fingerprint and not changed:
                        changed.append("another arrival schedule")
                    changed += [f"machine {k}" for k in differing_keys(old.machine, baseline.machine)]
                    why = ", ".join(changed) or "the spec, schedule or machine changed"
                    gone = f"{len(old.runs)} run{'s' if len(old.runs) != 1 else ''}"
                    what = (f"replaced ({why}: the {gone} stored before no longer compare"
                            f"{' and were dropped' if not keep_previous else ', kept in ' + previous_path(path).name})")
            stored = Baseline(baseline.nodeid, baseline.spec, baseline.seed, baseline.schedule_fingerprint,
                              baseline.machine, runs, baseline.telemetry)
            if keep_previous and old is not None:
                write_atomic(previous_path(path), path.read_text(encoding="utf-8"))
            # through a link to its target: the link was replaced by a file without a word (review95 #3);
            # a link looping back on itself has none (only a last-run record gets here with one: it
            # replaces the link; review120: a raw RuntimeError failed the test after its measurement)
            write_atomic(_through_link(path), stored.to_json())
        return path, what

    def rewrite(self, path: Path, baseline: Baseline) -> None:
        """Replace the file at ``path`` with ``baseline`` (``gpuslo prune``), under its lock."""
        with _locked(path):
            write_atomic(path, baseline.to_json())

    def all(self) -> list[tuple[Path, Baseline | BaselineFormatError]]:
        """Every baseline file in the store, loaded, or the error that reading it raised."""
        out: list[tuple[Path, Baseline | BaselineFormatError]] = []
        for p in sorted(self.root.glob("*.json")):
            try:
                found = load(p)
                self._no_refused_run(p, found)  # (review204 F2: gpuslo show listed such a file as healthy)
                out.append((p, found))
            except BaselineFormatError as exc:
                out.append((p, exc))
        return out


#: What a stored file's spec may change while its runs accumulate: where the marker was written
#: (``sources``) and the budgets, neither of which shapes the load the runs measured.
UNSTORED_SPEC: Final = frozenset({"sources", "budgets_ms"})


def _budgets(spec: Mapping[str, Any]) -> str:
    """A spec's budgets as a marker writes them ("p95<=20ms, p99<=40ms"; "none" without)."""
    budgets = spec.get("budgets_ms") or {}
    return ", ".join(f"{k}<={v:g}ms" if isinstance(v, (int, float)) else f"{k}<={v}" for k, v in budgets.items()) \
        or "none"


#: Dates the runs saved now (an ISO 8601 date and time), where the clock should not: the plugin's
#: own tests of runs "from three days", a replay of recorded sessions.  Stored runs of one UTC day
#: count as one session (``gate.baseline_input``), so it is never needed in a CI job.
NOW_ENV = "GPUSLO_NOW"


#: The earliest ``$GPUSLO_NOW`` taken (the clock's epoch), and how far past the clock it may lie:
#: a date outside is a typo that ``gpuslo show`` would print as "739952d" old or "future" (review67).
NOW_EARLIEST = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
NOW_AHEAD = _dt.timedelta(days=1)


def now_iso() -> str:
    """Now in UTC to the second, or ``$GPUSLO_NOW`` (set and empty: the clock)."""
    raw = os.environ.get(NOW_ENV, "")
    given = raw.strip()
    clock = _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0)
    if raw and not given:
        raise InvalidArgument(f"{NOW_ENV}={brief(raw)} (environment) is blank; give an ISO 8601 date and time, "
                              f"e.g. 2026-12-02T15:53:39+00:00, or unset it to use the clock")
    if given:
        when = parse_date(given)
        if when is None:
            try:  # review71: 2026-11-31 read "not an ISO 8601 date"; the day is what does not exist
                _dt.datetime.fromisoformat(given)
                why = ""
            except (ValueError, OverflowError) as exc:
                why = f" ({exc})" if "out of range" in str(exc) else ""
            raise InvalidArgument(f"{NOW_ENV}={brief(given)} (environment) is not an ISO 8601 date and time{why}; "
                                  f"give e.g. 2026-12-02T15:53:39+00:00, or unset it to use the clock")
        if not NOW_EARLIEST <= when <= clock + NOW_AHEAD:
            raise InvalidArgument(f"{NOW_ENV}={brief(given)} (environment) is {when.date().isoformat()} in UTC, "
                                  f"outside {NOW_EARLIEST.date().isoformat()} to a day past the clock "
                                  f"({clock.date().isoformat()}); give a date in that range, or unset it to use "
                                  f"the clock")
        # stored as the clock's are (review71: "2026-11-21" and zone-less values were kept verbatim,
        # so one file held dates in three forms)
        return when.replace(microsecond=0).isoformat()
    return clock.isoformat()


def git_commit(cwd: Path | None = None, store: Path | None = None,
               measured: Sequence[Path] = ()) -> str | None:
    """HEAD's commit (12 hex digits, and ``DIRTY`` where tracked files differ from it or a file in
    ``measured``, the measured tests' own modules, is one git does not track), asked of git itself,
    so worktrees, packed refs and submodules answer right (changes under ``store``, the baseline
    folder, do not count); ``None`` when git is missing, slow (5 s) or this is no repository.

    Other untracked files do not count: reports and scratch files beside the tests would mark every
    run; an untracked test module is the code measured (review102: an A/B of a test file not yet
    added read as the clean commit)."""
    git = shutil.which("git")
    if git is None:
        return None
    try:
        out = subprocess.run([git, "rev-parse", "--verify", "--quiet", "HEAD"], cwd=cwd or Path.cwd(),
                             capture_output=True, text=True, timeout=5.0, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    sha = out.stdout.strip()
    if out.returncode != 0 or not re.fullmatch(r"[0-9a-f]{40,64}", sha):
        return None
    # review71: a run of uncommitted changes was stamped with the clean commit it started from
    try:
        # the store itself is left out: saves not yet committed are results, not the code measured
        inside = store is not None and Path(os.path.abspath(store)).is_relative_to(os.path.abspath(cwd or Path.cwd()))
        spec = ["--", ":/", f":(exclude){os.path.abspath(store)}"] if store is not None and inside else []
        dirty = subprocess.run([git, "status", "--porcelain", "--untracked-files=no", *spec], cwd=cwd or Path.cwd(),
                               capture_output=True, text=True, timeout=5.0, check=False)
        changed = dirty.returncode == 0 and bool(dirty.stdout.strip())
        # only paths inside: git refuses the whole list for one outside the repository
        ours = sorted({m for m in map(os.path.abspath, measured) if Path(m).is_relative_to(os.path.abspath(cwd or Path.cwd()))})
        if not changed and ours:
            new = subprocess.run([git, "ls-files", "--others", "--exclude-standard", "--", *ours],
                                 cwd=cwd or Path.cwd(), capture_output=True, text=True, timeout=5.0, check=False)
            changed = new.returncode == 0 and bool(new.stdout.strip())
    except (OSError, subprocess.SubprocessError):
        return sha[:12]
    return sha[:12] + (DIRTY if changed else "")


#: What a commit stamp ends with when tracked files differed from it (``git_commit``).
DIRTY = "+dirty"


#: Names the session of the runs saved now, where the boot and the day do not (a CI job that saves
#: on a fresh VM each time is a new session anyway).
SESSION_ENV = "GPUSLO_SESSION"
#: The longest session label stored; a longer one keeps its start and a digest of the whole.
MAX_SESSION_LABEL = 64


def session_id() -> str:
    """This machine session: ``$GPUSLO_SESSION``, else the boot (Linux's boot id) and the UTC day.
    Stored runs from several sessions show a machine shift between them in their spread; runs of
    one session cannot."""
    raw = os.environ.get(SESSION_ENV, "")
    named = raw.strip()
    if raw and not named:
        # review67: dropped without a word, so the runs took the boot-and-day session instead
        raise InvalidArgument(f"{SESSION_ENV}={brief(raw)} (environment) is blank; name the session, e.g. "
                              f"the CI job's id, or unset it to take the boot and the UTC day")
    if named:
        if not named.isprintable():  # control codes (what the store refuses) and the like
            # review66: saved as it was, it made the store malformed for every later run
            raise InvalidArgument(f"{SESSION_ENV}={brief(named)} (environment) holds a control character; "
                                  f"name the session with printable text, e.g. the CI job's id")
        if len(named) > MAX_SESSION_LABEL:
            # Cut short, long labels that differ only at the end became one session (review66):
            # keep them apart with a digest of the whole label.
            digest = hashlib.blake2b(named.encode("utf-8", "surrogatepass"), digest_size=6).hexdigest()
            named = f"{named[:MAX_SESSION_LABEL - 13]}~{digest}"
        return named
    boot = ""
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as fh:
            boot = fh.read().strip()[:8]
    except OSError:
        pass
    day = utc_day(now_iso())  # the UTC day, as the session rule reads a run's date (review66)
    return f"{boot}-{day}" if boot else day


def check_environment() -> None:
    """``$GPUSLO_SESSION`` and ``$GPUSLO_NOW`` checked once, before any test runs: every run keeps
    both (its last-run file for ``gpuslo accept``, ``--gpuslo-save``), and a bad value found after
    a long measurement failed each SLO test in turn (review67).  Raises ``InvalidArgument``."""
    session_id()
    now_iso()


def keep_sessions(runs: list[Run], limit: int = MAX_RUNS) -> tuple[list[Run], list[Run]]:
    """The runs a file keeps (``limit`` at most) and those it drops, in order: the oldest run of a
    session that holds another goes first, and only when every session holds one, the oldest run.
    Dropping the oldest runs alone let one busy day of saves on main push every older day out, and
    with them the sessions a REGRESSED needs (review202 F2: 5 sessions to 1, a +35% slowdown read
    INCONCLUSIVE and green)."""
    kept, dropped = list(runs), []
    while len(kept) > limit:
        groups = session_groups(session_labels(kept), [utc_day(r.date) for r in kept])
        shared = [i for i, g in enumerate(groups) if groups.count(g) > 1] if groups else []
        dropped.append(kept.pop(shared[0] if shared else 0))
    return kept, dropped


def session_labels(runs: list[Run]) -> list[str]:
    """The session each run comes from (runs stored before sessions were kept: their day)."""
    return [str(r.summary.get("session") or r.date[:10]) for r in runs]


def stored_runs(runs: list[Run]) -> str:
    """How many runs and sessions a saved file now holds, and, where a REGRESSED against them is
    held back for too few sessions, what to record (review67: a constant ``GPUSLO_SESSION`` such as
    ``nightly`` made every saved run one session, which only a later comparison said)."""
    sessions = len(set(session_groups(session_labels(runs), [utc_day(r.date) for r in runs])))
    said = f"{len(runs)} run{'s' if len(runs) != 1 else ''} from {sessions} session{'s' if sessions != 1 else ''}"
    if len(runs) < MIN_RUNS_FOR_SPREAD or sessions < MIN_SESSIONS:
        # review81: "under other labels" could not be followed: a label can join days, never split one;
        # review82: said from the first run on, as the README promises, and a label that joined
        # this run to another day's session is named
        labels, day = session_labels(runs), utc_day(runs[-1].date)
        joined = any(lab == labels[-1] and utc_day(r.date) != day for lab, r in zip(labels[:-1], runs[:-1]))
        # review98: "needs 3" read as enough; with 3 the prediction interval's t has 2 degrees of
        # freedom (9.9 at alpha/2), so only a change past about 10x their spread is told
        said += (f"; a REGRESSED against them needs {MIN_RUNS_FOR_SPREAD} runs from {MIN_SESSIONS} sessions at "
                 f"least (with {MIN_RUNS_FOR_SPREAD}, only a change of about 10x their spread; each run more "
                 f"narrows it, and gpuslo ab needs none), and "
                 f"runs of one UTC day count once (a $GPUSLO_SESSION label shared across days joins them too"
                 + (f": this run's label {labels[-1]!r} joined it to another day's" if joined else "")
                 + "): save runs on other days" + (", under no shared label" if joined else ""))
    return said


def power_note(store: Store, saved: Baseline, policy: Policy | None = None) -> str:
    """What the file ``saved`` went into can now show REGRESSED, from its runs' spread
    (``gate.store_note``), for the message of a save; '' where it cannot be said (review138 F1).
    Read back from the file, not from the runs in hand: another xdist worker or session may have
    saved runs into it meanwhile, and the note is about what the next comparison will read."""
    try:
        found = store.get(saved.nodeid, saved.machine)
        if found is None:
            return ""
        spec = SloSpec.from_dict(saved.spec)
        return store_note(gate_input(found, spec, fingerprint=saved.schedule_fingerprint, machine=saved.machine),
                          spec, policy)
    except (BaselineFormatError, OSError, KeyError, TypeError, ValueError):
        return ""  # the save itself went through and said so; this is advice


def run_controls(runs: list[Run]) -> list[dict[str, float] | None]:
    """Each run's machine control (``control.combine``), None for runs stored before it was kept."""
    return [r.summary.get("control") or None for r in runs]


def gate_input(found: Baseline, spec: SloSpec, *, fingerprint: str, machine: dict[str, Any]) -> BaselineInput:
    """A stored baseline as ``gate.compare`` takes it, for a run on ``machine`` over the schedule
    ``fingerprint``: one place, so the plugin and ``gpuslo compare`` judge alike."""
    measured = [r.measurements() for r in found.runs]
    # Another seed replays another schedule of the same load (compared unpaired); another rate,
    # lane count or length is another load (review89 #4: "+166%" against a 500/s baseline at 400/s).
    changed = load_changes(found.spec, spec.as_dict(), tuple(f for f in LOAD_FIELDS if f != "seed"))
    return baseline_input([r.latency_ms for r in found.runs], spec, paired=found.schedule_fingerprint == fingerprint,
                          changed=changed,
                          sessions=session_labels(found.runs), days=[utc_day(r.date) for r in found.runs],
                          differing=differing_keys(found.machine, machine),
                          where=str(found.path), date=found.latest.date, commit=found.latest.commit,
                          controls=run_controls(found.runs),
                          scales=[r.summary.get("scale") or None for r in found.runs],
                          dispatched=[from_dispatch(m) for m in measured],
                          holds=[median_hold(r.launcher_hold_ms) for r in found.runs],
                          waits=[m.launcher_wait for m in measured],
                          hosts_measured=all(m.body_host_ms is not None for m in measured),
                          body_hosts=[m.body_host_ms for m in measured],
                          shuffled=[m.shuffled for m in measured],
                          shuffled_off=[m.shuffled_off for m in measured],
                          owns=[m.own_mean_ms for m in measured],
                          raised_counts=[m.failed for m in measured],
                          # CPU lanes: every delay holds the dispatcher's precision (``gate.save_note``)
                          late_floor_ms=DISPATCH_PRECISION_NS / 1e6 if found.machine.get("backend") == "cpu" else 0.0)


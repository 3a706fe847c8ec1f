"""Hostile files: whatever bytes a baseline or a trace holds, the loader returns a usable object or
the project's own error naming the file, in bounded time and memory (the issue's rows A-D, L, N, O;
docs/limits.md)."""

from __future__ import annotations

import base64
import dataclasses
import json
import math
import os
import re
import subprocess
import sys
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_gpuslo import baseline as bl
from pytest_gpuslo import limits
from pytest_gpuslo.arrivals import trace as tr
from pytest_gpuslo.errors import BaselineFormatError, GpuSloError, InvalidArgument

MACHINE = {"backend": "cpu", "cpu": "Test CPU 9000", "cpu_count": 2}


def good(n: int = 50, runs: int = 2) -> dict[str, Any]:
    lats = [np.random.default_rng(k).lognormal(0, 0.3, n) for k in range(runs)]  # measured runs never repeat
    b = bl.Baseline("t.py::test_a", {"budgets_ms": {"p95": 5.0}, "rate_hz": 100.0}, 1, "abc", dict(MACHINE),
                    [bl.Run(lat, "2026-11-26T00:00:00+00:00", "abc123", {}, {"failed": 0}, lat / 10)
                     for lat in lats])
    return b.to_json()


def write(tmp_path: Path, data: Any, name: str = "b.json") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


@contextmanager
def bounded(max_mb: float, max_s: float) -> Iterator[None]:
    """The block allocates at most ``max_mb`` (tracemalloc peak, numpy included) within ``max_s``."""
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        yield
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        elapsed = time.perf_counter() - t0
    assert peak < max_mb * 2**20, f"peak {peak / 2**20:.1f} MB"
    assert elapsed < max_s, f"took {elapsed:.1f} s"


def use(b: bl.Baseline) -> None:
    """What the plugin and the CLI do with a loaded baseline: none of it may raise."""
    for r in b.runs:
        r.measurements()
        np.quantile(r.latency_ms, 0.95)
        json.dumps(r.to_json())
    b.to_json()
    bl.differing_keys(b.machine, MACHINE)


def nested(depth: int) -> Any:
    return [] if depth == 0 else [nested(depth - 1)]


# -- row A: schema checked before use --------------------------------------------------------------

@pytest.mark.parametrize(
    ("mutate", "fragment"),
    [
        (lambda d: d.update(runs=[1, 2]), "run 0 must be an object"),
        (lambda d: d.update(runs={"a": 1}), '"runs" must be a list'),
        (lambda d: d.update(runs=[]), '"runs" must be a list of 1 to'),
        (lambda d: d.update(spec=[1]), '"spec" must be an object'),
        (lambda d: d.update(seed=True), '"seed" must be a whole number'),
        (lambda d: d["runs"][0].update(date=5), 'run 0: "date" must be an ISO 8601 date and time'),
        (lambda d: d["runs"][0].update(date="yesterday"), "not 'yesterday'"),
        (lambda d: d["runs"][0].update(summary={"session": {"x": 1}}), 'run 0: summary "session" must be a string'),
        (lambda d: d["runs"][0].update(stages={"tok": {"n": "x"}}), 'run 0: "stages" must be an object of stages'),
        (lambda d: d["spec"].update(budgets_ms={"p95": float("inf")}), 'spec "budgets_ms" must map percentiles'),
        # review164 F2: "its \"spec\" cannot be read (KeyError: 'p42')"
        (lambda d: d["spec"].update(budgets_ms={"p95": 50, "p42": 3}),
         'spec "budgets_ms" names \'p42\', which is no percentile the plugin measures (p50, p90, p95, p99, p99.9)'),
        (lambda d: d["spec"].update(streams=0), 'spec "streams" must be a whole number >= 1'),
        (lambda d: d["spec"].update(rate_hz=None), 'spec "rate_hz" must be a finite number > 0, not None'),
        (lambda d: d.update(telemetry={"other_cpu_load": "lots"}), 'telemetry "other_cpu_load" must be a finite'),
        (lambda d: d["runs"][0].update(n=-1), 'run 0: "n" must be a whole number'),
        (lambda d: d["runs"][0].update(n=49), "sample inflates past 49 values (the run says n=49)"),
        (lambda d: d["runs"][0].update(n=51), "a run says n=51 but holds 50 samples"),
        (lambda d: d["runs"][1].update(summary={"failed": "many"}), 'run 1: summary "failed" must be'),
        (lambda d: d["runs"][0].update(summary={"disturbances": "hot"}), "a list of at most 100 strings"),
        (lambda d: d["runs"][0].update(summary={"shuffled_off": "x" * 100_000}),
         'summary "shuffled_off" must be a string of at most 2,000 characters without control codes (why the '
         "run keeps no replayed statistic), not 'xxx"),
        (lambda d: d["runs"][0].update(summary={"first_error": "e" * 2001}), "... (2,001 characters)"),
        (lambda d: d["runs"][0].update(summary={"contention": "busy \x1b[31mred\r"}), "without control codes"),
        (lambda d: d["runs"][0].update(summary={"shuffled_off": 5}), 'summary "shuffled_off" must be a string'),
        # review81: printed as they are by gpuslo show and the reports
        (lambda d: d["runs"][0].update(commit="\x1b[31mred"), 'run 0: "commit" must be a string of at most'),
        (lambda d: d.update(nodeid="t.py::\x1b[2Jtest"), '"nodeid" must be a string of at most 2,000 characters'),
        (lambda d: d["machine"].update(gpu="H200\x1b]0;x\x07"), '"machine" must hold strings each a string'),
        (lambda d: d["runs"][0].update(stages={"\x1b[31m": {"n": 1}}), 'run 0: "stages" must be an object of stages'),
        (lambda d: d["runs"][1].update(summary={"control": {"cpu_ms": -1}}),
         'run 1: summary "control" must be an object of positive numbers'),
        (lambda d: d["runs"][1].update(summary={"scale": {"p95": "steep"}}),
         'run 1: summary "scale" must be an object of numbers'),
        (lambda d: d["runs"][0].update(lag_sample=bl.encode_sample([1.0])), "n=50 but holds 1"),
        (lambda d: d.update(schema=0), "has schema 0, which no pytest-gpuslo ever wrote"),
        (lambda d: d.update(schema=-5), "has schema -5"),
        (lambda d: d.update(telemetry={"x": nested(40)}),
         "nests deeper than 32 levels"),
        # review200 F1: a newline printed a forged row in gpuslo show; F2: "1000000 raised" of 50 was a FAIL
        (lambda d: d["machine"].update(cpu="Xeon\nFORGED: t.py::test_x PASS"), "each a string of at most 2,000 "
                                                                             "characters without control codes, "
                                                                             "on one line"),
        (lambda d: d["runs"][0].update(commit="abc\tdef"), 'run 0: "commit" must be a string of at most'),
        (lambda d: d.update(nodeid="t.py::test_a\u2028x"), '"nodeid" must be a string of at most'),
        (lambda d: d["runs"][0].update(n=50, summary={"failed": 1000000}),
         'run 0: summary "failed" 1000000 is more than the run\'s n 50 requests'),
    ],
    ids=["runs-ints", "runs-object", "no-runs", "spec-list", "seed-bool", "date-int", "date-words", "session-dict",
         "stage-n-str", "budget-inf", "budget-p42", "streams-0", "rate-null", "telemetry-str", "n-negative",
         "n-short", "n-long", "summary-str", "disturbances-str", "text-100kB", "text-length", "text-escape", "text-int",
         "commit-escape", "nodeid-escape", "machine-escape", "stage-escape",
         "control-negative", "scale-str", "lag-size",
         "schema-0", "schema-negative", "deep", "machine-newline", "commit-tab", "nodeid-line-separator",
         "failed-over-n"],
)
def test_a_wrong_schema_is_named_never_a_raw_error(tmp_path: Path, mutate: Callable[[dict[str, Any]], None],
                                                   fragment: str) -> None:
    """Row A (and N's schema 0 / -5): every field is checked before use, so the plugin and the CLI
    never meet an AttributeError or a TypeError from a baseline."""
    data = good()
    mutate(data)
    path = write(tmp_path, data)
    with pytest.raises(BaselineFormatError) as info:
        bl.load(path)

    assert str(path) in str(info.value) and fragment in str(info.value)
    assert len(str(info.value)) < 2000  # a 100 kB value is quoted in brief


def test_a_run_copied_under_other_dates_is_refused_not_counted_as_sessions(tmp_path: Path) -> None:
    """review191 F2: one run copied eight times under eight dates and session labels read as eight
    sessions whose spread, none, made a zero-width prediction interval (IMPROVED at [0.840, 0.840]).
    A save of such a copy does not add it either."""
    data = good(runs=3)
    data["runs"][2] = {**data["runs"][0], "date": "2026-11-28T00:00:00+00:00"}
    with pytest.raises(BaselineFormatError, match=r"runs 1 and 3 hold the same 50 samples: one run copied, which "
                                                  r"would count its noise as many runs'; keep one of them"):
        bl.load(write(tmp_path, data))
    store = bl.Store(tmp_path / "store")
    b = bl.load(write(tmp_path, good(runs=1), "one.json"))
    store.save(b)
    copy = bl.Baseline(b.nodeid, b.spec, b.seed, b.schedule_fingerprint, b.machine,
                       [dataclasses.replace(b.runs[0], date="2026-12-01T00:00:00+00:00")])
    path, what = store.save(copy)
    assert what.startswith("already stored (1 run") and len(bl.load(path).runs) == 1


def test_a_merge_conflict_in_a_baseline_is_named_with_the_fix_that_keeps_both_sides(tmp_path: Path) -> None:
    """review202 F1: two branches' saves merged read "is not valid JSON ... at line 54", and the
    fixes offered (restore it, delete it) each threw one branch's runs away."""
    text = json.dumps(good(runs=2), indent=1).splitlines()
    at = next(i for i, line in enumerate(text) if '"runs"' in line) + 1
    conflicted = "\n".join([*text[:at], "<<<<<<< HEAD", *text[at:at + 3], "=======", *text[at:at + 3],
                             ">>>>>>> feature", *text[at + 3:]])
    with pytest.raises(BaselineFormatError, match=r"holds unresolved git merge-conflict markers .*Keep both sides' "
                                                  r"runs: put the entries of both \"runs\" lists in one list"):
        bl.load(write(tmp_path, conflicted))


def test_deeply_nested_json_is_named_not_a_recursion_error(tmp_path: Path) -> None:
    """Row A: 100,000 nested brackets."""
    path = write(tmp_path, "[" * 100_000 + "]" * 100_000)
    with bounded(max_mb=32, max_s=5), pytest.raises(BaselineFormatError, match="nests deeper|not a pytest-gpuslo"):
        bl.load(path)


def test_a_file_of_a_million_small_lists_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    """review187 F4: a valid 40-MB file with ten million one-item lists under ``telemetry`` took
    30 s and 1.9 GB on every read.  Its values are counted on the bytes first; a real file holds a
    few hundred, and one with a few thousand more still loads."""
    data = good()
    data["telemetry"] = {"pad": [[0]] * (limits.MAX_JSON_VALUES // 2 + 1)}
    path = write(tmp_path, json.dumps(data, separators=(",", ":")))
    with bounded(max_mb=24, max_s=5), pytest.raises(BaselineFormatError, match=r"holds about 500,0\d\d JSON values"):
        bl.load(path)
    data["telemetry"] = {"pad": [[0]] * 5000}
    use(bl.load(write(tmp_path, data, "ok.json")))


def test_a_corrupt_file_leaves_the_rest_of_the_store_usable(tmp_path: Path) -> None:
    """Row A: Store.all() names the bad file and still loads the good one."""
    bl.Store(tmp_path).save(bl.Baseline("t.py::test_ok", {}, 1, "f", dict(MACHINE),
                                        [bl.Run(np.ones(10), bl.now_iso())]))
    data = good()
    data["runs"] = [1, 2]
    write(tmp_path, data, "bad.json")
    entries = dict(bl.Store(tmp_path).all())

    assert isinstance(entries[tmp_path / "bad.json"], BaselineFormatError)
    assert sum(isinstance(b, bl.Baseline) for b in entries.values()) == 1


# -- row B: decompression bounded -------------------------------------------------------------------

def bomb(megabytes: int) -> str:
    return base64.b64encode(zlib.compress(bytes(megabytes * 2**20), 9)).decode()


def test_a_zip_bomb_is_refused_at_its_declared_n(tmp_path: Path) -> None:
    """Row B: 64 MiB of zeros behind n=50 inflate no further than 50 values."""
    data = good()
    data["runs"][0]["sample"] = bomb(64)
    path = write(tmp_path, data)
    with bounded(max_mb=8, max_s=5), pytest.raises(BaselineFormatError, match="inflates past 50 values"):
        bl.load(path)


def test_a_zip_bomb_without_n_stops_at_the_global_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Row B: with ``n`` removed, limits.MAX_REQUESTS bounds the inflation."""
    monkeypatch.setattr(limits, "MAX_REQUESTS", 100_000)
    data = good()
    del data["runs"][0]["n"]
    data["runs"][0]["sample"] = bomb(64)
    path = write(tmp_path, data)
    with bounded(max_mb=8, max_s=5), pytest.raises(BaselineFormatError, match="inflates past 100,000 values"):
        bl.load(path)


# -- row C: regular files only ----------------------------------------------------------------------

@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_a_baseline_that_links_to_dev_zero_is_refused_unread(tmp_path: Path) -> None:
    """Row C: a symlink to a device is not read (it used to be read until MemoryError)."""
    path = tmp_path / "b.json"
    path.symlink_to("/dev/zero")
    with bounded(max_mb=8, max_s=5), pytest.raises(BaselineFormatError, match="is not a regular file"):
        bl.load(path)


@pytest.mark.parametrize("kind", ["baseline", "trace"])
def test_a_link_that_loops_or_leads_nowhere_is_named_as_such(tmp_path: Path, kind: str) -> None:
    """review117 F5: a self-looping baseline read "cannot be opened (No such file or directory)"."""
    path = tmp_path / ("b.json" if kind == "baseline" else "t.csv")
    path.symlink_to(path.name)
    with pytest.raises(GpuSloError, match=f"is a link that loops back on itself \\(to {path.name}\\)"):
        bl.load(path) if kind == "baseline" else tr.Trace(str(path))
    path.unlink()
    path.symlink_to(tmp_path / "gone")
    with pytest.raises(GpuSloError, match="is a link to nothing"):
        bl.load(path) if kind == "baseline" else tr.Trace(str(path))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
@pytest.mark.parametrize("kind", ["baseline", "trace"])
def test_a_fifo_is_refused_without_hanging(tmp_path: Path, kind: str) -> None:
    """Row C: opening a FIFO for reading would block forever; it is refused at once."""
    path = tmp_path / ("b.json" if kind == "baseline" else "t.csv")
    os.mkfifo(path)
    with bounded(max_mb=8, max_s=5), pytest.raises(GpuSloError, match="is not a regular file"):
        bl.load(path) if kind == "baseline" else tr.Trace(str(path))


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_a_trace_at_dev_zero_is_refused_unread() -> None:
    """Row C: trace(path='/dev/zero')."""
    with bounded(max_mb=8, max_s=5), pytest.raises(InvalidArgument, match="trace /dev/zero: is not a regular file"):
        tr.Trace("/dev/zero")


# -- row D: a directory, non-UTF-8 -------------------------------------------------------------------

@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda p: p.mkdir(), "is a directory"),
        (lambda p: p.write_bytes(b'{"timestamps": [0, 1, \xff\xfe]}'), "is not UTF-8 text"),
        (lambda p: p.write_text("[" * 100_000), "nests too deep|is not valid JSON"),
        (lambda p: p.write_text("[" + "9" * 5000 + "]"), "is not valid JSON"),
        (lambda p: p.write_text("[0, 1e300]"), "outside 1 ns to"),
        (lambda p: p.write_text('{"unit": ["s"], "timestamps": [0, 1]}'), '"unit" is'),
        # review200 F5: ignored, and the stamps read as seconds
        (lambda p: p.write_text('{"unti": "ms", "timestamps": [0, 1]}'),
         r"holds keys a trace does not take: 'unti' \(did you mean 'unit'\?\)"),
    ],
    ids=["directory", "not-utf8", "deep", "huge-int", "overflow", "unit-list", "unknown-key"],
)
def test_a_bad_json_trace_is_named(tmp_path: Path, make: Callable[[Path], Any], fragment: str) -> None:
    """Row D: every problem is InvalidArgument naming the file (it used to be an INTERNALERROR)."""
    path = tmp_path / "t.json"
    make(path)
    with pytest.raises(InvalidArgument, match=fragment) as info:
        tr.Trace(str(path))

    assert str(path) in str(info.value)


# -- row O: a huge trace is refused before parsing -----------------------------------------------------

def test_a_trace_with_too_many_lines_is_refused_before_parsing(tmp_path: Path) -> None:
    """Row O: more lines than limits.MAX_TRACE_LINES is refused from a line count, in a fraction of
    a second and about the file's size in memory (it used to be parsed: 35 s and 2.6 GB at 30M)."""
    path = tmp_path / "t.csv"
    path.write_bytes(b"1\n" * (limits.MAX_TRACE_LINES + 1))
    with bounded(max_mb=3 * path.stat().st_size / 2**20, max_s=3), \
            pytest.raises(InvalidArgument, match="over the 5,000,000-line limit"):
        tr._load.__wrapped__(str(path), 0.0, "intervals", "s", 0)


def test_a_trace_on_one_long_line_is_refused_before_it_is_split(tmp_path: Path) -> None:
    """review117 F15: a 120-MB trace on one line peaked at 1.2 GB (a string a cell) before its
    error; a line over limits.MAX_TRACE_LINE_CHARS is refused first, in a few times its size."""
    path = tmp_path / "t.csv"
    path.write_bytes(b"0.001," * 2_000_000)  # 12 MB, two million cells
    # review120: about 3x the file with the per-line check alone; refused from the byte count now
    with bounded(max_mb=2.5 * path.stat().st_size / 2**20, max_s=60), \
            pytest.raises(InvalidArgument, match="t.csv: has 1 line\\(s\\) in 12,000,000 bytes, so one is over the 65,536"):
        tr._load.__wrapped__(str(path), 0.0, "intervals", "s", 0)
    path.write_bytes(b"0.001\n" * 100 + b"0.001," * 20_000 + b"\n")  # one long line among short ones
    with pytest.raises(InvalidArgument, match="t.csv, line 101: has a line of 120,001 characters, over the 65,536"):
        tr._load.__wrapped__(str(path), 0.0, "intervals", "s", 0)
    path.write_text(("0.001," * 1000 + "\n") * 3)  # long rows are still rows: column 0 read
    assert tr._load.__wrapped__(str(path), 0.0, "intervals", "s", 0).size == 4  # 3 gaps


@pytest.mark.parametrize("end", [b"\r", b"\r\n"])
def test_lines_ended_by_a_carriage_return_count_as_lines(tmp_path: Path, end: bytes) -> None:
    """review120: a file of \\r-ended lines passed the line count (of \\n only), was parsed whole
    (30 s, 648 MB at 21M lines) and only then refused by the value count."""
    path = tmp_path / "t.csv"
    path.write_bytes((b"0.001" + end) * (limits.MAX_TRACE_LINES + 1))
    with bounded(max_mb=3 * path.stat().st_size / 2**20, max_s=60), \
            pytest.raises(InvalidArgument, match="has 5,000,001 lines, over the 5,000,000-line limit"):
        tr._load.__wrapped__(str(path), 0.0, "intervals", "s", 0)
    path.write_bytes((b"0.001" + end) * 3)
    assert tr._load.__wrapped__(str(path), 0.0, "intervals", "s", 0).size == 4  # 3 gaps


def test_a_json_trace_with_too_many_values_is_refused_before_parsing(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_TRACE_VALUES", 1000)
    path = tmp_path / "t.json"
    path.write_text(json.dumps(list(range(5000))))
    with pytest.raises(InvalidArgument, match="holds more than 1,000 values"):
        tr.Trace(str(path))


def test_an_npy_trace_declaring_a_huge_shape_is_refused_from_its_header(tmp_path: Path) -> None:
    """The header's shape is checked before numpy allocates it (800 GB here)."""
    path = tmp_path / "t.npy"
    with path.open("wb") as fh:
        np.lib.format.write_array_header_1_0(fh, {"descr": "<f8", "fortran_order": False, "shape": (10**11,)})
        fh.write(bytes(80))
    with bounded(max_mb=8, max_s=5), pytest.raises(InvalidArgument, match="over 5,000,000"):
        tr.Trace(str(path))


@pytest.mark.parametrize("suffix", [".npy", ".json"])
def test_a_column_on_a_one_series_trace_is_refused_not_ignored(tmp_path: Path, suffix: str) -> None:
    """review117 F14: column=2 on a .npy trace was ignored without a word; column 0 is the series."""
    path = tmp_path / f"t{suffix}"
    values = np.arange(50) * 0.01
    np.save(path, values) if suffix == ".npy" else path.write_text(json.dumps(values.tolist()))
    assert tr.Trace(str(path), column=0).times().size == 50
    with pytest.raises(InvalidArgument, match=f"column=2 picks a column of a CSV or text trace, and a \\{suffix}"):
        tr.Trace(str(path), column=2)


# -- fuzz: any bytes, any JSON -------------------------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
FIELDS = ("tool", "schema", "nodeid", "spec", "seed", "schedule_fingerprint", "machine", "telemetry", "runs")
RUN_FIELDS = ("date", "commit", "n", "encoding", "sample", "stages", "summary", "lag_sample")


def check_baseline(path: Path) -> None:
    try:
        with bounded(max_mb=64, max_s=10):
            b = bl.load(path)
    except BaselineFormatError as exc:
        assert str(path) in str(exc)
        return
    use(b)


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(data=st.binary(max_size=2000))
def test_fuzz_any_bytes_as_a_baseline(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "b.json"
    path.write_bytes(data)
    check_baseline(path)


@FUZZ
@given(value=JSON)
def test_fuzz_any_json_value_as_a_baseline(tmp_path: Path, value: Any) -> None:
    path = tmp_path / "b.json"
    path.write_text(json.dumps(value))
    check_baseline(path)


@FUZZ
@given(field=st.sampled_from(FIELDS + RUN_FIELDS), value=JSON, run=st.integers(0, 1), drop=st.booleans())
def test_fuzz_a_valid_baseline_with_one_field_replaced(tmp_path: Path, field: str, value: Any, run: int,
                                                       drop: bool) -> None:
    """The near misses a hand edit or a merge produces: one field changed or removed."""
    data = good()
    target = data["runs"][run] if field in RUN_FIELDS else data
    if drop:
        target.pop(field, None)
    else:
        target[field] = value
    path = tmp_path / "b.json"
    path.write_text(json.dumps(data))
    check_baseline(path)


def check_trace(path: Path, kind: str, unit: str) -> None:
    try:
        with bounded(max_mb=64, max_s=10):
            times = tr._load.__wrapped__(str(path), 0.0, kind, unit, 0)
    except InvalidArgument as exc:
        assert str(path) in str(exc)
        return
    assert times.ndim == 1 and times.size >= 2 and times[0] >= 0.0
    assert np.isfinite(times).all() and np.all(np.diff(times) >= 0) and times[-1] > 0


@FUZZ
@given(data=st.binary(max_size=2000), suffix=st.sampled_from([".csv", ".json", ".npy", ".txt"]),
       kind=st.sampled_from(tr.KINDS), unit=st.sampled_from(list(tr.UNITS)))
def test_fuzz_any_bytes_as_a_trace(tmp_path: Path, data: bytes, suffix: str, kind: str, unit: str) -> None:
    path = tmp_path / f"t{suffix}"
    path.write_bytes(data)
    check_trace(path, kind, unit)


@FUZZ
@given(value=JSON | st.lists(st.floats() | st.integers(), max_size=50),
       kind=st.sampled_from(tr.KINDS))
def test_fuzz_any_json_value_as_a_trace(tmp_path: Path, value: Any, kind: str) -> None:
    path = tmp_path / "t.json"
    path.write_text(json.dumps(value))
    check_trace(path, kind, "s")


@FUZZ
@given(lines=st.lists(st.text(alphabet="0123456789.,;-e#x \t", max_size=12), max_size=40),
       kind=st.sampled_from(tr.KINDS))
def test_fuzz_csv_like_traces(tmp_path: Path, lines: list[str], kind: str) -> None:
    path = tmp_path / "t.csv"
    path.write_text("\n".join(lines))
    check_trace(path, kind, "ms")


# -- row L: locks and temporary files ----------------------------------------------------------------

KILL_WHILE_LOCKED = """
import os, signal, sys
from pathlib import Path
from pytest_gpuslo import baseline as bl
lock = bl._lock(Path(sys.argv[1]))
lock.acquire()
print("locked", flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_the_lock_of_a_killed_saver_never_delays_the_next_save(tmp_path: Path) -> None:
    """Row L: a saver SIGKILLed while holding the lock; the next save goes at once (it waited 30 s)."""
    store = bl.Store(tmp_path)
    path = store.path_for("t.py::test_a", MACHINE)
    killed = subprocess.run([sys.executable, "-c", KILL_WHILE_LOCKED, str(path)], capture_output=True, text=True)
    assert "locked" in killed.stdout and killed.returncode == -9
    t0 = time.perf_counter()
    store.save(bl.Baseline("t.py::test_a", {}, 1, "f", dict(MACHINE), [bl.Run(np.ones(10), bl.now_iso())]))

    assert time.perf_counter() - t0 < 5
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # the store holds baselines only


def test_a_save_removes_the_temporary_files_of_interrupted_writes(tmp_path: Path) -> None:
    """Row L: a killed write leaves ``.<name>.<random>.tmp``; the next save of that file (holding its
    lock, so no live writer owns one) removes it, and old ones of other files too."""
    store = bl.Store(tmp_path)
    path = store.path_for("t.py::test_a", MACHINE)
    mine = tmp_path / f".{path.name}.x1y2.tmp"
    other_old = tmp_path / ".other.json.a1b2.tmp"
    other_new = tmp_path / ".other.json.c3d4.tmp"
    for f in (mine, other_old, other_new):
        f.write_text("{")
    os.utime(other_old, (time.time() - 2 * bl.STALE_TMP_S,) * 2)
    store.save(bl.Baseline("t.py::test_a", {}, 1, "f", dict(MACHINE), [bl.Run(np.ones(10), bl.now_iso())]))

    assert not mine.exists() and not other_old.exists() and other_new.exists()


def test_limits_are_documented() -> None:
    """docs/limits.md names every limit with its value."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "limits.md").read_text()
    for name in ("MAX_REQUESTS", "MAX_HORIZON_S", "MAX_STREAMS", "MAX_BASELINE_BYTES", "MAX_BASELINE_RUNS",
                 "MAX_JSON_DEPTH", "MAX_TRACE_BYTES", "MAX_TRACE_VALUES", "MAX_TRACE_LINES", "MAX_TRACE_LINE_CHARS", "BYTES_PER_REQUEST",
                 "MAX_STAMPED_REQUESTS"):
        assert name in doc and f"{int(getattr(limits, name)):,}" in doc, name


def test_a_csv_header_names_the_unit_and_the_column_in_the_marker_too(tmp_path: Path) -> None:
    """review121: a CSV header's unit (``timestamp_ms``) was read by ``gpuslo arrivals describe``
    only: the marker's default unit='s' took millisecond stamps as seconds (1000x too slow where
    rate_hz is None), and column= took a number only.  The header's unit now wins over the default,
    a contradiction is refused, and a column may be named."""
    from pytest_gpuslo.arrivals import trace as tr

    path = tmp_path / "t.csv"
    path.write_text("size,timestamp_ms\n" + "".join(f"12,{10.0 * k}\n" for k in range(101)))
    plain = tmp_path / "plain.csv"
    plain.write_text("size,stamp\n" + "".join(f"12,{10.0 * k}\n" for k in range(101)))

    assert tr.Trace(str(path), column="timestamp_ms").times()[-1] == pytest.approx(1.0)
    assert tr.Trace(str(path), column=1, unit="ms").times()[-1] == pytest.approx(1.0)
    assert tr.Trace(str(plain), column="stamp").times()[-1] == pytest.approx(1000.0)  # nothing names it: s
    with pytest.raises(InvalidArgument, match="names its unit \"ms\" in the header 'timestamp_ms', and unit='us'"):
        tr.Trace(str(path), column=1, unit="us")
    # review125 N4: unit='s' written out was the default, and gave way to the header without a word
    with pytest.raises(InvalidArgument, match="names its unit \"ms\" in the header 'timestamp_ms', and unit='s'"):
        tr.Trace(str(path), column="timestamp_ms", unit="s")
    assert tr.Trace(str(plain), column="stamp", unit="s").times()[-1] == pytest.approx(1000.0)
    with pytest.raises(InvalidArgument, match=r"has no column named 'when' \(its header's names: 'size', 'timestamp_ms'\)"):
        tr.Trace(str(path), column="when")
    bare = tmp_path / "bare.csv"
    bare.write_text("1\n2\n3\n")
    with pytest.raises(InvalidArgument, match=r"has no header line naming a column 't' \(its first line of numbers: 1\)"):
        tr.Trace(str(bare), column="t")
    digits = tmp_path / "digits.csv"  # a name with digits in it is a header's too
    digits.write_text("t1_ms,t2_ms\n" + "".join(f"{10.0 * k},0\n" for k in range(101)))
    assert tr.Trace(str(digits), column="t1_ms").times()[-1] == pytest.approx(1.0)
    # a first line that is a number without digits is no header: refused as before
    nan = tmp_path / "nan.csv"
    nan.write_text("nan\n1\n2\n")
    with pytest.raises(InvalidArgument, match="value nan is not finite"):
        tr.Trace(str(nan))


@pytest.mark.parametrize(("name", "span"), [("time_milliseconds", 1.0), ("t_msecs", 1.0), ("t (micros)", 1e-3),
                                          ("gap_nanoseconds", 1e-6), ("t_secs", 1000.0), ("t, [ms]", 1.0),
                                          ("t (ms since start)", 1.0), ("t/ms", 1.0), ('t "ms"', 1.0),
                                          ("min_latency_ms", 1.0), ("t [ms] 2024", 1.0),
                                          ("elapsed_milliseconds_total", 1.0), ("us_east_time", 1000.0),
                                          ("ms_count", 1000.0)])
def test_a_csv_header_s_unit_is_read_in_its_spellings_and_a_quoted_name_whole(
        tmp_path: Path, name: str, span: float) -> None:
    """review125 N5: ``time_milliseconds`` was read as seconds (nothing matched, so the default);
    a quoted header cell with a comma was cut at it, so its column could not be named."""
    path = tmp_path / "t.csv"
    cell = '"' + name.replace('"', '""') + '"' if "," in name or '"' in name else name
    path.write_text(f"{cell},id\n" + "".join(f"{10.0 * k},{k}\n" for k in range(101)))
    assert tr.Trace(str(path), column=name).times()[-1] == pytest.approx(span)
    # review126 F-T4: by its number too, a header with digits in it, after a spreadsheet's "sep=," line
    path.write_text(f"sep=,\n{cell},id\n" + "".join(f"{10.0 * k},{k}\n" for k in range(101)))
    assert tr.Trace(str(path), column=0).times()[-1] == pytest.approx(span)


@pytest.mark.parametrize("name", ["t_min", "arrival_minutes", "t [h]", "stamp_hours", "t_days", "t_m"])
def test_a_csv_header_in_minutes_or_hours_is_refused_not_read_as_seconds(tmp_path: Path, name: str) -> None:
    """review125 N5: ``t_min`` was read as seconds, a rate 60x too high, without a word."""
    path = tmp_path / "t.csv"
    path.write_text(f"id,{name}\n" + "".join(f"{k},{0.01 * k}\n" for k in range(101)))
    for unit in (None, "s"):
        with pytest.raises(InvalidArgument, match=rf"names its unit \"\w+\" in the header '{re.escape(name)}', which "
                           r"a trace is not read in; write the column in one of s, ms, us, ns"):
            tr.Trace(str(path), column=name, unit=unit).times()


def test_a_csv_header_naming_two_units_or_unreadable_bytes_is_refused(tmp_path: Path) -> None:
    """review126 F-T2, F-T3: a header that names two units is not guessed at, and one whose bytes
    are not UTF-8 (a latin-1 't_µs') was read in seconds, as naming nothing."""
    two = tmp_path / "two.csv"
    two.write_text("id,t [ms since us boot] total\n" + "".join(f"{k},{10.0 * k}\n" for k in range(101)))
    with pytest.raises(InvalidArgument, match=r"names more than one unit in the header 't \[ms since us boot\] total' \(ms or us\)"):
        tr.Trace(str(two), column=1).times()
    latin = tmp_path / "latin.csv"
    latin.write_bytes("id,t_µs\n".encode("latin-1") + b"".join(b"%d,%d\n" % (k, 10 * k) for k in range(101)))
    with pytest.raises(InvalidArgument, match="holds bytes that are not UTF-8; save the file as UTF-8"):
        tr.Trace(str(latin), column=1).times()
    with pytest.raises(InvalidArgument, match=r"has no column named 't_µs' .*\(the file is not UTF-8"):
        tr.Trace(str(latin), column="t_µs").times()


@pytest.mark.parametrize(("name", "unit"), [("t_ms (second pass)", "ms"), ("t_us (per second)", "us"),
                                          ('t_ms "seconds since boot"', "ms"), ("timestampMs", "ms"),
                                          ("startTimeMillis", "ms"), ("t_ms.1", "ms"), ("t [\u00b5sec]", "us"),
                                          ("t (millisec)", "ms"), ("ticks [100ns]", "100ns"),
                                          ("t [s/1000]", "s/1000"), ("time [10 ms]", "10 ms"),
                                          ("elapsed_ms (run 2)", "ms"), ("us_east_time", None), ("ns_lookup_time", None), ("t_sec_ms", "ms or s"),
                                          ("hours_ms", "h or ms"), ("t (ms) [us]", "ms or us"), ("time_ms/s", "ms or s"),
                                          ("t [\u03bcs]", "us"), ("t [\u00b5s]", "us"), ("timestamp_ps", "ps"),
                                          ("us_east_time_ms", "ms"), ("min_latency_ms", "ms"), ("elapsed_h_ms", "ms"),
                                          # review130 N3, N4: a scale glued to a suffix, or in a bracket beside it
                                          ("t_10ms", "10ms"), ("time_100us", "100us"), ("t/10ms", "10ms"),
                                          ("elapsed 10ms units", "10ms"), ("t [ms] (x10)", "ms (x10)"),
                                          ("ts_ms (10x)", "ms (10x)"), ("t (\u00d71000) [us]", "us (\u00d71000)"),
                                          ("t [1 ms]", "ms"), ("t_1ms", "ms"), ("t_ms (1)", "ms"), ("p99_ms", "ms"),
                                          ("t1_ms", "ms"), ("t_ms (2024 run)", "ms"),
                                          # review132 D4: a one-word remark, a scale with separators
                                          ("t_ms (v2)", "ms"), ("t_ms (2025)", "ms"), ("t_10_ms", "10_ms"),
                                          ("t_ms_x10", "ms x10"), ("t_ms (1x)", "ms"), ("t (1000)", None)])
def test_a_header_s_unit_is_its_suffix_unless_a_sure_unit_word_beside_it_says_otherwise(name: str, unit: str | None) -> None:
    """review127 N1, N2, N4, N7: a leading short word was read as the unit (us_east_time as us: a
    rate 1e6x too high, and unit='s' refused), a header naming two units was read in its last,
    the Greek mu was no micro sign, and picoseconds were read as seconds."""
    assert tr.header_unit(name) == unit


def test_a_row_index_is_refused_as_arrival_times(tmp_path: Path) -> None:
    """review127 N3: pandas' unnamed index column and Wireshark's "No." were read as timestamps 1 s
    apart, which a marker rescales into perfectly even arrivals that flatter a tail."""
    pandas = tmp_path / "pandas.csv"
    pandas.write_text(",t_ms\n" + "".join(f"{k},{10.0 * k + (k % 3)}\n" for k in range(100)))
    with pytest.raises(InvalidArgument, match=r"its column 0 has no name in the header \(a row index"):
        tr.Trace(str(pandas)).times()
    assert tr.Trace(str(pandas), column="t_ms").times().size == 100
    numbered = tmp_path / "wireshark.csv"
    numbered.write_text('"No.","Time"\n' + "".join(f'"{k + 1}","{0.01 * k + 0.001 * (k % 3)}"\n' for k in range(100)))
    with pytest.raises(InvalidArgument, match="its column 'No.' holds the row numbers 1 to 100: a row index, not "
                                              "arrival times .*; set column= to the arrival times' column"):
        tr.Trace(str(numbered)).times()
    assert tr.Trace(str(numbered), column="Time").times().size == 100
    # review128 N5: a paced trace is no row index: alone in its file, named in a unit, or elsewhere in time
    paced = tmp_path / "paced.csv"
    for text in ("".join(f"{k}\n" for k in range(100)), "timestamp_ms,x\n" + "".join(f"{k},0\n" for k in range(100)),
                 "t,x\n" + "".join(f"{1_700_000_000_000 + k},0\n" for k in range(100))):
        paced.write_text(text)
        assert tr.Trace(str(paced)).times().size == 100


def test_a_scaled_unit_or_dates_and_times_are_refused_with_their_own_fix(tmp_path: Path) -> None:
    """review129 F8, F4: "ticks [100ns]" was read as ns (100x off), and a column of ISO dates and
    times was told to "remove the line" on its first."""
    ticks = tmp_path / "ticks.csv"
    ticks.write_text("ticks [100ns]\n" + "".join(f"{10 * k}\n" for k in range(101)))
    with pytest.raises(InvalidArgument, match=r"names its unit \"100ns\" in the header 'ticks \[100ns\]', which a "
                                              "trace is not read in"):
        tr.Trace(str(ticks)).times()
    iso = tmp_path / "iso.csv"
    iso.write_text("t\n" + "".join(f"2026-12-06T10:00:{k:02d}.5Z\n" for k in range(50)))
    with pytest.raises(InvalidArgument, match=r"is not a number; write the times as numbers: seconds since the first"):
        tr.Trace(str(iso)).times()
    # review130 N5: a time of day alone, ISO's basic form, a locale's date, a JSON list of them
    for stamp in ("02:00:{k:02d}.000721", "20251205T0200{k:02d}.5Z", "05/12/2025 02:00:{k:02d}"):
        iso.write_text("t\n" + "".join(stamp.format(k=k) + "\n" for k in range(50)))
        with pytest.raises(InvalidArgument, match=r"is not a number; write the times as numbers"):
            tr.Trace(str(iso)).times()
    listed = tmp_path / "iso.json"
    listed.write_text(json.dumps({"timestamps": [f"2025-12-05T02:00:{k:02d}Z" for k in range(50)]}))
    with pytest.raises(InvalidArgument, match=r"item 0 is .*, not a number; write the times as numbers"):
        tr.Trace(str(listed)).times()
    iso.write_text("t\n1\nabc\n")
    with pytest.raises(InvalidArgument, match=r"'abc' is not a number; remove the line or fix the value"):
        tr.Trace(str(iso)).times()


def test_a_utf16_trace_is_named_as_such(tmp_path: Path) -> None:
    """review127 N12: Excel's "Unicode text" export read "'\\x001\\x008...' is not a number"."""
    path = tmp_path / "t.csv"
    path.write_bytes("t_ms\n0\n5\n9\n".encode("utf-16"))
    with pytest.raises(InvalidArgument, match=r"is UTF-16 \(or holds NUL bytes\).*; save it as CSV in UTF-8"):
        tr.Trace(str(path)).times()


def test_a_json_trace_s_unit_may_be_spelled_out(tmp_path: Path) -> None:
    """review127 N6: "milliseconds" was refused in JSON while a CSV header time_milliseconds was read."""
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"unit": "milliseconds", "timestamps": [10.0 * i for i in range(101)]}))
    assert tr.Trace(str(path)).times()[-1] == pytest.approx(1.0)
    path.write_text(json.dumps({"unit": "minutes", "timestamps": [0.01 * i for i in range(101)]}))
    with pytest.raises(InvalidArgument, match="unit 'min' is unknown"):
        tr.Trace(str(path)).times()


def test_a_json_trace_s_own_unit_and_kind_win_and_a_contradiction_is_refused(tmp_path: Path) -> None:
    """review120 NEW-4: unit='us' or kind='timestamps' given beside a JSON trace naming "ms" or
    "intervals" were dropped without a word, and describe said the unit was assumed to be s."""
    named = tmp_path / "t.json"
    named.write_text(json.dumps({"unit": "ms", "intervals": [10.0] * 100}))
    assert tr.Trace(str(named)).times()[-1] == pytest.approx(1.0)  # the defaults give way to the file
    assert tr.Trace(str(named), unit="ms", kind="intervals").times()[-1] == pytest.approx(1.0)
    with pytest.raises(InvalidArgument, match="names its unit \"ms\", and unit='us' was given; leave unit out"):
        tr.Trace(str(named), unit="us")
    named.write_text(json.dumps({"timestamps": [0.01 * i for i in range(100)]}))
    with pytest.raises(InvalidArgument, match="holds \"timestamps\", and kind='intervals' was given"):
        tr.Trace(str(named), kind="intervals")
    named.write_text(json.dumps({"unit": "ms", "timestamps": [10.0 * i for i in range(100)]}))
    described = tr.describe(str(named))
    assert (described["unit"], described["unit_named"], described["kind"]) == ("ms", True, "timestamps")
    assert described["hill_tail_index"] == math.inf  # equal gaps: no tail, and no RuntimeWarning


def test_a_trace_s_suffix_is_read_whatever_its_case(tmp_path: Path) -> None:
    """review120: t.NPY was read as text ("'fortran_order': False" is not a number)."""
    path = tmp_path / "T.NPY"
    with path.open("wb") as fh:
        np.save(fh, np.arange(50) * 0.01)
    assert tr.Trace(str(path)).times().size == 50

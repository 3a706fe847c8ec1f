"""The gpuslo command line where a newcomer first meets it: traces described in their own unit,
columns by name, a store found from any subfolder, prune that says what it would do, and errors
that name the fix (no pytest run: files are written directly)."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pytest_gpuslo import cli, limits
from pytest_gpuslo.baseline import Baseline, Run, Store, now_iso
from pytest_gpuslo.cli import find_rootdir, main
from pytest_gpuslo.errors import InvalidArgument
from pytest_gpuslo.spec import resolve, validate_marker


@pytest.fixture
def trace_ms(tmp_path: Path) -> Path:
    """5,000 Poisson arrivals at about 900/s, as a CSV of millisecond timestamps with a header."""
    gaps = np.random.default_rng(1).exponential(1.09, 5000)
    path = tmp_path / "traffic.csv"
    path.write_text("timestamp_ms,size\n" + "".join(f"{t:.3f},12\n" for t in np.cumsum(gaps)))
    return path


def test_describe_takes_the_unit_from_the_header_and_a_column_by_name(trace_ms: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["arrivals", "describe", str(trace_ms), "--column", "timestamp_ms"]) == 0
    out = capsys.readouterr().out

    assert "unit         ms (from the header 'timestamp_ms')" in out
    rate = float(next(ln for ln in out.splitlines() if ln.startswith("rate")).split()[1])
    assert 850 < rate < 1000
    assert "warning" not in out
    # review117: a spreadsheet's CSV starts with a byte-order mark, which read "'\ufeff1' is not a number"
    trace_ms.write_bytes(b"\xef\xbb\xbf" + trace_ms.read_bytes())
    assert main(["arrivals", "describe", str(trace_ms), "--column", "timestamp_ms"]) == 0
    assert capsys.readouterr().out == out


def test_describe_warns_of_stamps_rounded_to_whole_seconds(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """review128 N6: k6 and Locust stamps in whole seconds read "cv 14.9, closest gamma(cv=14.9)"
    without a word of the rounding."""
    stamps = np.cumsum(np.random.default_rng(1).exponential(1 / 200, 2000))
    path = tmp_path / "whole.csv"
    path.write_text("t_s\n" + "".join(f"{int(t)}\n" for t in stamps))
    assert main(["arrivals", "describe", str(path)]) == 0
    out = capsys.readouterr().out
    # review129 F2: 99.7% read "100%", and "the smallest gap is 1 s" where the smallest is 0
    assert "99.5% of its arrivals share a timestamp with the one before (distinct stamps are at least 1 s apart)" in out
    # review131 F4: a paste-ready gamma(cv=14.9) fitted to the rounding, a rate from a span a step
    # short, and "tail index nan (... below 2: infinite variance)"
    rate = float(next(ln for ln in out.splitlines() if ln.startswith("rate")).split()[1])
    assert rate == pytest.approx(2000 / (int(stamps[-1]) + 1), rel=1e-3)
    assert "closest      -  (not fitted: the rounded stamps, not the traffic, set the gaps)" in out
    assert f"as a test    @pytest.mark.slo(rate_hz={rate:.4g}, ...)  (choose arrivals=" in out and "gamma" not in out
    assert "tail index   -  (the stamps are rounded)" in out
    assert f"arrivals     2000 over {int(stamps[-1]) + 1:.4g} s" in out  # the span the rate is over (review132 D3)
    # review132 D2: 10-ms stamps of 1,000 arrivals a second read "tail index 6.67e+13"
    path.write_text("t_ms\n" + "".join(f"{int(t * 100) * 10}\n" for t in np.cumsum(
        np.random.default_rng(1).exponential(1e-3, 5000))))
    assert main(["arrivals", "describe", str(path)]) == 0
    assert "tail index   -  (the stamps are rounded)" in capsys.readouterr().out
    path.write_text("t_s\n" + "".join(f"{t:.6f}\n" for t in stamps))
    assert main(["arrivals", "describe", str(path)]) == 0
    assert "share a timestamp" not in capsys.readouterr().out


def test_describe_of_a_trace_past_the_dispatcher_s_rate_gives_no_marker_and_asks_for_the_unit(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """review172 F7: seconds under a 'timestamp_ns' header read 1.01e+11 arrivals/s, and describe
    offered rate_hz=1.01e+11 to paste, which the marker refuses (limits.MAX_RATE_HZ)."""
    stamps = np.cumsum(np.random.default_rng(1).exponential(0.01, 2000))
    path = tmp_path / "wrong.csv"
    path.write_text("timestamp_ns\n" + "".join(f"{t:.6f}\n" for t in stamps))
    assert main(["arrivals", "describe", str(path)]) == 0
    out = capsys.readouterr().out
    assert "rate_hz=" not in out and "trace(path=" not in out
    assert "one dispatcher can offer (limits.MAX_RATE_HZ)" in out
    assert "are the numbers in ns? If not, rename the column to one naming theirs" in out
    plain = tmp_path / "plain.csv"
    plain.write_text("".join(f"{t:.6f}\n" for t in stamps))
    assert main(["arrivals", "describe", "--unit", "ns", str(plain)]) == 0
    assert "are the numbers in ns? If not, pass --unit with theirs" in capsys.readouterr().out
    assert main(["arrivals", "describe", "--unit", "s", str(plain)]) == 0
    assert 'arrivals="poisson(rate_hz=' in capsys.readouterr().out  # the right unit: a marker again


def test_describe_says_a_trace_too_short_for_burst_windows_was_not_measured_for_bursts(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """review168 F4: "0 spells over twice the mean rate (in 0.333-s windows)" of a 0.03-s trace read
    as evidence of no bursts."""
    path = tmp_path / "short.txt"
    path.write_text("".join(f"{t}\n" for t in (0, 1.5, 3, 7, 7.2, 9, 12, 20, 21, 30)))
    assert main(["arrivals", "describe", str(path), "--unit", "ms"]) == 0
    out = capsys.readouterr().out
    assert "bursts       -  (not measured: the trace is shorter than 4 windows of 10 mean gaps)" in out
    assert "spells" not in out
    path.write_text("".join(f"{t:.6f}\n" for t in np.cumsum(np.random.default_rng(3).exponential(1e-3, 500))))
    assert main(["arrivals", "describe", str(path)]) == 0
    assert "spells over twice the mean rate" in capsys.readouterr().out


def test_describe_warns_when_the_unit_makes_the_test_impossibly_long(trace_ms: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """Seconds forced on millisecond data: 0.9 requests/s, and a warning that 4,000 take an hour.
    Where the header names the unit, a --unit that contradicts it is refused (review121: it won)."""
    assert main(["arrivals", "describe", str(trace_ms), "--unit", "s"]) == 2
    assert ("names its unit \"ms\" in the header 'timestamp_ms', and --unit s was given; leave --unit out"
            in capsys.readouterr().err)
    trace_ms.write_text(trace_ms.read_text().replace("timestamp_ms", "timestamp"))
    assert main(["arrivals", "describe", str(trace_ms), "--unit", "s"]) == 0
    out = capsys.readouterr().out

    assert "warning      at 0.9" in out and "minutes: check the unit (s (from --unit))" in out


def test_describe_errors_name_the_command_line_fix(tmp_path: Path, trace_ms: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    unsorted = tmp_path / "unsorted.csv"
    unsorted.write_text("t\n3\n1\n2\n")

    assert main(["arrivals", "describe", str(unsorted)]) == 2
    backwards = capsys.readouterr().err
    assert main(["arrivals", "describe", str(trace_ms), "--column", "latency"]) == 2
    no_column = capsys.readouterr().err

    assert "pass --kind intervals if it holds gaps" in backwards and "kind=" not in backwards
    assert "has no column named 'latency' (its header's names: 'timestamp_ms', 'size'); set --column to one of them" \
        in no_column


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs (POSIX)")
def test_describe_refuses_devices_fifos_and_huge_files_unread(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    """review116 F1: the header was read before the trace reader's checks: /dev/zero grew to an
    out-of-memory kill, a FIFO hung the command, a sparse 3-GB file passed 6 GB; and a missing
    file read only "[Errno 2]".  Each is now the reader's own error, at once, with or without
    --column (a FIFO with no writer would block an open without O_NONBLOCK: this test hangs)."""
    fifo, huge = tmp_path / "pipe.csv", tmp_path / "huge.csv"
    os.mkfifo(fifo)
    with huge.open("wb") as fh:
        fh.truncate(limits.MAX_TRACE_BYTES + 1)  # sparse: no disk used
    said = []
    for path in ("/dev/zero", str(fifo), str(huge), str(tmp_path / "missing.csv")):
        for extra in ([], ["--column", "t_ms"]):
            assert main(["arrivals", "describe", path, *extra]) == 2
            said.append(capsys.readouterr().err)

    assert all(s.startswith(f"error: trace {p}: ") for s, p in zip(said[::2], ("/dev/zero", fifo, huge)))
    assert said[0] == said[1] and said[2] == said[3] and said[4] == said[5]  # not "no such column"
    assert "is not a regular file (a device, FIFO or socket); give the path of a trace file on disk" in said[2]
    assert "over the 134,217,728-byte limit; give a regular file of a shorter window" in said[4]
    assert "missing.csv: no such file; give the path of a trace file on disk" in said[6] and "Errno" not in said[6]


def test_describe_piped_into_head_stops_quietly(trace_ms: Path) -> None:
    """The reader closing the pipe early is no error: no BrokenPipeError traceback."""
    proc = subprocess.Popen([sys.executable, "-m", "pytest_gpuslo", "arrivals", "describe", str(trace_ms)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read().decode()

    assert proc.wait() == 0 and "BrokenPipeError" not in err


def _store_one(root: Path, nodeid: str = "tests/test_a.py::test_a", invocation: str = "") -> Path:
    spec = resolve(validate_marker((), {"p95_ms": 50, "rate_hz": 100}, "t"), nodeid=nodeid)
    lat = np.linspace(1.0, 3.0, 1000)
    said = {"invocation": invocation} if invocation else {}
    base = Baseline(nodeid, spec.as_dict(), spec.seed, "f" * 16, {"backend": "cpu", "cpu": "x"},
                    [Run(lat, now_iso()), Run(lat * 1.001, now_iso()), Run(lat * 1.002, now_iso(), summary=said)])
    path, _ = Store(root).save(base, replace=True)
    return path


def test_show_finds_the_store_from_a_subfolder_as_pytest_finds_its_rootdir(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """From tests/unit/, gpuslo show reads <rootdir>/.gpuslo, or the folder gpuslo_baseline_dir
    names in the file that made the rootdir."""
    (tmp_path / "tests" / "unit").mkdir(parents=True)
    (tmp_path / "tox.ini").write_text("[tox]\nenvlist = py\n")  # no [pytest] section: not pytest's
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n[tool.pytest.ini_options]\n"
                                             "gpuslo_baseline_dir = \"perf/baselines\"\n")
    _store_one(tmp_path / "perf" / "baselines")
    monkeypatch.chdir(tmp_path / "tests" / "unit")

    assert find_rootdir(Path.cwd()) == (tmp_path, "perf/baselines")
    assert main(["show"]) == 0
    assert "tests/test_a.py::test_a" in capsys.readouterr().out


def test_show_finds_a_store_that_addopts_sets_as_pytest_does(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """review121: a store set by ``--gpuslo-baseline-dir`` in the ini's addopts (where pytest takes
    it over the ini key) read "no baselines" from the default one; $PYTEST_ADDOPTS wins over both,
    and a wrong one is named with where it was set."""
    (tmp_path / "pytest.ini").write_text("[pytest]\ngpuslo_baseline_dir = keyed\n"
                                         "addopts = -q --gpuslo-baseline-dir perf/runs\n")
    _store_one(tmp_path / "perf" / "runs")
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)

    assert cli.find_store(Path.cwd()) == (tmp_path, tmp_path / "perf" / "runs",
                                          f"--gpuslo-baseline-dir=perf/runs in the addopts of {tmp_path / 'pytest.ini'}")
    assert main(["show"]) == 0 and "tests/test_a.py::test_a" in capsys.readouterr().out
    (tmp_path / "afile").write_text("")
    monkeypatch.setenv("PYTEST_ADDOPTS", "--gpuslo-baseline-dir=afile")
    with pytest.raises(SystemExit) as exited:
        main(["show"])
    assert exited.value.code == 2
    assert "error: --gpuslo-baseline-dir=afile in PYTEST_ADDOPTS: " in capsys.readouterr().err
    monkeypatch.setenv("PYTEST_ADDOPTS", "-x")
    (tmp_path / "pytest.ini").write_text("[pytest]\ngpuslo_baseline_dir = keyed\n")
    assert cli.find_store(Path.cwd())[1:] == (tmp_path / "keyed", "ini gpuslo_baseline_dir = keyed")
    # review124 N2: a store the ini names and that is not there: where it was set, as pytest warns
    assert main(["show"]) == 0
    assert "(no such folder; set by ini gpuslo_baseline_dir = keyed)" in capsys.readouterr().out
    # review124 N1: -o overrides the ini key (in pytest's every spelling), and the option overrides -o
    for said in ("-o gpuslo_baseline_dir=perf/runs", "-ogpuslo_baseline_dir=perf/runs",
                 "--override-ini=gpuslo_baseline_dir=perf/runs", "--override-ini gpuslo_baseline_dir=perf/runs"):
        monkeypatch.setenv("PYTEST_ADDOPTS", said)
        assert cli.find_store(Path.cwd())[1:] == (tmp_path / "perf" / "runs",
                                                  "-o gpuslo_baseline_dir=perf/runs in PYTEST_ADDOPTS"), said
    monkeypatch.setenv("PYTEST_ADDOPTS", "-o 'gpuslo_baseline_dir = perf/runs'")  # pytest's key: with the space
    assert cli.find_store(Path.cwd())[1] == tmp_path / "keyed"
    # review125 N2: a missing store -o names, pytest only warns of (an ini value): said, exit 0
    monkeypatch.setenv("PYTEST_ADDOPTS", "-o gpuslo_baseline_dir=gone")
    assert main(["show"]) == 0
    assert "(no such folder; set by -o gpuslo_baseline_dir=gone in PYTEST_ADDOPTS)" in capsys.readouterr().out
    monkeypatch.setenv("PYTEST_ADDOPTS", "--gpuslo-baseline-dir nope -o gpuslo_baseline_dir=perf/runs")
    assert cli.find_store(Path.cwd())[1] == tmp_path / "nope"
    # a missing store the command line names: refused, as pytest refuses it
    with pytest.raises(SystemExit) as exited:
        main(["show"])
    assert exited.value.code == 2
    assert ("error: --gpuslo-baseline-dir=nope in PYTEST_ADDOPTS: " in capsys.readouterr().err)


def test_show_follows_the_config_file_pytest_is_run_with(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """review82 #7: with ``pytest -c ci/ci.ini`` the store is <ci>/<gpuslo_baseline_dir>; the CLI
    read the pytest.ini found from here and showed another store.  ``-c`` follows pytest: the
    file's folder is the rootdir; ``--dir`` still wins; a missing file is an error, not an empty store."""
    (tmp_path / "ci").mkdir()
    (tmp_path / "pytest.ini").write_text("[pytest]\ngpuslo_baseline_dir = local\n")
    (tmp_path / "ci" / "ci.ini").write_text("[pytest]\ngpuslo_baseline_dir = stored\n")
    _store_one(tmp_path / "ci" / "stored")
    monkeypatch.chdir(tmp_path)

    assert find_rootdir(tmp_path, "ci/ci.ini") == (tmp_path / "ci", "stored")
    assert main(["show", "-c", "ci/ci.ini"]) == 0
    assert "tests/test_a.py::test_a" in capsys.readouterr().out
    assert main(["show"]) == 0 and "no baselines in" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exited:
        main(["show", "-c", "ci/nope.ini"])
    assert exited.value.code == 2
    assert "error: -c ci/nope.ini: no such file; give the configuration file pytest is run with" in capsys.readouterr().err


@pytest.mark.parametrize(("name", "text", "expected"), [
    ("setup.cfg", "[metadata]\nname = x\n[tool:pytest]\ngpuslo_baseline_dir = b\n", {"gpuslo_baseline_dir": "b"}),
    ("setup.cfg", "[metadata]\nname = x\n", None),  # no pytest section: not pytest's file
    ("pytest.ini", "", {}),  # pytest.ini counts even empty
    ("pytest.ini", "[pytest]\naddopts =\n  -q\n  -x\ngpuslo_save = true\n",
     {"addopts": "-q\n-x", "gpuslo_save": "true"}),  # a continued value, as pytest's iniconfig reads it
    ("pyproject.toml", "[tool.pytest]\ngpuslo_save = true\nminversion = 9\n",
     {"gpuslo_save": "true", "minversion": 9}),  # pytest 9's native table: typed as TOML typed it
])
def test_the_config_file_is_read_with_pytests_own_readers(tmp_path: Path, name: str, text: str,
                                                           expected: dict[str, str] | None) -> None:
    from pytest_gpuslo import cli

    (tmp_path / name).write_text(text)
    sections = dict(cli._INI_FILES)[name]

    assert cli._ini_section(tmp_path / name, sections) == expected


@pytest.mark.parametrize(("name", "text", "said"), [
    ("pyproject.toml", "[tool.pytest.ini_options\n", "is not valid TOML"),
    ("tox.ini", "[pytest\nx = 1\n", "is not a valid ini file"),
])
def test_a_broken_config_file_is_refused_as_pytest_refuses_it(tmp_path: Path, name: str, text: str, said: str) -> None:
    """review118 N1: passed over (None), the commands used another store than pytest, which exits 4."""
    from pytest_gpuslo import cli

    (tmp_path / name).write_text(text)
    with pytest.raises(InvalidArgument, match=f"{name}: {said}.*pytest refuses it too"):
        cli._ini_section(tmp_path / name, dict(cli._INI_FILES)[name])


@pytest.mark.parametrize("value", ["5", '["a", "b"]'])
def test_a_store_folder_pytest_refuses_is_refused_by_the_cli_too(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], value: str) -> None:
    """review82: pytest refuses gpuslo_baseline_dir = 5 in pytest 9's [tool.pytest] table, while
    gpuslo show listed a folder named "5" (or "['a', 'b']")."""
    (tmp_path / "pyproject.toml").write_text(f"[tool.pytest]\ngpuslo_baseline_dir = {value}\n")
    monkeypatch.chdir(tmp_path)

    with pytest.raises(SystemExit) as exited:
        main(["show"])

    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert f"error: gpuslo_baseline_dir = {eval(value)!r} in {tmp_path / 'pyproject.toml'} is not a string" in err


@pytest.mark.parametrize("command", [["show"], ["accept"], ["prune"]])
def test_an_ini_store_that_is_a_file_is_refused_as_pytest_refuses_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        command: list[str]) -> None:
    """review118 N4: gpuslo_baseline_dir = <a file> read "no baselines ... (no such folder)", exit
    0, where pytest refuses the same key as "is not a folder"; a folder not made yet still reads empty."""
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "pytest.ini").write_text("[pytest]\ngpuslo_baseline_dir = notes.txt\n")
    monkeypatch.chdir(tmp_path)

    with pytest.raises(SystemExit) as exited:
        main(command)

    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert f"ini gpuslo_baseline_dir = notes.txt: {tmp_path / 'notes.txt'} is not a folder" in err, err
    (tmp_path / "pytest.ini").write_text("[pytest]\ngpuslo_baseline_dir = later\n")
    assert main(["show"]) == 0
    assert "(no such folder; set by ini gpuslo_baseline_dir = later)" in capsys.readouterr().out


@pytest.mark.parametrize("command", [["show"], ["accept"], ["prune", "--keep-runs", "1"]])
def test_a_default_store_that_is_a_file_or_a_loop_is_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        command: list[str]) -> None:
    """review120: with no ini key, a .gpuslo that is a file read "no baselines (no such folder)",
    exit 0, and accept of a .gpuslo linking to itself ended in a raw RuntimeError."""
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".gpuslo").write_text("")
    for says in ("is not a folder", "is a link that loops back on itself (to .gpuslo)"):
        with pytest.raises(SystemExit) as exited:
            main(command)
        assert exited.value.code == 2
        assert f"error: the store {tmp_path / '.gpuslo'} (pytest's default, from the rootdir) {says}" in \
            capsys.readouterr().err
        (tmp_path / ".gpuslo").unlink()
        (tmp_path / ".gpuslo").symlink_to(".gpuslo")


def test_prune_dry_run_says_what_it_would_do_and_changes_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    path = _store_one(tmp_path / ".gpuslo")
    before = path.read_text()
    monkeypatch.chdir(tmp_path)

    assert main(["prune", "--dry-run"]) == 2
    nothing = capsys.readouterr().err  # an error, on stderr (review82)
    assert main(["prune", "--dry-run", "--keep-runs", "1"]) == 0
    dry = capsys.readouterr().out
    assert main(["prune", "--dry-run", "--keep-runs", "5"]) == 0
    none_needed = capsys.readouterr().out

    assert "give --keep-runs N" in nothing
    assert "would trim" in dry and "3 -> 1 runs" in dry and "would change 1 (dry run: nothing was changed)" in dry
    assert "1 baseline file(s), would change 0" in none_needed
    assert path.read_text() == before


def test_prune_removes_a_stale_file_with_the_copy_a_moving_save_kept(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """A file removed as stale takes its ``.prev`` (review98 #3's undo copy) with it; a kept file
    keeps its copy."""
    import datetime as dt

    from pytest_gpuslo.baseline import load, previous_path

    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    path = _store_one(tmp_path / ".gpuslo")
    previous_path(path).write_text(path.read_text())
    monkeypatch.chdir(tmp_path)
    assert main(["prune", "--older-than", "30"]) == 0 and previous_path(path).exists()
    b = load(path)
    old = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=60)).isoformat(timespec="seconds")
    b.runs = [Run(r.latency_ms, old) for r in b.runs]
    Store(tmp_path / ".gpuslo").rewrite(path, b)

    assert main(["prune", "--older-than", "30"]) == 0
    assert "removed" in capsys.readouterr().out
    assert not path.exists() and not previous_path(path).exists()


def test_prune_and_show_go_by_the_runs_dates_not_the_order_they_were_saved_in(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """review86: after a save of today and two backdated ones (GPUSLO_NOW), prune --older-than 1
    would remove the file that holds today's run, --keep-runs 2 dropped it, and show said "2d"."""
    import datetime as dt

    from pytest_gpuslo.baseline import load

    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    path = _store_one(tmp_path / ".gpuslo")
    b = load(path)
    today = dt.datetime.now(dt.timezone.utc)
    dates = [today, today - dt.timedelta(days=3), today - dt.timedelta(days=2)]  # in the order saved
    b.runs = [Run(r.latency_ms, d.isoformat(timespec="seconds")) for r, d in zip(b.runs, dates)]
    Store(tmp_path / ".gpuslo").rewrite(path, b)
    monkeypatch.chdir(tmp_path)

    assert main(["show"]) == 0
    assert " 0h " in capsys.readouterr().out
    assert main(["prune", "--older-than", "1"]) == 0
    assert "removed" not in capsys.readouterr().out and path.exists()
    assert main(["prune", "--keep-runs", "2"]) == 0
    assert [r.date for r in load(path).runs] == [dates[0].isoformat(timespec="seconds"),
                                                dates[2].isoformat(timespec="seconds")]


def test_compare_on_a_missing_file_says_what_to_give(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    existing = _store_one(tmp_path / ".gpuslo")

    assert main(["compare", str(existing), str(tmp_path / "missing.json")]) == 2
    out, err = capsys.readouterr()

    # An error goes to stderr, as every other command's does (review79)
    assert "missing.json: no such file or folder; give a baseline file" in err and "git" not in err
    assert out == ""


def test_compare_of_two_tests_files_says_they_are_not_the_same_test(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """review78: the files of two tests read "+2085% ... record 3 or more runs", which cannot help."""
    a = _store_one(tmp_path / "a")
    b = _store_one(tmp_path / "b", "tests/test_b.py::test_b")

    main(["compare", str(a), str(b)])
    out = capsys.readouterr().out

    assert f"(BASE {a} holds another test, tests/test_a.py::test_a: not compared; its absolute budgets only" in out
    assert "vs baseline" not in out and "record 3 or more" not in out, out


def test_no_command_takes_a_folder_of_the_system_or_of_git_as_the_store(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """review197 F5, review200 F9: the plugin took a store at /, /dev or /var and wrote .last/ there,
    and `gpuslo accept --dir /` wrote a baseline into /; one rule (``reports.store_unfit``) for both.
    Asked of the rule, and of the CLI only where it refuses before it writes."""
    from pytest_gpuslo.reports import store_unfit

    for folder in ("/", "/dev", "/dev/shm", "/var", "/etc", "/usr/lib"):
        assert store_unfit(folder).startswith(f"{folder} is a folder of the system, where no baseline belongs")
    (tmp_path / ".git" / "perf").mkdir(parents=True)
    assert "inside a git repository's own folder (.git)" in store_unfit(tmp_path / ".git" / "perf")
    assert store_unfit(tmp_path) == store_unfit("/var/lib/ci/store") == ""  # a project's, a runner's
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    for command in (["show", "--dir", "/"], ["prune", "--dir", "/dev"], ["show", "--dir", ".git/perf"]):
        with pytest.raises(SystemExit) as exited:
            main(command)
        assert exited.value.code == 2
        assert "give the baseline store's folder (e.g. .gpuslo)" in capsys.readouterr().err
    (tmp_path / "pytest.ini").write_text("[pytest]\ngpuslo_baseline_dir = .git/perf\n")
    with pytest.raises(SystemExit) as exited:
        main(["show"])
    assert exited.value.code == 2 and "ini gpuslo_baseline_dir = .git/perf: " in capsys.readouterr().err


@pytest.mark.parametrize("command", [["compare", "{long}", "{long}"], ["show", "--dir", "{long}"],
                                     ["show", "-c", "{long}"], ["prune", "--dir", "{long}"],
                                     ["accept", "--dir", "{long}"], ["ab", "--from", "{long}"]])
def test_a_path_with_a_name_too_long_is_named_not_a_traceback(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        command: list[str]) -> None:
    """review197 F4: Path.exists raises for a name over the file system's 255 bytes: a traceback,
    exit 1, which `gpuslo compare` documents as FAIL or REGRESSED."""
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    monkeypatch.chdir(tmp_path)
    long = "n" * 300
    assert main([word.format(long=long) for word in command]) == 2
    err = capsys.readouterr().err
    assert re.search(r"^error: \S*n{50}\S*\.\.\. \(3\d\d characters\): a name in it is longer than the file "
                     r"system takes; give a shorter path$", err, re.M), err


def test_compare_on_a_link_to_nothing_names_the_link(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """review77 H3: a dangling .gpuslo/.last read "no such file or folder", true of its target only."""
    existing = _store_one(tmp_path / ".gpuslo")
    (tmp_path / ".gpuslo" / ".last").symlink_to(tmp_path / "gone")

    assert main(["compare", str(existing.parent), str(tmp_path / ".gpuslo" / ".last")]) == 2
    err = capsys.readouterr().err

    assert f".last is a link to nothing (to {tmp_path / 'gone'}): mend it or delete it" in err, err
    # review79: a link to itself named "a link to nothing"
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    assert main(["compare", str(existing.parent), str(tmp_path / "loop")]) == 2
    assert f"loop is a link that loops back on itself (to {tmp_path / 'loop'})" in capsys.readouterr().err


def test_compare_of_folders_judges_tests_without_a_baseline_and_names_missing_runs(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    """A new test has no namesake in the stored folder: compare still judges its absolute budgets
    and says so; a stored test with no run is named (neither is skipped silently)."""
    stored = _store_one(tmp_path / "base")
    last = tmp_path / "last"
    last.mkdir()
    (last / stored.name).write_bytes(stored.read_bytes())
    _store_one(last, "tests/test_new.py::test_new")
    gone = _store_one(tmp_path / "base", "tests/test_gone.py::test_gone")

    main(["compare", str(tmp_path / "base"), str(last)])
    out = capsys.readouterr().out

    # The new test is judged on its absolute budget; the stored one with no run is named.
    assert out.count("tests/test_a.py::test_a:") == 1 and out.count("tests/test_new.py::test_new:") == 1
    assert "no baseline in " in out and "its absolute budgets only" in out
    assert f"no run: {gone.name} is stored in" in out


def test_accept_names_a_store_folder_that_does_not_exist(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """review74: "gpuslo accept --dir <typo>" said "<typo>/.last is empty; run the SLO tests first"
    (``show`` lists such a folder as "(no such folder)"); review76: so did --dir .gpuslo/.last."""
    (tmp_path / ".gpuslo" / ".last").mkdir(parents=True)
    assert main(["accept", "--dir", str(tmp_path / ".gpuslo" / ".last")]) == 2
    assert "holds the last-run records themselves; give the store that holds it" in capsys.readouterr().err
    (tmp_path / "link").symlink_to(tmp_path / ".gpuslo" / ".last")  # review77: a link to it too
    assert main(["accept", "--dir", str(tmp_path / "link")]) == 2
    assert "holds the last-run records themselves" in capsys.readouterr().err
    with pytest.raises(SystemExit) as typo:
        main(["accept", "--dir", str(tmp_path / "typo")])
    assert typo.value.code == 2
    assert f"error: --dir {tmp_path / 'typo'}: no such folder; give the baseline store's folder" in capsys.readouterr().err
    (tmp_path / "dangling").symlink_to(tmp_path / "gone")
    with pytest.raises(SystemExit):
        main(["show", "--dir", str(tmp_path / "dangling")])
    assert f"dangling: a link to nothing (to {tmp_path / 'gone'}); give the baseline store's" in capsys.readouterr().err


def test_accept_into_a_store_it_cannot_write_names_the_file_and_the_fix(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """review100 F3: a read-only store read "[Errno 30] Read-only file system: '.../.x.json.udegul3h.tmp'"."""
    from pytest_gpuslo import baseline

    store = tmp_path / ".gpuslo"
    _store_one(store / ".last")

    def read_only(path: Path, data: object) -> None:
        raise OSError(30, "Read-only file system", str(path.parent / f".{path.name}.udegul3h.tmp"))

    monkeypatch.setattr(baseline, "write_atomic", read_only)
    assert main(["accept", "--dir", str(store)]) == 2
    out = capsys.readouterr().out
    target = Store(store).path_for("tests/test_a.py::test_a", {"backend": "cpu", "cpu": "x"})
    assert (f"not accepted: could not write {target} (Read-only file system); nothing was changed: make the store "
            f"{store} writable, or give --dir a writable one") in out
    assert ".tmp" not in out


def test_accept_by_name_of_an_unreadable_record_names_it_not_a_missing_run(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """review116 F2: a truncated last-run record, asked for by node id, read "no last run ...; run
    it first (a node id as pytest prints it ...)", as if the id were mistyped; it exits 2 naming it."""
    store = tmp_path / ".gpuslo"
    last = _store_one(store / ".last")
    last.write_bytes(last.read_bytes()[:200])
    assert main(["accept", "--dir", str(store), "tests/test_a.py::test_a"]) == 2
    out = capsys.readouterr().out
    assert f"error: tests/test_a.py::test_a: not accepted: its last-run record {last.name} could not be read" in out
    assert "no last run" not in out and "run the test again to write a new one" in out
    assert main(["accept", "--dir", str(store), "tests/test_b.py::test_b"]) == 1  # another id: still "no last run"
    assert "tests/test_b.py::test_b: no last run in" in capsys.readouterr().out
    # review118 N6: bare accept exited 1 for the same record, and 0 where it accepted another beside it
    assert main(["accept", "--dir", str(store)]) == 2
    assert f"skipped {last.name}: last-run record {last}" in capsys.readouterr().out  # review120 NEW-8
    _store_one(store / ".last", "tests/test_c.py::test_c")
    assert main(["accept", "--dir", str(store)]) == 2
    out = capsys.readouterr().out
    assert f"skipped {last.name}:" in out and "tests/test_c.py::test_c: " in out, out


def test_accept_names_a_run_made_at_another_commit_than_the_checkout(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """review100 F1: a later pytest run could not write its record, and accept stored the older one
    still there without a word; it now says the run's commit is not the checkout's."""
    from pytest_gpuslo import baseline

    store = tmp_path / ".gpuslo"
    last = _store_one(store / ".last")
    b = baseline.load(last)
    b.runs = [Run(r.latency_ms, r.date, "3beb0cb03b76") for r in b.runs[-1:]]
    Store(store / ".last").rewrite(last, b)
    monkeypatch.setattr(baseline, "git_commit", lambda *a, **k: "5a206da1c0de")
    assert main(["accept", "--dir", str(store)]) == 0
    assert ("note: this run was made at commit 3beb0cb03b76, the checkout is at 5a206da1c0de now: if a later "
            "pytest run warned") in capsys.readouterr().out
    monkeypatch.setattr(baseline, "git_commit", lambda *a, **k: "3beb0cb03b76")
    Store(store / ".last").rewrite(last, b)
    main(["accept", "--dir", str(store)])
    assert "was made at commit" not in capsys.readouterr().out


def test_accept_where_no_store_exists_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """review78: outside any project, "/tmp/.gpuslo/.last is empty" named a folder not there."""
    monkeypatch.chdir(tmp_path)
    assert main(["accept"]) == 1
    assert f"nothing to accept: {tmp_path / '.gpuslo' / '.last'} does not exist; run the SLO tests first" \
        in capsys.readouterr().out


def test_compare_names_the_runs_of_a_folder_far_older_than_its_newest(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """A test renamed or deleted keeps its .last record: compare judged it as if it had just run.
    An empty BASE folder (review72: "no baseline" per test, exit 0, like a green gate) is said once."""
    for when, nodeid, session in (("2026-10-02T10:00:00Z", "tests/test_a.py::test_a", "s2"),
                                  ("2026-10-01T09:00:00Z", "tests/test_gone.py::test_gone", ""),
                                  ("2026-10-01T11:00:00Z", "tests/test_b.py::test_b", ""),  # within a day: not named
                                  # the same day, by an earlier pytest session (review100 restart F4)
                                  ("2026-10-02T09:50:00Z", "tests/test_del.py::test_del", "s1"),
                                  ("2026-10-02T09:58:00Z", "tests/test_c.py::test_c", "s2")):
        monkeypatch.setenv("GPUSLO_NOW", when)
        _store_one(tmp_path / "last", nodeid, session)
    (tmp_path / "base").mkdir()

    main(["compare", str(tmp_path / "base"), str(tmp_path / "last")])
    out = capsys.readouterr().out
    (tmp_path / ".last").mkdir()
    _store_one(tmp_path / ".last")
    main(["compare", str(tmp_path / ".last"), str(tmp_path / "last")])  # review76: BASE and NEW swapped
    assert "holds last-run records and NEW" in capsys.readouterr().out
    # review77: two folders the wrong way round, the candidate's runs first
    monkeypatch.setenv("GPUSLO_NOW", "2026-10-20T10:00:00Z")
    _store_one(tmp_path / "newer")
    main(["compare", str(tmp_path / "newer"), str(tmp_path / "last")])
    assert f"note: the runs in BASE {tmp_path / 'newer'} are newer than every run in NEW" in capsys.readouterr().out
    main(["compare", str(tmp_path / "last"), str(tmp_path / "newer")])
    assert "are newer than every run in NEW" not in capsys.readouterr().out

    empty, note, _ = [line for line in out.splitlines() if line.startswith("note: ")]
    assert empty.startswith(f"note: {tmp_path / 'base'} holds no baseline file, so nothing below is compared")
    assert "1 of these runs is over a day older than the newest" in note
    assert "tests/test_gone.py::test_gone (2026-10-01)" in note and "test_b" not in note
    same_day = next(line for line in out.splitlines() if "from an earlier pytest session" in line)
    assert "tests/test_del.py::test_del (09:50)" in same_day and "counted in the exit status" in same_day
    assert "test_c.py" not in note + same_day and "test_a.py" not in note + same_day


def test_compare_says_not_comparable_once_and_show_keeps_the_machine_name_whole(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """review35: comparing files from two machines printed the NOT COMPARABLE sentence twice (its
    detail is its reason), and `gpuslo show` cut "AMD EPYC 7763 64-Core Processor" at 28 characters."""
    base = _store_one(tmp_path / "base")
    spec = resolve(validate_marker((), {"p95_ms": 50, "rate_hz": 100}, "t"), nodeid="tests/test_a.py::test_a")
    machine = {"backend": "cpu", "cpu": "AMD EPYC 7763 64-Core Processor"}
    other = Baseline("tests/test_a.py::test_a", spec.as_dict(), spec.seed, "f" * 16, machine,
                     [Run(np.linspace(1.1, 3.3, 1000), now_iso())])
    new, _ = Store(tmp_path / "new").save(other, replace=True)

    main(["compare", str(base), str(new)])
    out = capsys.readouterr().out
    main(["show", "--dir", str(tmp_path / "new")])
    shown = capsys.readouterr().out
    main(["compare", str(tmp_path / "base"), str(tmp_path / "new")])  # two folders, named per machine
    folders = capsys.readouterr().out

    assert "NOT COMPARABLE" in out and out.count("baseline from a different machine") == 1, out
    assert "AMD EPYC 7763 64-Core Processor" in shown, shown
    assert "NOT COMPARABLE baseline from a different machine (cpu differs)" in folders, folders
    assert "no baseline" not in folders and "no run:" not in folders, folders


def test_show_tells_apart_machines_of_one_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Session 16's leftover: two files of one test from a 2- and a 4-CPU VM of one CPU model
    printed two identical rows, which read as a duplicate."""
    spec = resolve(validate_marker((), {"p95_ms": 50, "rate_hz": 100}, "t"), nodeid="tests/test_a.py::test_a")
    store = Store(tmp_path / "s")
    for cpus in (2, 4):
        machine = {"backend": "cpu", "cpu": "AMD EPYC 7763 64-Core Processor", "cpu_count": cpus}
        store.save(Baseline("tests/test_a.py::test_a", spec.as_dict(), spec.seed, "f" * 16, machine,
                            [Run(np.linspace(1.0, 3.0, 1000), now_iso())]), replace=True)
    _store_one(tmp_path / "s")  # another test on machine "x": named alone
    gpu = {"backend": "cuda", "gpu": "NVIDIA H100 80GB HBM3", "max_sm_clock_mhz": 1980, "max_mem_clock_mhz": 2619}
    for machine in (gpu, {**gpu, "backend": "cuda-sync", "max_sm_clock_mhz": 1755, "max_mem_clock_mhz": 1593}):
        store.save(Baseline("tests/test_g.py::test_g", spec.as_dict(), spec.seed, "f" * 16, machine,
                            [Run(np.linspace(1.0, 3.0, 1000), now_iso())]))

    assert main(["show", "--dir", str(tmp_path / "s")]) == 0
    rows = capsys.readouterr().out.splitlines()[1:]
    # review44: with three class keys the name was cut to "NVIDIA H100 80", with more to nothing
    assert sum(r.startswith("NVIDIA H100 80GB HBM3 (backend cuda-sync, max_mem_clock_mhz 1593, max_sm_clock_mhz "
                            "1755)") for r in rows) == 1, rows
    rows = [r for r in rows if "test_g" not in r]
    # review45: classes that differ only in the driver's major version or the power limit
    for machine in ({**gpu, "driver": "550.54"}, {**gpu, "driver": "560.28"}, {**gpu, "driver": "560.28", "power_limit_w": 500}):
        store.save(Baseline("tests/test_h.py::test_h", spec.as_dict(), spec.seed, "f" * 16, machine,
                            [Run(np.linspace(1.0, 3.0, 1000), now_iso())]))
    main(["show", "--dir", str(tmp_path / "s")])
    h_rows = [r.split("  ")[0] for r in capsys.readouterr().out.splitlines() if "test_h" in r]
    assert len(h_rows) == 3 and len(set(h_rows)) == 3, h_rows
    assert len(rows) == 3, rows
    assert sum("AMD EPYC 7763 64-Core Processor (cpu_count 2)" in r for r in rows) == 1, rows
    assert sum("AMD EPYC 7763 64-Core Processor (cpu_count 4)" in r for r in rows) == 1, rows
    assert any(r.startswith("x ") for r in rows), rows


def test_compare_finds_this_machine_s_file_as_the_plugin_does(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """review44: with this machine's runs in a file named before the class digest and another
    class's newer file beside it, `gpuslo compare` took the newer one (NOT COMPARABLE, "record a
    baseline on this machine") where the plugin compared with this machine's."""
    import os

    from pytest_gpuslo.baseline import file_name, write_atomic

    spec = resolve(validate_marker((), {"p95_ms": 50, "rate_hz": 100}, "t"), nodeid="tests/test_a.py::test_a")
    two = {"backend": "cpu", "cpu": "x", "cpu_count": 2}
    lat = np.linspace(1.0, 3.0, 1000)

    def made(machine: dict[str, object], runs: int) -> Baseline:
        return Baseline("tests/test_a.py::test_a", spec.as_dict(), spec.seed, "f" * 16, machine,
                        [Run(lat * (1 + k / 1000), now_iso()) for k in range(runs)])

    store = tmp_path / "store"
    old = store / file_name("tests/test_a.py::test_a", two, legacy=True)
    write_atomic(old, made(two, 3).to_json())
    os.utime(old, (1, 1))  # older than the other class's file
    Store(store).save(made({**two, "cpu_count": 4}, 1))
    run, _ = Store(tmp_path / "last").save(Baseline("tests/test_a.py::test_a", spec.as_dict(), spec.seed, "f" * 16,
                                                    two, [Run(lat * 1.01, now_iso())]))

    main(["compare", str(store), str(run)])
    out = capsys.readouterr().out
    assert "NOT COMPARABLE" not in out and "prediction interval from 3 stored runs" in out, out


def test_ctrl_c_ends_a_command_with_a_sentence_not_a_traceback(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """review35: Ctrl-C in `gpuslo ab` printed a Python traceback."""
    from pytest_gpuslo import cli

    def interrupted(args: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_cmd_show", interrupted)  # the parser is built at each call

    assert main(["show"]) == 130
    assert "gpuslo show: interrupted, nothing decided" in capsys.readouterr().err


def test_compare_against_runs_the_save_refused_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """review46: a copy of .last whose runs --gpuslo-save had refused (a busy machine) was used as
    the base without a word; the plugin never compares against such a run."""
    nodeid = "tests/test_a.py::test_a"
    spec = resolve(validate_marker((), {"p95_ms": 50, "rate_hz": 100}, "t"), nodeid=nodeid)
    lat = np.linspace(1.0, 3.0, 1000)
    machine = {"backend": "cpu", "cpu": "x"}
    busy = Run(lat, now_iso(), summary={"save_refusal": "other processes kept the CPUs busy during the run"})
    Store(tmp_path / "last1").save(Baseline(nodeid, spec.as_dict(), spec.seed, "f" * 16, machine, [busy]),
                                   replace=True)
    Store(tmp_path / "last2").save(Baseline(nodeid, spec.as_dict(), spec.seed, "f" * 16, machine,
                                            [Run(lat * 1.01, now_iso())]), replace=True)
    _store_one(tmp_path / "store")

    main(["compare", str(tmp_path / "last1"), str(tmp_path / "last2")])
    refused = capsys.readouterr().out
    main(["compare", str(tmp_path / "store"), str(tmp_path / "last2")])
    stored = capsys.readouterr().out

    assert ("note: the base run in" in refused
            and "was refused as a baseline (other processes kept the CPUs busy during the run)" in refused)
    assert "refused" not in stored


def test_ab_from_a_kept_session_says_it_does_not_use_pytest_arguments(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """review50: `gpuslo ab --from DIR -- --gpuslo-inconclusive=fail` ignored the pytest arguments
    without a word; --from decides kept runs again and runs nothing."""
    main(["ab", "--from", str(tmp_path / "kept"), "--", "--gpuslo-inconclusive=fail"])
    err = capsys.readouterr().err

    assert "the pytest arguments after -- (--gpuslo-inconclusive=fail) are not used" in err


def test_show_names_a_file_that_holds_another_test_s_runs(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    """review100 F2: test_a's file copied under test_b's name was listed as test_a's, exit 0, where
    the plugin and gpuslo compare refuse it."""
    a = _store_one(tmp_path / "s")
    b = _store_one(tmp_path / "other", "tests/test_a.py::test_b")
    b.write_bytes(a.read_bytes())

    assert main(["show", "--dir", str(tmp_path / "s")]) == 0
    capsys.readouterr()
    assert main(["show", "--dir", str(tmp_path / "other")]) == 1
    out = capsys.readouterr().out
    assert f"MISPLACED {b.name}: holds another test's runs (tests/test_a.py::test_a)" in out
    assert "move it back to tests/test_a.py::test_a's name or delete it" in out


def test_show_says_future_for_a_date_ahead_of_this_clock(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """review63: a run dated 2099 showed its age as "-26328d"."""
    spec = resolve(validate_marker((), {"p95_ms": 50, "rate_hz": 100}, "t"), nodeid="tests/test_a.py::test_a")
    Store(tmp_path / "s").save(Baseline("tests/test_a.py::test_a", spec.as_dict(), spec.seed, "f" * 16, {"cpu": "x"},
                                        [Run(np.linspace(1.0, 3.0, 1000), "2099-01-01T00:00:00+00:00")]))

    assert main(["show", "--dir", str(tmp_path / "s")]) == 0
    row = capsys.readouterr().out.splitlines()[1]
    assert " future " in row and "-" not in row.split("future")[0].split()[-1], row


def test_show_reads_one_run_the_newest_by_date(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """review98 #10: after a backdated save, the row read the last saved run's p95 beside the newest
    run's age."""
    spec = resolve(validate_marker((), {"p95_ms": 50, "rate_hz": 100}, "t"), nodeid="tests/test_a.py::test_a")
    now = dt.datetime.now(dt.timezone.utc)
    newest = Run(np.linspace(1.0, 3.0, 1000), (now - dt.timedelta(hours=2)).isoformat(), "newcommit")
    backdated = Run(np.linspace(5.0, 9.0, 1000), (now - dt.timedelta(days=3)).isoformat(), "oldcommit")
    Store(tmp_path / "s").save(Baseline("tests/test_a.py::test_a", spec.as_dict(), spec.seed, "f" * 16, {"cpu": "x"},
                                        [newest, backdated]))

    assert main(["show", "--dir", str(tmp_path / "s")]) == 0
    row = capsys.readouterr().out.splitlines()[1].split()
    assert row[3:6] == [f"{np.quantile(newest.latency_ms, 0.95):.3g}", "2h", "newcommit"], row


def test_session_labels_from_the_environment_stay_apart_and_printable(monkeypatch: pytest.MonkeyPatch) -> None:
    """review66: labels over 64 characters were cut, so jobs differing at the end became one
    session; a control character was stored and made the file malformed for every later run."""
    from pytest_gpuslo import baseline as bl
    from pytest_gpuslo.errors import InvalidArgument

    said = []
    for job in ("job1", "job2"):
        monkeypatch.setenv("GPUSLO_SESSION", "x" * 70 + job)
        said.append(bl.session_id())
    assert said[0] != said[1] and all(len(s) == bl.MAX_SESSION_LABEL for s in said)
    monkeypatch.setenv("GPUSLO_SESSION", "short")
    assert bl.session_id() == "short"
    monkeypatch.setenv("GPUSLO_SESSION", "job\x1b[31m")
    with pytest.raises(InvalidArgument, match=r"GPUSLO_SESSION=.*control character.*printable"):
        bl.session_id()


@pytest.mark.parametrize("given", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "yesterday"])
def test_a_date_out_of_range_is_the_projects_error(monkeypatch: pytest.MonkeyPatch, given: str) -> None:
    """review66: the first two ended in a bare OverflowError (and so did a stored file holding them)."""
    from pytest_gpuslo import baseline as bl
    from pytest_gpuslo.errors import InvalidArgument

    monkeypatch.setenv("GPUSLO_NOW", given)
    with pytest.raises(InvalidArgument, match="GPUSLO_NOW=.*ISO 8601"):
        bl.now_iso()
    assert bl.parse_date(given) is None


@pytest.mark.parametrize("given", ["0001-01-01", "1969-12-31T23:59:59+00:00", "3000-01-01T00:00:00+14:00"])
def test_a_date_far_from_the_clock_is_refused(monkeypatch: pytest.MonkeyPatch, given: str) -> None:
    """review67: years 1 and 3000 were stored, and ``gpuslo show`` printed "739952d" or "future"."""
    from pytest_gpuslo import baseline as bl
    from pytest_gpuslo.errors import InvalidArgument

    monkeypatch.setenv("GPUSLO_NOW", given)
    with pytest.raises(InvalidArgument, match=r"GPUSLO_NOW=.*outside 1970-01-01 to a day past the clock"):
        bl.now_iso()
    monkeypatch.setenv("GPUSLO_NOW", "2026-11-04")  # a date alone is midnight UTC: taken
    assert bl.now_iso() == "2026-11-04T00:00:00+00:00"  # stored in the clock's form (review71)


@pytest.mark.parametrize("name", ["GPUSLO_SESSION", "GPUSLO_NOW"])
def test_a_blank_label_or_date_is_refused_and_an_empty_one_is_unset(monkeypatch: pytest.MonkeyPatch,
                                                                    name: str) -> None:
    """review67: an all-space label was dropped without a word (the runs took the boot and day)."""
    from pytest_gpuslo import baseline as bl
    from pytest_gpuslo.errors import InvalidArgument

    monkeypatch.setenv(name, "   ")
    with pytest.raises(InvalidArgument, match=rf"{name}='   ' \(environment\) is blank"):
        bl.check_environment()
    monkeypatch.setenv(name, "")  # a CI template's unset variable
    bl.check_environment()


def test_the_default_session_label_is_on_the_utc_day(monkeypatch: pytest.MonkeyPatch) -> None:
    """review66: with an offset in $GPUSLO_NOW the label took the local date, the day rule the UTC one."""
    from pytest_gpuslo import baseline as bl

    monkeypatch.delenv("GPUSLO_SESSION", raising=False)
    monkeypatch.setenv("GPUSLO_NOW", "2026-12-01T23:30:00-02:00")
    assert bl.session_id().endswith("2026-12-02")


def test_a_stored_date_with_an_offset_counts_on_its_utc_day() -> None:
    """Runs of one UTC day are one session (review64: a date's own offset read its local day)."""
    from pytest_gpuslo.baseline import utc_day

    assert utc_day("2026-12-01T23:30:00-02:00") == "2026-12-02"
    assert utc_day("2026-12-01T23:30:00") == "2026-12-01"  # no zone: UTC, as now_iso writes


def test_a_store_folder_that_is_a_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """review71: ``gpuslo show --dir pytest.ini`` said "no baselines in pytest.ini", exit 0."""
    (tmp_path / "pytest.ini").write_text("")
    with pytest.raises(SystemExit) as info:
        main(["show", "--dir", str(tmp_path / "pytest.ini")])
    assert info.value.code == 2
    assert "pytest.ini: not a folder; give the baseline store's folder" in capsys.readouterr().err
    with pytest.raises(SystemExit) as missing:  # review78: exit 0 let a mistyped store pass a CI step
        main(["show", "--dir", str(tmp_path / "none")])
    assert missing.value.code == 2
    assert "none: no such folder; give the baseline store's folder" in capsys.readouterr().err


def test_ab_names_the_ini_settings_it_sets_aside_from_the_file_pytest_reads(tmp_path: Path) -> None:
    """review76: set aside without a word; review80: an ini given with -c was not read."""
    from pytest_gpuslo import cli

    (tmp_path / "pytest.ini").write_text("[pytest]\ngpuslo_suggest = true\n")
    (tmp_path / "alt.ini").write_text("[pytest]\ngpuslo_save = true\n")

    (own,) = cli._ab_set_aside(tmp_path).values()
    (alt,) = cli._ab_set_aside(tmp_path, ["-q", "-c", "alt.ini"]).values()
    (eq,) = cli._ab_set_aside(tmp_path, ["--config-file=alt.ini"]).values()

    assert own.startswith(f"gpuslo_suggest = true in {tmp_path / 'pytest.ini'} is set aside")
    assert alt == eq and alt.startswith(f"gpuslo_save = true in {tmp_path / 'alt.ini'} is set aside for the A/B's runs")
    assert cli._ab_set_aside(tmp_path, ["-c", "missing.ini"]) == {}


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_compare_refuses_a_stored_file_that_is_no_regular_file_as_the_plugin_does(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """review100 restart F6: a FIFO, or a link to /dev/zero, in BASE read "no baseline", PASS,
    exit 0, where the plugin and gpuslo show refuse it."""
    stored = _store_one(tmp_path / "store")
    _store_one(tmp_path / "last")
    for make in (lambda p: os.mkfifo(p), lambda p: p.symlink_to("/dev/zero")):
        stored.unlink()
        make(stored)
        assert main(["compare", str(tmp_path / "store"), str(tmp_path / "last")]) == 2
        err = capsys.readouterr().err
        assert f"error: baseline {stored}: is not a regular file" in err


def test_compare_names_a_malformed_new_run_as_the_run_not_a_baseline(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """review160 F4: a NEW record copied out of .gpuslo/.last read "error: baseline X: is malformed"."""
    _store_one(tmp_path / "store")
    (tmp_path / "new").mkdir()
    bad = tmp_path / "new" / next((tmp_path / "store").glob("*.json")).name
    bad.write_text('{"schema": 1, "nodeid": 3}')
    assert main(["compare", str(tmp_path / "store"), str(bad)]) == 2
    assert f"error: NEW run record {bad}: " in capsys.readouterr().err


def test_show_says_raised_where_the_latest_run_s_p95_is_the_raised_requests_timeout(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """review102 F3: a copied last-run record whose p95 lay among its raised requests read "1e+04"."""
    spec = resolve(validate_marker((), {"p95_ms": 50, "rate_hz": 100}, "t"), nodeid="t.py::t")
    lat = np.where(np.arange(1000) % 10 == 3, 1000.0 * spec.timeout_s, np.linspace(1.0, 3.0, 1000))
    base = Baseline("t.py::t", spec.as_dict(), spec.seed, "f" * 16, {"backend": "cpu", "cpu": "x"},
                    [Run(lat, now_iso(), summary={"failed": 100})])
    Store(tmp_path).save(base, replace=True)
    assert main(["show", "--dir", str(tmp_path)]) == 0
    row = capsys.readouterr().out.splitlines()[1]
    assert " raised " in row and "1e+04" not in row


def test_compare_does_not_let_a_stale_record_decide_its_exit_status_and_names_unreadable_files(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """review102 F4: a deleted test's last-run record (its FAIL) turned gpuslo compare red; F5: a
    broken file in BASE read "no run", where gpuslo show says UNREADABLE."""
    made = iter(range(1, 100))

    def record(nodeid: str, budget: float, session: str) -> None:
        spec = resolve(validate_marker((), {"p95_ms": budget, "rate_hz": 100}, "t"), nodeid=nodeid)
        lat = np.linspace(1.0, 3.0, 4000) * (1 + next(made) / 1e4)  # runs never repeat (review191 F2)
        base = Baseline(nodeid, spec.as_dict(), spec.seed, "f" * 16, {"backend": "cpu", "cpu": "x"},
                        [Run(lat, now_iso(), summary={"invocation": session})])
        Store(tmp_path / "last").save(base, replace=True)

    monkeypatch.setenv("GPUSLO_NOW", "2026-09-30T09:00:00Z")
    record("tests/test_gone.py::test_gone", 0.5, "s1")  # FAILs: p95 ~2.9 ms against 0.5, two days before
    monkeypatch.setenv("GPUSLO_NOW", "2026-10-02T10:00:00Z")
    record("tests/test_a.py::test_a", 50.0, "s2")
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "junk.json").write_text("{not json")
    shutil.copy(next((tmp_path / "last").glob("tests-test_a*.json")), tmp_path / "base" / "copied.json")

    assert main(["compare", str(tmp_path / "base"), str(tmp_path / "last")]) == 2  # review120: unreadable input
    out = capsys.readouterr().out
    assert "tests/test_gone.py::test_gone: FAIL" in out and "not counted in the exit status" in out
    assert "unreadable: " in out and "junk.json" in out and "no run: junk.json" not in out
    assert "misplaced: copied.json holds another test's runs (tests/test_a.py::test_a)" in out
    (tmp_path / "base" / "junk.json").unlink()
    assert main(["compare", str(tmp_path / "base"), str(tmp_path / "last")]) == 2  # review121: misplaced too
    (tmp_path / "base" / "copied.json").unlink()
    assert main(["compare", str(tmp_path / "base"), str(tmp_path / "last")]) == 0  # the stale FAIL: not counted
    capsys.readouterr()
    monkeypatch.setenv("GPUSLO_NOW", "2026-10-02T09:00:00Z")
    record("tests/test_gone.py::test_gone", 0.5, "s1")  # an earlier step of the same day: it counts
    assert main(["compare", str(tmp_path / "base"), str(tmp_path / "last")]) == 1
    # review187 F2: a NEW record holding another test's run under this name is not judged as it
    capsys.readouterr()
    gone = next((tmp_path / "last").glob("tests-test_gone*.json"))
    shutil.copy(next((tmp_path / "last").glob("tests-test_a*.json")), gone)
    assert main(["compare", str(tmp_path / "base"), str(tmp_path / "last")]) == 2
    out = capsys.readouterr().out
    assert f"misplaced: NEW {gone.name} holds another test's run (tests/test_a.py::test_a)" in out
    assert out.count("tests/test_a.py::test_a: ") == 1  # its own record's row alone
    # review191 F4: two records of one test on one machine class read as two verdicts under one name
    gone.unlink()
    current = next((tmp_path / "last").glob("tests-test_a*.json"))
    stale = json.loads(current.read_text())
    stale["runs"][-1]["date"] = "2026-09-01T00:00:00+00:00"
    (tmp_path / "last" / f"old-{current.name}").write_text(json.dumps(stale))
    assert main(["compare", str(tmp_path / "base"), str(tmp_path / "last")]) == 2
    out = capsys.readouterr().out
    assert (f"duplicate: NEW old-{current.name} holds an older run of tests/test_a.py::test_a than {current.name}, "
            f"which is judged; not judged: delete it") in out
    assert out.count("tests/test_a.py::test_a: ") == 1


def test_an_ab_names_where_each_side_hung_in_its_latest_run_that_did() -> None:
    """review111 F4: a fixed base's hang was said nowhere (its stack only in --keep); F7: a hang in
    an earlier candidate run, the latest clean, was lost.  ``gpuslo ab`` prints, per side, the
    stack of the latest run that hung, with its number."""
    from types import SimpleNamespace

    from pytest_gpuslo import cli

    def run(stack: str | None) -> dict:
        return {"t::x": {"nodeid": "t::x", **({"stuck": [{"index": 7, "lane": 2, "stack": stack}]} if stack else {})}}

    session = SimpleNamespace(cand=SimpleNamespace(summaries=[run("  File cand.py, in hang_one"), run(None)]),
                              base=SimpleNamespace(summaries=[run("  File base.py, in old"), run("  File base.py, in new")]))
    lines = cli._hung_lines("t::x", session)
    assert lines[0] == "t::x (candidate run 1 of 2 hung):" and "cand.py" in lines[2]
    assert "t::x (the latest base run 2 of 2 hung):" in lines and "in new" in "\n".join(lines)
    assert "in old" not in "\n".join(lines)
    clean = SimpleNamespace(cand=SimpleNamespace(summaries=[run(None)]), base=SimpleNamespace(summaries=[run(None)]))
    assert cli._hung_lines("t::x", clean) == []
    # and the JSON keeps every run that hung, both sides (review113 F4)
    from pytest_gpuslo import ab

    session.cand.name, session.base.name = "candidate", "base"
    kept = ab.hung_runs(session, "t::x")  # type: ignore[arg-type]
    assert [r["run"] for r in kept["candidate"]] == [1] and [r["run"] for r in kept["base"]] == [1, 2]
    assert kept["base"][0]["stuck"][0]["stack"].endswith("in old")
    clean.cand.name, clean.base.name = "candidate", "base"
    assert ab.hung_runs(clean, "t::x") == {}  # type: ignore[arg-type]


@pytest.mark.parametrize(("lanes", "said"), [("-3", "'-3' must be >= 1"), ("0", "'0' must be >= 1"),
                                             ("100000", "'100000' is over the limit of 1,024 lanes")])
def test_capacity_refuses_lanes_outside_a_markers_streams(lanes: str, said: str,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    """review116 F4: --lanes -3 and 100000 ended in raw tracebacks (ThreadPoolExecutor, "can't
    start new thread"), and 0 silently became the default 4: a usage error now, before any work."""
    with pytest.raises(SystemExit) as stop:
        main(["capacity", "--lanes", lanes, "--quick"])
    assert stop.value.code == 2 and f"argument --lanes: {said}" in capsys.readouterr().err


@pytest.mark.parametrize(("args", "said"), [
    (["--lag-us", "0"], "argument --lag-us: '0' must be from 1"), (["--lag-us", "nan"], "'nan' must be from 1"),
    (["--lag-us", "1e-300"], "'1e-300' must be from 1 to 1000000"),
    (["--lag-us", "abc"], "'abc' is not a number of microseconds")])
def test_capacity_refuses_a_lag_threshold_that_measures_nothing(args: list[str], said: str,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    """review117 F11: --lag-us 0, -1 and nan ran a whole measurement into a table of 0/s, exit 0."""
    with pytest.raises(SystemExit) as stop:
        main(["capacity", "--quick", *args])
    assert stop.value.code == 2 and said in capsys.readouterr().err


def test_capacity_of_an_unknown_or_unavailable_backend_says_so(monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    """review117 F10: --backend bogus was the registry's raw traceback, exit 1; F12: a backend
    not available here printed advice on a table it did not print, exit 0."""
    from pytest_gpuslo import backends

    assert main(["capacity", "--quick", "--backend", "bogus"]) == 2
    assert "error: --backend 'bogus': no such backend; give all, auto or one of cuda, cuda-sync, cpu" in \
        capsys.readouterr().err
    monkeypatch.setattr(backends, "probe", lambda name: "no such card here")
    assert main(["capacity", "--quick", "--backend", "cpu"]) == 1
    out = capsys.readouterr()
    assert "cpu: skipped (no such card here)" in out.out and "Size rate_hz" not in out.out
    assert "nothing measured: cpu is not available here" in out.err


def test_a_config_file_given_with_c_that_pytest_refuses_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """review117 F7: an unparseable -c file read as no configuration (the default store used, exit
    0); F8: a folder or a FIFO read "no such file"; F6: a 3-GB sparse pytest.ini, given or found,
    was read whole (MemoryError).  Each is refused by name; one found upwards is passed over."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.ini").write_text("[pytest\nxx")
    (tmp_path / "bad.toml").write_text("x = = =")
    (tmp_path / "latin.ini").write_bytes(b"\xff\xfe[pytest]")
    with (tmp_path / "pytest.ini").open("wb") as fh:
        fh.truncate(limits.MAX_CONFIG_BYTES + 1)  # sparse
    (tmp_path / "folder").mkdir()
    said = {}
    for given in ("bad.ini", "bad.toml", "latin.ini", "pytest.ini", "folder"):
        with pytest.raises(SystemExit) as stop:
            main(["show", "-c", given])
        assert stop.value.code == 2
        said[given] = capsys.readouterr().err
    assert "-c bad.ini: is not a valid ini file" in said["bad.ini"] and "pytest refuses it too" in said["bad.ini"]
    assert "-c bad.toml: is not valid TOML" in said["bad.toml"]
    assert "-c latin.ini: is not UTF-8 text" in said["latin.ini"]
    assert "over the 8,388,608-byte limit; mend it" in said["pytest.ini"]
    assert "-c folder: is a folder" in said["folder"]
    assert main(["show"]) in (0, 1)  # found, not given: passed over, as before, and never read whole
    assert "Traceback" not in capsys.readouterr().err
    # review118 N1: found upwards, one pytest refuses was passed over, and another store shown
    (tmp_path / "pytest.ini").write_text("[pytest\nxx")
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    with pytest.raises(SystemExit) as stop:
        main(["show"])
    assert stop.value.code == 2
    assert f"{tmp_path / 'pytest.ini'}: is not a valid ini file" in capsys.readouterr().err


def test_capacity_that_cannot_start_its_lanes_names_lanes(monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    """review117 F13: --lanes 1024 under a memory limit ended in a raw "can't start new thread"."""
    from pytest_gpuslo import capacity

    def fails(*args: object, **kwargs: object) -> None:
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(capacity, "measure", fails)
    assert main(["capacity", "--quick", "--backend", "cpu", "--lanes", "1024"]) == 2
    assert "error: cpu: could not start 1024 lanes' threads (can't start new thread); give fewer --lanes" in \
        capsys.readouterr().err


def test_a_store_this_user_may_not_read_is_said_not_shown_empty(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """review117 F21 (as root with its capabilities dropped): an unreadable store read "no baselines",
    exit 0, and compare's PermissionError was a raw traceback, exit 1.  Both exit 2 naming the path."""
    import pytest_gpuslo.cli as cli

    store = tmp_path / ".gpuslo"
    _store_one(store)
    real = os.access
    monkeypatch.setattr(cli.os, "access", lambda p, mode: False if Path(p) == store else real(p, mode))
    with pytest.raises(SystemExit) as stop:
        main(["show", "--dir", str(store)])
    assert stop.value.code == 2 and f"--dir {store}: permission denied" in capsys.readouterr().err

    def denied(*args: object) -> None:  # what pathlib's stat raises in a folder it may not search
        raise PermissionError(13, "Permission denied", str(store / "x.json"))

    monkeypatch.setattr(cli.os, "access", real)
    monkeypatch.setattr(cli, "_pairs", denied)
    assert main(["compare", str(store), str(store)]) == 2
    assert f"error: {store / 'x.json'}: permission denied" in capsys.readouterr().err


@pytest.mark.parametrize(("argv", "said"), [
    (["show", "--dir", ""], "error: --dir is empty; give the baseline store's folder"),
    (["ab", "HEAD", "--json", ""], "error: --json is empty; give a file path, or leave the option out"),
    (["ab", "HEAD", "--keep", ""], "error: --keep is empty; give a folder, or leave the option out"),
])
def test_an_empty_path_is_refused_not_taken_as_none_or_here(argv: list[str], said: str,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    """review117 F1, F19: an unset CI variable's empty path read the current folder (--dir) or no
    report at all (--json, --keep), exit 0."""
    try:
        code = main(argv)
    except SystemExit as stop:
        code = int(stop.code or 0)
    assert code == 2 and said in capsys.readouterr().err


def test_a_kept_ab_session_that_nests_too_deep_or_loops_is_named(tmp_path: Path) -> None:
    """review120: gpuslo ab --from ended in a raw RecursionError on a deeply nested session.json or
    base-N.json; a looping session.json read "that A/B was interrupted", a looping --from "no such
    folder"."""
    from pytest_gpuslo import ab

    (tmp_path / "session.json").write_text("[" * 100_000)
    with pytest.raises(ab.ABError, match="session.json is not the record gpuslo ab writes \\(it nests deeper"):
        ab.load(tmp_path)
    (tmp_path / "session.json").write_text('{"base": "x", "runs": 1}')
    (tmp_path / "base-1.json").write_text("[" * 100_000)
    with pytest.raises(ab.ABError, match="base-1.json: nests deeper than the JSON reader can follow"):
        ab.load(tmp_path)
    (tmp_path / "session.json").unlink()
    (tmp_path / "session.json").symlink_to("session.json")
    with pytest.raises(ab.ABError, match="its session.json is a link that loops back on itself"):
        ab.load(tmp_path)
    (tmp_path / "loop").symlink_to("loop")
    with pytest.raises(ab.ABError, match="loop: is a link that loops back on itself \\(to loop\\)"):
        ab.load(tmp_path / "loop")


REPORT = {"schema": 1, "tool": "pytest-gpuslo", "results": []}


@pytest.mark.parametrize(("session", "report", "says"), [
    ({"looks": []}, {}, "session.json is inconsistent: 1 runs, first look 1, looks []"),  # was an IndexError
    ({"base": "abc\x1b[31mred"}, {}, "its base abc\\x1b[31mred is not a revision's name"),
    ({}, {"tool": "x"}, "base-1.json is not the JSON report a gpuslo ab run writes: its tool is 'x', not "
                        "'pytest-gpuslo'"),
    ({}, {"schema": 99}, "its schema 99 is not one this version reads (1 to 1)"),
    ({}, {"results": {"a": 1}}, "its results are an object, not a list"),
    ({}, {"results": [{"nodeid": "t.py::a"}, {"nodeid": "t.py::a"}]}, "it lists t.py::a twice"),
    ({}, {"results": [{"nodeid": "t.py::a", "latency_ms": "fast"}]}, "the latency_ms of t.py::a is a string"),
    # review200 F8: taken as they were
    ({"runs": "1"}, {}, "is not the record gpuslo ab writes (TypeError: '1' is not a whole number)"),
    ({"runs": 1.0, "first": 1.0}, {}, "(TypeError: 1.0 is not a whole number)"),
    ({"looks": "1"}, {}, "(TypeError: looks '1' is not a list of run counts)"),
    ({"base": 5}, {}, "(TypeError: base 5 is not a revision's name)"),
    ({"base": ""}, {}, "(TypeError: base '' is not a revision's name)"),
], ids=["no-looks", "escape-in-base", "foreign-tool", "schema", "results-not-a-list", "duplicated", "wrong-type",
        "runs-string", "runs-float", "looks-string", "base-number", "base-empty"])
def test_a_kept_ab_session_edited_by_hand_is_named_not_decided(tmp_path: Path, session: dict[str, Any],
                                                             report: dict[str, Any], says: str) -> None:
    """review197 F6/F7: `gpuslo ab --from` ended in a traceback (exit 1, the code of a regression)
    on "looks": [] or a string latency_ms, printed a base's terminal escape as it was, and decided
    a foreign or duplicated report as if whole."""
    from pytest_gpuslo import ab

    (tmp_path / "session.json").write_text(json.dumps({"base": "abc123", "runs": 1, "first": 1, "looks": [1],
                                                       **session}))
    for side in ("base", "candidate"):
        (tmp_path / f"{side}-1.json").write_text(json.dumps({**REPORT, **(report if side == "base" else {})}))
    with pytest.raises(ab.ABError) as raised:
        ab.load(tmp_path)
    assert says in str(raised.value) and "run the A/B again with gpuslo ab BASE --keep NEWDIR" in str(raised.value)
    (tmp_path / "session.json").write_text(json.dumps({"base": "abc123", "runs": 1, "first": 1, "looks": [1]}))
    (tmp_path / "base-1.json").write_text(json.dumps(REPORT))
    assert ab.load(tmp_path).sha == "abc123"  # the same files, unedited, load


def test_an_ab_cut_while_deciding_says_so_in_its_reports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """review198 F4: a cancel after every run had finished read "interrupted before its runs were
    done" (and one past the runs' own handling wrote no report at all)."""
    from pytest_gpuslo import ab

    (tmp_path / "session.json").write_text(json.dumps({"base": "abc123", "runs": 1, "first": 1, "looks": [1]}))
    for side in ("base", "candidate"):
        (tmp_path / f"{side}-1.json").write_text(json.dumps(REPORT))

    def cut(session: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(ab, "made_with", cut)
    assert main(["ab", "--from", str(tmp_path), "--md", str(tmp_path / "ab.md")]) == 130
    assert "gpuslo ab was interrupted after its runs, while deciding: nothing decided" in (
        tmp_path / "ab.md").read_text()
    assert "gpuslo ab: interrupted, nothing decided" in capsys.readouterr().err


def test_a_cancel_while_the_base_worktree_is_removed_is_held() -> None:
    """review201 F2/F3: a Ctrl-C to the process group during the worktree's removal cut git short (a
    checkout left in the temporary folder for good) and, every run done, threw them all away as
    "interrupted before its runs were done"; the signal is held for the removal, and the A/B then
    decides on its runs, says the cancel came, and exits as the signal would."""
    import signal

    from pytest_gpuslo import ab

    before = signal.getsignal(signal.SIGINT)
    with ab._Deferred() as held:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)  # (a handler runs between bytecodes: the signal has come by now)
    assert held.got == signal.SIGINT and signal.getsignal(signal.SIGINT) is before
    # (the A/B that decides on its runs then: tests/cli/test_ab.py, a real kept session)


def test_a_kept_run_emptied_or_holding_a_wrong_type_is_named_not_decided(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """review200 F7: a kept candidate run whose results were emptied made its test "not judged",
    exit 0; F6: a field of the wrong type deep in a kept report (a percentile "fast") was a
    traceback, exit 1, the code of a regression."""
    from pytest_gpuslo import ab

    (tmp_path / "session.json").write_text(json.dumps({"base": "abc123", "runs": 2, "first": 2, "looks": [2]}))
    for side in ("base", "candidate"):
        for r in (1, 2):
            results = [{"nodeid": "t.py::test_a"}] if (side, r) != ("candidate", 2) else []
            (tmp_path / f"{side}-{r}.json").write_text(json.dumps({**REPORT, "results": results}))
            (tmp_path / f"{side}-{r}" / ".last").mkdir(parents=True)
    with pytest.raises(ab.ABError, match=r"candidate-2.json holds no result, where candidate run 1 holds 1: a run "
                                         r"must not drop out of the comparison unnoticed"):
        ab.load(tmp_path)

    def broken(folder: Path) -> Any:
        raise TypeError("must be real number, not str")

    monkeypatch.setattr(ab, "load", broken)
    assert main(["ab", "--from", str(tmp_path)]) == 2
    assert ("a kept report or record holds what no gpuslo ab run writes (TypeError: 'must be real number, not "
            "str'); run the A/B again with gpuslo ab BASE --keep NEWDIR") in capsys.readouterr().err


def test_ab_takes_v_which_is_always_on_there() -> None:
    """review203 F1: `gpuslo ab HEAD -v` was refused with the top-level usage line, where the README
    says -v is always on in gpuslo ab."""
    from pytest_gpuslo.cli import build_parser

    assert build_parser().parse_args(["ab", "HEAD", "-v"]).verbose is True


def test_accept_skips_a_record_under_another_test_s_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """review120 NEW-11: a last-run record copied under another test's name was accepted without a
    word, and the test was then listed twice; show calls such a file MISPLACED."""
    store = tmp_path / ".gpuslo"
    record = _store_one(store / ".last")
    shutil.copy(record, Store(store / ".last").path_for("tests/test_b.py::test_b", {"backend": "cpu", "cpu": "x"}))

    assert main(["accept", "--dir", str(store)]) == 2
    out = capsys.readouterr().out
    assert "holds another test's run (tests/test_a.py::test_a), not the test its name is for" in out, out
    assert len(list(store.glob("*.json"))) == 1  # test_a's own record, once


def test_describe_of_a_one_series_trace_refuses_a_column_name(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    """review120: --column ts on a .npy read "no such column ... (the file has no header line)"."""
    path = tmp_path / "t.npy"
    np.save(path, np.arange(50) * 0.01)

    assert main(["arrivals", "describe", str(path), "--column", "ts"]) == 2
    assert "--column ts: a .npy trace holds one series, no named columns; leave --column out" in \
        capsys.readouterr().err


def test_accept_of_an_unreadable_folder_of_records_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    """A .last this user may not read read "nothing to accept: ... is empty" (as a store did: review117
    F21); os.access stands in for the permission, which root, running this suite in CI, never lacks."""
    store = tmp_path / ".gpuslo"
    _store_one(store / ".last")
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p).name == ".last" else real(p, mode))

    assert main(["accept", "--dir", str(store)]) == 2
    assert f"error: {store / '.last'}: permission denied; make it readable for this user" in capsys.readouterr().err


def test_describe_refuses_a_flag_a_json_trace_contradicts_even_at_its_default(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """review121: --unit s and --kind timestamps (the defaults) gave way to a JSON trace's own "ms"
    and "intervals" without a word; a file holding both keys was read as the first."""
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"unit": "ms", "intervals": [10.0] * 100}))

    assert main(["arrivals", "describe", str(path), "--unit", "s"]) == 2
    assert 'names its unit "ms", and --unit s was given; leave --unit out' in capsys.readouterr().err
    assert main(["arrivals", "describe", str(path), "--kind", "timestamps"]) == 2
    assert 'holds "intervals", and --kind timestamps was given; leave --kind out' in capsys.readouterr().err
    assert main(["arrivals", "describe", str(path), "--unit", "ms", "--kind", "intervals"]) == 0
    assert 'unit         ms (from the file\'s "unit")' in capsys.readouterr().out
    path.write_text(json.dumps({"timestamps": [0, 1, 2], "intervals": [1, 1]}))
    assert main(["arrivals", "describe", str(path)]) == 2
    assert 'holds both "timestamps" and "intervals"; keep one of them' in capsys.readouterr().err


def test_a_store_behind_a_looping_folder_is_named_as_such(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """review121: gpuslo_baseline_dir = store/sub with store -> store read "no such folder", exit 0
    (show, prune), and accept ended in a raw RuntimeError."""
    (tmp_path / "pytest.ini").write_text("[pytest]\ngpuslo_baseline_dir = store/sub\n")
    (tmp_path / "store").symlink_to("store")
    monkeypatch.chdir(tmp_path)

    for command in (["show"], ["accept"], ["prune", "--keep-runs", "1"]):
        with pytest.raises(SystemExit) as exited:
            main(command)
        assert exited.value.code == 2
        assert f"{tmp_path / 'store' / 'sub'} is behind a link that loops back on itself" in capsys.readouterr().err


@pytest.mark.parametrize(("scale", "unit"), [(1.0, "ms"), (1e3, "us"), (1e6, "ns"), (1e-3, "s")])
def test_describe_reads_epoch_stamps_in_the_unit_their_size_names(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                                   scale: float, unit: str) -> None:
    """review129 F3: JMeter's timeStamp column (epoch ms, no unit in its name) read as seconds:
    0.3 arrivals a second and a ready-to-paste marker at that rate."""
    stamps = 1_764_900_000_000 + np.cumsum(np.random.default_rng(2).exponential(1000 / 300, 2000))
    path = tmp_path / "results.jtl"
    path.write_text("timeStamp,elapsed,label\n" + "".join(f"{t * scale:.0f},5,home\n" for t in stamps))
    assert main(["arrivals", "describe", str(path), "--column", "timeStamp"]) == 0
    out = capsys.readouterr().out
    rate = float(next(ln for ln in out.splitlines() if ln.startswith("rate")).split()[1])
    if unit == "s":  # epoch seconds are seconds, and say nothing of their size
        assert "assumed" in out and rate > 200  # (whole seconds: rounded, within a step)
        return
    assert 250 < rate < 350
    assert f"unit         {unit} (from the size of the stamps: in {unit} they are dates from 2000 to 2100" in out
    # a unit given is taken as given
    assert main(["arrivals", "describe", str(path), "--column", "timeStamp", "--unit", "ns"]) == 0
    assert "unit         ns (from --unit)" in capsys.readouterr().out


def test_a_monotonic_clock_s_stamps_are_no_epoch_dates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """review131 F5: time.monotonic_ns() an hour after boot is 3.6e12, a date in ms, where it read
    0.0003 arrivals a second: a size that makes a date but no rate a test could replay is no unit."""
    path = tmp_path / "mono.txt"
    for uptime_ns in (3.6e12, 3.5e15):  # an hour (a date in ms) and 40 days (one in us: review132 D1)
        path.write_text("".join(f"{t:.0f}\n" for t in uptime_ns + np.cumsum(np.random.default_rng(6).exponential(
            4e6, 3000))))
        assert main(["arrivals", "describe", str(path)]) in (0, 2)
        assert "from the size of the stamps" not in capsys.readouterr().out
        assert main(["arrivals", "describe", str(path), "--unit", "ns"]) == 0
        assert "rate         2" in capsys.readouterr().out  # about 250 /s


def test_stamps_rounded_finer_than_half_a_gap_are_not_warned_of(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """Millisecond stamps at 300 arrivals a second tie 14% of the time; moving each by under a
    third of a gap is no burst (a warning there would be cried wolf)."""
    stamps = np.cumsum(np.random.default_rng(3).exponential(1000 / 300, 3000))
    path = tmp_path / "ms.csv"
    path.write_text("t_ms\n" + "".join(f"{t:.0f}\n" for t in stamps))
    assert main(["arrivals", "describe", str(path)]) == 0
    assert "share a timestamp" not in capsys.readouterr().out
    path.write_text("t_ms\n" + "".join(f"{t / 4:.0f}\n" for t in stamps))  # 1,200 a second in ms: rounded
    assert main(["arrivals", "describe", str(path)]) == 0
    assert "share a timestamp" in capsys.readouterr().out


def test_accept_that_refused_a_run_and_added_none_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """review139 F6: a refused run beside one already stored exited 0, so a record job of
    `pytest; gpuslo accept` went green with nothing recorded (--gpuslo-save exits 4 there)."""
    lat = np.linspace(1.0, 3.0, 1000)
    store = tmp_path / ".gpuslo"

    def last(nodeid: str, summary: dict[str, str]) -> Baseline:
        spec = resolve(validate_marker((), {"p95_ms": 50, "rate_hz": 100}, "t"), nodeid=nodeid)
        return Baseline(nodeid, spec.as_dict(), spec.seed, "f" * 16, {"backend": "cpu", "cpu": "x"},
                        [Run(lat, now_iso(), summary={"invocation": "inv", **summary})])

    busy = last("tests/test_a.py::test_a", {"save_refusal": "other processes kept the CPUs busy during the run"})
    kept = last("tests/test_a.py::test_b", {})
    Store(store).save(kept)  # test_b's run is already stored (as --gpuslo-save stores it)
    for b in (busy, kept):
        Store(store / ".last").save(b, replace=True, history=False)

    assert main(["accept", "--dir", str(store)]) == 1
    out = capsys.readouterr().out
    assert "test_a: not accepted: other processes kept the CPUs busy" in out and "already stored" in out
    assert "nothing accepted: 1 run was refused (above)" in out
    Store(store / ".last").save(last("tests/test_a.py::test_c", {}), replace=True, history=False)
    assert main(["accept", "--dir", str(store)]) == 0  # test_c added beside the refused one
    # review191 F1: the save_refusal field deleted by hand let a busy run in; the record's own
    # words about its neighbours refuse it as --gpuslo-save does
    edited = last("tests/test_a.py::test_d", {"contention": "other processes kept 1.6 of 2 CPUs busy during the run"})
    Store(store / ".last").save(edited, replace=True, history=False)
    assert main(["accept", "--dir", str(store), "tests/test_a.py::test_d"]) == 1
    assert ("test_d: not accepted: other processes kept 1.6 of 2 CPUs busy during the run (a baseline needs a "
            "quiet machine") in capsys.readouterr().out


def test_accept_takes_the_invocation_written_last_not_the_latest_date(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """review141 F9: a run dated by $GPUSLO_NOW to an earlier day, made by the last pytest run, read
    "from an earlier pytest run than the last" beside an older run dated by the clock."""
    import os

    lat = np.linspace(1.0, 3.0, 1000)
    store = tmp_path / ".gpuslo"

    def last(nodeid: str, date: str, invocation: str) -> Path:
        spec = resolve(validate_marker((), {"p95_ms": 50, "rate_hz": 100}, "t"), nodeid=nodeid)
        b = Baseline(nodeid, spec.as_dict(), spec.seed, "f" * 16, {"backend": "cpu", "cpu": "x"},
                     [Run(lat, date, summary={"invocation": invocation})])
        return Store(store / ".last").save(b, replace=True, history=False)[0]

    older = last("tests/test_a.py::test_clock", "2026-12-06T17:09:00+00:00", "first")
    os.utime(older, (1_000_000, 1_000_000))  # written first
    last("tests/test_a.py::test_dated", "2026-12-01T10:00:00+00:00", "second")  # by GPUSLO_NOW, written last

    assert main(["accept", "--dir", str(store)]) == 0
    out = capsys.readouterr().out
    assert "test_dated: created" in out
    assert "test_clock: left: its run (2026-12-06T17:09:00+00:00) is from an earlier pytest run" in out


@pytest.mark.parametrize(("made", "code", "outcome"), [
    ({"alpha": 0.01, "allow_throttle": True}, 1, ": FAIL"),
    ({"alpha": 0.01, "allow_throttle": False}, 0, ": INCONCLUSIVE"),
    (None, 0, ": INCONCLUSIVE"),  # a record written before the policy was kept
    ({"alpha": "x", "allow_throttle": "yes"}, 0, ": INCONCLUSIVE"),  # unreadable: the defaults decide
    ("fail", 0, ": INCONCLUSIVE"),  # not even an object
    ({"alpha": 0.01, "allow_throttle": False, "inconclusive": "fail"}, 1, ": INCONCLUSIVE"),  # pytest failed it
])
def test_compare_decides_a_record_under_the_policy_its_run_was_made_with(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], made: object, code: int,
        outcome: str) -> None:
    """review146 F1: a run made beside busy neighbours with --gpuslo-allow-throttle FAILed (exit 1),
    and `gpuslo compare` of its record held the FAIL back as the neighbours' (exit 0)."""
    spec = resolve(validate_marker((), {"p95_ms": 50, "rate_hz": 100}, "t"), nodeid="tests/test_a.py::test_a")
    said: dict[str, object] = {"contention": "other processes kept 1.5 of 2 CPUs busy", "contention_slowdown": 2.0}
    if made is not None:
        said["policy"] = made
    run = Run(np.full(2000, 200.0) + np.linspace(0.0, 1.0, 2000), now_iso(), summary=said)
    Store(tmp_path / "last").save(Baseline("tests/test_a.py::test_a", spec.as_dict(), spec.seed, "f" * 16,
                                           {"backend": "cpu", "cpu": "x"}, [run]), replace=True)
    (tmp_path / "store").mkdir()
    capsys.readouterr()

    assert main(["compare", str(tmp_path / "store"), str(tmp_path / "last")]) == code
    printed = capsys.readouterr().out
    assert f"tests/test_a.py::test_a{outcome}" in printed, printed
    given = made if isinstance(made, dict) else {}
    assert ("judged with --gpuslo-allow-throttle, as its record says the run was made" in printed) is \
        (given.get("allow_throttle") is True)
    assert ("made with --gpuslo-inconclusive=fail, under which pytest failed" in printed) is \
        (given.get("inconclusive") == "fail")
    # review147 F1: a field pytest never writes is said, not left out without a word
    assert ("which pytest never writes (the file was edited or damaged)" in printed or "is not an object" in printed) \
        is (made == "fail" or given.get("alpha") == "x")


def test_compare_annotates_a_pull_request_as_the_plugin_does(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """`gpuslo compare` in a GitHub workflow step printed no annotation where the plugin and
    gpuslo ab print one per failed or undecided SLO test: a record's FAIL read only in the log."""
    spec = resolve(validate_marker((), {"p95_ms": 50, "rate_hz": 100}, "t"), nodeid="tests/test_a.py::test_a")
    for name, made in (("test_a", None), ("test_b", {"alpha": 0.01, "inconclusive": "fail"})):
        nodeid = f"tests/test_a.py::{name}"
        lat = np.full(2000, 200.0) + np.linspace(0.0, 1.0, 2000) if name == "test_a" else np.linspace(1.0, 60.0, 300)
        run = Run(lat, now_iso(), summary={"policy": made} if made else {})
        Store(tmp_path / "last").save(Baseline(nodeid, {**spec.as_dict(), "nodeid": nodeid}, spec.seed, "f" * 16,
                                               {"backend": "cpu", "cpu": "x"}, [run]), replace=True)
    (tmp_path / "store").mkdir()
    capsys.readouterr()
    assert main(["compare", str(tmp_path / "store"), str(tmp_path / "last")]) == 1
    assert "\n::" not in capsys.readouterr().out  # not on GitHub: none

    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    assert main(["compare", str(tmp_path / "store"), str(tmp_path / "last")]) == 1
    said = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("::")]
    assert said[0] == "::error title=SLO FAIL::tests/test_a.py::test_a: FAIL: p95 201 ms > 50 ms budget", said
    assert said[1] == ("::error title=SLO INCONCLUSIVE::tests/test_a.py::test_b: INCONCLUSIVE: p95<=50ms at 57 ms, "
                       "over budget: a FAIL needs ~2,100 requests if the slowdown lasts (ran 300)"), said
    assert len(said) == 2
    # a record made beside busy neighbours: its row's words as pytest's were (review159 F5)
    nodeid = "tests/test_a.py::test_c"
    run = Run(np.linspace(5.0, 45.0, 600), now_iso(),
              summary={"contention": "other processes kept 1.5 of 2 CPUs busy", "contention_slowdown": 2.0})
    Store(tmp_path / "busy").save(Baseline(nodeid, spec.as_dict(), spec.seed, "f" * 16, {"backend": "cpu", "cpu": "x"},
                                           [run], {"other_cpu_load": 1.5, "cpus": 2}), replace=True)
    assert main(["compare", str(tmp_path / "store"), str(tmp_path / "busy")]) == 0
    (busy,) = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("::")]
    assert busy == ("::warning title=SLO INCONCLUSIVE::tests/test_a.py::test_c: INCONCLUSIVE: p95<=50ms needs a "
                    "quieter machine (other processes kept 1.5 of 2 CPUs busy), or at least ~40,000 requests (ran 600) "
                    "on this one"), busy
    from pytest_gpuslo.reports import github

    many = [{"nodeid": f"t.py::test_{k}", "verdict": {"outcome": "FAIL"}} for k in range(12)]
    assert github.commands(many, listed="the log above lists them")[-1].endswith(
        "3 more SLO tests failed: the log above lists them")


def test_compare_takes_a_record_s_alpha_unless_told_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """review146 F2: a run made at --gpuslo-alpha 1e-6 read INCONCLUSIVE in pytest and FAIL in
    `gpuslo compare`, which judged it at 0.01; --alpha still decides where given."""
    from pytest_gpuslo import gate
    from pytest_gpuslo.cli import _recorded_policy

    policy, words = _recorded_policy({"policy": {"alpha": 1e-6, "allow_throttle": False}}, gate.Policy(), False)
    assert policy.alpha == 1e-6 and not policy.allow_disturbances
    assert words == "judged with alpha 1e-06, as its record says the run was made, so that this reads as pytest " \
                    "did; --alpha overrides its alpha"
    told, words = _recorded_policy({"policy": {"alpha": 1e-6}}, gate.Policy(alpha=0.05), True)
    assert told.alpha == 0.05 and words == ""
    assert _recorded_policy({"policy": {"alpha": 0.01}}, gate.Policy(), False)[1] == ""  # the default: nothing to say


def test_compare_prints_the_stall_note_the_terminal_prints(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """review146 N1: pytest's terminal said "the load generator stalled: it delayed one or a few
    completions by up to 2.75 ms" under an undecided run; `gpuslo compare` of its record did not."""
    nodeid = "tests/test_a.py::test_a"
    spec = resolve(validate_marker((), {"p95_ms": 50, "rate_hz": 100}, "t"), nodeid=nodeid)
    lat = np.linspace(1.0, 3.0, 1000)
    lag = np.full(1000, 0.05)
    lag[500:503] = 30.0  # one stall: 3 requests, invisible at p99
    machine = {"backend": "cpu", "cpu": "x"}
    Store(tmp_path / "last").save(Baseline(nodeid, spec.as_dict(), spec.seed, "f" * 16, machine,
                                           [Run(lat + lag, now_iso(), lag_ms=lag)]), replace=True)
    Store(tmp_path / "calm").save(Baseline(nodeid, spec.as_dict(), spec.seed, "f" * 16, machine,
                                           [Run(lat, now_iso(), lag_ms=np.full(1000, 0.05))]), replace=True)
    _store_one(tmp_path / "store")

    main(["compare", str(tmp_path / "store"), str(tmp_path / "last")])
    stalled = capsys.readouterr().out
    main(["compare", str(tmp_path / "store"), str(tmp_path / "calm")])

    assert ("  the load generator stalled: it delayed one or a few completions by up to 30 ms (lag p99 0.05 ms); "
            "the queue behind them is in the tail") in stalled, stalled
    assert "stalled" not in capsys.readouterr().out


def test_an_ab_verdict_of_a_test_marked_xfail_is_what_pytest_makes_of_it() -> None:
    """The candidate's runs say the marker applies; the A/B's verdict is then an XFAIL, an XPASS
    (strict as the runs showed), or, for an INCONCLUSIVE, skipped as the plugin skips it, under
    --gpuslo-inconclusive=fail too (so gpuslo ab's exit status and annotations leave it green)."""
    from pytest_gpuslo import ab
    from pytest_gpuslo.reports import github

    assert ab._xfail_outcome({"pytest_outcome": "xfailed"}, "FAIL") == "xfailed"
    assert ab._xfail_outcome({"pytest_outcome": "xpassed (strict)"}, "PASS") == "xpassed (strict)"
    assert ab._xfail_outcome({"pytest_outcome": "xfailed"}, "INCONCLUSIVE") == "skipped"
    assert ab._xfail_outcome({"pytest_outcome": "skipped"}, "FAIL") == "xfailed"
    assert ab._xfail_outcome({"pytest_outcome": "passed"}, "INCONCLUSIVE") is None
    # a marker that expects other exceptions: the A/B's FAIL is pytest's FAILED (review160 F2)
    raising = {"pytest_outcome": "xpassed", "xfail": {"strict": False, "raises": True}}
    assert ab._xfail_outcome(raising, "FAIL") is None and ab._xfail_outcome(raising, "PASS") == "xpassed"
    undecided = {"nodeid": "t.py::test_x", "pytest_outcome": "skipped",
                 "verdict": {"outcome": "INCONCLUSIVE", "checks": [], "baseline": [], "reasons": ["too few"]}}
    (line,) = github.commands([undecided], inconclusive="fail")
    assert line.startswith("::warning title=SLO INCONCLUSIVE::t.py::test_x: INCONCLUSIVE") and "(skipped)" in line


def test_a_store_file_name_with_control_codes_is_printed_written_out(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """review164 F4: a name holding a terminal escape set the terminal's title in gpuslo show, and
    one holding a newline split its line, whose second half could read as a GitHub Actions command."""
    store = tmp_path / ".gpuslo"
    store.mkdir()
    (store / "test_g.py--t\x1b]0;PWNED\x07--amd--ffffffff.json").write_text('{"a": 1}')
    (store / "test_f.py--te\n::error::x--amd--eeeeeeee.json").write_text('{"a": 1}')
    main(["show", "--dir", str(store)])
    main(["prune", "--dir", str(store), "--older-than", "0"])
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "\n::error::" not in out
    assert "UNREADABLE test_f.py--te\\x0a::error::x--amd--eeeeeeee.json: baseline " in out
    assert "left alone (unreadable): test_g.py--t\\x1b]0;PWNED\\x07--amd--ffffffff.json: baseline " in out


def test_an_ab_run_waiting_for_a_lane_another_session_holds_says_so_as_it_waits(tmp_path: Path) -> None:
    """review171 F2: a run that sat 80 s behind another session's test on the host-wide CPU lane
    was silent (its output is captured for the A/B): the wait is said as it comes, the output kept."""
    from pytest_gpuslo import ab

    heard = tmp_path / "heard"
    # the run goes on only once the wait was said (exit 3 after 60 s of silence)
    script = ("import os, sys, time\nprint('collected 1 item', flush=True)\n"
              "sys.stderr.write('\\n[gw0] gpuslo: waiting for the host-wide CPU lane, held by process 7\\n')\n"
              "sys.stderr.flush()\nt = time.monotonic()\n"
              f"while not os.path.exists({str(heard)!r}):\n"
              "    time.sleep(0.01)\n    if time.monotonic() - t > 60: sys.exit(3)\n"
              "print('gpuslo: waiting for GPU 0, held by process 9')\nprint('done')\nsys.exit(1)\n")
    said: list[str] = []

    def say(line: str) -> None:
        said.append(line)
        heard.touch()

    done = ab._run_saying_waits([sys.executable, "-c", script], cwd=tmp_path, env=dict(os.environ), say=say)
    assert done.returncode == 1 and done.stdout.splitlines() == [
        "collected 1 item", "gpuslo: waiting for GPU 0, held by process 9", "done"]
    assert "held by process 7" in done.stderr
    assert said == ["gpuslo ab: waiting for the host-wide CPU lane, held by process 7",
                    "gpuslo ab: waiting for GPU 0, held by process 9"]


def test_an_interrupted_ab_run_says_so_before_it_waits_for_its_pytest_to_stop(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """review198 F2: a run's pytest slow to stop (a fixture's long teardown) held the A/B's reports
    past a cancelled CI job's kill, which found none: ``on_interrupt`` comes first, then the wait."""
    from pytest_gpuslo import ab

    monkeypatch.setattr(ab, "STOP_GRACE_S", 0.5)
    slow = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(30)"
    heard: list[float] = []

    def interrupt(line: str) -> None:  # the first "still going" line stands for the user's Ctrl-C
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        ab._run_saying_waits([sys.executable, "-c", slow], cwd=tmp_path, env=dict(os.environ), say=interrupt,
                             first_say_s=0.2, on_interrupt=lambda exc: heard.append(time.monotonic()))
    assert len(heard) == 1 and time.monotonic() - heard[0] >= 0.5  # said, then the grace, then the kill


def test_a_base_worktree_a_killed_ab_left_is_removed_by_the_next(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """review198 F1/F3: SIGKILL leaves no time to remove the base's worktree, and git worktree
    prune forgets only those whose folder is gone, which a runner's temporary folder never is;
    review201 F4, review203 F3: nor its folder of runs, which piled up in the runner's /tmp."""
    import tempfile

    from pytest_gpuslo import ab

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()

    top = tmp_path / "repo"
    top.mkdir()
    for args in (["init", "-q"], ["-c", "user.name=a", "-c", "user.email=a@a", "commit", "-q", "--allow-empty",
                                  "-m", "x"]):
        subprocess.run(["git", *args], cwd=top, check=True, capture_output=True)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    trees = {}
    for name, owner in (("dead", str(gone.pid)), ("alive", str(os.getpid())), ("older", None)):
        folder = tmp_path / f"{ab.BASE_TREE_PREFIX}{name}"
        folder.mkdir()
        if owner is not None:
            (folder / ab.OWNER).write_text(owner + "\n")
        subprocess.run(["git", "worktree", "add", "-q", "--detach", str(folder / "tree")], cwd=top, check=True,
                       capture_output=True)
        trees[name] = folder / "tree"
    runs = {}
    for name, owner in (("gone", str(gone.pid)), ("running", str(os.getpid())), ("unowned", None)):
        runs[name] = tmp_path / "tmp" / f"{ab.RESULTS_PREFIX}{name}"
        runs[name].mkdir()
        if owner is not None:
            (runs[name] / ab.OWNER).write_text(owner + "\n")
    notes = ab.forget_stale_trees(top)
    listed = subprocess.run(["git", "worktree", "list"], cwd=top, capture_output=True, text=True).stdout
    assert [runs[name].exists() for name in ("gone", "running", "unowned")] == [False, True, True]
    assert (f"removed {runs['gone']}, which an earlier gpuslo ab left behind (its process {gone.pid} is gone)"
            in notes)
    notes = [n for n in notes if n.startswith("removed the base worktree")]

    assert sorted(notes) == sorted([
        f"removed the base worktree {trees['dead']} an earlier gpuslo ab left behind (its process {gone.pid} is gone)",
        f"removed the base worktree {trees['older']} an earlier gpuslo ab left behind (it names no process)"])
    assert str(trees["alive"]) in listed and str(trees["dead"]) not in listed and str(trees["older"]) not in listed
    assert not trees["dead"].parent.exists() and trees["alive"].is_dir()  # another gpuslo ab's, running now


def test_an_ab_run_that_goes_on_says_so_with_the_cpu_time_it_had(tmp_path: Path) -> None:
    """review165 F4: a candidate run starved by neighbours sat 8 minutes between "run 1/3,
    candidate" and the user's Ctrl-C without a word."""
    from pytest_gpuslo import ab

    said: list[str] = []
    done = ab._run_saying_waits([sys.executable, "-c", "import time; time.sleep(1.0)"], cwd=tmp_path,
                                env=dict(os.environ), say=said.append, first_say_s=0.2)
    assert done.returncode == 0 and said, said
    assert all(re.fullmatch(r"gpuslo ab: this run is still going after \d+ s; it has had [\d.e+-]+ s of CPU time "
                            r"so far", line) for line in said), said

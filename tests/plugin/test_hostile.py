"""Hostile inputs end to end: nothing a user or a file hands the plugin crashes the session, exhausts
memory or hides a result (the issue's rows A-N, pytester; limits in docs/limits.md)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pytest_gpuslo import baseline as bl

TWO_TESTS = """
import pytest
from pytest_gpuslo.backends.virtual import work

@pytest.mark.slo(p95_ms=200, rate_hz=2000, requests=4000, streams=4)
def test_svc(slo_request):
    work(0.0002 * (1 + (slo_request.index % 7) / 10))

def test_plain():
    pass
"""


def gpuslo(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest_gpuslo", *args], cwd=cwd, capture_output=True, text=True)


def saved(tester: pytest.Pytester) -> Path:
    tester.runpytest("--gpuslo-save").assert_outcomes(passed=2)
    (path,) = (tester.path / ".gpuslo").glob("*.json")
    return path


@pytest.mark.parametrize("content", [
    lambda d: json.dumps({**d, "runs": [1, 2]}),
    lambda d: "[" * 100_000 + "]" * 100_000,
], ids=["runs-ints", "deep"])
def test_a_malformed_baseline_fails_its_test_only_and_every_command_names_it(simtester: pytest.Pytester,
                                                                             content: object) -> None:
    """Row A: the test reading it fails naming the file; the other test runs; show, prune, accept
    and compare name it (compare exits 2, the unreadable-input code); the file is left as it was."""
    simtester.makepyfile(TWO_TESTS)
    path = saved(simtester)
    text = content(json.loads(path.read_text()))  # type: ignore[operator]
    path.write_text(text)
    result = simtester.runpytest()
    cwd = simtester.path
    show, prune = gpuslo("show", cwd=cwd), gpuslo("prune", "--keep-runs", "1", cwd=cwd)
    compare, accept = gpuslo("compare", str(path), str(path), cwd=cwd), gpuslo("accept", cwd=cwd)

    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([f"*baseline {path}: *restore it with git*"])
    assert show.returncode == 1 and f"UNREADABLE {path.name}" in show.stdout, show.stderr
    assert prune.returncode == 1 and f"left alone (unreadable): {path.name}: baseline {path}" in prune.stdout, prune.stderr
    assert compare.returncode == 2 and f"error: baseline {path}" in compare.stderr, compare.stdout  # review79: stderr
    assert accept.returncode == 2 and f"not accepted: baseline {path}" in accept.stdout, accept.stderr
    assert "Traceback" not in show.stderr + prune.stderr + compare.stderr + accept.stderr
    assert path.read_text() == text


@pytest.mark.parametrize("xdist", [False, True], ids=["serial", "xdist"])
def test_an_slo_test_that_ends_in_an_error_is_named_by_every_report(simtester: pytest.Pytester, xdist: bool) -> None:
    """review32: with a malformed baseline the test fails before any verdict; the markdown said
    "1 SLO test: 1 PASS." of a session pytest failed, and with that test alone no report was
    written.  Every report now names it (JSON ``errors``), and a plain test's failure is not one; an
    SLO test whose fixture raised in teardown, after its verdict, is named too (review33)."""
    simtester.makepyfile(TWO_TESTS + "\n\n@pytest.fixture\ndef leaky():\n    yield\n    raise RuntimeError('leaked')\n"
                         "\n\n@pytest.mark.slo(p95_ms=200, rate_hz=2000, requests=4000, streams=4)\n"
                         "def test_other(slo_request, leaky):\n    work(0.0002)\n\ndef test_plain_fails():\n    assert False\n")
    simtester.runpytest("--gpuslo-save", "-k", "test_svc")
    (path,) = (simtester.path / ".gpuslo").glob("*.json")
    data = json.loads(path.read_text())
    data["runs"][0].setdefault("summary", {})["shuffled_off"] = 5
    path.write_text(json.dumps(data))
    args = ["--gpuslo-json=r.json", "--gpuslo-md=r.md", "--gpuslo-html=r.html"] + (["-n", "2"] if xdist else [])
    result = simtester.runpytest(*args)
    result.assert_outcomes(passed=2, failed=2, errors=1)
    doc = json.loads((simtester.path / "r.json").read_text())
    md, page = (simtester.path / "r.md").read_text(), (simtester.path / "r.html").read_text()
    errs = {e["nodeid"].split("::")[-1]: e["error"] for e in doc["errors"]}
    assert set(errs) == {"test_svc", "test_other"}
    # pytest's own word first (review82 #12: a call's failure read ERROR)
    assert errs["test_svc"].startswith("FAILED before a verdict: ") and 'summary "shuffled_off" must be' in errs["test_svc"]
    assert errs["test_other"].startswith("ERROR in teardown, after its verdict: ") and "leaked" in errs["test_other"]
    assert [r["nodeid"].split("::")[-1] for r in doc["results"]] == ["test_other"]
    assert "2 SLO tests ended in an error:" in md and "test_plain_fails" not in md
    assert re.search(r"<strong>FAILED</strong> \S+::test_svc before a verdict: ", page)
    assert re.search(r"<strong>ERROR</strong> \S+::test_other in teardown, after its verdict", page)
    # by node id, whichever xdist worker finished first (its arrival order failed CI once)
    result.stdout.fnmatch_lines(["ERROR *::test_other in teardown, after its verdict: *leaked*",
                                 "FAILED *::test_svc before a verdict: *shuffled_off*"])
    alone = simtester.runpytest("-k", "test_svc", "--gpuslo-md=alone.md")
    alone.assert_outcomes(failed=1)
    assert "No SLO verdict. 1 SLO test ended in an error:" in (simtester.path / "alone.md").read_text()


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_a_baseline_linked_to_dev_zero_fails_its_test_only(simtester: pytest.Pytester) -> None:
    """Row C: the link is refused unread (it used to be read until MemoryError at 2.8 GB)."""
    simtester.makepyfile(TWO_TESTS)
    path = saved(simtester)
    path.unlink()
    path.symlink_to("/dev/zero")
    result = simtester.runpytest()

    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([f"*baseline {path}: is not a regular file*"])


@pytest.mark.parametrize(("make", "fragment"), [
    (lambda p: p.mkdir(), "is a directory"),
    (lambda p: p.write_bytes(b"[0, 1, \xff]"), "is not UTF-8 text"),
    (lambda p: p.symlink_to("/dev/zero"), "is not a regular file"),
], ids=["directory", "not-utf8", "dev-zero"])
def test_a_bad_trace_errors_its_test_and_the_others_run(simtester: pytest.Pytester, make: object,
                                                        fragment: str) -> None:
    """Rows C and D: trace(path=...) naming a directory, a non-UTF-8 file or /dev/zero (it used to
    be an INTERNALERROR with no test run)."""
    make(simtester.path / "t.json")  # type: ignore[operator]
    simtester.makepyfile(
        """
        import pytest

        @pytest.mark.slo(p95_ms=50, rate_hz=100, requests=100, arrivals="trace(path='t.json')")
        def test_replay(slo_request):
            pass

        def test_plain():
            pass
        """
    )
    result = simtester.runpytest()

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines([f"*bad slo marker*trace t.json: {fragment}*"])


@pytest.mark.parametrize("rounded", [True, False], ids=["whole-seconds", "microseconds"])
def test_a_trace_of_rounded_stamps_is_warned_of_before_its_run(simtester: pytest.Pytester, rounded: bool) -> None:
    """review129 F2: whole-second stamps replayed ~300 requests at once each second and FAILed a
    2 ms body at p95 79 ms; only ``arrivals describe`` said the stamps were rounded."""
    stamps = [i / 300 for i in range(900)]
    (simtester.path / "t.csv").write_text("time_s\n" + "".join(
        f"{int(t)}\n" if rounded else f"{t:.6f}\n" for t in stamps))
    simtester.makepyfile(
        """
        import pytest

        @pytest.mark.slo(p95_ms=50, rate_hz=300, requests=100, arrivals="trace(path='t.csv', column='time_s')")
        def test_replay(slo_request):
            pass
        """
    )
    result = simtester.runpytest()

    said = "*GpuSloWarning: test_*.py::test_replay: trace t.csv: 99.8% of its arrivals share a timestamp with the " \
        "one before (distinct stamps are at least 1 s apart): the stamps are rounded; replayed, each stamp's*"
    if rounded:
        result.stdout.fnmatch_lines([said])
    else:
        result.stdout.no_fnmatch_line("*share a timestamp*")


def refused_before_measuring(simtester: pytest.Pytester, args: list[str], said: str) -> pytest.RunResult:
    """Run ``TWO_TESTS`` beside a folder ``adir`` and a file ``afile``: a usage error saying ``said``."""
    simtester.makepyfile(TWO_TESTS)
    (simtester.path / "adir").mkdir()
    (simtester.path / "afile").write_text("")
    (simtester.path / "notes").write_text("# notes the user keeps\n")
    (simtester.path / "loop").symlink_to("loop")
    result = simtester.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: {said}"])
    return result


@pytest.mark.parametrize(("args", "said"), [
    (["--gpuslo-json=adir"], "--gpuslo-json=adir: */adir is a folder, not a file; give a writable file path."),
    (["--gpuslo-md=r.md", "--gpuslo-benchmark-json=afile/b.json"],
     "--gpuslo-benchmark-json=afile/b.json: */afile is a file, not a folder; give a writable file path."),
    (["--gpuslo-html=/proc/gpuslo/r.html"],
     "--gpuslo-html=/proc/gpuslo/r.html: no file can be made in /proc (the system refuses new files there)*"),
    # review164 F1: root may "write" /proc/self/status (os.access says yes): refused after the run
    (["--gpuslo-json=/proc/self/status"],
     "--gpuslo-json=/proc/self/status: /proc/self/status is in /proc, the kernel's own files, where no report can "
     "be written; give a writable file path."),
    (["--gpuslo-save", "--gpuslo-baseline-dir=afile"],
     "--gpuslo-save: --gpuslo-baseline-dir=afile (*afile) cannot hold the baseline files: *afile is a file, not a "
     "folder; give a writable folder*"),
    (["--gpuslo-md=newdir/"], "--gpuslo-md=newdir/: */newdir/ ends in a slash, so it names a folder; give a "
     "writable file path."),
    (["--gpuslo-md=out.md", "--gpuslo-json=./out.md"],  # review85: the JSON was lost, "wrote out.md" twice
     "--gpuslo-json=./out.md and --gpuslo-md=out.md name one file: the report would be written over it; "
     "give each report a path of its own."),
    (["--junitxml=j.xml", "--gpuslo-json=j.xml"],  # review86: the JUnit XML was lost
     "--junitxml=j.xml and --gpuslo-json=j.xml name one file: the report would be written over it; *"),
    (["--gpuslo-md=tox.ini"],  # review86: the project's configuration was replaced by the report
     "--gpuslo-md=tox.ini: *tox.ini is a .ini file, source or configuration, which a report written there would "
     "replace; *"),
    (["--gpuslo-json=.gpuslo/r.json"],  # review87: every later gpuslo show read it as UNREADABLE
     "--gpuslo-json=.gpuslo/r.json is inside the baseline store */.gpuslo: the store holds baselines only (its "
     "commands read every .json there as one); give a path outside it."),
    (["--gpuslo-html=.gpuslo/r.html"],  # review91: let in while only .json was refused
     "--gpuslo-html=.gpuslo/r.html is inside the baseline store */.gpuslo: *"),
    (["--gpuslo-json=test_report_and_store_paths_that_cannot_be_written_are_refused_before_measuring.py"],
     # review88: the test module was replaced by the JSON report, exit 0
     "--gpuslo-json=test_*.py: *test_*.py is a .py file, source or configuration, which a report written there "
     "would replace; give a writable file path."),
    (["--gpuslo-html=conftest.py"], "--gpuslo-html=conftest.py: *conftest.py is a .py file, *"),
    (["--gpuslo-json=notes"],  # review91: README.md, .gitignore, .git/config were replaced
     "--gpuslo-json=notes: *notes exists and is no report of this kind from this plugin, so writing one there would replace "
     "it (remove it first if it may go); give a writable file path."),
    (["--gpuslo-md=notes"], "--gpuslo-md=notes: *notes exists and is no report of this kind from this plugin, *"),
], ids=["json-folder", "parent-is-a-file", "proc", "proc-status", "store-is-a-file", "trailing-slash", "one-file-twice", "junitxml",
        "config-file", "in-the-store", "html-in-the-store", "test-module", "conftest", "foreign-json", "foreign-md"])
def test_report_and_store_paths_that_cannot_be_written_are_refused_before_measuring(
        simtester: pytest.Pytester, args: list[str], said: str) -> None:
    """Row F, review69: a report path that is a folder, under a file or under /proc, and a store
    --gpuslo-save cannot write, were found only after every measurement (the store's one with exit
    0); now a usage error before any test runs, naming the option, the path and why."""
    result = refused_before_measuring(simtester, args, said)
    assert "passed" not in result.stdout.str() and not (simtester.path / "r.md").exists()
    assert not (simtester.path / "newdir").exists()
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_a_report_folder_made_on_the_way_is_said(simtester: pytest.Pytester) -> None:
    """review69: a missing folder above a report was created without a word (a typo made
    /nonexistent); it is still made, as pytest's --junitxml does, and the line says so."""
    simtester.makepyfile(TWO_TESTS)
    result = simtester.runpytest("--gpuslo-md=out/deep/r.md", "--gpuslo-json=j.json")

    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["gpuslo wrote j.json", "gpuslo wrote out/deep/r.md (created the folder out/deep)"])
    assert not list(simtester.path.glob(".gpuslo-probe-*")) and not list(simtester.path.glob("out/.gpuslo-probe-*"))


@pytest.mark.parametrize(("args", "said"), [
    (["--gpuslo-baseline-dir=typo"], "--gpuslo-baseline-dir=typo: */typo does not exist (relative paths are from "
     "the rootdir *); give the folder that holds the baselines, or record them there first with --gpuslo-save."),
    (["--gpuslo-baseline-dir=afile"], "--gpuslo-baseline-dir=afile: */afile is not a folder*"),
    # review116: read "does not exist"
    (["--gpuslo-baseline-dir=loop"], "--gpuslo-baseline-dir=loop: */loop is a link that loops back on itself (to "
     "loop) (relative paths*"),
    (["--gpuslo-compare=loop"], "--gpuslo-compare=loop: */loop is a link that loops back on itself (to loop)*"),
    (["--gpuslo-compare=adir", "--gpuslo-no-baseline"], "--gpuslo-compare=adir and --gpuslo-no-baseline contradict "
     "each other*give one."),
    (["--gpuslo-save", "--gpuslo-baseline-dir=.gpuslo/.last/"], "--gpuslo-baseline-dir=.gpuslo/.last/: */.gpuslo/.last "
     "holds the last-run records of the store */.gpuslo, not baselines; give the store itself (*/.gpuslo)."),
    # review168 F7: taken, and the run wrote /etc/.last/
    (["--gpuslo-baseline-dir=/etc"], "--gpuslo-baseline-dir=/etc: /etc is a folder of the system, where no baseline "
     "belongs*"),
    # review197 F5: a store inside .git was taken, and each run wrote .last/ there (/, /dev and /var
    # too: tests/unit/test_cli.py asks reports.store_unfit, which writes nothing should it regress)
    (["--gpuslo-baseline-dir=.git/perf"], "--gpuslo-baseline-dir=.git/perf: */.git/perf is inside a git repository's "
     "own folder (.git)*give a folder of the project, e.g. .gpuslo."),
    # review197 F4: pytest's INTERNALERROR (exit 3), the name too long for Path.is_dir to answer
    ([f"--gpuslo-baseline-dir={'n' * 300}"], "*/nnn*... (* characters): a name in it is longer than the "
     "file system takes; give a shorter path (--gpuslo-baseline-dir, --gpuslo-compare, a report path or its ini "
     "key names it)."),
    ([f"--gpuslo-compare={'n' * 300}"], "*/nnn*... (* characters): a name in it is longer than the file*"),
], ids=["typo", "file", "loop", "compare-loop", "compare-and-no-baseline", "last-run-records", "system",
        "inside-git", "name-too-long", "compare-name-too-long"])
def test_a_store_option_that_turns_the_regression_check_off_is_refused(
        simtester: pytest.Pytester, args: list[str], said: str) -> None:
    """review71: a file or a typo'd folder as --gpuslo-baseline-dir read "no baseline" for every
    test with exit 0, and --gpuslo-no-baseline beside --gpuslo-compare ignored the store without a
    word; now usage errors.  A store named in the ini that does not exist yet (a project before
    its first save) warns instead; --gpuslo-save creates it."""
    refused_before_measuring(simtester, args, said)
    simtester.makeini("[pytest]\naddopts = -p no:cacheprovider\ngpuslo_backend = virtual\n"
                      "gpuslo_baseline_dir = perf/store\n")
    looped = simtester.runpytest("-o", "gpuslo_baseline_dir=loop")  # review118 N2: from the ini, a warning
    assert looped.ret == pytest.ExitCode.USAGE_ERROR
    looped.stderr.fnmatch_lines(["*ini gpuslo_baseline_dir = loop: */loop is a link that loops back on itself*"])
    warned = simtester.runpytest()
    warned.assert_outcomes(passed=2)
    warned.stdout.fnmatch_lines(["*GpuSloWarning: ini gpuslo_baseline_dir = perf/store: */perf/store does not exist "
                                 "yet, so no test has a baseline to be compared against; record them with "
                                 "--gpuslo-save"])
    simtester.runpytest("--gpuslo-save", "--gpuslo-baseline-dir=saved").assert_outcomes(passed=2)
    assert list((simtester.path / "saved").glob("*.json"))  # --gpuslo-save makes a missing store


def test_a_default_store_that_is_a_file_is_refused(simtester: pytest.Pytester) -> None:
    """review164 F6: a default .gpuslo that was a file read "no baseline" for every test, exit 0,
    where the same path given with --gpuslo-baseline-dir is refused."""
    (simtester.path / ".gpuslo").write_text("x\n")
    refused_before_measuring(simtester, [], "the store .gpuslo: */.gpuslo is not a folder, so no test could be "
                                            "compared against its baselines; remove or rename it*")


@pytest.mark.parametrize("args", [["--gpuslo-skip"], ["-k", "nomatch"]], ids=["skipped", "deselected"])
def test_a_report_asked_for_is_written_even_when_no_slo_test_ran(simtester: pytest.Pytester, args: list[str]) -> None:
    """review85 #3: with every SLO test skipped or deselected no report was written, and an older
    one left in its place read as this run's in CI; nor was a report written then named."""
    simtester.makepyfile(TWO_TESTS)
    (simtester.path / "r.json").write_text('{"schema": 1, "tool": "pytest-gpuslo", "results": [{"nodeid": "yesterday"}]}')
    (simtester.path / "r.md").write_text("## pytest-gpuslo: tail-latency SLOs\n\nyesterday's verdicts")
    result = simtester.runpytest("--gpuslo-json=r.json", "--gpuslo-md=r.md", "--gpuslo-html=r.html", *args)

    assert json.loads((simtester.path / "r.json").read_text())["results"] == []
    assert "No SLO verdict: no SLO test ran." in (simtester.path / "r.md").read_text()
    assert "No SLO verdict: no SLO test ran, " in (simtester.path / "r.html").read_text()  # review87: "0 SLO tests ()"
    result.stdout.fnmatch_lines(["gpuslo wrote r.json", "gpuslo wrote r.md", "gpuslo wrote r.html"])


def test_a_markdown_report_at_the_step_summary_is_refused(simtester: pytest.Pytester,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """review87: --gpuslo-md naming $GITHUB_STEP_SUMMARY's file wrote the table there twice."""
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(simtester.path / "step.md"))
    refused_before_measuring(simtester, ["--gpuslo-md=step.md"],
                             "$GITHUB_STEP_SUMMARY and --gpuslo-md=step.md name one file: *")


@pytest.mark.parametrize(("step", "said"), [
    ("victim.py", "is a .py file, source or configuration, which a report written there would replace"),
    ("adir", "is a folder, not a file"),
    ("/etc/passwd", "is a file of the system (/etc/passwd), which no step summary belongs in"),
    # review166 F6, F8, F1: a stored baseline read UNREADABLE after; git refused to run; refused after the run
    (".gpuslo/t.json", "is inside the baseline store */.gpuslo, which holds baselines only"),
    (".git/config", "is inside a .git folder, which git keeps for itself"),
    ("notes", "*notes exists and holds no step summary of this plugin (it is not empty, and GitHub's own is "
              "step_summary_* in _runner_file_commands), so the table appended would change a file of yours"),
    # review168 F2: the project's README had the table appended
    ("README.md", "*README.md exists and holds no step summary of this plugin*"),
    # review169 F1: notes of a user's that name the plugin's heading in their prose
    ("prose.md", "*prose.md exists and holds no step summary of this plugin*"),
    ("rel/summary.md", "its folder */rel does not exist"),
])
def test_a_step_summary_no_table_belongs_in_is_refused_before_measuring(
        simtester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, step: str, said: str) -> None:
    """review164 F9: $GITHUB_STEP_SUMMARY naming a .py module or /etc/passwd had the table appended
    to it, silently; a folder was refused only after the whole run."""
    (simtester.path / "victim.py").write_text("X = 1\n")
    (simtester.path / ".gpuslo").mkdir()
    (simtester.path / ".gpuslo" / "t.json").write_text("{}")
    (simtester.path / ".git").mkdir()
    (simtester.path / ".git" / "config").write_text("[core]\n")
    (simtester.path / "README.md").write_text("# My project\n")
    (simtester.path / "prose.md").write_text("# Release notes\n\nuser text\n\n## pytest-gpuslo: tail-latency SLOs\n\n"
                                             "| more | user text |\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", step)
    refused_before_measuring(simtester, [], f"$GITHUB_STEP_SUMMARY={step} (from the environment): *{said}; GitHub "
                                            f"Actions sets it to a file of its own for each step: unset it*")
    assert (simtester.path / "victim.py").read_text() == "X = 1\n"
    assert (simtester.path / ".git" / "config").read_text() == "[core]\n"
    assert (simtester.path / "prose.md").read_text().endswith("| more | user text |\n")


@pytest.mark.parametrize("step", ["/dev/stdout", "/dev/null", "summary.md", "new.txt", "empty.txt"])
def test_a_step_summary_a_table_belongs_in_is_taken(simtester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
                                                    step: str) -> None:
    """review166 F2: /dev/stdout was refused as "a file of the system" when stdout was a pipe; a
    new or empty file, or one holding an earlier step's table, is taken."""
    simtester.makepyfile(TWO_TESTS)
    (simtester.path / "summary.md").write_text("## pytest-gpuslo: tail-latency SLOs\n\nan earlier step's table\n")
    (simtester.path / "empty.txt").write_text("")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", step)
    result = simtester.runpytest_subprocess() if step == "/dev/stdout" else simtester.runpytest()
    assert result.ret == 0, result.stderr.str()
    if step not in ("/dev/stdout", "/dev/null"):
        assert "pytest-gpuslo" in (simtester.path / step).read_text()


def test_ini_flags_are_named_as_the_ini_sets_them_with_a_fix_that_works(simtester: pytest.Pytester) -> None:
    """review85 #8: an ini's gpuslo_save with gpuslo_no_baseline read "--gpuslo-save with
    --gpuslo-no-baseline", flags never typed; a bad ini flag was to be "overridden with
    --gpuslo-save", which cannot turn it off."""
    simtester.makepyfile(TWO_TESTS)
    simtester.makeini("[pytest]\naddopts = -p no:cacheprovider\ngpuslo_backend = virtual\ngpuslo_save = true\n"
                      "gpuslo_no_baseline = true\n")
    both = simtester.runpytest()
    assert both.ret == pytest.ExitCode.USAGE_ERROR
    both.stderr.fnmatch_lines(["ERROR: gpuslo_save = true (in */tox.ini) with gpuslo_no_baseline = true (in "
                               "*/tox.ini) would add each run to the stored runs*; -o gpuslo_no_baseline=false (a save*"])
    # review85 #7: with the pilot a save recorded nothing and said nothing
    pilot = simtester.runpytest("--gpuslo-suggest", "-o", "gpuslo_no_baseline=false")
    pilot.stderr.fnmatch_lines(["ERROR: gpuslo_save = true (in */tox.ini) with --gpuslo-suggest: a pilot run only "
                                "suggests budgets and saves no baseline, so nothing would be recorded; run the pilot "
                                "without saving (-o gpuslo_save=false), or record without the pilot (drop "
                                "--gpuslo-suggest)."])
    mixed = simtester.runpytest("--gpuslo-no-baseline", "-o", "gpuslo_no_baseline=false")
    mixed.stderr.fnmatch_lines(["ERROR: gpuslo_save = true (in */tox.ini) with --gpuslo-no-baseline would*; drop "
                                "--gpuslo-no-baseline (a save*"])
    simtester.makeini("[pytest]\naddopts = -p no:cacheprovider\ngpuslo_backend = virtual\ngpuslo_save = maybe\n")
    bad = simtester.runpytest()
    bad.stderr.fnmatch_lines(["*ini key gpuslo_save = 'maybe' (in */tox.ini): *fix it there or override it with "
                              "--gpuslo-save (or -o gpuslo_save=false)."])


def test_the_command_line_overrides_a_bad_ini_value(simtester: pytest.Pytester) -> None:
    """Row H: the usage error says to override the ini on the command line; that now works."""
    simtester.makeini("[pytest]\naddopts = -p no:cacheprovider\ngpuslo_backend = virtual\ngpuslo_alpha = 2\n")
    simtester.makepyfile(TWO_TESTS)
    refused = simtester.runpytest()
    overridden = simtester.runpytest("--gpuslo-alpha=0.05")

    assert refused.ret == pytest.ExitCode.USAGE_ERROR
    refused.stderr.fnmatch_lines(["*ini key gpuslo_alpha = * fix it there or override it with --gpuslo-alpha*"])
    overridden.assert_outcomes(passed=2)
    overridden.stdout.fnmatch_lines(["gpuslo: *alpha=0.05*"])


@pytest.mark.parametrize(("args", "fragment"), [
    ("rate_hz=1e-12", "spans about 4.2e+15 s, past the 86400-s horizon"),
    ("rate_hz=100, requests=10**8", "requests=100000000 is over the limit of 10,000,000 requests*25.6 GB"),
    ("rate_hz=100, requests=10**12", "is over the limit of 10,000,000 requests*2.56e+05 GB"),
    ("rate_hz=100, duration_s=1e300", "schedules about 1.05e+302 requests*limits.MAX_REQUESTS"),
    ("rate_hz=100, streams=10**6", "streams=1000000 is over the limit of 1024 lanes"),
    ("rate_hz=100, timeout_s=1e9", "timeout_s=1000000000.0 (marker) is past the 86400-s horizon"),
    ("rate_hz=1e12, requests=1000", "rate_hz=1000000000000.0 (marker) is over the 10,000,000 requests/s"),
], ids=["tiny-rate", "1e8-requests", "1e12-requests", "huge-duration", "streams", "timeout", "huge-rate"])
def test_a_schedule_too_large_or_too_long_is_refused_at_collection(simtester: pytest.Pytester, args: str,
                                                                   fragment: str) -> None:
    """Rows I and J: refused before anything is allocated, with the memory or the time it would take
    (rate_hz=1e-12 used to "run" with a p50 of 9e12 ms; 10**8 requests used 7.3 GB then failed;
    1e12 raised numpy's MemoryError, duration_s=1e300 its 'lam value too large')."""
    simtester.makepyfile(
        f"""
        import pytest

        @pytest.mark.slo(p95_ms=50, {args})
        def test_big(slo_request):
            pass

        def test_plain():
            pass
        """
    )
    result = simtester.runpytest()

    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines([f"*bad slo marker: *::test_big: *{fragment}*"])


def test_a_full_disk_names_the_file_and_keeps_the_verdict(simtester: pytest.Pytester) -> None:
    """Row K: a full disk (ENOSPC while writing) names the baseline file and the cause; the verdicts
    stand and the session's exit status says the store was not written."""
    simtester.makeconftest(
        """
        import errno, pytest
        from pytest_gpuslo import backends, baseline
        backends.REGISTRY.setdefault('virtual', 'pytest_gpuslo.backends.virtual')

        @pytest.fixture(autouse=True)
        def full_disk(monkeypatch):
            def no_space(path, data):
                raise OSError(errno.ENOSPC, "No space left on device")
            monkeypatch.setattr(baseline, "write_atomic", no_space)
        """
    )
    simtester.makepyfile(TWO_TESTS)
    result = simtester.runpytest("--gpuslo-save")

    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines([
        "*::test_svc *PASS",
        "baseline *::test_svc: not saved: could not write .gpuslo/*test_svc*.json: No space left on device*",
        "gpuslo ERROR: --gpuslo-save could not write the store .gpuslo: 1 baseline file(s) could not be written (*test_svc; "
        "see 'not saved' above); check --gpuslo-baseline-dir and the disk"])
    # review69: the verdicts stand, but a record job whose store was not written does not go green
    assert result.ret == pytest.ExitCode.USAGE_ERROR


def test_a_hung_body_names_its_request_and_the_lane_stack(gputester: pytest.Pytester) -> None:
    """Row M (real threads): request 5 never returns; the message names it and shows where its lane
    was stuck (it used to say only "1 ran past timeout_s").  One lane, so the later requests queue
    behind it: 15 of 20 over budget, never a PASS (n=20 is too few to be more than INCONCLUSIVE,
so INCONCLUSIVE fails here)."""
    gputester.makepyfile(
        """
        import threading, pytest
        release = threading.Event()

        @pytest.mark.slo(p95_ms=500, rate_hz=50, requests=20, warmup_requests=0, timeout_s=1)
        def test_hangs(slo_request):
            if slo_request.index == 5:
                release.wait(10)
        """
    )
    result = gputester.runpytest("--gpuslo-inconclusive=fail")

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "*never completed (the first: request 5)*",
        "*request 5 was still running past timeout_s when the run gave up; lane 0 was abandoned here:",
        "*release.wait(10)*",
    ])


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is POSIX only")
def test_a_forked_child_that_returns_from_the_body_is_ended_there(gputester: pytest.Pytester) -> None:
    """review95 #1: a body's forked child returned into the lane loop, took no request and never
    ended; the parent waiting on it hung every lane (1000 of 1000 timed out), and the child
    outlived the session.  It now ends where it leaves the body (exit 70), saying why."""
    gputester.makepyfile(
        """
        import os, pytest

        @pytest.mark.slo(p95_ms=2000, rate_hz=100, requests=40, warmup_requests=0, timeout_s=5)
        def test_fork(slo_request):
            if slo_request.index == 3:
                pid = os.fork()
                if pid:
                    _, status = os.waitpid(pid, 0)
                    open("child.status", "w").write(str(os.waitstatus_to_exitcode(status)))
        """
    )
    result = gputester.runpytest("-rA")

    assert (gputester.path / "child.status").read_text() == "70"
    assert not any(w in result.stdout.str() for w in ("never completed", "completed after timeout_s", "timed out"))
    result.stdout.fnmatch_lines(["*an SLO body forked (os.fork) and the child process returned from the body*"])


def test_slo_run_inside_an_slo_body_is_an_error_at_once(gputester: pytest.Pytester) -> None:
    """review95 #9: slo_run called in a marked test's body waited for the CPU its own run held;
    every request ran out its timeout and the verdict said "fix the blocking call"."""
    gputester.makepyfile(
        """
        import pytest

        @pytest.mark.slo(p95_ms=200, rate_hz=100, requests=200, timeout_s=30)
        def test_nest(slo_request, slo_run):
            if slo_request.index == 3:
                slo_run(lambda r: None, rate_hz=50, requests=50)

        @pytest.mark.slo(p95_ms=200, rate_hz=100, requests=200, timeout_s=30)
        def test_nest_always(slo_run):
            slo_run(lambda r: None, rate_hz=50, requests=50)
        """
    )
    result = gputester.runpytest()

    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["*test_nest: slo_run called inside an SLO body (request 3 of a running SLO test): "
                                 "a run inside a run waits for the lanes and the CPU its outer run holds; call "
                                 "slo_run from a test function*"])
    # review116: the node id was said twice, and the untimed priming call read "request -1"
    result.stdout.fnmatch_lines(["*test_nest_always: slo_run called inside an SLO body (the priming call before "
                                 "request 0 of a running SLO test)*"])
    assert "request -1" not in result.stdout.str() and "test_nest: test_" not in result.stdout.str()
    assert not any(w in result.stdout.str() for w in ("never completed", "completed after timeout_s", "timed out"))


def test_a_huge_error_message_or_arrivals_string_is_quoted_cut(simtester: pytest.Pytester) -> None:
    """review95 #4: a body raising a 2-MB message had it printed five times (10 MB of output); a
    1-MB arrivals string was quoted whole.  Both are cut, with their length said."""
    from pytest_gpuslo.errors import ERROR_CHARS, bounded

    simtester.makepyfile(
        """
        import pytest

        @pytest.mark.slo(p95_ms=200, rate_hz=400, requests=200)
        def test_raises(slo_request):
            raise ValueError("\\x1b[31m" + "x" * 2_000_000)

        @pytest.mark.slo(p95_ms=200, rate_hz=400, arrivals="gamma(cv=" + "9" * 1_000_000 + ")")
        def test_long_arrivals(slo_request):
            pass
        """
    )
    result = simtester.runpytest("-rA")

    out = result.stdout.str()
    assert len(out) < 100_000, len(out)
    assert "... (2,000,020 characters)" in out and "\\x1b[31m" in out
    assert "(1,000,010 characters)" in out and "past the 20,000 of any process call" in out
    cut = bounded("Traceback\n" + "  frame\n" * 100_000 + "ValueError: boom\n")
    assert len(cut) <= ERROR_CHARS + 100 and cut.endswith("ValueError: boom\n") and "lines left out" in cut


def test_two_slo_markers_on_one_test_are_an_error(simtester: pytest.Pytester) -> None:
    """Row N: a module-level and a function-level marker do not merge; the test errors and says so."""
    simtester.makepyfile(
        """
        import pytest
        pytestmark = pytest.mark.slo(rate_hz=100)

        @pytest.mark.slo(p95_ms=50, rate_hz=200)
        def test_twice(slo_request):
            pass
        """
    )
    result = simtester.runpytest()

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*::test_twice: has 2 slo markers (*); they would not merge*"])


@pytest.mark.skipif(pytest.version_tuple < (9, 0), reason="the native [tool.pytest] table is pytest 9")
def test_typed_ini_keys_work_in_the_native_toml_table(pytester: pytest.Pytester) -> None:
    """pytest 9's [tool.pytest] table takes TOML booleans and numbers for the plugin's keys (it used to
    refuse "expects a string, got bool: True")."""
    pytester.makeconftest("from pytest_gpuslo import backends\n"
                          "backends.REGISTRY.setdefault('virtual', 'pytest_gpuslo.backends.virtual')\n")
    pytester.makepyprojecttoml(
        """
        [tool.pytest]
        addopts = ["-p", "no:cacheprovider"]
        gpuslo_backend = "virtual"
        gpuslo_no_baseline = true
        gpuslo_alpha = 0.05
        gpuslo_seed = 7
        gpuslo_timeout_s = 2
        """
    )
    pytester.makepyfile(TWO_TESTS)
    result = pytester.runpytest()

    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["gpuslo: backend=virtual (ini), seed=7, alpha=0.05*"])


def test_classic_ini_booleans_still_parse(simtester: pytest.Pytester) -> None:
    """The typed keys keep the classic ini form: gpuslo_save = yes records a baseline."""
    simtester.makeini("[pytest]\naddopts = -p no:cacheprovider\ngpuslo_backend = virtual\ngpuslo_save = yes\n")
    simtester.makepyfile(TWO_TESTS)

    simtester.runpytest().assert_outcomes(passed=2)
    assert len(list((simtester.path / ".gpuslo").glob("*.json"))) == 1


def test_an_inconclusive_warning_is_a_pytest_warning() -> None:
    """GpuSloWarning is a PytestWarning (pytest's filters and -W treat it as pytest's own), importable
    from the package and by the dotted name -W uses."""
    import warnings

    import pytest_gpuslo
    from pytest_gpuslo.session import GpuSloWarning

    assert pytest_gpuslo.GpuSloWarning is GpuSloWarning
    assert issubclass(GpuSloWarning, pytest.PytestWarning)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", category=pytest.PytestWarning)
        with pytest.raises(GpuSloWarning):
            warnings.warn(GpuSloWarning("x"), stacklevel=1)


def test_prune_refuses_a_keep_count_below_one(tmp_path: Path) -> None:
    """Row G: --keep-runs 0 printed "3 -> 0 runs" and kept 3; -1 dropped one.  Both are usage errors."""
    store = bl.Store(tmp_path)
    for i in range(3):  # three distinct runs (one run saved twice is stored once)
        store.save(bl.Baseline("t.py::test_a", {}, 1, "f", {"cpu": "x"}, [bl.Run(np.ones(5) * (i + 1), bl.now_iso())]))
    results = [gpuslo("prune", "--dir", str(tmp_path), "--keep-runs", k, cwd=tmp_path) for k in ("0", "-1")]

    for r in results:
        assert r.returncode == 2 and "argument --keep-runs" in r.stderr and "must be >= 1" in r.stderr
    assert len(bl.load(next(tmp_path.glob("*.json"))).runs) == 3


def test_probe_exits_1_when_a_registered_backend_cannot_run(monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    """`gpuslo probe` exits 0 only when every registered backend can run here."""
    from pytest_gpuslo import backends
    from pytest_gpuslo.cli import main

    monkeypatch.setattr(backends, "REGISTRY", {"cpu": backends.REGISTRY["cpu"]})
    all_up = main(["probe"])
    monkeypatch.setattr(backends, "REGISTRY", {**backends.REGISTRY, "fake": "pytest_gpuslo.backends.cpu"})
    monkeypatch.setattr(backends, "probe", lambda name: "no such device" if name == "fake" else None)
    one_down = main(["probe"])

    assert (all_up, one_down) == (0, 1)
    assert "fake  unavailable: no such device" in capsys.readouterr().out


LOCK_PROBE = """
import sys, filelock
from pytest_gpuslo.backends import devices
try:
    filelock.FileLock(devices.lock_dir() / "cpu-host.lock", timeout=0.3).acquire()
except filelock.Timeout:
    sys.exit(3)
"""


def test_cpu_slo_tests_hold_one_host_wide_lane(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Under pytest-xdist two workers' CPU SLO tests would share the cores; the CPU backend holds a
    host-wide lane as GPU tests hold one per GPU, so another process waits.  The lanes live in a
    temporary folder of the test's own: an SLO run elsewhere on the host held the real one while
    the exact CI command ran (session 14), and the free probe waited for it."""
    import tempfile

    from pytest_gpuslo.backends import cpu

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    with cpu.hold(1):
        held = subprocess.run([sys.executable, "-c", LOCK_PROBE], capture_output=True, text=True, env=env)
    free = subprocess.run([sys.executable, "-c", LOCK_PROBE], capture_output=True, text=True, env=env)

    assert (held.returncode, free.returncode) == (3, 0), held.stderr + free.stderr


def test_arrivals_describe_names_a_bad_trace_and_reads_a_good_one(tmp_path: Path) -> None:
    """`gpuslo arrivals describe` on a directory exits 2 naming it (it used to fail importing a module
    that does not exist, whatever the file)."""
    (tmp_path / "d.csv").mkdir()
    np.savetxt(tmp_path / "t.csv", np.cumsum(np.random.default_rng(1).exponential(0.01, 500)))
    bad = gpuslo("arrivals", "describe", "d.csv", cwd=tmp_path)
    good = gpuslo("arrivals", "describe", "t.csv", cwd=tmp_path)

    assert bad.returncode == 2 and "trace d.csv: is a directory" in bad.stderr, bad.stderr
    assert good.returncode == 0 and "closest" in good.stdout, good.stderr


def test_a_test_waiting_for_a_lane_says_who_holds_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     held_elsewhere: Any) -> None:
    """An independent check's runs sat silent while another session held the host-wide CPU lane:
    after ``NOTICE_AFTER_S`` the wait is said, naming the holder, and the test goes on when the
    lane is free."""
    import tempfile

    from pytest_gpuslo.backends import cpu, devices

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(devices, "NOTICE_AFTER_S", 0.05)
    monkeypatch.setenv("PYTEST_CURRENT_TEST", "tests/test_svc.py::test_render (call)")
    said: list[str] = []
    devices.set_wait_notice(said.append)
    try:
        with held_elsewhere(lambda: cpu.hold(1), 0.3) as released, cpu.hold(1):
            got_it = released.is_set()
    finally:
        devices.set_wait_notice(None)

    assert got_it and len(said) == 1, said
    assert said[0].startswith(f"gpuslo: waiting for the host-wide CPU lane, held by process {os.getpid()} "
                              f"(running tests/test_svc.py::test_render) since "), said


def test_an_interrupted_session_s_reports_say_it_was_not_a_whole_run(simtester: pytest.Pytester) -> None:
    """review35: Ctrl-C in the second of three SLO tests left a markdown report reading "1 SLO
    test: 1 INCONCLUSIVE." for a PR comment.  The reports now open with the interruption."""
    simtester.makepyfile("""
        import pytest

        @pytest.mark.slo(p95_ms=500, rate_hz=2000, requests=1000)
        def test_a(slo_request):
            pass

        @pytest.mark.slo(p95_ms=500, rate_hz=2000, requests=1000)
        def test_b(slo_request):
            if slo_request.index == 10:
                raise KeyboardInterrupt

        @pytest.mark.slo(p95_ms=500, rate_hz=2000, requests=1000)
        def test_c(slo_request):
            pass
        """)
    result = simtester.runpytest("--gpuslo-md=out.md", "--gpuslo-json=out.json", "--gpuslo-html=out.html",
                                 no_reraise_ctrlc=True)

    assert result.ret == pytest.ExitCode.INTERRUPTED
    # review192 F2: the test the interrupt cut is named; F1: the terminal says it too
    said = json.loads((simtester.path / "out.json").read_text())["interrupted"]
    assert said.startswith("the session was interrupted after 1 SLO test(s) reached a verdict, of 3 collected; ")
    assert said.endswith(".py::test_b was under way then, with no verdict: the others did not run"), said
    result.stdout.fnmatch_lines([f"NOT A WHOLE RUN: {said}"])
    assert f"⛔ **Not a whole run:** {said}." in (simtester.path / "out.md").read_text()
    assert json.loads((simtester.path / "out.json").read_text())["interrupted"] == said
    assert "NOT A WHOLE RUN" in (simtester.path / "out.html").read_text()


@pytest.mark.skipif(not hasattr(signal, "SIGTERM") or sys.platform == "win32", reason="POSIX signals")
def test_sigterm_writes_the_reports_of_a_cut_session_and_ends_by_the_signal(simtester: pytest.Pytester) -> None:
    """review192 F3: SIGTERM (a CI job cancelled or timed out) killed the session before any
    report was written; a verdict reached earlier was in none.  It is taken as an interrupt: the
    reports say the session was ended by it and name the test it cut, and the process still ends
    by the signal."""
    simtester.makepyfile("""
        import os, signal
        import pytest

        @pytest.mark.slo(p95_ms=500, rate_hz=2000, requests=1000, streams=4)
        def test_a(slo_request):
            pass

        @pytest.mark.slo(p95_ms=500, rate_hz=2000, requests=1000, streams=4)
        def test_b(slo_request):
            if slo_request.index == 10:
                os.kill(os.getpid(), signal.SIGTERM)
        """)
    result = simtester.runpytest_subprocess("--gpuslo-json=out.json", "--gpuslo-md=out.md")

    assert result.ret == -signal.SIGTERM, result.stdout.str()
    said = json.loads((simtester.path / "out.json").read_text())["interrupted"]
    assert said.startswith("the session was ended by SIGTERM (a job cancelled or timed out) after 1 SLO test(s) "
                           "reached a verdict, of 2 collected; "), said
    assert said.endswith("::test_b was under way then, with no verdict: the others did not run"), said
    assert "test_a" in (simtester.path / "out.md").read_text()
    result.stdout.fnmatch_lines(["NOT A WHOLE RUN: the session was ended by SIGTERM*"])
    # review193 F5: a second SIGTERM while pytest stops cut every report; F6: a test -k deselected
    # is not counted among those left undone
    simtester.makeconftest(simtester.path.joinpath("conftest.py").read_text() + (
        "\nimport os, signal\n\ndef pytest_keyboard_interrupt(excinfo):\n    os.kill(os.getpid(), signal.SIGTERM)\n"))
    (simtester.path / "out.json").unlink()
    again = simtester.runpytest_subprocess("--gpuslo-json=out.json", "-k", "test_b")
    assert again.ret == -signal.SIGTERM, again.stdout.str()
    said = json.loads((simtester.path / "out.json").read_text())["interrupted"]
    assert said.startswith("the session was ended by SIGTERM (a job cancelled or timed out) after 0 SLO test(s) "
                           "reached a verdict, of 1 collected; "), said


def test_a_cut_xdist_session_still_writes_its_step_summary(simtester: pytest.Pytester,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """review201 F5: a Ctrl-C to a `-n 2` session (a cancelled CI job's, passed to the run's process
    group) wrote the reports but not $GITHUB_STEP_SUMMARY: the controller collects nothing, so the
    session read as one without SLO tests."""
    pytest.importorskip("xdist")
    simtester.makepyfile("""
        import os, signal
        import pytest

        @pytest.mark.slo(p95_ms=500, rate_hz=200, requests=4000, streams=2)
        def test_a(slo_request):
            if slo_request.index == 50:  # the group's Ctrl-C: the controller and this worker
                os.kill(os.getppid(), signal.SIGINT)
                os.kill(os.getpid(), signal.SIGINT)
        """)
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(simtester.path / "step.md"))
    result = simtester.runpytest_subprocess("-n", "2", "--gpuslo-md=out.md")

    assert result.ret == pytest.ExitCode.INTERRUPTED, result.stdout.str()
    step = (simtester.path / "step.md").read_text()
    assert "**Not a whole run:** the session was interrupted after 0 SLO test(s) reached a verdict" in step, step


def test_a_session_stopped_by_x_says_it_was_not_a_whole_run(simtester: pytest.Pytester) -> None:
    """review36: with -x after a FAIL the markdown read "1 SLO test: 1 FAIL." of two."""
    simtester.makepyfile("""
        import pytest
        from pytest_gpuslo.backends.virtual import work

        @pytest.mark.slo(p95_ms=1, rate_hz=100, requests=1000)
        def test_a(slo_request):
            work(0.5)

        @pytest.mark.slo(p95_ms=500, rate_hz=2000, requests=1000)
        def test_b(slo_request):
            pass
        """)
    result = simtester.runpytest("-x", "--gpuslo-md=out.md")

    result.assert_outcomes(failed=1)
    assert ("⛔ **Not a whole run:** the session stopped early (stopping after 1 failures) after 1 SLO test(s) "
            "reached a verdict, of 2 collected: the others did not run.") in (simtester.path / "out.md").read_text()
    # stopped before any SLO verdict: the reports are still written, and say so (review37)
    simtester.makepyfile(test_0="def test_first():\n    assert False\n")
    result = simtester.runpytest("-x", "--gpuslo-json=none.json", "test_0.py", "test_a_session_stopped_by_x_says_"
                                 "it_was_not_a_whole_run.py")
    assert json.loads((simtester.path / "none.json").read_text())["interrupted"] == (
        "the session stopped early (stopping after 1 failures) after 0 SLO test(s) reached a verdict, of 2 "
        "collected: the others did not run")


def test_a_file_that_cannot_be_collected_still_gets_reports_saying_so(simtester: pytest.Pytester) -> None:
    """review63: a collection error wrote no --gpuslo-json file, so a CI step reading it failed on
    a missing file instead of the error; with --continue-on-collection-errors the report summed up
    the SLO tests that ran as if they were all."""
    simtester.makepyfile(test_bad="import no_such_module_gpuslo\n", test_ok="""
        import pytest

        @pytest.mark.slo(p95_ms=500, rate_hz=2000, requests=1000)
        def test_a(slo_request):
            pass
        """)
    said = ("1 file could not be collected (test_bad.py: ModuleNotFoundError: No module named "
            "'no_such_module_gpuslo'): ")
    result = simtester.runpytest("--gpuslo-json=out.json", "--gpuslo-md=out.md")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    got = json.loads((simtester.path / "out.json").read_text())
    assert got["interrupted"] == said + "no SLO test ran" and got["results"] == []
    assert f"⛔ **Not a whole run:** {said}no SLO test ran." in (simtester.path / "out.md").read_text()

    simtester.runpytest("--continue-on-collection-errors", "--gpuslo-json=more.json")
    got = json.loads((simtester.path / "more.json").read_text())
    assert got["interrupted"] == said + "the SLO tests in them did not run" and len(got["results"]) == 1


def test_a_renderer_returning_text_utf8_cannot_hold_is_named_and_the_rest_written(
        simtester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """review37: a lone surrogate in a renderer's text ended the session in UnicodeEncodeError."""
    from pytest_gpuslo import reports

    monkeypatch.setattr(reports, "FORMATS", (*reports.FORMATS, reports.ReportFormat(
        "surr", "a renderer with a lone surrogate", "surrogate_report:render")))
    simtester.makepyfile(surrogate_report="def render(summaries, context):\n    return 'ok \\udc80 bad'\n")
    simtester.makeconftest("from pytest_gpuslo import backends\n"
                           "backends.REGISTRY.setdefault('virtual', 'pytest_gpuslo.backends.virtual')\n"
                           "def pytest_addoption(parser):\n"
                           "    parser.addoption('--gpuslo-surr', dest='gpuslo_surr')\n")
    simtester.makepyfile(test_it="""
        import pytest

        @pytest.mark.slo(p95_ms=500, rate_hz=2000, requests=1000)
        def test_a(slo_request):
            pass
        """)
    simtester.syspathinsert()
    result = simtester.runpytest("--gpuslo-surr=s.txt", "--gpuslo-md=s.md")

    result.stdout.fnmatch_lines(["gpuslo wrote s.md", "gpuslo ERROR: could not write --gpuslo-surr=s.txt: its renderer "
                                 "returned text UTF-8 cannot hold (surrogates not allowed at character 3)*"])
    assert not (simtester.path / "s.txt").exists()


@pytest.mark.parametrize(("name", "value", "said"), [
    ("GPUSLO_SESSION", "job\t1", "holds a control character"),
    ("GPUSLO_SESSION", "   ", "is blank"),
    ("GPUSLO_NOW", "3000-01-01T00:00:00+14:00", "is 2999-12-31 in UTC, outside 1970-01-01 to a day past*"),
    # review71: read only "not an ISO 8601 date and time"
    ("GPUSLO_NOW", "2026-11-31T10:00:00+00:00", "is not an ISO 8601 date and time (day is out of range for month)"),
])
def test_a_bad_session_label_or_date_stops_the_run_before_any_test(
        simtester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, name: str, value: str, said: str) -> None:
    """review67: checked per test after its whole measurement, even without --gpuslo-save, a bad
    label failed each long SLO test in turn; now it is a usage error before the first."""
    simtester.makepyfile(TWO_TESTS)
    monkeypatch.setenv(name, value)
    result = simtester.runpytest()

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert " passed" not in result.stdout.str() and not (simtester.path / ".gpuslo").exists()  # nothing ran
    result.stderr.fnmatch_lines([f"*{name}=* (environment) {said}*"])
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_the_plugin_checks_every_variable_the_store_reads() -> None:
    """The start-up check imports the store only where one is set: it must know them all."""
    from pytest_gpuslo import baseline, plugin

    assert set(plugin.CHECKED_ENV) == {baseline.SESSION_ENV, baseline.NOW_ENV}


def test_each_report_rewrites_its_own_file_and_no_other_reports(simtester: pytest.Pytester) -> None:
    """review92: the benchmark export replaced the results JSON (both carried one "tool" key);
    every format rewrites its own earlier file and refuses another format's."""
    simtester.makepyfile(TWO_TESTS)
    paths = {"json": "r.json", "md": "r.md", "html": "r.html", "benchmark-json": "b.json"}
    first = simtester.runpytest(*(f"--gpuslo-{k}={v}" for k, v in paths.items()))
    assert first.ret == 0
    again = simtester.runpytest(*(f"--gpuslo-{k}={v}" for k, v in paths.items()))
    assert again.ret == 0
    for option, other in (("benchmark-json", "r.json"), ("json", "b.json"), ("md", "r.html"), ("html", "r.md")):
        refused = simtester.runpytest(f"--gpuslo-{option}={other}")
        assert refused.ret == pytest.ExitCode.USAGE_ERROR, option
        refused.stderr.fnmatch_lines([f"*{other} exists and is no report of this kind from this plugin*"])
    assert json.loads((simtester.path / "r.json").read_text())["tool"] == "pytest-gpuslo"


def test_a_report_to_stdout_comes_below_pytests_last_line(simtester: pytest.Pytester) -> None:
    """review129 F5: --gpuslo-json=/dev/stdout landed between the progress line and FAILURES, where
    a user taking what follows pytest's last line (``tail``) found none of it."""
    simtester.makepyfile(
        """
        import pytest
        from pytest_gpuslo.backends.virtual import work

        @pytest.mark.slo(p95_ms=5, rate_hz=100, requests=400)
        def test_over(slo_request):
            work(0.02)

        def test_plain():
            assert False
        """
    )
    result = simtester.runpytest_subprocess("--gpuslo-json=/dev/stdout")

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    lines = result.stdout.lines
    last = max(i for i, line in enumerate(lines) if re.match(r"=+ .*\d+ failed.* in [\d.]+s", line))
    opened = lines.index("{")
    assert opened > last, "\n".join(lines)
    assert json.loads("\n".join(lines[opened:]))["results"][0]["nodeid"].endswith("test_over")
    result.stdout.fnmatch_lines(["gpuslo wrote /dev/stdout (below pytest's last line)"])
    # review131 F3: a descriptor of its own (7> FILE) is not below pytest's output
    with open(simtester.path / "fd.md", "w") as held:
        fd = held.fileno()
        done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-k", "test_over",
                               f"--gpuslo-md=/dev/fd/{fd}"], cwd=simtester.path, capture_output=True,
                              text=True, timeout=120, pass_fds=(fd,))
    assert f"gpuslo wrote /dev/fd/{fd}\n" in done.stdout, done.stdout + done.stderr
    assert "test_over" in (simtester.path / "fd.md").read_text()


def test_a_report_path_that_is_where_stdout_goes_is_refused_before_the_run(simtester: pytest.Pytester) -> None:
    """review130 N2: ``> out.txt`` with --gpuslo-md=out.txt wrote the report over what pytest had
    printed there (the JSON sent to /dev/stdout lost, NUL bytes), and said it wrote both."""
    simtester.makepyfile(TWO_TESTS)
    out = simtester.path / "out.txt"
    with open(out, "w") as held:
        done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--gpuslo-md=out.txt",
                               "--gpuslo-json=/dev/stdout"], cwd=simtester.path, stdout=held,
                              stderr=subprocess.PIPE, text=True, timeout=120)
    assert done.returncode == pytest.ExitCode.USAGE_ERROR
    # review132 D5: through a folder not made yet, normalised
    with open(out, "w") as held:
        through = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                                  "--gpuslo-md=nosub/../out.txt"], cwd=simtester.path, stdout=held,
                                 stderr=subprocess.PIPE, text=True, timeout=120)
    assert through.returncode == pytest.ExitCode.USAGE_ERROR and "is where this process's standard output goes" in \
        through.stderr, through.stderr
    assert (f"--gpuslo-md=out.txt: {out} is where this process's standard output goes (a shell's > {out}): a report "
            f"written there replaces what was printed; give another path, or /dev/stdout to put the report below "
            f"pytest's output.") in done.stderr

"""Record on main, gate a change: baselines, reports and the CLI, end to end (pytester)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

# Imported before any in-process run, so the runs see this module object (pytester restores
# sys.modules after each run, dropping modules first imported inside it).
from pytest_gpuslo.backends import virtual
from pytest_gpuslo.baseline import Store, load

SLOW_OR_FAST_VIRTUAL = """
import os, pytest
from pytest_gpuslo.backends.virtual import work

@pytest.mark.slo(p95_ms=200, rate_hz=2000, requests=4000, streams=4)
def test_svc(slo_request):
    work(float(os.environ.get("SVC_S", "0.0002")) * (1 + (slo_request.index % 7) / 10))
"""


def day_of(session: str) -> str:
    """The date runs of a session "day-N" (or "N") are saved under ($GPUSLO_NOW): runs of one
    UTC day count as one session, whatever their labels."""
    return f"2026-11-{10 + int(session.rsplit('-', 1)[-1]):02d}T12:00:00+00:00"


def on_day(monkeypatch: pytest.MonkeyPatch, day: str) -> None:
    """The runs saved next belong to session ``day``, dated on its own UTC day."""
    monkeypatch.setenv("GPUSLO_SESSION", day)
    monkeypatch.setenv("GPUSLO_NOW", day_of(day))


def save_on_days(tester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, *days: str) -> None:
    """One passing --gpuslo-save run of the test file per session (day)."""
    for day in days:
        on_day(monkeypatch, day)
        tester.runpytest("--gpuslo-save").assert_outcomes(passed=1)


def gpuslo(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest_gpuslo", *args], cwd=cwd,
                          capture_output=True, text=True)


def test_save_then_a_slower_change_is_regressed_and_fails(simtester: pytest.Pytester,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """--gpuslo-save records; with runs from three sessions (days) stored, the same test 10x
    slower fails as REGRESSED with its ratio; with one stored run it is held back.  (Virtual time:
    on a busy machine a real 0.2 ms sleep can take as long as a 1 ms one.)"""
    gputester = simtester
    gputester.makepyfile(SLOW_OR_FAST_VIRTUAL)
    monkeypatch.setenv("GPUSLO_SESSION", "day-1")
    monkeypatch.setenv("GPUSLO_NOW", day_of("day-1"))
    saved = gputester.runpytest("--gpuslo-save")
    monkeypatch.setenv("SVC_S", "0.001")
    held = gputester.runpytest("-v")
    monkeypatch.delenv("SVC_S")
    for day in ("day-2", "day-3"):
        monkeypatch.setenv("GPUSLO_SESSION", day)
        monkeypatch.setenv("GPUSLO_NOW", day_of(day))
        gputester.runpytest("--gpuslo-save").assert_outcomes(passed=1)
    monkeypatch.setenv("SVC_S", "0.001")
    slower = gputester.runpytest("-v")

    saved.assert_outcomes(passed=1)
    saved.stdout.fnmatch_lines(["baseline *::test_svc: created (1 run from 1 session; a REGRESSED against them needs 3 runs*): .gpuslo/*test_svc*.json"])
    held.assert_outcomes(passed=1)
    held.stdout.fnmatch_lines(["*only 1 stored run(s): run-to-run noise is unknown*gpuslo ab*"])
    # .last is scratch: it ignores itself in git, so a project has nothing to add to .gitignore.
    assert (gputester.path / ".gpuslo" / ".last" / ".gitignore").read_text().splitlines()[-1] == "*"
    slower.assert_outcomes(failed=1)
    slower.stdout.fnmatch_lines(["*p95 vs baseline: REGRESSED*",
                                 "*REGRESSED*p95 vs baseline: p95 level ratio*prediction interval from 3 stored runs on 1/q (*), 3 session(s)*"])
    # The row leads with what failed it: its budget held (review78 #3: "FAIL: ... (REGRESSED)").
    slower.stdout.fnmatch_lines(["*::test_svc *p95<=* REGRESSED  REGRESSED: p95 replayed +*% vs baseline"])


def test_a_machine_that_got_slower_holds_back_a_regression(simtester: pytest.Pytester,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Every stored run keeps its machine control; the code gets 5x slower on a day when the
    machine's control reads 6x slower: the REGRESSED is held back as INCONCLUSIVE with that
    reason (the test passes); with the control 20% slower it fails, and says the run replayed on a
    machine that much faster still regressed (review67: a control 45% slower held back a p95 +397%);
    with the control where it was, the same change fails."""
    simtester.makepyfile(SLOW_OR_FAST_VIRTUAL)
    save_on_days(simtester, monkeypatch, "day-1", "day-2", "day-3")
    stored = json.loads(next((simtester.path / ".gpuslo").glob("*.json")).read_text())
    monkeypatch.setenv("SVC_S", "0.001")
    monkeypatch.setattr(virtual, "control_ms", 6.0)
    held = simtester.runpytest("-v")
    monkeypatch.setattr(virtual, "control_ms", 1.2)
    stood = simtester.runpytest("-v")
    # the last-run record keeps its stamps: gpuslo compare replays it as the plugin did (it could
    # only hold it back, "keeps no lanes to replay")
    (last,) = (simtester.path / ".gpuslo" / ".last").glob("*.json")
    again = gpuslo("compare", ".gpuslo", str(last), cwd=simtester.path)
    monkeypatch.setattr(virtual, "control_ms", 1.0)
    failed = simtester.runpytest("-v")

    assert [r["summary"]["control"] for r in stored["runs"]] == [{"cpu_ms": 1.0}] * 3
    held.assert_outcomes(passed=1)
    held.stdout.fnmatch_lines(["*INCONCLUSIVE*control moved: CPU loop 500.0% slower than the mean of 3 stored runs*"
                               "replayed on a machine *x faster (the most its reading allows), p95 is *",
                               "*machine control: CPU loop 6 ms*"])
    stood.assert_outcomes(failed=1)
    stood.stdout.fnmatch_lines(["*REGRESSED*control moved (CPU loop 20.0% slower than the mean of 3 stored runs), but "
                                "replayed on a machine 1.2*x faster (the most its reading allows), p95 is still +*"])
    assert again.returncode == 1, again.stdout + again.stderr
    assert "REGRESSED" in again.stdout and "(the most its reading allows), p95 is still +" in again.stdout
    assert not any("stamps" in r for r in json.loads(next((simtester.path / ".gpuslo").glob("*.json")).read_text())["runs"])
    failed.assert_outcomes(failed=1)


def test_a_run_judged_regressed_is_not_added_to_the_runs_it_regressed_against(
        simtester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """review71: ``--gpuslo-save`` of a 1.5x slower build read REGRESSED and was then stored
    ("updated (5 runs from 5 sessions)"): the level moved toward the regression.  It is refused,
    with how to record an intended change; ``gpuslo accept`` refuses it too."""
    simtester.makepyfile(SLOW_OR_FAST_VIRTUAL)
    save_on_days(simtester, monkeypatch, "day-1", "day-2", "day-3")
    on_day(monkeypatch, "day-4")
    monkeypatch.setenv("SVC_S", "0.001")
    slower = simtester.runpytest("--gpuslo-save")
    accepted = gpuslo("accept", cwd=simtester.path)

    slower.assert_outcomes(failed=1)
    slower.stdout.fnmatch_lines(["*::test_svc: not saved: it regressed against the stored runs (p95 +*%): added to "
                                 "them it would move their level toward the regression*delete this test's baseline "
                                 "file in the store and record the new level anew*"])
    stored = json.loads(next((simtester.path / ".gpuslo").glob("*.json")).read_text())
    assert len(stored["runs"]) == 3
    assert accepted.returncode == 1 and "it regressed against the stored runs" in accepted.stdout + accepted.stderr
    # review72: --gpuslo-no-baseline never compared the run, so the save took it, and so did accept
    both = simtester.runpytest("--gpuslo-save", "--gpuslo-no-baseline")
    assert both.ret == pytest.ExitCode.USAGE_ERROR
    both.stderr.fnmatch_lines(["ERROR: --gpuslo-save with --gpuslo-no-baseline would add each run to the stored "
                               "runs without comparing it to them*"])
    simtester.runpytest("--gpuslo-no-baseline").assert_outcomes(passed=1)
    uncompared = gpuslo("accept", cwd=simtester.path)
    assert uncompared.returncode == 1, uncompared.stdout
    assert "not accepted: it regressed against the stored runs (p95 +" in uncompared.stdout
    assert len(json.loads(next((simtester.path / ".gpuslo").glob("*.json")).read_text())["runs"]) == 3


def test_no_baseline_option_ignores_the_store(simtester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """--gpuslo-no-baseline checks the absolute budget only: the slower run that the stored
    baseline fails passes on its budget."""
    simtester.makepyfile(SLOW_OR_FAST_VIRTUAL)
    save_on_days(simtester, monkeypatch, "day-1", "day-2", "day-3")
    monkeypatch.setenv("SVC_S", "0.001")

    simtester.runpytest().assert_outcomes(failed=1)
    off = simtester.runpytest("--gpuslo-no-baseline")
    off.assert_outcomes(passed=1)
    # review145 F7: the store holds three runs, so "no baseline" was not the truth
    assert "not compared (--gpuslo-no-baseline)" in off.stdout.str() and "no baseline " not in off.stdout.str()
    # review148: nor the legend's paragraph on a comparison none of the rows made
    assert "vs baseline: the change" not in off.stdout.str()


def test_corrupt_baseline_fails_the_test_with_file_and_fix(simtester: pytest.Pytester) -> None:
    """A truncated file is named, with what to do; it is left as it was."""
    gputester = simtester
    gputester.makepyfile(SLOW_OR_FAST_VIRTUAL)
    gputester.runpytest("--gpuslo-save")
    (path,) = (gputester.path / ".gpuslo").glob("*.json")
    path.write_text(path.read_text()[:200])
    result = gputester.runpytest()

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([f"*baseline {path}: is not valid JSON (truncated?)*restore it with git*"])
    assert len(path.read_text()) == 200


def test_a_baseline_file_holding_another_test_is_not_compared_nor_added_to(simtester: pytest.Pytester) -> None:
    """review95 #2: test_b's file copied to test_a's name was compared with test_a without a word
    (gpuslo compare said "holds another test"); a save added test_a's runs to test_b's.  The file
    is named, with both tests and the fix, and left as it was."""
    simtester.makepyfile(SLOW_OR_FAST_VIRTUAL + SLOW_OR_FAST_VIRTUAL.split("\n\n", 1)[1].replace("test_svc", "test_b"))
    simtester.runpytest("--gpuslo-save").assert_outcomes(passed=2)
    a, b = (next((simtester.path / ".gpuslo").glob(f"*{name}*.json")) for name in ("test_svc", "test_b"))
    a.write_bytes(copied := b.read_bytes())
    for args in ((), ("--gpuslo-save",)):
        result = simtester.runpytest(*args)
        result.assert_outcomes(passed=1, failed=1)
        result.stdout.fnmatch_lines([f"*baseline {a}: holds another test's runs (test_*.py::test_b), not "
                                     f"test_*.py::test_svc's*Move it back to test_*.py::test_b's name, or delete it*"])
        assert a.read_bytes() == copied


def test_a_stored_baseline_whose_test_is_gone_is_named(simtester: pytest.Pytester) -> None:
    """review187 F1: a renamed test read "no baseline" and PASSed, and its old file stayed an
    ordinary row of gpuslo show: the regression it was recorded to catch was never compared.  A
    stored test its module was collected without, or whose module is gone, is named; one merely
    deselected, or left out by node ids on the command line, is not."""
    two = SLOW_OR_FAST_VIRTUAL + SLOW_OR_FAST_VIRTUAL.split("\n\n", 1)[1].replace("test_svc", "test_b")
    module = simtester.makepyfile(two)
    simtester.runpytest("--gpuslo-save").assert_outcomes(passed=2)
    stored_b = os.path.relpath(next((simtester.path / ".gpuslo").glob("*test_b*.json")), simtester.path)
    said = f"baseline {stored_b}: its test {module.name}::test_b was not collected from {module.name} (renamed or deleted?)"

    deselected = simtester.runpytest("-k", "test_svc")
    deselected.assert_outcomes(passed=1, deselected=1)
    assert "renamed or deleted" not in deselected.stdout.str()
    module.write_text(two.replace("test_b", "test_c"))
    renamed = simtester.runpytest("--gpuslo-json=r.json", "--gpuslo-md=r.md")
    renamed.assert_outcomes(passed=2)
    # review193 F3: the reports name it too, among the tests not judged
    (gone,) = json.loads((simtester.path / "r.json").read_text())["not_judged"]
    assert gone["nodeid"] == f"{module.name}::test_b" and f"its baseline {stored_b} has no test here" in gone["why"]
    assert f"its baseline {stored_b} has no test here" in (simtester.path / "r.md").read_text()
    renamed.stdout.fnmatch_lines([f"{said}: its runs gate no test; delete the file (a renamed test draws its "
                                  f"schedule from its new name*"])
    assert renamed.stdout.str().count("renamed or deleted") == 1  # test_svc's own file is not named
    assert "renamed or deleted" not in simtester.runpytest(f"{module.name}::test_svc").stdout.str()
    if importlib.util.find_spec("xdist") is not None:  # the workers' collected tests, on the controller
        spread = simtester.runpytest_subprocess("-n", "2")
        spread.assert_outcomes(passed=2)
        spread.stdout.fnmatch_lines([f"{said}*"])
    module.rename(simtester.path / "test_moved.py")
    moved = simtester.runpytest()
    moved.assert_outcomes(passed=2)
    moved.stdout.fnmatch_lines([f"*its test {module.name}::test_svc's module {module.name} is gone (renamed or deleted?)*"])


def test_a_baseline_link_to_nothing_is_named_and_a_save_writes_through_a_link(simtester: pytest.Pytester) -> None:
    """review95 #3: a test's baseline file that linked to nothing read "no baseline" (the gate off in
    silence; gpuslo show said UNREADABLE), and a save replaced the link, as it replaced a good link
    to a file elsewhere by a plain file."""
    simtester.makepyfile(SLOW_OR_FAST_VIRTUAL)
    simtester.runpytest("--gpuslo-save").assert_outcomes(passed=1)
    (path,) = (simtester.path / ".gpuslo").glob("*.json")
    elsewhere = simtester.path / "kept.json"
    path.rename(elsewhere)
    path.symlink_to(simtester.path / "nowhere.json")
    for args in ((), ("--gpuslo-save",)):
        result = simtester.runpytest(*args)
        result.assert_outcomes(failed=1)
        result.stdout.fnmatch_lines([f"*baseline {path}: is a link to nothing (to *nowhere.json), so it cannot be read; "
                                     f"mend the link*"])
        assert path.is_symlink() and not path.exists()

    path.unlink()
    path.symlink_to(elsewhere)
    simtester.runpytest("--gpuslo-save").assert_outcomes(passed=1)
    assert path.is_symlink() and len(json.loads(elsewhere.read_text())["runs"]) == 2


def test_a_stage_name_or_error_in_colour_is_stored_so_that_it_loads_again(simtester: pytest.Pytester) -> None:
    """review85: a stage named "\\x1b[31mred" was saved as it was, and every later run failed on the
    plugin's own file (its loader refuses control codes); an error message in colour made the
    test's .last record unreadable to gpuslo compare.  Both are written out (``\\x1b``) now."""
    from pytest_gpuslo import baseline

    simtester.makepyfile("""
import os, pytest

@pytest.mark.slo(p95_ms=200, rate_hz=2000, requests=4000, streams=4)
def test_svc(slo_request):
    with slo_request.stage("\\x1b[31mred"):
        pass
    if os.environ.get("RAISE") and slo_request.index == 1000:
        raise ValueError("\\x1b[31mboom\\x1b[0m")
""")
    simtester.runpytest("--gpuslo-save").assert_outcomes(passed=1)
    (path,) = (simtester.path / ".gpuslo").glob("*.json")
    assert "\\\\x1b[31mred" in path.read_text() and "\\x1b[31mred" in json.loads(path.read_text())["runs"][0]["stages"]
    simtester.runpytest().assert_outcomes(passed=1)  # its own file loads again
    os.environ["RAISE"] = "1"
    try:
        result = simtester.runpytest("-v")
    finally:
        del os.environ["RAISE"]
    (last,) = (simtester.path / ".gpuslo" / ".last").glob("*.json")
    assert baseline.load(last).runs  # loads, no BaselineFormatError
    assert "\x1b" not in result.stdout.str() and "\\x1b[31mboom" in result.stdout.str()


def test_reports_json_markdown_step_summary_and_benchmark_export(simtester: pytest.Pytester,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """All report files are written once, and the pytest-benchmark export loads in its compare."""
    gputester = simtester
    step = gputester.path / "step.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step))
    gputester.makepyfile(SLOW_OR_FAST_VIRTUAL)
    result = gputester.runpytest("--gpuslo-json=r.json", "--gpuslo-md=r.md", "--gpuslo-benchmark-json=b.json")

    result.assert_outcomes(passed=1)
    doc = json.loads((gputester.path / "r.json").read_text())
    assert (1, "pytest-gpuslo", 1) == (doc["schema"], doc["tool"], len(doc["results"]))
    assert doc["results"][0]["verdict"]["outcome"] == "PASS"
    md = (gputester.path / "r.md").read_text()
    assert "| ✅ PASS | `test_reports_json_markdown_step_summary_and_benchmark_export.py::test_svc` | p95≤200 |" in md
    assert md == step.read_text()
    bench = json.loads((gputester.path / "b.json").read_text())
    names = [b["fullname"] for b in bench["benchmarks"]]
    assert any(n.endswith("test_svc[p95]") for n in names) and any(n.endswith("test_svc[p99]") for n in names)
    tool = Path(sys.executable).parent / "pytest-benchmark"
    pb = subprocess.run([str(tool), "compare", str(gputester.path / "b.json")], capture_output=True, text=True)
    assert pb.returncode == 0, pb.stderr
    assert "test_svc[p95]" in pb.stdout


def test_on_a_github_runner_a_fail_is_an_error_annotation_and_an_undecided_one_a_warning(
        simtester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """review154: an INCONCLUSIVE exits 0, so a pull request's checks read green where the runner
    left a claim undecided; on GitHub's runner each verdict that fails its test is an ::error
    workflow command and each undecided one a ::warning, in the row's words, off on request."""
    simtester.makepyfile(SLOW_OR_FAST_VIRTUAL.replace("requests=4000", "requests=1000"))
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("SVC_S", "0.3")  # 300-ms bodies against a 200-ms budget
    failed = simtester.runpytest()
    failed.assert_outcomes(failed=1)
    (line,) = [x for x in failed.outlines if x.startswith("::")]
    assert line.startswith("::error title=SLO FAIL::test_on_a_github_runner_a_fail_is_an_error_annotation_and_an_"
                           "undecided_one_a_warning.py::test_svc: FAIL: p95 "), line
    monkeypatch.setenv("SVC_S", "0.0002")
    undecided = simtester.runpytest()  # 1,000 requests are too few to PASS p95<=200
    undecided.assert_outcomes(passed=1)
    assert [x.split("::")[1] for x in undecided.outlines if x.startswith("::")] == ["warning title=SLO INCONCLUSIVE"]
    assert [x for x in simtester.runpytest("--gpuslo-inconclusive=fail").outlines if x.startswith("::error ")]
    monkeypatch.setenv("GPUSLO_GITHUB_ANNOTATIONS", "0")
    assert not [x for x in simtester.runpytest().outlines if x.startswith("::")]
    monkeypatch.delenv("GPUSLO_GITHUB_ANNOTATIONS")
    monkeypatch.delenv("GITHUB_ACTIONS")
    assert not [x for x in simtester.runpytest().outlines if x.startswith("::")]
    # an SLO test that ended in an error before a verdict is an error too (review155 F3)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    simtester.makepyfile(test_bad="import pytest\n@pytest.mark.slo(p95_ms=5, bogus=1)\ndef test_b(slo_request):\n    pass\n")
    (bad,) = [x for x in simtester.runpytest("test_bad.py").outlines if x.startswith("::")]
    assert bad.startswith("::error title=SLO test error::test_bad.py::test_b: ERROR in setup, before a verdict: "), bad


def test_the_annotation_that_counts_the_rest_names_where_they_are_listed(
        simtester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """review169 F5: "4 more SLO tests failed: the job's summary and the reports list them" where
    the run wrote neither."""
    simtester.makepyfile(test_bad="import pytest\n" + "".join(
        f"@pytest.mark.slo(p95_ms=5, bogus=1)\ndef test_b{k}(slo_request):\n    pass\n" for k in range(12)))
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)

    def rest(*args: str) -> str:
        lines = [x for x in simtester.runpytest(*args).outlines if x.startswith("::error")]
        assert len(lines) == 10, lines
        return lines[-1].split("::")[-1]

    assert rest() == "3 more SLO tests failed: the gpuslo section of the log lists them"
    assert rest("--gpuslo-json=r.json") == "3 more SLO tests failed: the reports list them"
    assert rest("--gpuslo-md=/dev/null") == "3 more SLO tests failed: the gpuslo section of the log lists them"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(simtester.path / "step.md"))
    assert rest() == "3 more SLO tests failed: the job's summary lists them"
    assert rest("--gpuslo-json=r.json") == "3 more SLO tests failed: the job's summary and the reports list them"
    assert "test_b11" in (simtester.path / "step.md").read_text()


def test_compare_reads_an_xfail_marked_test_s_record_as_pytest_did(
        simtester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """review159 F4: an xfail-marked test's expected FAIL (pytest: XFAIL, exit 0) read FAIL under
    `gpuslo compare` of its record, exit 1 and an ::error; its record now keeps the marker."""
    marked = SLOW_OR_FAST_VIRTUAL.replace(
        "@pytest.mark.slo", "@pytest.mark.xfail(reason='known slow')\n@pytest.mark.slo")
    simtester.makepyfile(marked)
    monkeypatch.setenv("SVC_S", "0.3")  # 300-ms bodies against a 200-ms budget: FAIL, expected
    simtester.runpytest().assert_outcomes(xfailed=1)
    (last,) = (simtester.path / ".gpuslo" / ".last").glob("*.json")
    assert load(last).latest.summary["xfail"] == {"strict": False}
    (simtester.path / "store").mkdir()
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    done = gpuslo("compare", "store", str(last), cwd=simtester.path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "::test_svc: FAIL (XFAIL: expected)" in done.stdout
    assert "pytest reported this FAIL as XFAILED, and so does the exit status here" in done.stdout
    assert "::error" not in done.stdout
    # strict, and fixed: pytest's XPASS(strict) fails the test, and compare's exit status with it
    simtester.makepyfile(marked.replace("reason='known slow'", "reason='known slow', strict=True"))
    monkeypatch.setenv("SVC_S", "0.0002")
    monkeypatch.delenv("GITHUB_ACTIONS")
    simtester.runpytest().assert_outcomes(failed=1)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    strict = gpuslo("compare", "store", str(last), cwd=simtester.path)
    assert strict.returncode == 1, strict.stdout + strict.stderr
    assert "::error title=SLO XPASS (strict)::" in strict.stdout
    # a marker that expects another exception than the gate's FAIL: pytest fails the test, and so
    # does compare (review160 F2: read XFAIL, exit 0)
    simtester.makepyfile(marked.replace("reason='known slow'", "reason='known slow', raises=RuntimeError"))
    monkeypatch.setenv("SVC_S", "0.3")
    monkeypatch.delenv("GITHUB_ACTIONS")
    simtester.runpytest().assert_outcomes(failed=1)
    assert load(last).latest.summary["xfail"] == {"strict": False, "raises": True}
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    other = gpuslo("compare", "store", str(last), cwd=simtester.path)
    assert other.returncode == 1 and "::error title=SLO FAIL::" in other.stdout, other.stdout + other.stderr
    assert "XFAIL" not in other.stdout


def test_two_xdist_workers_save_without_torn_or_lost_files(simtester: pytest.Pytester) -> None:
    """-n 2: every test's baseline is written whole, once; the summary lists them all.  (Virtual
    time: a busy machine cannot make a run late and so unsaveable; 400/s of 1-ms bodies, one lane
    keeps up: at 4000/s it cannot, which FAILs, ``gate.lanes_full``.)"""
    gputester = simtester
    gputester.makepyfile(
        """
        import pytest

        @pytest.mark.parametrize("k", range(6))
        @pytest.mark.slo(p95_ms=200, rate_hz=400, requests=400)
        def test_par(slo_request, k):
            pass
        """
    )
    result = gputester.runpytest_subprocess("-n", "2", "--gpuslo-save", "-p", "no:cacheprovider")

    result.assert_outcomes(passed=6)
    files = sorted((gputester.path / ".gpuslo").glob("*.json"))
    assert 6 == len(files)
    for f in files:
        assert json.loads(f.read_text())["tool"] == "pytest-gpuslo"
    assert not list((gputester.path / ".gpuslo").glob("*.tmp")) + list((gputester.path / ".gpuslo").glob("*.lock"))
    result.stdout.fnmatch_lines(["*gpuslo: tail-latency SLOs*"])
    rows = [line for line in result.stdout.lines if "::test_par[" in line and "  400  " in line]
    assert 6 == len(rows)


def test_cli_show_compare_accept_prune_exit_codes(simtester: pytest.Pytester,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """show lists; compare exits 0 on the same run and 1 on a regression (three stored runs from
    three days); accept refuses to promote that regressed run from .last; prune trims."""
    gputester = simtester
    gputester.makepyfile(SLOW_OR_FAST_VIRTUAL)
    for day in ("day-1", "day-2", "day-3"):
        monkeypatch.setenv("GPUSLO_SESSION", day)
        monkeypatch.setenv("GPUSLO_NOW", day_of(day))
        gputester.runpytest("--gpuslo-save")
    cwd = gputester.path
    shown = gpuslo("show", cwd=cwd)
    (base_file,) = (cwd / ".gpuslo").glob("*.json")
    same = gpuslo("compare", str(base_file), str(base_file), cwd=cwd)
    monkeypatch.setenv("SVC_S", "0.001")
    gputester.runpytest("--gpuslo-no-baseline")
    (last_file,) = (cwd / ".gpuslo" / ".last").glob("*.json")
    worse = gpuslo("compare", str(base_file), str(last_file), cwd=cwd)
    from_store = gpuslo("compare", ".gpuslo", str(last_file), cwd=cwd)  # a store and one run
    accepted = gpuslo("accept", cwd=cwd)
    pruned = gpuslo("prune", "--keep-runs", "1", cwd=cwd)
    broken = cwd / ".gpuslo" / "broken.json"
    broken.write_text("{")
    shown_bad = gpuslo("show", cwd=cwd)

    assert shown.returncode == 0 and "::test_svc" in shown.stdout
    assert same.returncode == 0, same.stdout
    # review84: the headline said PASS above an undecided claim; the baseline's outcome is beside it
    assert same.stdout.startswith(f"{base_file.name.split('--')[0]}::test_svc: PASS (vs baseline: ")
    assert worse.returncode == 1 and "REGRESSED" in worse.stdout
    assert worse.stdout.splitlines()[0].split(" (")[0].endswith(": REGRESSED"), worse.stdout  # review87 #6: "FAIL"
    assert from_store.returncode == 1 and from_store.stdout == worse.stdout
    # the regressed run is not promoted (review72: it was, moving the stored level toward it)
    assert accepted.returncode == 1 and "not accepted: it regressed against the stored runs" in accepted.stdout
    assert pruned.returncode == 0 and "3 -> 1 runs" in pruned.stdout
    assert shown_bad.returncode == 1 and "UNREADABLE" in shown_bad.stdout


def test_accept_refuses_a_run_that_save_refused(simtester: pytest.Pytester) -> None:
    """One rule for both doors: a run whose requests failed is not saved by --gpuslo-save, and
    ``gpuslo accept`` does not promote it from .last either."""
    simtester.makepyfile(
        """
        import pytest

        @pytest.mark.slo(p95_ms=200, rate_hz=400, requests=1000)
        def test_flaky(slo_request):
            if slo_request.index % 100 == 7:
                raise RuntimeError("one request in a hundred fails")
        """
    )
    saved = simtester.runpytest("--gpuslo-save")
    accepted = gpuslo("accept", cwd=simtester.path)

    saved.assert_outcomes(passed=1)
    saved.stdout.fnmatch_lines(["baseline *::test_flaky: not saved: requests failed or timed out (10 raised): *"
                                "fix what raised, then record"])
    # review104: the refusal was for what raised, not a busy machine: no "record on a quiet machine"
    assert "recorded nothing" in saved.stdout.str() + saved.stderr.str()
    assert "fix what raised or timed out, then record" in saved.stdout.str() + saved.stderr.str()
    assert "record on a quiet machine" not in saved.stdout.str() + saved.stderr.str()
    assert accepted.returncode == 1
    assert "test_flaky: not accepted: requests failed or timed out" in accepted.stdout
    assert not list((simtester.path / ".gpuslo").glob("*.json"))


def test_accept_takes_the_last_pytest_run_not_tests_left_from_earlier_ones(simtester: pytest.Pytester) -> None:
    """.last keeps each test's latest run: after `pytest` then `pytest -k fast`, `gpuslo accept`
    promoted the slow test's stale run too, as if the last run had made it (the session-11
    check).  Only the last invocation's runs are taken unless a test is named."""
    simtester.makepyfile(
        """
        import pytest
        from pytest_gpuslo.backends.virtual import work

        @pytest.mark.slo(p95_ms=200, rate_hz=1000, requests=1000, streams=2)
        def test_fast(slo_request):
            work(0.0002)

        @pytest.mark.slo(p95_ms=200, rate_hz=1000, requests=1000, streams=2)
        def test_slow(slo_request):
            work(0.0004)
        """
    )
    simtester.runpytest().assert_outcomes(passed=2)
    simtester.runpytest("-k", "fast").assert_outcomes(passed=1, deselected=1)
    accepted = gpuslo("accept", cwd=simtester.path)
    named = gpuslo("accept", "test_accept_takes_the_last_pytest_run_not_tests_left_from_earlier_ones.py::test_slow",
                   cwd=simtester.path)
    again = gpuslo("accept", cwd=simtester.path)
    nope = gpuslo("accept", "t.py::nope", cwd=simtester.path)

    assert nope.returncode == 1 and "t.py::nope: no last run in " in nope.stdout, nope.stdout  # review71: silent
    assert accepted.returncode == 0, accepted.stdout
    assert "::test_fast: created" in accepted.stdout
    assert "::test_slow: left: its run" in accepted.stdout and "earlier pytest run" in accepted.stdout
    assert named.returncode == 0 and "::test_slow: created" in named.stdout, named.stdout
    # once stored, the stale run is no longer offered (a recheck read "left" for a stored run)
    assert "::test_slow: already stored (its run of" in again.stdout, again.stdout
    assert len(list((simtester.path / ".gpuslo").glob("*.json"))) == 2


def test_a_save_that_saves_nothing_warns_and_a_record_job_can_make_it_red(simtester: pytest.Pytester,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A record job (``pytest --gpuslo-save`` on main) on a machine that refuses every run was
    green while the store never filled (the session-12 check).  A refused save is a
    GpuSloSaveWarning; ``-W error::`` for it fails the test with the plugin's message, not a
    traceback; a run that is saved does not warn.  A session that recorded nothing exits 4
    (review94: a record job on a busy runner stayed green with an empty store)."""
    simtester.makepyfile(
        """
        import os, pytest

        @pytest.mark.slo(p95_ms=200, rate_hz=400, requests=1000)
        def test_svc(slo_request):
            if os.environ.get("FLAKY") and slo_request.index % 100 == 7:
                raise RuntimeError("one request in a hundred fails")
        """
    )
    monkeypatch.setenv("FLAKY", "1")
    refused = simtester.runpytest("--gpuslo-save", "--gpuslo-md=r.md", "--gpuslo-json=r.json")
    red = simtester.runpytest("--gpuslo-save", "-W", "error::pytest_gpuslo.GpuSloSaveWarning")
    monkeypatch.delenv("FLAKY")
    saved = simtester.runpytest("--gpuslo-save")

    refused.assert_outcomes(passed=1, warnings=3)  # too few to PASS, INCONCLUSIVE, and the refusal
    refused.stdout.fnmatch_lines(["*GpuSloSaveWarning: *::test_svc: --gpuslo-save: baseline not saved: requests "
                                  "failed or timed out*"])
    # review94: a record job that recorded nothing does not go green
    refused.stdout.fnmatch_lines(["gpuslo ERROR: --gpuslo-save into .gpuslo: recorded nothing: every SLO test's run "
                                  "(1) was refused as a baseline (see 'not saved' above); fix what raised or timed "
                                  "out, then record*"])
    assert refused.ret == pytest.ExitCode.USAGE_ERROR
    # review195 F1: the red record job's summary said only "1 INCONCLUSIVE"
    said = ("--gpuslo-save saved none of this session's 1 SLO test runs: each was refused as a baseline (its row says "
            "why), which fails the session (exit 4 where nothing else failed); fix what raised or timed out")
    assert f"⛔ **Recorded nothing:** {said}" in (simtester.path / "r.md").read_text()
    assert json.loads((simtester.path / "r.json").read_text())["recorded_nothing"].startswith(said)
    red.assert_outcomes(failed=1)
    red.stdout.fnmatch_lines(["*a warning filter turns GpuSloSaveWarning into an error*"])
    assert "Traceback" not in red.stdout.str()
    saved.assert_outcomes(passed=1)
    saved.stdout.fnmatch_lines(["baseline *::test_svc: created (*): *"])
    assert "GpuSloSaveWarning" not in saved.stdout.str()
    assert saved.ret == pytest.ExitCode.OK


def test_a_save_asked_by_the_ini_is_named_so_and_a_lost_last_run_record_warns(simtester: pytest.Pytester,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """review74: a refused save that the ini's gpuslo_save asked for was named '--gpuslo-save'; a
    file named .last in the store was passed over without a word (accept then said '.last is empty;
    run the SLO tests first')."""
    simtester.makeini("[pytest]\naddopts = -p no:cacheprovider\ngpuslo_backend = virtual\ngpuslo_save = true\n")
    simtester.makepyfile(
        """
        import pytest

        @pytest.mark.slo(p95_ms=200, rate_hz=400, requests=1000)
        def test_svc(slo_request):
            if slo_request.index % 100 == 7:
                raise RuntimeError("one request in a hundred fails")
        """
    )
    (simtester.path / ".gpuslo").mkdir()
    (simtester.path / ".gpuslo" / ".last").write_text("junk")
    result = simtester.runpytest()

    result.stdout.fnmatch_lines(["*GpuSloSaveWarning: *::test_svc: gpuslo_save (ini): baseline not saved: *",
                                 "*GpuSloWarning: *::test_svc: its last-run record could not be written: gpuslo "
                                 "accept and gpuslo compare will not see this run, and would take an earlier run of this test "
                                 "still recorded there for it; .gpuslo/.last is a file: delete it"])
    monkeypatch.chdir(simtester.path)
    from pytest_gpuslo.cli import main

    assert main(["accept"]) == 2
    (simtester.path / ".gpuslo" / ".last").unlink()
    (simtester.path / ".gpuslo" / ".last").symlink_to(simtester.path / "nowhere")  # review76: a link to nothing
    linked = simtester.runpytest()
    linked.stdout.fnmatch_lines(["*GpuSloWarning: *::test_svc: its last-run record could not be written: *; "
                                 f".gpuslo/.last is a link to nothing (to {simtester.path / 'nowhere'}): delete it or "
                                 "mend it"])
    assert main(["accept"]) == 2


def test_a_refused_save_through_slo_run_warns_too(simtester: pytest.Pytester) -> None:
    """The warning sits where every SLO run is attached to its test, so ``slo_run`` gets it as the
    marker does."""
    simtester.makepyfile(
        """
        def test_svc(slo_run):
            def handler(req):
                if req.index % 100 == 7:
                    raise RuntimeError("one request in a hundred fails")
            slo_run(handler, p95_ms=200, rate_hz=400, requests=1000)
        """
    )
    refused = simtester.runpytest("--gpuslo-save", "-W", "error::pytest_gpuslo.GpuSloSaveWarning")

    refused.assert_outcomes(failed=1)
    refused.stdout.fnmatch_lines(["*::test_svc: --gpuslo-save: baseline not saved: requests failed or timed out*"])
    assert "Traceback" not in refused.stdout.str()


def test_cli_help_is_complete() -> None:
    """gpuslo --help names every subcommand, and each has its own help."""
    top = gpuslo("--help", cwd=Path.cwd())

    assert top.returncode == 0
    for sub in ("show", "compare", "accept", "prune", "probe", "version"):
        assert sub in top.stdout
        assert gpuslo(sub, "--help", cwd=Path.cwd()).returncode == 0


NOISY = """
import os, random, pytest
from pytest_gpuslo.backends.virtual import work

@pytest.mark.slo(p95_ms=50, rate_hz=500, requests=4000, streams=2)
def test_svc(slo_request):
    noise = random.Random(f"{os.environ.get('RUN', '0')}-{slo_request.index}").random()
    work(float(os.environ.get("SVC_S", "0.002")) * (0.5 + noise))
"""


def test_gpuslo_compare_and_the_plugin_reach_the_same_verdict(simtester: pytest.Pytester,
                                                              monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    """Three stored runs, then a 10% slower candidate: ``gpuslo compare`` on the store and the
    candidate's .last file prints the very claims the plugin decided (one decision path)."""
    from pytest_gpuslo.cli import main

    simtester.makepyfile(NOISY)
    for run in ("1", "2", "3"):
        monkeypatch.setenv("RUN", run)
        simtester.runpytest("--gpuslo-save").assert_outcomes(passed=1)
    monkeypatch.setenv("RUN", "4")
    monkeypatch.setenv("SVC_S", "0.0022")
    simtester.runpytest("--gpuslo-json=r.json")
    plugin = json.loads((simtester.path / "r.json").read_text())["results"][0]["verdict"]
    (stored,) = (simtester.path / ".gpuslo").glob("*.json")
    capsys.readouterr()
    code = main(["compare", str(stored), str(simtester.path / ".gpuslo" / ".last" / stored.name)])
    printed = capsys.readouterr().out

    assert "prediction interval from 3 stored runs" in plugin["baseline"][0]["detail"], plugin
    against = ", ".join(dict.fromkeys(b["outcome"] for b in plugin["baseline"]))  # review84: said beside it
    assert printed.splitlines()[0].endswith(f": {plugin['outcome']}" + (
        f" (vs baseline: {against})" if plugin["outcome"] != "FAIL" else ""))
    for claim in plugin["checks"]:
        assert f"{claim['outcome']:<13} {claim['detail']}" in printed
    for claim in plugin["baseline"]:
        assert f"{claim['outcome']:<13} {claim['detail']}; {claim['reason']}" in printed
    assert code == (1 if plugin["outcome"] == "FAIL" else 0)


LATE_ONTO_A_BUSY_LANE = """
import pytest
from pytest_gpuslo.backends.virtual import host, work

@pytest.mark.slo(p95_ms=100, rate_hz=100, arrivals="constant", requests=2000, streams=1)
def test_svc(slo_request):
    if slo_request.index % 10:
        work(0.005)
    else:  # a long request whose body also keeps the dispatcher 20 ms: the next goes out 10 ms late
        work(0.030)
        host(0.020)
"""


def test_gpuslo_compare_judges_lag_onto_a_busy_lane_as_the_plugin_did(simtester: pytest.Pytester,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """Every tenth request keeps the dispatcher 20 ms, so the next goes out 10 ms late (lag p99
    10 ms, over 5% of the budget), onto a lane still busy for 10 ms more: no start was delayed.
    The plugin saves the run and names no lagging generator; ``gpuslo compare`` on the stored
    file must read it the same way (it used to see only the lag, and said the generator fell
    behind: the stored run now keeps the start delay the plugin judged)."""
    from pytest_gpuslo.cli import main

    simtester.makepyfile(LATE_ONTO_A_BUSY_LANE)
    simtester.runpytest("--gpuslo-save", "--gpuslo-json=r.json").assert_outcomes(passed=1)
    result = json.loads((simtester.path / "r.json").read_text())["results"][0]
    (stored,) = (simtester.path / ".gpuslo").glob("*.json")
    capsys.readouterr()
    main(["compare", str(stored), str(simtester.path / ".gpuslo" / ".last" / stored.name)])
    printed = capsys.readouterr().out

    assert result["lag_ms"]["p99"] > 9
    assert result["baseline_saved"].startswith("created"), result["baseline_saved"]
    assert "generator_late" not in result["verdict"]["conditions"]
    assert "fell behind" not in printed, printed
    assert "start_delay_sample" in json.loads(stored.read_text())["runs"][0]
    assert printed.splitlines()[0].split(' (')[0].endswith(f": {result['verdict']['outcome']}")
    assert 'is the only one stored' in printed.splitlines()[0]  # as the plugin, which had no baseline yet


STALLS = """
import os, random, pytest
from pytest_gpuslo.backends.virtual import host, work

@pytest.mark.slo(p95_ms=200, rate_hz=100, requests=4000, streams=int(os.environ["STREAMS"]))
def test_svc(slo_request):
    jitter = 1 + 0.01 * random.Random(f"{os.environ['RUN']}-{slo_request.index}").random()
    work(float(os.environ["BASE_S"]) * float(os.environ.get("SLOWER", "1")) * jitter * random.Random(slo_request.index).expovariate(1.0))
    if os.environ.get("STALL") and slo_request.index % int(os.environ.get("EVERY", "100")) == 0:
        host(float(os.environ.get("STALL_S", "0.06")))  # the generator stalls (a GC pause, a neighbour)
"""


@pytest.mark.parametrize(("streams", "base_s", "slower", "stall", "both", "expected"),
                         [(1, "0.005", "1", "0.06/100", False, "OK"),
                          (1, "0.005", "1.5", "0.06/100", False, "REGRESSED"),
                          (3, "0.015", "1", "0.06/100", False, "OK"),
                          (1, "0.001", "1", "0.009/10", False, "INCONCLUSIVE"),
                          (1, "0.001", "1.2", "0.004/5", True, "REGRESSED")])
def test_a_stalled_generator_cannot_make_a_regression(simtester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
                                                      streams: int, base_s: str, slower: str, stall: str,
                                                      both: bool, expected: str) -> None:
    """Three stored runs on three days; then the candidate's generator stalls 60 ms every second, and
    the overdue requests go out in a burst that queues on itself.  Unchanged code must not read
    REGRESSED (it did: the burst's queue was charged to the code); 50% slower code still must,
    judged on latency as a punctual generator would have left it.  Three lanes on one queue: the
    burst's requests are replayed as that queue (on the lanes the burst gave them, part of its
    queue still read as the code's).  Stalls of 9 ms every 10 requests stay under the lag limit
    (5% of a 200 ms budget) but move a 3 ms p95 by half: a change of the run's own level must hold
    without them too (the second independent check read them as REGRESSED +150%).  And without
    them on both sides: stored runs as late as the candidate, the service 20% slower, must still
    read REGRESSED (compared with the candidate's lateness alone taken off, it read INCONCLUSIVE).
    Since session 20 a stall that reaches few requests (here about one in ten) is set aside: the
    unchanged code reads OK on the requests it did not reach, where it read INCONCLUSIVE before."""
    simtester.makepyfile(STALLS)
    monkeypatch.setenv("STREAMS", str(streams))
    monkeypatch.setenv("BASE_S", base_s)
    monkeypatch.setenv("STALL_S", stall.split("/")[0])
    monkeypatch.setenv("EVERY", stall.split("/")[1])
    if both:
        monkeypatch.setenv("STALL", "1")
    for run, day in (("1", "day-1"), ("2", "day-2"), ("3", "day-3")):
        monkeypatch.setenv("RUN", run)
        monkeypatch.setenv("GPUSLO_SESSION", day)
        monkeypatch.setenv("GPUSLO_NOW", day_of(day))
        simtester.runpytest("--gpuslo-save").assert_outcomes(passed=1)
    monkeypatch.setenv("RUN", "4")
    monkeypatch.setenv("GPUSLO_SESSION", "day-4")
    monkeypatch.setenv("GPUSLO_NOW", day_of("day-4"))
    monkeypatch.setenv("STALL", "1")
    monkeypatch.setenv("SLOWER", slower)
    simtester.runpytest("--gpuslo-json=r.json")
    verdict = json.loads((simtester.path / "r.json").read_text())["results"][0]["verdict"]

    assert ("generator_late" in verdict["conditions"]) is (stall == "0.06/100"), verdict
    (claim,) = verdict["baseline"]
    assert claim["outcome"] == expected, claim
    if both:  # the stored runs' own lateness reaches the gate, to be taken off them too
        from pytest_gpuslo.baseline import gate_input, load
        from pytest_gpuslo.spec import SloSpec

        (stored,) = (simtester.path / ".gpuslo").glob("*.json")
        found = load(stored)
        given = gate_input(found, SloSpec.from_dict(found.spec), fingerprint=found.schedule_fingerprint,
                           machine=found.machine)
        assert given.changed == ()
        assert len(given.dispatched) == 3
        assert all(np.quantile(d, 0.99) < np.quantile(r, 0.99) for d, r in zip(given.dispatched, given.runs))
    if expected == "REGRESSED":
        assert ("even on latency counted from the late dispatch" in claim["reason"]) is (stall == "0.06/100")
        assert verdict["outcome"] == "FAIL"
    elif expected == "OK":
        assert "decided on the requests no lateness reached" in claim["reason"], claim
    else:
        assert "load generator fell behind" in claim["reason"] or "load generator was late" in claim["reason"]
        assert verdict["outcome"] == "INCONCLUSIVE"  # a claim the lateness decided: not a silent PASS


def test_gpuslo_compare_right_after_a_save_does_not_judge_the_run_against_itself(
        simtester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """After --gpuslo-save the .last record is also the store's latest run: compared with the
    store it met itself (ratio 1.000, OK).  It is judged against the runs saved before it."""
    from pytest_gpuslo.cli import main

    simtester.makepyfile(NOISY)
    for run, day in (("1", "day-1"), ("2", "day-2"), ("3", "day-3")):
        monkeypatch.setenv("RUN", run)
        monkeypatch.setenv("GPUSLO_SESSION", day)
        monkeypatch.setenv("GPUSLO_NOW", day_of(day))
        simtester.runpytest("--gpuslo-save").assert_outcomes(passed=1)
    (stored,) = (simtester.path / ".gpuslo").glob("*.json")
    last = simtester.path / ".gpuslo" / ".last" / stored.name
    capsys.readouterr()
    main(["compare", str(stored), str(last)])
    printed = capsys.readouterr().out
    assert "judged against the 2 stored run(s) before it" in printed.splitlines()[0], printed
    assert "2 stored run(s)" in printed and "ratio 1.000 " not in printed, printed

    doc = json.loads(stored.read_text())
    doc["runs"] = doc["runs"][-1:]  # the store holds only this run
    stored.write_text(json.dumps(doc))
    main(["compare", str(stored), str(last)])
    printed = capsys.readouterr().out
    assert "is the only one stored" in printed.splitlines()[0] and "vs baseline" not in printed, printed


INLINE_BACKEND = """
from pytest_gpuslo.backends.virtual import *  # noqa: F403 - the virtual backend's module, one class changed
from pytest_gpuslo.backends import virtual


class Backend(virtual.Backend):
    inline_body = True  # bodies run on the dispatcher's thread, as on CUDA

    def launcher_wait(self):
        # WAIT: the share of the run the thread waited for a CPU (schedstat on a real backend)
        import os
        if not os.environ.get("WAIT"):
            return None
        if not hasattr(self, "t0"):
            self.t0 = self.now
        return 0, int(float(os.environ["WAIT"]) * (self.now - self.t0))
"""


def test_gpuslo_compare_judges_bodies_that_hold_the_launcher_as_the_plugin_did(
        simtester: pytest.Pytester, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Bodies keeping the launching thread 6 ms at 200/s FAIL their budget on their own queue
    there (not the generator's doing); ``gpuslo compare`` on the kept run must say FAIL too, so the
    run keeps its start delay as the plugin judged it (only the lateness beyond the bodies' own
    host time) and their mean host time."""
    from pytest_gpuslo import backends
    from pytest_gpuslo.cli import main

    simtester.makepyfile(inline_backend=INLINE_BACKEND)
    monkeypatch.setitem(backends.REGISTRY, "virtual-inline", "inline_backend")
    simtester.makepyfile(test_inline="""
        import pytest
        from pytest_gpuslo.backends.virtual import host, work

        @pytest.mark.slo(p95_ms=20, rate_hz=200, requests=2000, streams=2, backend="virtual-inline")
        def test_slow_host(slo_request):
            work(0.002)
            host(0.006)
    """)
    simtester.runpytest("--gpuslo-json=r.json").assert_outcomes(failed=1)
    result = json.loads((simtester.path / "r.json").read_text())["results"][0]
    (kept,) = (simtester.path / ".gpuslo" / ".last").glob("*.json")
    capsys.readouterr()
    main(["compare", str(kept), str(kept)])
    printed = capsys.readouterr().out

    assert result["verdict"]["outcome"] == "FAIL"
    run = json.loads(kept.read_text())["runs"][0]
    assert "start_delay_sample" in run and run["summary"]["body_host_ms"] == pytest.approx(6.0)
    assert printed.splitlines()[0].split(' (')[0].endswith(": FAIL"), printed
    assert "every one of 7 consecutive blocks" in printed and "each body kept the launching thread 6 ms" in printed


INLINE_STALLS = """
import os, random, pytest
from pytest_gpuslo.backends.virtual import host, stall, work

@pytest.mark.slo(p95_ms=200, rate_hz=200, requests=4000, streams=2, backend="virtual-inline")
def test_svc(slo_request):
    i = slo_request.index
    work(0.002 * (1 + 0.01 * random.Random(f"{os.environ['RUN']}-{i}").random()) * random.Random(i).expovariate(1.0))
    held = 0.003 * float(os.environ.get("HOST_X", "1"))  # the body's own host time (eager launches)
    if os.environ.get("PREEMPT") and i % 2:
        held += 0.0009  # the machine preempts every other body (WAIT says how much it waited)
    host(held)
    if os.environ.get("STALL") and i % 100 == 0:
        stall(0.020)  # and stalls the thread between bodies now and then
"""


@pytest.mark.parametrize(("host_x", "preempt", "expected"),
                         [("1", False, "INCONCLUSIVE"), ("1", True, "INCONCLUSIVE"), ("1.3", False, "REGRESSED")])
def test_on_the_launching_thread_only_the_bodies_own_host_time_can_regress(
        simtester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, host_x: str, preempt: bool, expected: str) -> None:
    """Bodies run on the dispatcher's thread (as on CUDA), 3 ms each at 200/s: 60% of it.  Three
    stored runs on a quiet thread; then the candidate's thread stalls 20 ms between bodies every
    100th, the code unchanged: not a regression (its queue is the generator's).  Preempted 0.9 ms
    on every other body besides, the thread waiting for a CPU 9% of the run: the preemptions
    lengthen the bodies just as their own host time would (in the session-10 fifth check they
    lifted the old rule's median hold past 10% of the thread and the stall was charged to the code
    with them: +22.6% REGRESSED): INCONCLUSIVE, naming the wait.  Bodies whose own host time grew
    30%, beside the same stalls, must still read REGRESSED: their queue on the thread is the
    code's cost."""
    from pytest_gpuslo import backends

    simtester.makepyfile(inline_backend=INLINE_BACKEND)
    monkeypatch.setitem(backends.REGISTRY, "virtual-inline", "inline_backend")
    simtester.makepyfile(INLINE_STALLS)
    for run in ("1", "2", "3"):
        monkeypatch.setenv("RUN", run)
        monkeypatch.setenv("GPUSLO_SESSION", f"day-{run}")
        monkeypatch.setenv("GPUSLO_NOW", day_of(f"day-{run}"))
        simtester.runpytest("--gpuslo-save").assert_outcomes(passed=1)
    monkeypatch.setenv("RUN", "4")
    monkeypatch.setenv("GPUSLO_SESSION", "day-4")
    monkeypatch.setenv("GPUSLO_NOW", day_of("day-4"))
    monkeypatch.setenv("STALL", "1")
    monkeypatch.setenv("HOST_X", host_x)
    if preempt:
        monkeypatch.setenv("PREEMPT", "1")
        monkeypatch.setenv("WAIT", "0.09")  # 0.45 ms a body on average at 200/s: 9% of the thread
    simtester.runpytest("--gpuslo-json=r.json")
    verdict = json.loads((simtester.path / "r.json").read_text())["results"][0]["verdict"]
    (claim,) = verdict["baseline"]

    assert claim["outcome"] == expected, claim
    if expected == "REGRESSED":
        assert "it regresses even on latency counted from the late dispatch" in claim["reason"], claim
        assert verdict["outcome"] == "FAIL"
    else:
        assert verdict["outcome"] == "INCONCLUSIVE", verdict  # the lateness decided it: not a silent PASS
        assert ("waited for a CPU 9.0% of the run" in claim["reason"]) is preempt, claim


def test_a_store_recorded_on_another_machine_says_not_comparable_not_no_baseline(simtester: pytest.Pytester) -> None:
    """review35: a store recorded on a laptop gave "no baseline" in CI, silently gating nothing.
    With no baseline for this machine class but one for another, the claim is NOT COMPARABLE with
    the keys that differ and how to record one here."""
    gputester = simtester
    gputester.makepyfile(SLOW_OR_FAST_VIRTUAL)
    gputester.runpytest("--gpuslo-save").assert_outcomes(passed=1)
    (path,) = (gputester.path / ".gpuslo").glob("*.json")
    data = json.loads(path.read_text())
    data["machine"]["cpu"] = "AMD EPYC 7763 64-Core Processor"
    slug, _, digest = path.name.rsplit("--", 2)
    path.rename(path.with_name(f"{slug}--amd-epyc-7763-64-core-processor--{digest}"))
    path.with_name(f"{slug}--amd-epyc-7763-64-core-processor--{digest}").write_text(json.dumps(data))

    result = gputester.runpytest()

    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*  not comparable  PASS",
                                 "*NOT COMPARABLE: baseline from a different machine (cpu differs)*--gpuslo-save"])
    assert "no baseline" not in result.stdout.str()
    # The run that takes the advice says so instead of giving it again (review44).
    saving = gputester.runpytest("--gpuslo-save")
    saving.stdout.fnmatch_lines(["*NOT COMPARABLE: baseline from a different machine (cpu differs)*"
                                 "This run is now this machine's baseline (.gpuslo/*.json)*"])
    assert "--gpuslo-save" not in saving.stdout.str().split("NOT COMPARABLE", 1)[1].splitlines()[0]


SLOW_FROM = """
import os, pytest
from pytest_gpuslo.backends.virtual import work

@pytest.mark.slo(p95_ms=100, rate_hz=4, requests=600, streams=1)
def test_svc(slo_request):
    slow = slo_request.index >= int(os.environ.get("SLOW_FROM", "100000"))
    work(0.2 if slow else 0.005 + 0.001 * (slo_request.index % 7))
"""


def test_a_body_slow_from_mid_run_fails_and_gpuslo_compare_reads_it_the_same(
        simtester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """review55: a body at 2x the budget from request 330 of 600 passed as INCONCLUSIVE (design
    effect 200).  Its own times FAIL it; the last run keeps them, so ``gpuslo compare`` FAILs it too."""
    from pytest_gpuslo.cli import main

    simtester.makepyfile(SLOW_FROM)
    simtester.runpytest("--gpuslo-save").assert_outcomes(passed=1)
    monkeypatch.setenv("SLOW_FROM", "330")
    slow = simtester.runpytest("--gpuslo-json=r.json")
    slow.assert_outcomes(failed=1)
    slow.stdout.fnmatch_lines(["*the bodies themselves got slow: in * of 28 stretches*"])
    plugin = json.loads((simtester.path / "r.json").read_text())["results"][0]["verdict"]
    (stored,) = (simtester.path / ".gpuslo").glob("*.json")
    last = simtester.path / ".gpuslo" / ".last" / stored.name
    assert "own_sample" in json.loads(last.read_text())["runs"][0]
    assert "own_sample" not in json.loads(stored.read_text())["runs"][0]  # a passing run: nothing to keep
    capsys.readouterr()
    code = main(["compare", str(stored), str(last)])
    printed = capsys.readouterr().out
    assert plugin["outcome"] == "FAIL" and code == 1
    for claim in plugin["checks"]:
        assert f"{claim['outcome']:<13} {claim['detail']}" in printed
    assert "the bodies themselves got slow" in printed


OVER_CAPACITY = """
import os, pytest
from pytest_gpuslo.backends.virtual import work

@pytest.mark.slo(p95_ms=60, rate_hz=100, arrivals="constant", requests=2000, streams=1)
def test_svc(slo_request):
    work(float(os.environ.get("SVC_S", "0.005")) + 0.0001 * (slo_request.index % 3))
"""


def test_lanes_over_capacity_on_a_quiet_machine_fail_in_gpuslo_compare_too(
        simtester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """review145 F2: the plugin FAILed a quiet run whose lanes could not keep the rate ("the lanes
    are over capacity"), and `gpuslo compare` on the record it left said INCONCLUSIVE and exit 0: a
    quiet run's record kept no service sample.  The stamps it keeps hold every request's service."""
    from pytest_gpuslo.cli import main

    simtester.makepyfile(OVER_CAPACITY)
    simtester.runpytest("--gpuslo-save").assert_outcomes(passed=1)
    # 10.05 ms on average: at most 99.5/s on one lane, for 100/s: the queue passes the budget only
    # in the run's second half, too late for the blocks or the bounds to decide
    monkeypatch.setenv("SVC_S", "0.00995")
    slow = simtester.runpytest("--gpuslo-json=r.json")
    slow.assert_outcomes(failed=1)
    plugin = json.loads((simtester.path / "r.json").read_text())["results"][0]["verdict"]
    (stored,) = (simtester.path / ".gpuslo").glob("*.json")
    last = simtester.path / ".gpuslo" / ".last" / stored.name
    recorded = json.loads(last.read_text())["runs"][0]
    assert "service_sample" not in recorded  # quiet: the stamps stand for it
    # review146 F1, F2: what the session decided with, for gpuslo compare to decide alike
    assert recorded["summary"]["policy"] == {"alpha": 0.01, "allow_throttle": False, "inconclusive": "warn"}
    capsys.readouterr()
    code = main(["compare", str(stored), str(last)])
    printed = capsys.readouterr().out
    assert plugin["outcome"] == "FAIL" and "the lanes are over capacity" in plugin["checks"][0]["reason"], plugin
    assert code == 1, printed
    for claim in plugin["checks"]:
        assert f"{claim['outcome']:<13} {claim['detail']}" in printed


def test_accept_says_a_run_that_moved_far_from_the_stored_one_as_a_save_does(simtester: pytest.Pytester,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """review78: a run +106% against one stored run (undecided: one run holds no run-to-run noise)
    was accepted without the note --gpuslo-save prints for it, and how to undo it."""
    simtester.makepyfile(SLOW_OR_FAST_VIRTUAL)
    save_on_days(simtester, monkeypatch, "day-1")
    on_day(monkeypatch, "day-2")
    monkeypatch.setenv("SVC_S", "0.0006")
    simtester.runpytest()
    accepted = gpuslo("accept", cwd=simtester.path)

    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    assert "test_svc: updated" in accepted.stdout, accepted.stdout
    assert "; note: this run reads p95 +" in accepted.stdout, accepted.stdout
    # review98 #3: "restore from git" in a store not yet committed; the file as it was is kept
    stored = next((simtester.path / ".gpuslo").glob("*.json"))
    kept = stored.with_name(stored.name + ".prev")
    assert f"move {kept} (the file as it was) back over {stored}" in accepted.stdout, accepted.stdout
    before = json.loads(kept.read_text())
    assert len(before["runs"]) == len(json.loads(stored.read_text())["runs"]) - 1
    assert [b.nodeid for _, b in Store(simtester.path / ".gpuslo").all()] == ["test_accept_says_a_run_that_moved_far_"
                                                                             "from_the_stored_one_as_a_save_does.py::test_svc"]


def test_a_save_that_moves_the_stored_level_keeps_the_file_as_it_was(simtester: pytest.Pytester,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """review98 #3, through --gpuslo-save: the undo was "restore from git", which a store not yet
    committed cannot do; the file as it was is kept beside it, and a save that moves nothing
    keeps none."""
    simtester.makepyfile(SLOW_OR_FAST_VIRTUAL)
    save_on_days(simtester, monkeypatch, "day-1", "day-2")
    stored = next((simtester.path / ".gpuslo").glob("*.json"))
    kept = stored.with_name(stored.name + ".prev")
    assert not kept.exists()  # the second save moved nothing
    on_day(monkeypatch, "day-3")
    monkeypatch.setenv("SVC_S", "0.0006")
    saved = simtester.runpytest("--gpuslo-save", "-rA")

    said = saved.stdout.str()
    assert "this run reads p95 +" in said and "(the file as it was) back over .gpuslo/" in said, said
    assert len(json.loads(kept.read_text())["runs"]) == 2 and len(json.loads(stored.read_text())["runs"]) == 3


def test_a_marker_that_changed_the_load_is_not_compared_with_the_old_runs(simtester: pytest.Pytester) -> None:
    """review89 #4: a baseline recorded at 2000/s compared with a run at 1500/s read "p95 +166%"
    and advised recording 3 runs; another load is NOT COMPARABLE, naming what changed, and the
    save that takes the advice says so.  A budget changed alone still compares."""
    simtester.makepyfile(SLOW_OR_FAST_VIRTUAL)
    simtester.runpytest("--gpuslo-save").assert_outcomes(passed=1)
    simtester.makepyfile(SLOW_OR_FAST_VIRTUAL.replace("p95_ms=200, rate_hz=2000", "p95_ms=200, rate_hz=1500"))

    result = simtester.runpytest()

    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*  not comparable  PASS",
                                 "*NOT COMPARABLE: the stored runs measured another load (rate_hz 2000 -> 1500)*"])
    saving = simtester.runpytest("--gpuslo-save")
    result.stdout.fnmatch_lines(["*Record a baseline of this load with --gpuslo-save*"])  # review92: not "on this machine"
    saving.stdout.fnmatch_lines(["*another load (rate_hz 2000 -> 1500)*This run is now its baseline*"])
    simtester.makepyfile(SLOW_OR_FAST_VIRTUAL.replace("p95_ms=200, rate_hz=2000", "p95_ms=150, rate_hz=1500"))
    assert "not comparable" not in simtester.runpytest().stdout.str().lower()


def test_a_record_job_that_saved_nothing_is_told_the_fix_its_refusals_name() -> None:
    """review104: every run refused for raised requests read "record on a quiet machine"; a busy
    machine's refusals, or a mix, still are."""
    from pytest_gpuslo.session import record_hint

    raised = "not saved: requests failed or timed out (817 raised): a baseline holds ..."
    busy = "not saved: other processes kept 2.0 of 2 CPUs busy during the run (...)"
    assert record_hint([raised, raised]) == "fix what raised or timed out, then record"
    assert record_hint([raised, busy]).startswith("record on a quiet machine, SLO jobs alone")
    assert record_hint([busy]).startswith("record on a quiet machine")

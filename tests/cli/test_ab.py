"""gpuslo ab: the base revision and the working tree, interleaved on this machine, decided on
those same-day pairs (virtual-time backend: the verdicts are exact on a busy machine)."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pytest_gpuslo.baseline import decode_sample, encode_sample

SERVICE = "SERVICE_S = {s}\n"
TEST = """
import random, pytest
from pytest_gpuslo.backends.virtual import work
import svc

@pytest.mark.slo(p95_ms=50, rate_hz=300, requests=2000, streams=2)
def test_svc(slo_request):
    work(svc.SERVICE_S * (0.5 + random.Random(slo_request.index).random()))
"""


def repo(tmp: Path) -> Path:
    (tmp / "pytest.ini").write_text("[pytest]\ngpuslo_backend = virtual\n")
    (tmp / "conftest.py").write_text("from pytest_gpuslo import backends\n"
                                    "backends.REGISTRY.setdefault('virtual', 'pytest_gpuslo.backends.virtual')\n")
    (tmp / "svc.py").write_text(SERVICE.format(s=0.002))
    (tmp / "test_svc.py").write_text(TEST)
    for cmd in (["init", "-q"], ["add", "."], ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "base"]):
        subprocess.run(["git", *cmd], cwd=tmp, check=True)
    return tmp


#: Plugins the A/B's pytest runs here do not need: each would cost every run a second of start-up
#: (hypothesis' plugin alone 0.9 s), and a session makes 4 to 16 runs.
QUICK_START = "-p no:hypothesispytest -p no:benchmark -p no:xdist -p no:rerunfailures -p no:timeout"


def gpuslo(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = env if env is not None else {**os.environ, "PYTEST_ADDOPTS": QUICK_START}
    return subprocess.run([sys.executable, "-m", "pytest_gpuslo", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=600, env=env)


def test_a_slower_working_tree_is_regressed_against_its_base_and_reported(tmp_path: Path) -> None:
    root = repo(tmp_path)
    (root / "svc.py").write_text(SERVICE.format(s=0.0022))  # 10% slower service, not committed
    done = gpuslo("ab", "HEAD", "--runs", "3", "--json", "ab.json", "--md", "ab.md", "--keep", "kept", "--", "-q",
                  cwd=root)
    again = gpuslo("ab", "-", "--from", "kept", "--json", "again.json", cwd=root)

    assert done.returncode == 1, done.stdout + done.stderr
    doc = json.loads((root / "ab.json").read_text())
    (result,) = doc["results"]
    (claim,) = result["verdict"]["baseline"]
    assert claim["outcome"] == "REGRESSED" and claim["name"].startswith("p95 vs base ")
    # review145 F4: the candidate's own pytest run ("passed") read beside the A/B's REGRESSED
    assert "pytest_outcome" not in result
    assert result["ab"]["runs"] == [3, 3] and result["ab"]["seconds_a_pair"] > 0  # the pace advice is said at
    assert [len(result["ab"]["each_run_ms"]["p95"][side]) for side in ("base", "candidate")] == [3, 3]
    assert result["ab"]["each_run_ms"]["p95"]["base"] == pytest.approx(result["ab"]["p95_ms"]["base"])
    # review94 #5: the candidate named by its commit, +dirty for the uncommitted change
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True).stdout.strip()
    assert result["ab"]["candidate"] == head[:12] + "+dirty" and result["ab"]["base"] == head
    assert f"against the working tree (at {head[:12]}+dirty)" in done.stdout
    # review205 F4: the base was 10 digits in the run lines and the reasons, 12 beside the working tree's
    assert f"run 1/3, base ({head[:12]})" in done.stderr and f"base {head[:12]} against" in done.stdout
    md = (root / "ab.md").read_text()
    # as many digits of each (review177 F4: 10 and 12 digits of one commit read as two)
    assert f"Base `{head[:12]}` against the working tree at `{head[:12]}+dirty`, interleaved." in md
    assert "REGRESSED" in md and "| vs base [interval] |" in md and "vs baseline" not in md  # review74
    assert again.returncode == 1  # decided again from the kept runs, nothing run
    # review201 F2: a cancel held while the base's worktree went, every run done: decided on them all
    # (not thrown away as "before its runs were done"), said, and the exit status the signal's
    import signal

    from pytest_gpuslo import ab as ab_module
    from pytest_gpuslo.cli import main

    load = ab_module.load
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ab_module, "load", lambda folder: dataclasses.replace(load(folder), cut=int(signal.SIGTERM)))
        mp.chdir(root)
        assert main(["ab", "--from", "kept", "--md", "cut.md"]) == 128 + signal.SIGTERM
    cut = (root / "cut.md").read_text()
    assert "REGRESSED" in cut and "Not a whole run" not in cut  # the runs were whole
    # review152 F2: a run stopped 400 ms (its lag 300 ms more) is named in the JSON and leads the row
    (stored,) = (root / "kept" / "candidate-1" / ".last").glob("*.json")
    doc = json.loads(stored.read_text())
    (run,) = doc["runs"]
    run["lag_sample"] = encode_sample(decode_sample(run["lag_sample"]) + 300.0)
    run["summary"]["frozen_ms"] = 400.0
    stored.write_text(json.dumps(doc))
    stopped = gpuslo("ab", "-", "--from", "kept", "--json", "stopped.json", cwd=root)
    ab = json.loads((root / "stopped.json").read_text())["results"][0]["ab"]
    assert ab["frozen_ms"]["candidate"] == [400.0, 0.0, 0.0] and ab["set_aside"]["candidate"] == [1], ab
    assert "the process was stopped for up to 400 ms" in stopped.stdout, stopped.stdout
    # review76: a second session into the same folder mixed its runs with the first one's
    over = gpuslo("ab", "HEAD", "--runs", "2", "--keep", "kept", cwd=root)
    assert over.returncode == 2 and "--keep kept already holds a kept A/B session" in over.stderr, over.stderr
    # review77: a session interrupted before its session.json could be neither reused nor decided
    (root / "kept" / "session.json").unlink()
    reused = gpuslo("ab", "HEAD", "--runs", "1", "--keep", "kept", cwd=root)
    assert reused.returncode in (0, 1) and (root / "kept" / "session.json").exists(), reused.stderr
    assert "note: --runs 1 runs each side once" in reused.stderr  # review114: said before the session
    assert "note: --runs" not in over.stderr and "note: --runs" not in done.stderr
    assert not (root / "kept" / "base-3.json").exists()  # the interrupted session's runs are gone
    # review79: a reuse that selects nothing read the interrupted session's reports as its own
    (root / "kept" / "session.json").unlink()
    nothing = gpuslo("ab", "HEAD", "--runs", "1", "--keep", "kept", "--", "-k", "nomatch", cwd=root)
    assert nothing.returncode == 2 and "selected no SLO test on either side" in nothing.stderr, nothing.stdout
    assert json.loads((root / "again.json").read_text())["results"][0]["verdict"] == result["verdict"]
    assert "run 3/3, candidate" in done.stderr
    assert re.search(r"a pair of runs took \d+ s; the other 2 pairs take about \d+ s\n", done.stderr), done.stderr  # review78
    assert not (root / ".gpuslo").exists()  # the A/B runs never touch the project's store
    assert subprocess.run(["git", "worktree", "list"], cwd=root, capture_output=True,
                          text=True).stdout.count("\n") == 1  # the base's worktree is gone


def test_a_test_marked_xfail_is_judged_as_pytest_judges_it(tmp_path: Path) -> None:
    """review153 F6: an xfail-marked test's known budget FAIL exited 1 under gpuslo ab (0 under
    pytest), read a plain FAIL, and its claims were in the JSON's Holm map; now its FAIL is an XFAIL
    there too, and a strict marker's XPASS fails the session as pytest's does."""
    root = repo(tmp_path)
    known = TEST.replace("p95_ms=50", "p95_ms=1").replace("def test_svc", "@pytest.mark.xfail(reason='known slow')\ndef test_svc")
    (root / "test_svc.py").write_text(known)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "xfail"], cwd=root, check=True)
    done = gpuslo("ab", "HEAD", "--runs", "2", "--json", "ab.json", "--", "-q", cwd=root)
    (result,) = json.loads((root / "ab.json").read_text())["results"]

    assert result["verdict"]["outcome"] == "FAIL" and result["pytest_outcome"] == "xfailed", result
    assert done.returncode == 0 and "(XFAIL: expected)" in done.stdout, done.stdout + done.stderr
    # review158 F3: 2 runs a side decide only large changes, said before the runs
    assert "note: --runs 2 leaves the comparison 2 degrees of freedom" in done.stderr
    assert json.loads((root / "ab.json").read_text())["holm_adjusted_p"] == {}
    # a strict marker on a test that PASSes: pytest's XPASS(strict) fails, so does the A/B
    (root / "test_svc.py").write_text(TEST.replace("requests=2000", "requests=4000").replace(
        "def test_svc", "@pytest.mark.xfail(strict=True)\ndef test_svc"))
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "strict"], cwd=root, check=True)
    strict = gpuslo("ab", "HEAD", "--runs", "2", "--", "-q", cwd=root)
    assert strict.returncode == 1 and "(XPASS, strict: failed)" in strict.stdout, strict.stdout + strict.stderr


def test_an_unchanged_working_tree_is_not_regressed(tmp_path: Path) -> None:
    """... and, run in a GitHub Actions step, its own table goes to the step summary once, with
    --md or without (each run's table went there too: 2R+1 tables; with --md none), with an
    annotation where undecided; the runs' own --gpuslo-inconclusive=fail decides the exit status
    as it decided each run (review155 F2: exit 0)."""
    root = repo(tmp_path)
    step = tmp_path / "step_summary.md"
    env = {**os.environ, "PYTEST_ADDOPTS": QUICK_START, "GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(step)}
    done = gpuslo("ab", "HEAD", "--runs", "2", "--json", "ab.json", "--keep", "kept", "--", "-q",
                  "--gpuslo-inconclusive=fail", "--gpuslo-alpha=0.05", cwd=root, env=env)
    # ... and their alpha, said (gpuslo ab's own --alpha decided before)
    assert json.loads((root / "ab.json").read_text())["results"][0]["ab"]["alpha_per_look"] == 0.05
    assert ("note: judged with alpha 0.05, as the working tree's runs were made, so that this reads as pytest did; gpuslo ab "
            "--alpha overrides it") in done.stderr, done.stderr

    verdict = json.loads((root / "ab.json").read_text())["results"][0]["verdict"]
    (claim,) = verdict["baseline"]
    assert claim["outcome"] in ("OK", "INCONCLUSIVE") and claim["name"].startswith("p95 vs base ")
    assert step.read_text().count("## pytest-gpuslo: tail-latency SLOs") == 1
    # 2,000 requests are too few for the budget: INCONCLUSIVE, which the runs' option makes red
    assert verdict["outcome"] == "INCONCLUSIVE"
    assert done.returncode == 1 and "made with --gpuslo-inconclusive=fail" in done.stdout, done.stdout + done.stderr
    said = [line for line in done.stdout.splitlines() if line.startswith("::")]
    assert said == ["::error title=SLO INCONCLUSIVE::test_svc.py::test_svc: INCONCLUSIVE: p95<=50ms needs at "
                    "least ~4,000 requests (ran 2,000)"], done.stdout
    again = gpuslo("ab", "--from", "kept", "--md", "ab.md", cwd=root, env=env)
    assert again.returncode == 1 and step.read_text().count("## pytest-gpuslo: tail-latency SLOs") == 2


def with_fixture(root: Path) -> Path:
    """``root`` with test_fix.py committed: an SLO test whose fixture ``model`` loads (returns 1)."""
    (root / "test_fix.py").write_text(TEST.replace("test_svc", "test_fix").replace("(slo_request)", "(slo_request, model)")
                                      + "\n\n@pytest.fixture\ndef model():\n    return 1\n")
    for cmd in (["add", "."], ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "fixture"]):
        subprocess.run(["git", *cmd], cwd=root, check=True)
    return root


def test_a_test_that_ends_in_an_error_in_the_working_tree_fails_the_ab(tmp_path: Path) -> None:
    """review156 F1: a pull request that broke an SLO test's fixture (or whose body calls pytest.fail)
    read "ran at the base but not in the working tree: not judged", exit 0, where pytest fails it.
    It is named with pytest's words and the run, fails the A/B, and every report and annotation says so."""
    root = with_fixture(repo(tmp_path))
    (root / "test_fix.py").write_text((root / "test_fix.py").read_text().replace(
        "    return 1", "    raise RuntimeError('model failed to load')"))
    step = tmp_path / "step.md"
    env = {**os.environ, "PYTEST_ADDOPTS": QUICK_START, "GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(step)}
    done = gpuslo("ab", "HEAD", "--runs", "2", "--json", "ab.json", "--", "-q", "-k", "fix", cwd=root, env=env)

    assert done.returncode == 1, done.stdout + done.stderr
    assert "not judged" not in done.stdout
    assert ("gpuslo ab: test_fix.py::test_fix ended in an error: ERROR in setup, before a verdict: RuntimeError: "
            "model failed to load (the working tree, run 1 of 1)") in done.stdout, done.stdout
    assert "::error title=SLO test error::test_fix.py::test_fix: ERROR in setup" in done.stdout
    assert json.loads((root / "ab.json").read_text())["errors"][0]["nodeid"] == "test_fix.py::test_fix"
    assert "model failed to load" in step.read_text()
    # beside a test that ran: the A/B runs on, and still fails
    both = gpuslo("ab", "HEAD", "--runs", "2", "--", "-q", cwd=root)
    assert both.returncode == 1 and "test_svc.py::test_svc" in both.stdout, both.stdout + both.stderr
    assert "test_fix.py::test_fix ended in an error" in both.stdout and "(the working tree, every run of 2)" in both.stdout
    # a module of the working tree that cannot be collected, where pytest goes on without it (review157 F2)
    (root / "test_fix.py").write_text("import no_such_module\n")
    skipped = gpuslo("ab", "HEAD", "--runs", "2", "--json", "cut.json", "--", "-q", "--continue-on-collection-errors",
                     cwd=root)
    assert skipped.returncode == 1, skipped.stdout + skipped.stderr
    assert "gpuslo ab: the working tree's runs were not whole: 1 file could not be collected (test_fix.py" \
        in skipped.stdout, skipped.stdout
    assert "could not be collected" in json.loads((root / "cut.json").read_text())["interrupted"]


def test_an_xfail_test_that_fails_before_a_verdict_is_said_as_pytest_says_it(tmp_path: Path) -> None:
    """review157 F3: an xfail-marked SLO test whose fixture raised (pytest: XFAIL, exit 0) read "ran
    at the base but not in the working tree (removed, renamed or deselected there)"."""
    root = with_fixture(repo(tmp_path))
    (root / "test_fix.py").write_text((root / "test_fix.py").read_text().replace(
        "    return 1", "    raise RuntimeError('model failed to load')").replace(
        "@pytest.mark.slo", "@pytest.mark.xfail(reason='known broken')\n@pytest.mark.slo"))
    done = gpuslo("ab", "HEAD", "--runs", "2", "--json", "ab.json", "--", "-q", "-k", "fix", cwd=root)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "removed, renamed" not in done.stdout
    assert ("gpuslo ab: test_fix.py::test_fix ran at the base; in the working tree pytest reported it XFAIL before a "
            "verdict: XFAIL (known broken) in setup, before a verdict: RuntimeError: model failed to "
            "load (the working tree, run 1 of 1): not judged") in done.stdout, done.stdout
    (note,) = json.loads((root / "ab.json").read_text())["not_judged"]
    assert note["nodeid"] == "test_fix.py::test_fix" and "XFAIL (known broken) in setup" in note["why"]
    # (review159 F7: "run 1 of 1" after --runs 2, unexplained)
    assert ("gpuslo ab: stopped after 1 run a side: no SLO test of the working tree reached a verdict, so more "
            "runs would compare nothing") in done.stdout
    # plain pytest's reports name it too, not judged, and pytest stays green
    plain = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_fix.py",
                            "--gpuslo-json", "plain.json", "--gpuslo-md", "plain.md"], cwd=root, capture_output=True,
                           text=True, timeout=600)
    assert plain.returncode == 0 and "1 xfailed" in plain.stdout, plain.stdout + plain.stderr
    (note,) = json.loads((root / "plain.json").read_text())["not_judged"]
    assert note["why"].startswith("XFAIL (known broken) in setup, before a verdict: RuntimeError: model failed")
    assert "➖ `test_fix.py::test_fix` XFAIL (known broken)" in (root / "plain.md").read_text()
    # the other way round: XFAIL at the base, judged in the working tree (review159 F1: "new: not at
    # the base" in every report, and only the terminal said why)
    for cmd in (["add", "."], ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "broken"]):
        subprocess.run(["git", *cmd], cwd=root, check=True)
    subprocess.run(["git", "checkout", "-q", "HEAD~1", "--", "test_fix.py"], cwd=root, check=True)
    fixed = gpuslo("ab", "HEAD", "--runs", "2", "--md", "fixed.md", "--", "-q", "-k", "fix", cwd=root)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    md = (root / "fixed.md").read_text()
    assert "not compared: base XFAIL" in md and "new: not at the base" not in md, md
    assert ("was XFAIL before a verdict at the base: XFAIL (known broken) in setup, "
            "before a verdict: RuntimeError: model failed to load (the base, run 1 of 1)") in md


def test_a_project_that_saves_from_its_ini_can_still_run_ab(tmp_path: Path) -> None:
    """An ini's gpuslo_save = true met the --gpuslo-no-baseline gpuslo ab gives every run: each
    run was refused as a usage error; its gpuslo_suggest = true piloted instead (review76)."""
    root = repo(tmp_path)
    (root / "pytest.ini").write_text("[pytest]\ngpuslo_backend = virtual\ngpuslo_save = true\ngpuslo_suggest = true\n")
    done = gpuslo("ab", "--runs", "2", "--json", "ab.json", "HEAD", cwd=root)

    assert done.returncode == 0, done.stdout + done.stderr
    (claim,) = json.loads((root / "ab.json").read_text())["results"][0]["verdict"]["baseline"]
    assert claim["name"].startswith("p95 vs base ")
    assert not (root / ".gpuslo").exists()
    # ... and says so once, before the runs (review76: set aside without a word)
    assert f"note: gpuslo_save = true in {root / 'pytest.ini'} is set aside for the A/B's runs: its runs are " \
        "compared with each other, never stored" in done.stderr, done.stderr
    assert "note: gpuslo_suggest = true in" in done.stderr
    # review80: an ini only the base revision has was set aside without a word
    for cmd in (["add", "pytest.ini"], ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "saves"]):
        subprocess.run(["git", *cmd], cwd=root, check=True)
    (root / "pytest.ini").write_text("[pytest]\ngpuslo_backend = virtual\n")
    only_base = gpuslo("ab", "--runs", "1", "HEAD", cwd=root)
    assert "note: gpuslo_save = true in pytest.ini at the base " in only_base.stderr, only_base.stderr
    assert only_base.stderr.count("note: ") == 3 and "gpuslo-ab-base" not in only_base.stderr  # + --runs 1


def test_a_test_new_in_the_working_tree_is_judged_on_its_budgets_not_dropped(tmp_path: Path) -> None:
    """review71: an SLO test only the working tree has was dropped without a word ("1 SLO test",
    exit 0), and selected alone it ended in "pytest on the base exited 5".  It is named and judged
    on its absolute budgets, as gpuslo compare judges a test with no stored match: over budget, exit 1."""
    root = repo(tmp_path)
    (root / "test_new.py").write_text(TEST.replace("p95_ms=50", "p95_ms=1").replace("test_svc", "test_new"))
    both = gpuslo("ab", "HEAD", "--runs", "2", "--json", "ab.json", "--", "-q", cwd=root)
    alone = gpuslo("ab", "HEAD", "--runs", "2", "--", "-q", "-k", "new", cwd=root)

    for done in (both, alone):
        assert done.returncode == 1, done.stdout + done.stderr
        assert "test_new.py::test_new is not at the base " in done.stdout, done.stdout
        assert "(new in the working tree): judged on its absolute budgets only" in done.stdout
    # review80: "2 interleaved runs each" where the base ran none of it; and one run of it is enough
    assert "1 SLO test, none of them judged at the base " in alone.stdout, alone.stdout
    assert "run 2/2" not in alone.stdout + alone.stderr and "run 2/2" in both.stdout + both.stderr
    # review72: named by path, the base cannot find it: said so, not "exited 4" in a temporary tree
    by_path = gpuslo("ab", "HEAD", "--runs", "2", "--", "-q", "test_new.py", cwd=root)
    assert by_path.returncode == 2
    assert "pytest on the base could not find what the arguments name" in by_path.stderr, by_path.stderr
    assert "select new tests with -k" in by_path.stderr
    # review80: a node id the base's file lacks was quoted inside the base's temporary tree
    by_id = gpuslo("ab", "HEAD", "--runs", "2", "--", "-q", "test_svc.py::test_nowhere", cwd=root)
    assert by_id.returncode == 2 and "(ERROR: not found: test_svc.py::test_nowhere)" in by_id.stderr, by_id.stderr
    # ... and the mirror: a test only the base has, selected alone, is named, not an error
    (root / "test_svc.py").rename(root / "test_gone.py")
    gone = gpuslo("ab", "HEAD", "--runs", "2", "--", "-q", "-k", "svc", cwd=root)
    assert gone.returncode == 0, gone.stdout + gone.stderr
    assert "test_svc.py::test_svc ran at the base but not in the working tree" in gone.stdout
    results = {r["nodeid"]: r for r in json.loads((root / "ab.json").read_text())["results"]}
    assert results["test_new.py::test_new"]["ab"]["new"] is True
    # review102: the untracked test module measured is a change from HEAD
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True).stdout.strip()
    assert results["test_new.py::test_new"]["ab"]["candidate"] == head[:12] + "+dirty"
    assert "working tree (at " + head[:12] + "+dirty)" in both.stdout, both.stdout
    assert results["test_new.py::test_new"]["verdict"]["outcome"] == "FAIL"
    assert results["test_new.py::test_new"]["verdict"]["baseline"] == []
    assert results["test_svc.py::test_svc"]["verdict"]["baseline"][0]["outcome"] in ("OK", "INCONCLUSIVE")


@pytest.mark.parametrize(("args", "says"), [
    (["no-such-rev"], "'no-such-rev' is not a commit, branch or tag in "),
    # review122: the --runs 1 note came before the refusal of the revision
    (["no-such-rev", "--runs", "1"], "'no-such-rev' is not a commit, branch or tag in "),
    (["HEAD", "--runs", "0"], "--runs 0: give at least 1"),
    # review117 F18: ran until killed; F16: the report's write to a named pipe waited forever after every run
    (["HEAD", "--runs", "99999999999999999999"], "--runs 99999999999999999999: over the limit of 1,000 runs a side"),
    (["HEAD", "--max-runs", "5000"], "--max-runs 5000: over the limit of 1,000 runs a side"),
    (["HEAD", "--json", "pipe"], "pipe is a named pipe or socket, which a report written there would wait on"),
    (["HEAD", "--", "-k", "nothing_matches"], "pytest selected no SLO test on either side"),
])
def test_an_ab_run_that_cannot_be_made_exits_2_and_says_why(tmp_path: Path, args: list[str], says: str) -> None:
    root = repo(tmp_path)
    os.mkfifo(root / "pipe")
    done = gpuslo("ab", *args, cwd=root)

    assert done.returncode == 2 and says in done.stderr, done.stderr
    assert "run 2/3" not in done.stderr  # review74 F7: nothing selected was found after every run
    assert "note: --runs 1" not in done.stderr


def test_tests_without_the_marker_are_no_slo_results_not_a_broken_run(tmp_path: Path) -> None:
    """review79: a side that selected only tests without the slo marker exits 0 and writes no
    report; that read "exited 0 without SLO results" and a dump of the base's temporary tree."""
    root = repo(tmp_path)
    (root / "test_plain.py").write_text("def test_plain():\n    assert True\n")
    subprocess.run(["git", "add", "test_plain.py"], cwd=root, check=True)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "plain"], cwd=root, check=True)
    plain = gpuslo("ab", "HEAD", "--runs", "1", "--", "-k", "plain", cwd=root)
    both = gpuslo("ab", "HEAD", "--runs", "1", "--", "-k", "plain or svc", cwd=root)

    assert plain.returncode == 2 and "pytest selected no SLO test on either side" in plain.stderr, plain.stderr
    assert both.returncode in (0, 1) and "1 SLO test," in both.stdout, both.stdout + both.stderr
    assert "1 interleaved run each" in both.stdout  # review80: "1 interleaved runs each"


def test_outside_a_git_checkout_ab_says_so(tmp_path: Path) -> None:
    done = gpuslo("ab", "HEAD", cwd=tmp_path)

    assert done.returncode == 2 and "git rev-parse --show-toplevel" in done.stderr


NOISY_TEST = """
import os, random, pytest
from pathlib import Path
from pytest_gpuslo.backends.virtual import work
import svc

# Each pytest process is one run; its machine factor comes from a fixed list, in the order the
# runs happen (base, candidate, base, ...), so the session's outcome is exact.
_log = Path(os.environ["AB_RUN_LOG"])
_k = len(_log.read_text().splitlines()) if _log.exists() else 0
with _log.open("a") as fh:
    fh.write("run\\n")
FACTOR = [1.0, 1.02, 0.985, 1.0, 1.015, 0.99, 1.01, 0.995, 0.98, 1.012, 1.004, 0.992, 1.0, 1.016, 0.988, 1.008][_k % 16]

@pytest.mark.slo(p95_ms=50, rate_hz=300, requests=2000, streams=2)
def test_svc(slo_request):
    work(FACTOR * svc.SERVICE_S * (0.5 + random.Random(slo_request.index).random()))
"""


def test_max_runs_goes_on_while_undecided_and_stops_when_decided(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A 6% slower service under a per-run machine factor of a few percent: 3+3 runs cannot tell
    (alpha split over the looks), so `--max-runs 8` runs more pairs, and the later look decides
    REGRESSED; the report says how many runs each side took and at which alpha."""
    root = repo(tmp_path)
    (root / "test_svc.py").write_text(NOISY_TEST)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "noisy"], cwd=root, check=True)
    (root / "svc.py").write_text(SERVICE.format(s=0.00212))
    monkeypatch.setenv("AB_RUN_LOG", str(tmp_path / "runs.log"))
    done = gpuslo("ab", "HEAD", "--runs", "3", "--max-runs", "8", "--json", "ab.json", "--keep", "kept",
                  "--", "-q", cwd=root)
    again = gpuslo("ab", "-", "--from", "kept", "--json", "again.json", cwd=root)

    doc = json.loads((root / "ab.json").read_text())
    (result,) = doc["results"]
    (claim,) = result["verdict"]["baseline"]
    assert "run 2 of 3 (up to 8 while undecided), base" in done.stderr, done.stderr
    assert "run 4 of up to 8 (a claim is still undecided), base" in done.stderr, done.stderr
    # (on a busy machine a pair takes over 17 s, and "up to 2 min": review of session 40's suite run)
    assert re.search(r"the other 2 pairs take about \d+ (s|min) \(up to \d+ (s|min) if claims stay undecided to 8 "
                     r"pairs\)", done.stderr), done.stderr
    assert ("stopped after the look that decided every claim" in done.stdout) is (result["ab"]["runs"][0] == 6)
    assert set(result["ab"]["control_ms"]) and all(len(v["base"]) == result["ab"]["runs"][0]
                                                   for v in result["ab"]["control_ms"].values())
    assert result["ab"]["runs"][0] in (6, 8) and result["ab"]["looks"] == [3, 6, 8]
    assert result["ab"]["alpha_per_look"] == pytest.approx(0.01 / 3)
    assert claim["outcome"] == "REGRESSED" and done.returncode == 1, done.stdout
    assert "looks after 3, 6, 8 runs at alpha 0.00333 each" in done.stdout
    assert again.returncode == 1  # decided again at the same looks' alpha
    assert json.loads((root / "again.json").read_text())["results"][0]["verdict"] == result["verdict"]


def test_max_runs_below_runs_is_refused(tmp_path: Path) -> None:
    done = gpuslo("ab", "HEAD", "--runs", "3", "--max-runs", "2", cwd=repo(tmp_path))

    assert done.returncode == 2 and "--max-runs 2 is below --runs 3" in done.stderr


def test_a_tampered_kept_session_is_named_not_a_traceback(tmp_path: Path) -> None:
    root = repo(tmp_path)
    kept = root / "kept"
    gpuslo("ab", "HEAD", "--runs", "2", "--keep", "kept", "--", "-q", cwd=root)
    import shutil

    shutil.copytree(kept, root / "kept3")
    (sample,) = (root / "kept3" / "base-1" / ".last").glob("*.json")
    sample.unlink()  # review72: one test's samples gone from one run: decided on 2+2 under "2 runs each"
    one_gone = gpuslo("ab", "-", "--from", "kept3", cwd=root)
    assert one_gone.returncode == 2 and "base run 1 ran test_svc.py::test_svc but its samples are not there" \
        in one_gone.stderr, one_gone.stderr
    # review121: a kept run's .last that is a link looping back on itself read "not there"
    shutil.rmtree(root / "kept3" / "base-1" / ".last")
    (root / "kept3" / "base-1" / ".last").symlink_to(".last")
    looped = gpuslo("ab", "-", "--from", "kept3", cwd=root)
    assert looped.returncode == 2 and ("kept3/base-1: the samples of base run 1 are not readable: its .last is a link "
                                       "that loops back on itself (to .last)") in looped.stderr, looped.stderr
    (root / "kept3" / "base-1" / ".last").unlink()
    (root / "kept3" / "base-1" / ".last").write_text("")  # review124 N3: a file read "missing"
    a_file = gpuslo("ab", "-", "--from", "kept3", cwd=root)
    assert a_file.returncode == 2 and "samples of base run 1 are not readable: its .last is not a folder" \
        in a_file.stderr, a_file.stderr
    shutil.copytree(kept, root / "kept4")
    other = json.loads((root / "kept4" / "base-1.json").read_text())  # another run's report (virtual time:
    other["results"][0]["latency_ms"]["p50"] *= 1.5  # an A/A's runs are alike, so its median made another's)
    (root / "kept4" / "candidate-2.json").write_text(json.dumps(other))
    swapped = gpuslo("ab", "-", "--from", "kept4", cwd=root)  # review164 F10: base run 1's numbers in the table
    assert swapped.returncode == 2 and ("the report and the samples of candidate run 2 for test_svc.py::test_svc are "
                                        "not of one run") in swapped.stderr, swapped.stderr
    shutil.copytree(kept, root / "kept2")
    shutil.rmtree(root / "kept2" / "base-2")  # review71: decided on 2+1 runs without a word
    samples = gpuslo("ab", "-", "--from", "kept2", "--runs", "5", cwd=root)
    (kept / "candidate-2.json").unlink()
    missing = gpuslo("ab", "-", "--from", "kept", cwd=root)
    (kept / "session.json").write_text('{"base": "x", "runs": 8, "first": 3, "looks": [3]}')
    inconsistent = gpuslo("ab", "--from", "kept", cwd=root)  # no base revision needed with --from

    (kept / "session.json").write_text('{"base": "x", "runs": 1, "first": 1, "looks": [1]}')
    (stored,) = (kept / "candidate-1" / ".last").glob("*.json")
    doc = json.loads(stored.read_text())
    doc["runs"][-1]["sample"] = doc["runs"][-1]["sample"][:40]
    stored.write_text(json.dumps(doc))
    damaged = gpuslo("ab", "--from", "kept", cwd=root)

    assert damaged.returncode == 2 and stored.name in damaged.stderr and "must not drop out" in damaged.stderr
    # review118 N6: the path once, and no remedy meant for a store ("run the test again ...")
    assert damaged.stderr.count(stored.name) == 1 and "rewrite it" not in damaged.stderr, damaged.stderr
    assert missing.returncode == 2 and "candidate-2.json: No such file or directory; session.json says 2 runs a side were kept" in missing.stderr
    assert samples.returncode == 2 and "kept2/base-2: the samples of base run 2 are missing" in samples.stderr
    assert "--runs, --max-runs and --keep are not used" in samples.stderr  # review71: ignored silently
    assert "Traceback" not in missing.stderr + inconsistent.stderr
    assert inconsistent.returncode == 2 and "session.json is inconsistent: 8 runs" in inconsistent.stderr


@pytest.mark.parametrize(("make", "says"), [
    # review77 H1: an interrupted --keep folder sent --from to --keep and --keep back to --from
    (lambda d: (d.mkdir(), (d / "base-1").mkdir(), (d / "base-1.json").write_text("{}")),
     "it holds kept runs but no session.json, which gpuslo ab writes when it has run them all: that A/B was "
     "interrupted, and cannot be decided; run it again with gpuslo ab BASE --keep f"),
    # review76 G9: a baseline store was told "[Errno 2] ...; keep one with gpuslo ab BASE --keep" into it
    (lambda d: (d.mkdir(), (d / ".last").mkdir(), (d / "t.json").write_text("{}")),
     "--from f: that looks like a baseline store (it holds baseline files), not a kept A/B session; compare "
     "stored runs with gpuslo compare, and keep an A/B with gpuslo ab BASE --keep NEWDIR"),
    (lambda d: d.mkdir(), "--from f: it holds no kept A/B session (no session.json); keep one with gpuslo ab BASE"),
    # review80: a store of last runs only was said to hold baseline files
    (lambda d: (d.mkdir(), (d / ".last").mkdir()), "that looks like a baseline store (it holds a .last folder of"),
    # review79: an interrupted A/B's folder with other files in it, which --keep refuses
    (lambda d: (d.mkdir(), (d / "base-1").mkdir(), (d / "README.txt").write_text("x")),
     "that A/B was interrupted, and cannot be decided; run it again with gpuslo ab BASE --keep NEWDIR"),
    (lambda d: (d.mkdir(), (d / "session.json").mkdir()), "--from f: its session.json is not a file; run the A/B"),
    (lambda d: None, "--from f: no such folder; give the folder an A/B was kept in"),
    (lambda d: (d.mkdir(), (d / "session.json").write_text("{")),
     "session.json is not the record gpuslo ab writes (JSONDecodeError: "),
    # review79: null read "(TypeError: 'NoneType' object is not subscriptable)"
    (lambda d: (d.mkdir(), (d / "session.json").write_text("null")),
     "session.json is not the record gpuslo ab writes: it holds null, not an object; run the A/B"),
    (lambda d: (d.mkdir(), (d / "session.json").write_text('{"base": "x"}')),
     "session.json is not the record gpuslo ab writes: it holds an object without 'runs'; run the A/B"),
    (lambda d: (d.mkdir(), (d / "session.json").write_text('{"base": "x", "runs": 1}'),
                (d / "base-1.json").write_text("[]")),
     "base-1.json holds a list, not gpuslo's JSON report; session.json says 1 run a side was kept"),
    # review81: a kept report missing read "FileNotFoundError: [Errno 2] No such file or directory"
    (lambda d: (d.mkdir(), (d / "session.json").write_text('{"base": "x", "runs": 1}')),
     "base-1.json: No such file or directory; session.json says 1 run a side was kept, so this report must be"),
    # review117 F20: a 3-GB (sparse) session.json was read whole, a MemoryError
    (lambda d: (d.mkdir(), (d / "session.json").touch(), os.truncate(d / "session.json", 3 * 2**30)),
     "session.json is 3,221,225,472 bytes, over the 67,108,864-byte limit; run the A/B again"),
])
def test_from_a_folder_without_a_kept_session_says_what_it_holds(tmp_path: Path, make: Any, says: str) -> None:
    make(tmp_path / "f")
    done = gpuslo("ab", "--from", "f", cwd=tmp_path)

    assert done.returncode == 2 and says in done.stderr and "Errno" not in done.stderr, done.stderr
    assert "--keep f" not in done.stderr or "interrupted" in done.stderr  # no --keep into a folder it refuses


def test_a_marker_changed_between_the_sides_is_not_compared(tmp_path: Path) -> None:
    """A lighter load in the working tree would read as an improvement (a heavier one as a
    regression): the sides offered different loads, so the claim is NOT COMPARABLE."""
    root = repo(tmp_path)
    (root / "test_svc.py").write_text(TEST.replace("rate_hz=300", "rate_hz=200"))
    done = gpuslo("ab", "HEAD", "--runs", "3", "--json", "ab.json", "--", "-q", cwd=root)

    (claim,) = json.loads((root / "ab.json").read_text())["results"][0]["verdict"]["baseline"]
    assert claim["outcome"] == "NOT COMPARABLE" and "rate_hz 300 -> 200" in claim["reason"], claim
    assert done.returncode == 0 and "1 SLO test," in done.stdout


@pytest.mark.parametrize(("args", "says"), [
    (["HEAD", "--alpha", "0"], "--alpha"),
    ([], "give the base revision"),
    # review69: a report path that is a folder, or under /proc, ended in a traceback after every run
    (["HEAD", "--json", "."], "--json .: . is a folder, not a file; give a writable file path"),
    (["HEAD", "--md", "/proc/gpuslo/x.md"], "--md /proc/gpuslo/x.md: no file can be made in /proc ("),
    (["HEAD", "--keep", "/proc/gpuslo-kept"], "--keep /proc/gpuslo-kept: no file can be made in /proc ("),
    # review86: the markdown was written over the JSON after every run
    (["HEAD", "--json", "r.out", "--md", "./r.out"], "--json r.out and --md ./r.out name one file: one report"),
    # review92: written into the store after every run, then every gpuslo show exited 1
    (["HEAD", "--json", ".gpuslo/x.json"], "--json .gpuslo/x.json: it is inside the baseline store "),
    (["HEAD", "--keep", "svc.py/sub"], "svc.py is a file, not a folder; give a writable folder"),
    (["--from", "/dev/null"], "--from /dev/null: not a folder; give the folder a run kept with gpuslo ab BASE --keep"),
    # review72: failed only after the base's checkout, naming its temporary tree
    (["HEAD", "--", "-q", "--gpuslo-md=o/"], "--gpuslo-md=o/ after --: each of the 2 x N pytest runs would write"),
    # each run refused "--gpuslo-save with --gpuslo-no-baseline", an option the user never gave
    (["HEAD", "--", "--gpuslo-save"], "--gpuslo-save after --: gpuslo ab compares the two sides' interleaved runs "
     "with each other, not with a store"),
    (["HEAD", "--", "--gpuslo-baseline-dir=perf"], "--gpuslo-baseline-dir=perf after --: gpuslo ab compares"),
    # review74: every pilot ran first; pytest's error named internal flags the user never typed
    (["HEAD", "--", "--gpuslo-suggest"], "--gpuslo-suggest after --: it runs short pilots that record nothing"),
    (["HEAD", "--", "-p", "no:gpuslo"], "-p no:gpuslo after --: it unloads the plugin whose runs gpuslo ab compares"),
    # review76: the same asked as ini overrides ran every pilot, or was dropped without a word
    (["HEAD", "--", "-o", "gpuslo_suggest=true"], "-o gpuslo_suggest=true after --: it runs short pilots"),
    (["HEAD", "--", "--override-ini=gpuslo_save=true"], "--override-ini=gpuslo_save=true after --: gpuslo ab compares"),
    # review77: pytest's "-o=" spelling, a report through the ini, a skip
    (["HEAD", "--", "-o=gpuslo_save=true"], "-o=gpuslo_save=true after --: gpuslo ab compares"),
    (["HEAD", "--", "-o", "gpuslo_html=r.html"], "-o gpuslo_html=r.html after --: each of the 2 x N pytest runs"),
    (["HEAD", "--", "--gpuslo-skip"], "--gpuslo-skip after --: it skips every SLO run"),
    # review94 #6: a pair of runs, then "selected no SLO test on either side"
    (["HEAD", "--", "-q", "--collect-only"], "--collect-only after --: it runs no test, which leaves gpuslo ab"),
    (["HEAD", "--", "--co"], "--co after --: it runs no test"),
    # review77: the runs were written beside the folder's own files
    (["HEAD", "--keep", "."], "--keep . holds other files (.git, conftest.py, pytest.ini); give an empty or new"),
    # review80: the target of a link to nothing was made, wherever it pointed
    (["HEAD", "--keep", "dangling"], "--keep dangling is a link to nothing (to nowhere/kept); mend it"),
])
def test_ab_arguments_are_checked_before_anything_runs(tmp_path: Path, args: list[str], says: str) -> None:
    root = repo(tmp_path)
    if "dangling" in args:
        (root / "dangling").symlink_to("nowhere/kept")
    done = gpuslo("ab", *args, cwd=root)

    assert done.returncode == 2 and says in done.stderr and "run 1" not in done.stderr, done.stderr


@pytest.mark.parametrize(("addopts", "says"), [
    ("-p no:gpuslo", "-p no:gpuslo in PYTEST_ADDOPTS: it unloads the plugin"),
    ("-q --gpuslo-save", "--gpuslo-save in PYTEST_ADDOPTS: gpuslo ab compares the two sides' interleaved runs"),
])
def test_pytest_addopts_is_checked_as_the_arguments_after_the_dashes_are(tmp_path: Path, addopts: str,
                                                                         says: str) -> None:
    """review76 G4: every run reads PYTEST_ADDOPTS; "-p no:gpuslo" there failed the first run
    naming flags the user never typed, "--gpuslo-save" a conflict with one."""
    done = subprocess.run([sys.executable, "-m", "pytest_gpuslo", "ab", "HEAD"], cwd=repo(tmp_path),
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PYTEST_ADDOPTS": addopts})

    assert done.returncode == 2 and says in done.stderr and "run 1" not in done.stderr, done.stderr


def test_a_step_summary_that_is_a_source_file_is_refused_before_anything_runs(tmp_path: Path) -> None:
    """review164 F9: $GITHUB_STEP_SUMMARY naming a .py module (or /etc/passwd) had the A/B table
    appended to it after every run, without a word."""
    root = repo(tmp_path)
    before = (root / "svc.py").read_text()
    done = subprocess.run([sys.executable, "-m", "pytest_gpuslo", "ab", "HEAD"], cwd=root, capture_output=True,
                          text=True, timeout=600, env={**os.environ, "GITHUB_STEP_SUMMARY": str(root / "svc.py")})

    assert done.returncode == 2 and "run 1" not in done.stderr, done.stderr
    assert f"$GITHUB_STEP_SUMMARY={root / 'svc.py'} (from the environment): " in done.stderr
    assert "is a .py file, source or configuration" in done.stderr
    assert (root / "svc.py").read_text() == before
    # review166 F7: the step summary appended to the --json report, whose JSON it broke
    clash = subprocess.run([sys.executable, "-m", "pytest_gpuslo", "ab", "HEAD", "--json", "r.json"], cwd=root,
                           capture_output=True, text=True, timeout=600,
                           env={**os.environ, "GITHUB_STEP_SUMMARY": "r.json"})
    assert clash.returncode == 2 and "--json r.json and $GITHUB_STEP_SUMMARY name one file" in clash.stderr, clash.stderr


@pytest.mark.parametrize("name", ["SIGTERM", "SIGHUP"])
def test_sigterm_leaves_no_worktree_behind(tmp_path: Path, name: str) -> None:
    """review36: a cancelled CI job (SIGTERM) left the base's worktree registered in the
    repository, review37 a closed terminal (SIGHUP); it now leaves as on Ctrl-C, with a sentence,
    and exits as the signal would, 128 + its number (review192 F6: 130, the SIGINT code)."""
    import signal

    root = repo(tmp_path)
    proc = subprocess.Popen([sys.executable, "-m", "pytest_gpuslo", "ab", "HEAD", "--runs", "3", "--md",
                             str(tmp_path / "ab.md")],
                            cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    for line in proc.stderr:  # the first run has started: the worktree exists
        if "gpuslo ab: run 1/3" in line:
            break
    proc.send_signal(getattr(signal, name))
    _, err = proc.communicate(timeout=120)

    assert proc.returncode == 128 + getattr(signal, name), err
    assert f"gpuslo ab: ended by {name}, nothing decided" in err
    # review193 F2: the reports asked for say so (an earlier A/B's, left in place, read as this one's)
    assert f"gpuslo ab was ended by {name} before its runs were done: nothing decided" in (tmp_path / "ab.md").read_text()
    assert subprocess.run(["git", "worktree", "list"], cwd=root, capture_output=True,
                          text=True).stdout.count("\n") == 1

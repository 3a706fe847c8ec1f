"""Baseline files: round trip, atomic writes, and every corruption case named."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_gpuslo import baseline as bl
from pytest_gpuslo import limits
from pytest_gpuslo.errors import BaselineFormatError
from pytest_gpuslo.spec import resolve, validate_marker

MACHINE = {"backend": "cpu", "cpu": "Test CPU 9000", "cpu_count": 2}


def make(nodeid: str = "t.py::test_a", n: int = 500, seed: int = 0, fp: str = "abc") -> bl.Baseline:
    lat = np.random.default_rng(seed).lognormal(0, 0.3, n)
    return bl.Baseline(nodeid, {"budgets_ms": {"p95": 5.0}, "rate_hz": 100.0}, 1, fp, dict(MACHINE),
                       [bl.Run(lat, "2026-11-26T00:00:00+00:00", "abc123")])


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(min_value=0.001, max_value=60_000, allow_nan=False), min_size=1, max_size=300))
def test_sample_encoding_round_trips_to_a_tenth_of_a_microsecond(values: list[float]) -> None:
    """Stored at 0.1 us resolution: every value comes back within 0.05 us."""
    back = bl.decode_sample(bl.encode_sample(values))

    assert np.all(np.abs(back - np.asarray(values)) <= 0.5e-4 + 1e-12)


def test_save_load_round_trip_and_run_history(tmp_path: Path) -> None:
    """Runs accumulate while the spec, schedule and machine agree; at most MAX_RUNS are kept."""
    store = bl.Store(tmp_path)
    for i in range(bl.MAX_RUNS + 2):
        path, what = store.save(make(seed=i))
    loaded = store.get("t.py::test_a", MACHINE)

    assert loaded is not None and bl.MAX_RUNS == len(loaded.runs)
    assert what.startswith(f"updated ({bl.MAX_RUNS} runs from 1 session; a REGRESSED against them needs 3 runs from 3")
    assert np.allclose(loaded.latest.latency_ms, make(seed=bl.MAX_RUNS + 1).runs[0].latency_ms, rtol=0, atol=1e-4)
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob("*.lock"))


def test_a_save_says_how_many_sessions_the_file_holds_and_what_a_regressed_needs(tmp_path: Path) -> None:
    """review67: every run saved under one constant $GPUSLO_SESSION (``nightly``) was one session, so
    a later REGRESSED was held back; the save now says so when it happens.  Runs that share a label
    or a UTC day count once; three sessions and the advice goes."""
    store = bl.Store(tmp_path)

    def save(label: str, day: int) -> str:
        b = make(seed=day * 1000 + sum(map(ord, label)))  # (a copied run is refused: review191 F2)
        run = b.runs[0]
        b.runs[0] = bl.Run(run.latency_ms, f"2026-11-{day:02d}T03:00:00+00:00", "abc123", {}, {"session": label})
        return store.save(b)[1]

    nightly = [save("nightly", day) for day in (1, 2, 3)]
    jobs_one_day = [save(f"job{i}", 4) for i in range(2)]  # two labels on one day: they join day 4
    third = save("weekly", 9)

    # review82: what a REGRESSED needs is said from the first run on, and a label that joined days is named
    assert nightly[1].startswith("updated (2 runs from 1 session; a REGRESSED against them needs 3 runs from 3 sessions")
    assert nightly[2].startswith("updated (3 runs from 1 session; a REGRESSED against them needs 3 runs from 3 sessions")
    assert "at least (with 3, only a change of about 10x their spread; each run more narrows it, and gpuslo ab needs none)" in nightly[2]  # review98
    # review81: "save runs on other days, under other labels": a label splits no day
    assert nightly[2].endswith("joins them too: this run's label 'nightly' joined it to another day's): save runs on "
                               "other days, under no shared label)")
    assert jobs_one_day[1].startswith("updated (5 runs from 2 sessions; a REGRESSED")
    assert third == "updated (6 runs from 3 sessions)"


def test_a_busy_day_of_saves_keeps_the_older_sessions(tmp_path: Path) -> None:
    """review202 F2: the file kept the last 8 runs, so 8 saves on main in one day pushed every older
    day out: 5 sessions became 1, and a +35% slowdown against them read INCONCLUSIVE, green.  The
    oldest run of a session that holds another goes first, and the save says what went."""
    store = bl.Store(tmp_path)

    def save(day: int, hour: int) -> str:
        b = make(seed=day * 100 + hour)
        b.runs[0] = bl.Run(b.runs[0].latency_ms, f"2026-03-{day:02d}T{hour:02d}:00:00+00:00", "abc123")
        return store.save(b)[1]

    for day in (1, 2, 3):
        save(day, 3)
    said = [save(9, hour) for hour in range(1, 10)]  # nine pushes to main on the 9th
    (stored,) = store.root.glob("*.json")
    days = [r.date[:10] for r in bl.load(stored).runs]

    assert days == ["2026-03-01", "2026-03-02", "2026-03-03"] + ["2026-03-09"] * 5
    assert said[-1].startswith("updated (8 runs from 4 sessions)") and (
        "; 1 older run dropped to keep 8 (2026-03-09T04:00), each from a session that keeps another where one "
        "does") in said[-1], said[-1]
    # every session down to one run first, then the oldest session goes
    kept, dropped = bl.keep_sessions(bl.load(stored).runs, 3)
    assert [r.date[:13] for r in kept] == ["2026-03-02T03", "2026-03-03T03", "2026-03-09T09"] and len(dropped) == 5


def test_a_refused_run_copied_into_the_store_is_named_not_compared_against(tmp_path: Path) -> None:
    """review202 F3: a last-run record whose save was refused (a busy machine), copied into the
    store by hand, became the level later runs were judged against, without a word.  In .last it
    is what it is: the record of the last run, refusal and all."""
    b = make()
    b.runs[0] = bl.Run(b.runs[0].latency_ms, b.runs[0].date, "abc123", {},
                       {"save_refusal": "other processes kept 1.4 of 2 CPUs busy during the run"})
    last = bl.Store(tmp_path / ".gpuslo" / ".last")
    last.save(b, replace=True, history=False)
    assert last.get(b.nodeid, b.machine) is not None
    (record,) = (tmp_path / ".gpuslo" / ".last").glob("*.json")
    shutil.copy(record, tmp_path / ".gpuslo" / record.name)
    with pytest.raises(BaselineFormatError, match=r"holds run 1, which was refused as a baseline when it was "
                                                  r"measured \('other processes kept 1.4 of 2 CPUs busy"):
        bl.Store(tmp_path / ".gpuslo").get(b.nodeid, b.machine)
    # review204 F1: its save_refusal deleted by hand, the neighbours' load it keeps still says so
    doc = json.loads(record.read_text())
    doc["runs"][0]["summary"] = {"contention": "other processes kept up to 1.9 of 2 CPUs busy during the run"}
    (tmp_path / ".gpuslo" / record.name).write_text(json.dumps(doc))
    with pytest.raises(BaselineFormatError, match=r"measured \('other processes kept up to 1.9 of 2 CPUs busy"):
        bl.Store(tmp_path / ".gpuslo").get(b.nodeid, b.machine)
    # review204 F2: gpuslo show (Store.all) listed it as healthy
    ((_, listed),) = bl.Store(tmp_path / ".gpuslo").all()
    assert isinstance(listed, BaselineFormatError) and "was refused as a baseline" in str(listed)


def test_a_save_says_what_change_the_stored_runs_can_show_from_their_spread(tmp_path: Path) -> None:
    """review138 F1: "updated (3 runs from 3 sessions)" read as ready, where the runs' 10% spread let
    no change under 10x through (a +63% p95 stayed INCONCLUSIVE).  The save says what they can show,
    and where even a full store would gate little, points to gpuslo ab."""
    lat = np.random.default_rng(1).lognormal(0, 0.3, 4000)

    def saved(folder: str, factors: tuple[float, ...]) -> str:
        store = bl.Store(tmp_path / folder)
        b = make()
        b.spec.update(resolve(validate_marker((), {"rate_hz": 100, "p95_ms": 5}, "t"), nodeid=b.nodeid).as_dict())
        for day, f in enumerate(factors, start=1):
            b.runs[0] = bl.Run(lat * f, f"2026-11-{day:02d}T03:00:00+00:00", "abc123")
            store.save(b)
        return bl.power_note(store, b)

    quiet = saved("quiet", (1.0, 1.01, 0.99))
    noisy = saved("noisy", (1.0, 1.3, 0.8))

    assert saved("one", (1.0,)) == ""
    assert quiet.startswith("the stored runs' p95 levels spread 1.0% a run: a change of about ")
    assert "or more shows REGRESSED against them 4 times in 5 (8 runs from as many sessions, spread alike: about " in quiet
    assert "gpuslo ab" not in quiet
    assert ": no change under 10x shows REGRESSED against them" in noisy
    assert "stored runs gate little: compare interleaved on one machine (gpuslo ab)" in noisy
    two = saved("two", (1.0, 1.3))  # two runs: the spread, and what a full store would show
    assert two.startswith("the stored runs' p95 levels spread ") and "shows REGRESSED" not in two
    assert "within one session" not in two

    # review139 F7: runs of one day share its machine: their spread leaves a day's shift out
    store = bl.Store(tmp_path / "one-day")
    b = make()
    b.spec.update(resolve(validate_marker((), {"rate_hz": 100, "p95_ms": 5}, "t"), nodeid=b.nodeid).as_dict())
    for f in (1.0, 1.01, 0.99):
        b.runs[0] = bl.Run(lat * f, "2026-11-01T03:00:00+00:00", "abc123", {}, {"session": "s"})
        store.save(b)
    assert bl.power_note(store, b).startswith("the stored runs' p95 levels spread 1.0% a run within one session "
                                              "(a day's shift of the machine is not in it: days may spread wider)")


def test_changed_schedule_replaces_history_and_says_why(tmp_path: Path) -> None:
    """A new schedule makes older runs incomparable."""
    store = bl.Store(tmp_path)
    store.save(make())
    _, what = store.save(make(fp="other"))

    assert what.startswith("replaced")
    assert 1 == len(store.get("t.py::test_a", MACHINE).runs)  # type: ignore[union-attr]


def test_a_changed_budget_keeps_the_stored_runs_and_a_changed_load_does_not(tmp_path: Path) -> None:
    """review187 F3: p95_ms 20 -> 200 compared against the stored runs, as the README promises,
    and the save then "replaced" them with the one new run.  The budgets shape no load: the runs
    stay, the file takes the new budgets and the save says so; a changed rate still replaces."""
    store = bl.Store(tmp_path)
    store.save(make(seed=1))
    store.save(replace(make(seed=2), runs=[bl.Run(make(seed=2).runs[0].latency_ms, "2026-11-27T00:00:00+00:00")]))
    looser = make(seed=3)
    looser = replace(looser, spec={**looser.spec, "budgets_ms": {"p95": 50.0, "p99": 80.0}},
                     runs=[bl.Run(looser.runs[0].latency_ms, "2026-11-28T00:00:00+00:00")])
    _, what = store.save(looser)

    stored = store.get("t.py::test_a", MACHINE)
    assert isinstance(stored, bl.Baseline) and len(stored.runs) == 3
    assert stored.spec["budgets_ms"] == {"p95": 50.0, "p99": 80.0}
    assert what.startswith("updated (3 runs") and "budgets are now p95<=50ms, p99<=80ms (were p95<=5ms)" in what
    faster = replace(make(seed=4), spec={**make().spec, "rate_hz": 200.0})
    # review191 F5: what changed and what went are said
    assert store.save(faster)[1] == ("replaced (rate_hz 100 -> 200: the 3 runs stored before no longer compare "
                                     "and were dropped)")
    assert len(store.get("t.py::test_a", MACHINE).runs) == 1  # type: ignore[union-attr]


def test_size_of_a_large_sample_is_bounded(tmp_path: Path) -> None:
    """100,000 requests take about 230 KB on disk (documented: ~2.3 bytes/request)."""
    path, _ = bl.Store(tmp_path).save(make(n=100_000))

    assert path.stat().st_size < 300_000


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("{not json", "is not valid JSON"),
        ('{"tool": "pytest-gpuslo", "schema": 1, "nodeid": "x", "runs": [', "truncated?"),
        ('{"hello": 1}', "is not a pytest-gpuslo baseline"),
        ('{"tool": "pytest-gpuslo", "schema": "one"}', "no integer schema version"),
        ('{"tool": "pytest-gpuslo", "schema": 99}', "schema 99 is newer than this pytest-gpuslo understands"),
        ('{"tool": "pytest-gpuslo", "schema": 1, "nodeid": "x"}', 'is malformed ("spec" must be an object)'),
        ('{"tool": "pytest-gpuslo", "schema": 1, "nodeid": "x", "spec": {}, "seed": 1, '
         '"schedule_fingerprint": "a", "machine": {}, "runs": [{"date": "d", "encoding": '
         '"u32-decimicroseconds-byteplanes-zlib-base64", "sample": "!!"}]}',
         "is malformed"),
        ("\udcff".encode("utf-8", "surrogateescape").decode("latin-1"), "is not"),
        # review71: a --gpuslo-json report read "malformed", with advice to delete it
        ('{"schema": 1, "tool": "pytest-gpuslo", "results": []}', "is a pytest-gpuslo report (--gpuslo-json)"),
    ],
    ids=["garbage", "truncated", "foreign", "bad-schema", "newer-schema", "missing-keys", "bad-sample", "binary",
         "a-report"],
)
def test_every_corruption_is_named_with_the_file_and_a_fix(tmp_path: Path, content: str, fragment: str) -> None:
    """Corrupt, truncated, foreign, newer or non-JSON files raise BaselineFormatError, never crash."""
    path = tmp_path / "b.json"
    path.write_bytes(content.encode("latin-1"))
    with pytest.raises(BaselineFormatError) as info:
        bl.load(path)

    assert str(path) in str(info.value)
    assert fragment in str(info.value)


def test_a_file_that_is_no_json_is_not_advised_to_be_deleted(tmp_path: Path) -> None:
    """review72: a markdown report given to gpuslo compare read "... or delete it and record a new
    one with --gpuslo-save"; the advice names the files it wants instead."""
    path = tmp_path / "r.md"
    path.write_text("# gpuslo\n")
    ignore = tmp_path / ".gpuslo" / ".last" / ".gitignore"  # review116: read "the last run's record ... delete it"
    ignore.parent.mkdir(parents=True)
    ignore.write_text("*\n")
    for named in (path, ignore):
        with pytest.raises(BaselineFormatError) as info:
            bl.load(named)
        assert "delete it" not in str(info.value) and "are .json files in the store" in str(info.value)


def test_corrupt_file_is_never_overwritten_silently(tmp_path: Path) -> None:
    """Saving over a corrupt baseline refuses, and the file is left as it was."""
    store = bl.Store(tmp_path)
    path = store.path_for("t.py::test_a", MACHINE)
    path.write_text("{corrupt")
    with pytest.raises(BaselineFormatError):
        store.save(make())

    assert "{corrupt" == path.read_text()


def test_oversized_file_is_refused_unread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A size limit guards the reader."""
    path = tmp_path / "big.json"
    path.write_text(json.dumps(make().to_json()))
    monkeypatch.setattr(limits, "MAX_BASELINE_BYTES", 100)
    with pytest.raises(BaselineFormatError, match="over the 100-byte limit"):
        bl.load(path)


def test_machine_differences_are_listed() -> None:
    """Only keys that change timings make a baseline incomparable."""
    a = {"backend": "cuda", "gpu": "H100", "power_limit_w": 700.0, "driver": "580.1", "uuid": "x"}
    b = {"backend": "cuda", "gpu": "H200", "power_limit_w": 690.0, "driver": "580.9", "uuid": "y"}

    assert ["gpu", "power_limit_w"] == bl.differing_keys(a, b)
    assert [] == bl.differing_keys(a, {**a, "uuid": "z", "driver": "580.2"})


def test_file_names_are_readable_unique_and_keyed_by_machine() -> None:
    """Node id slug, machine class and a digest."""
    gpu = {"backend": "cuda", "gpu": "NVIDIA H100 80GB HBM3"}
    name = bl.file_name("tests/test_x.py::test_a[1-2]", gpu)

    assert name.startswith("tests-test_x.py--test_a-1-2-")
    assert "--nvidia-h100-80gb-hbm3-" in name
    assert name != bl.file_name("tests/test_x.py::test_a[1_2]", gpu)
    # Another class of one model name (cuda-sync, a power-capped clock) gets its own name.
    assert name != bl.file_name("tests/test_x.py::test_a[1-2]", {**gpu, "backend": "cuda-sync"})
    assert name != bl.file_name("tests/test_x.py::test_a[1-2]", {**gpu, "max_sm_clock_mhz": 1500})
    assert name == bl.file_name("tests/test_x.py::test_a[1-2]", {**gpu, "uuid": "GPU-1"})
    # review44: whatever differing_keys tells apart has a name of its own: the driver's major
    # version, a power limit more than 1% away; a minor driver version does not.
    rtx = {**gpu, "driver": "580.159.04", "power_limit_w": 700.0}
    for other in ({**rtx, "driver": "550.54.15"}, {**rtx, "power_limit_w": 690.0}, {**rtx, "power_limit_w": 500.0}):
        assert bl.differing_keys(rtx, other)
        assert bl.file_name("t::a", rtx) != bl.file_name("t::a", other)
    assert bl.file_name("t::a", rtx) == bl.file_name("t::a", {**rtx, "driver": "580.65.06"})


def test_two_classes_of_one_model_keep_their_own_runs_and_an_old_name_keeps_accumulating(tmp_path: Path) -> None:
    """A pool of 2- and 4-CPU runners of one CPU model: under one file name each save replaced
    the other's runs ("replaced (the spec, schedule or machine changed)") and the store never held
    three runs of either.  A file named before the class digest goes on taking its class's runs."""
    store = bl.Store(tmp_path)
    four = {**MACHINE, "cpu_count": 4}
    for seed in range(3):
        store.save(make(seed=seed))
        store.save(replace_machine(make(seed=10 + seed), four))
    two_file, four_file = store.path_for("t.py::test_a", MACHINE), store.path_for("t.py::test_a", four)
    assert two_file != four_file
    assert len(bl.load(two_file).runs) == 3 and len(bl.load(four_file).runs) == 3

    old = tmp_path / "old"
    old.mkdir()
    legacy = old / bl.file_name("t.py::test_a", MACHINE, legacy=True)
    bl.write_atomic(legacy, bl.load(two_file).to_json())
    old_store = bl.Store(old)
    assert old_store.path_for("t.py::test_a", MACHINE) == legacy
    _, what = old_store.save(make(seed=99))
    assert what.startswith("updated (4 runs from 1 session;") and len(bl.load(legacy).runs) == 4
    # The other class does not take the old file over: it starts its own.
    assert old_store.path_for("t.py::test_a", four) != legacy
    old_store.save(replace_machine(make(seed=98), four))
    assert len(bl.load(legacy).runs) == 4


def test_get_reads_an_old_named_file_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Finding the old-named file of this class reads it; getting it must not read it again."""
    store = bl.Store(tmp_path)
    store.save(make(seed=1))
    new = store.path_for("t.py::test_a", MACHINE)
    new.rename(tmp_path / bl.file_name("t.py::test_a", MACHINE, legacy=True))
    reads = []
    real = bl.load
    monkeypatch.setattr(bl, "load", lambda path: reads.append(path) or real(path))

    assert store.get("t.py::test_a", MACHINE) is not None and len(reads) == 1


def replace_machine(b: bl.Baseline, machine: dict[str, object]) -> bl.Baseline:
    return bl.Baseline(b.nodeid, b.spec, b.seed, b.schedule_fingerprint, dict(machine), b.runs, b.telemetry)


def test_git_commit_asks_git_so_a_worktree_answers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Inside a ``git worktree`` (``.git`` is a file) the commit is found; outside a repository, or
    without git, it is None."""
    import shutil
    import subprocess

    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo, tree = tmp_path / "repo", tmp_path / "tree"
    env = {"GIT_AUTHOR_NAME": "a", "GIT_AUTHOR_EMAIL": "a@b", "GIT_COMMITTER_NAME": "a",
           "GIT_COMMITTER_EMAIL": "a@b", "PATH": __import__("os").environ["PATH"]}
    repo.mkdir()
    (repo / "f.py").write_text("x = 1\n")
    for args in (["init", "-q", str(repo)], ["-C", str(repo), "add", "f.py"], ["-C", str(repo), "commit", "-q", "-m", "x"],
                 ["-C", str(repo), "worktree", "add", "-q", "--detach", str(tree)]):
        subprocess.run(["git", *args], check=True, env=env, capture_output=True)
    head = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True).stdout

    assert bl.git_commit(tree) == head[:12]
    # review71: a run of uncommitted changes said it was the clean commit; an untracked file is not a change
    (tree / "new.py").write_text("")
    assert bl.git_commit(tree) == head[:12]
    # review102: unless it is a measured test's module: then the code measured is not HEAD's
    assert bl.git_commit(tree, measured=[tree / "new.py"]) == head[:12] + "+dirty"
    assert bl.git_commit(tree, measured=[tree / "f.py", tmp_path / "elsewhere.py"]) == head[:12]
    (tree / ".gpuslo").mkdir()
    (tree / ".gpuslo" / "b.json").write_text("{}")
    subprocess.run(["git", "-C", str(tree), "add", ".gpuslo/b.json"], check=True, env=env, capture_output=True)
    # saves to the store, not yet committed, are results, not a change of the code measured
    assert bl.git_commit(tree, tree / ".gpuslo") == head[:12]
    assert bl.git_commit(tree) == head[:12] + "+dirty"
    (tree / "f.py").write_text("x = 2\n")
    assert bl.git_commit(tree, tree / ".gpuslo") == head[:12] + "+dirty"
    assert bl.git_commit(tmp_path / "nowhere") is None
    monkeypatch.setenv("PATH", "")
    assert bl.git_commit(repo) is None


def test_a_json_error_names_its_place_once(tmp_path: Path) -> None:
    # json's own message for an open string ends in "at": it must not read "starting at at line 1"
    path = tmp_path / "b.json"
    path.write_text('{"schema": "unterminated')
    with pytest.raises(BaselineFormatError) as info:
        bl.load(path)
    assert "Unterminated string starting at line 1, column" in str(info.value), str(info.value)


def test_a_broken_last_run_record_says_to_rerun_not_to_restore_it_with_git(tmp_path: Path) -> None:
    # .gpuslo/.last is git-ignored: "restore it with git" would send the user looking for nothing
    last = tmp_path / ".gpuslo" / ".last" / "test_x.json"
    last.parent.mkdir(parents=True)
    last.write_text("{ truncated")
    with pytest.raises(BaselineFormatError) as info:
        bl.load(last)
    assert str(last) in str(info.value) and "run the test again" in str(info.value)
    assert "git diff" not in str(info.value)
    stored = tmp_path / ".gpuslo" / "test_x.json"
    stored.write_text("{ truncated")
    with pytest.raises(BaselineFormatError, match="restore it with git"):
        bl.load(stored)


def test_a_run_already_stored_is_not_added_again(tmp_path: Path) -> None:
    """--gpuslo-save keeps a run and .last keeps the same run; gpuslo accept of it afterwards must
    not store it twice (a user found the store holding one run two times)."""
    store, last = bl.Store(tmp_path / "store"), bl.Store(tmp_path / "last")
    store.save(make(seed=0))
    path, _ = last.save(make(seed=0), replace=True, history=False)
    _, what = store.save(bl.load(path))
    store.save(make(seed=1))

    loaded = store.get("t.py::test_a", MACHINE)
    assert what.startswith("already stored (1 run from 1 session; a REGRESSED against them needs 3 runs")
    assert loaded is not None and len(loaded.runs) == 2


def test_a_last_run_record_replaces_a_link_looping_back_on_itself(tmp_path: Path) -> None:
    """review120: a looping link where the record goes failed the test after its measurement with
    a raw RuntimeError (the lock's resolve()); the scratch record replaces it. A stored baseline's
    save still refuses one, naming it."""
    last, store = bl.Store(tmp_path / "last"), bl.Store(tmp_path / "store")
    path = last.path_for("t.py::test_a", MACHINE)
    path.parent.mkdir(parents=True)
    path.symlink_to(path.name)

    saved, _ = last.save(make(seed=0), replace=True, history=False)

    assert saved == path and path.is_file() and not path.is_symlink()
    assert bl.load(path).nodeid == "t.py::test_a"
    stored = store.path_for("t.py::test_a", MACHINE)
    stored.parent.mkdir(parents=True)
    stored.symlink_to(stored.name)
    with pytest.raises(BaselineFormatError, match="loops back on itself"):
        store.save(make(seed=0))


def test_a_stored_run_gives_the_gate_what_the_plugin_gave_it(tmp_path: Path) -> None:
    """The start delay, the launcher hold, the service of a contended run, hangs and the
    neighbours' load come back from the file, so `gpuslo compare` and `gpuslo ab` decide it as
    the plugin did; a per-request sample longer than the run is refused, naming the key."""
    rng = np.random.default_rng(1)
    lat = rng.lognormal(0, 0.3, 400)
    run = bl.Run(lat, "2026-12-01T00:00:00+00:00", None, {},
                 {"hung": 2, "first_hung": [3, 1], "contention": "other processes kept 1.5 of 2 CPUs busy during the run",
                  "contention_slowdown": 4.0, "first_timed_out": 7, "first_error": "ValueError: bad input",
                  "frozen_ms": 1990.5},
                 lag_ms=np.full(400, 0.5), start_delay_ms=np.full(400, 0.25),
                 service_ms=np.where(np.arange(390) % 20 == 3, np.inf, lat[:390] / 2), launcher_hold_ms=np.full(30, 2.5),
                 asleep_ms=lat[:390] / 4, own_ms=lat / 3, own_asleep_ms=lat / 6)
    run.summary["time_split"] = {"cpu": 0.1, "runq": 0.1, "asleep": 0.5, "other": 0.3}
    base = bl.Baseline("t.py::test_a", {"budgets_ms": {"p95": 5.0}}, 1, "fp", dict(MACHINE), [run])
    path, _ = bl.Store(tmp_path).save(base)
    m = bl.load(path).runs[0].measurements()

    assert m.start_delay_ms is not None and np.allclose(m.start_delay_ms, 0.25)
    # a raised request's service (infinite: over every budget) comes back infinite, not the encoding's
    # clip of 429 s, which read as lanes over capacity (review103 F5)
    assert m.service_ms is not None and np.allclose(m.service_ms, np.where(np.arange(390) % 20 == 3, np.inf,
                                                                           lat[:390] / 2), atol=1e-4)
    assert m.launcher_hold_ms is not None and m.launcher_hold_ms.size == 30
    assert (m.hung, m.first_hung, m.contention_slowdown) == (2, (3, 1), 4.0) and m.contention.startswith("other processes")
    assert (m.first_timed_out, m.first_error) == (7, "ValueError: bad input")
    assert m.frozen_ms == 1990.5  # review151 F2: a stop named in gpuslo ab's words from the record
    # What the neighbours' rule credits as asleep on a timer is judged again as the plugin did.
    assert m.asleep_ms is not None and np.allclose(m.asleep_ms, lat[:390] / 4, atol=1e-4)
    assert m.time_split == {"cpu": 0.1, "runq": 0.1, "asleep": 0.5, "other": 0.3}
    # The own times the slow-stretch rule read, one per request.
    assert m.own_ms is not None and np.allclose(m.own_ms, lat / 3, atol=1e-4)
    assert m.own_asleep_ms is not None and np.allclose(m.own_asleep_ms, lat / 6, atol=1e-4)

    raw = json.loads(path.read_text())
    # A run with no completion within timeout_s has no rate: null now, NaN in older files.
    for rate in (None, float("nan")):
        raw["runs"][0]["summary"]["throughput_hz"] = rate
        path.write_text(json.dumps(raw))
        assert np.isnan(bl.load(path).runs[0].measurements().achieved_hz)
    raw["runs"][0]["asleep_sample"] = bl.encode_sample(np.ones(389))  # not one per service time: unused
    path.write_text(json.dumps(raw))
    assert bl.load(path).runs[0].measurements().asleep_ms is None
    raw["runs"][0]["summary"]["time_split"] = {"asleep": 2.0}
    path.write_text(json.dumps(raw))
    with pytest.raises(BaselineFormatError, match="summary \"time_split\" must be an object of shares"):
        bl.load(path)
    raw["runs"][0]["summary"]["time_split"] = None
    raw["runs"][0]["own_sample"] = bl.encode_sample(np.ones(399))
    path.write_text(json.dumps(raw))
    with pytest.raises(BaselineFormatError, match="run 0: \"own_sample\": a run says n=400 but holds 399"):
        bl.load(path)
    raw["runs"][0]["own_sample"] = None
    raw["runs"][0]["service_sample"] = bl.encode_sample(np.ones(401))
    path.write_text(json.dumps(raw))
    with pytest.raises(BaselineFormatError, match="run 0: \"service_sample\": sample inflates past 400 values"):
        bl.load(path)


def _queued_stamps(n: int = 3000, warm: int = 200, rho: float = 0.6) -> tuple[np.ndarray, ...]:
    """One FIFO lane's stamps in ns (a Poisson schedule, lognormal service): a queue to replay."""
    rng = np.random.default_rng(5)
    t = np.cumsum(rng.exponential(1.0 / rho, n + warm))
    svc = rng.lognormal(-0.125, 0.5, n + warm)
    start, end, free = np.empty_like(t), np.empty_like(t), -np.inf
    for i in range(t.size):
        start[i] = max(t[i] + 0.01, free)
        end[i] = free = start[i] + svc[i]
    return t * 1e6, (t + 0.01) * 1e6, start * 1e6, end * 1e6, np.zeros(t.size, dtype=np.int32)


def test_a_last_run_keeps_its_stamps_so_compare_replays_it_as_the_plugin_does(tmp_path: Path) -> None:
    """review69: ``gpuslo compare`` could not replay a run on a faster machine (the files kept no
    lanes), so where a machine control moved it held back what the plugin let stand.  The last-run
    record keeps every request's stamps, warm-up included; read back, its replay answers as the
    run's own; the store, committed to git, does not keep them; a broken one is named."""
    from pytest_gpuslo import replay

    warm = 200
    ns = _queued_stamps(warm=warm)
    lat = (ns[3] - ns[0])[warm:] / 1e6
    stamps = bl.Stamps.of_run(*ns, warmup=warm)
    assert stamps is not None
    run = bl.Run(lat, "2026-12-01T00:00:00+00:00", None, {}, {"failed": 0, "timed_out": 0}, stamps=stamps)
    base = bl.Baseline("t.py::test_a", {"budgets_ms": {"p95": 5.0}}, 1, "fp", dict(MACHINE), [run])
    last, _ = bl.Store(tmp_path / ".last").save(base, replace=True, history=False)
    m = bl.load(last).runs[0].measurements(ps=[0.95])

    assert m.sped_up is not None
    want = replay.sped_up(*ns, [0.95], 1.08, warmup=warm)
    assert want is not None and m.sped_up(1.08)["p95"] == pytest.approx(want[0.95], abs=1e-4)
    assert m.sped_up(1.08, punctual=True)["p95"] == pytest.approx(
        replay.sped_up(*ns, [0.95], 1.08, warmup=warm, punctual=True)[0.95], abs=1e-4)
    stored, _ = bl.Store(tmp_path / "store").save(base)
    assert "stamps" not in json.loads(stored.read_text())["runs"][0]
    assert bl.load(stored).runs[0].measurements(ps=[0.95]).sped_up is None
    # a failed request: the plugin's run does not replay (``SloResult.sped_up_levels``), nor its file
    failed = bl.Run(lat, run.date, None, {}, {"failed": 1}, stamps=stamps)
    assert failed.measurements(ps=[0.95]).sped_up is None
    # a stamp out of order or a negative lane is not kept; a broken record is named
    assert bl.Stamps.of_run(ns[0], ns[1], ns[3], ns[2], ns[4], warm) is None
    assert bl.Stamps.of_run(*ns[:4], ns[4] - 1, warm) is None
    assert bl.Stamps.of_run(*(a[:1000] for a in ns), warm) is not None
    with pytest.MonkeyPatch.context() as mp:  # a run too long to keep them in a readable file
        mp.setattr(limits, "MAX_STAMPED_REQUESTS", 999)
        assert bl.Stamps.of_run(*(a[:1000] for a in ns), warm) is None
    raw = json.loads(last.read_text())
    raw["runs"][0]["stamps"]["warmup"] = 201
    last.write_text(json.dumps(raw))
    with pytest.raises(BaselineFormatError, match="run 0: \"stamps\": a run says n=3201 but holds 3200"):
        bl.load(last)
    raw["runs"][0]["stamps"] = {"warmup": -1}
    last.write_text(json.dumps(raw))
    with pytest.raises(BaselineFormatError, match="run 0: \"stamps\": must be an object with a whole-number"):
        bl.load(last)


@pytest.mark.parametrize(("given", "stored"), [
    ("2026-11-21", "2026-11-21T00:00:00+00:00"),
    ("2026-11-21T10:00:00", "2026-11-21T10:00:00+00:00"),
    ("2026-11-21T10:00:00.5+02:00", "2026-11-21T08:00:00+00:00"),
])
def test_a_given_date_is_stored_in_the_clocks_form(monkeypatch: pytest.MonkeyPatch, given: str, stored: str) -> None:
    """review71: a date-only or zone-less $GPUSLO_NOW was stored verbatim, so one file held dates
    in three forms; it is stored as the clock's are, in UTC to the second."""
    monkeypatch.setenv(bl.NOW_ENV, given)
    assert bl.now_iso() == stored


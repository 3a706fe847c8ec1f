"""Same-machine A/B for pull requests (``gpuslo ab BASE_REV``): the anchor is ``asv continuous``.

The base revision is checked out in a git worktree; the selected SLO tests then run for base and
candidate interleaved (base, candidate, base, candidate, ... ``runs`` of each), every run replaying
the same arrival schedules (the seed comes from each test's node id), each in its own pytest
process.  Each run leaves every test's latency and lag samples in a ``.last`` store of its own;
the decision takes them all (``gate.ABInput``, through the one ``gate.decide``): a machine that is
slower today than last week is slower for both sides, and a drift during the session touches both
alike.  The base runs the *current* plugin on the base's code: the harness is held equal, the code
under test differs.  Layer 4' (no pytest import): pytest runs in subprocesses.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pytest_gpuslo.errors import GpuSloError, brief, dangling, shown


class ABError(GpuSloError):
    """The A/B run cannot be made (not a git checkout, an unknown revision, pytest broke)."""


#: The line a run prints while another session holds the lane it needs (``devices``).
WAIT_NOTICE = "gpuslo: waiting for "
#: How long an interrupted A/B waits for its run's pytest to stop after SIGTERM before killing it:
#: under GitHub's 10 s from a cancel to its kill, so that the base's worktree is removed after it.
STOP_GRACE_S = 5.0


def _run_saying_waits(command: list[str], *, cwd: Path, env: dict[str, str], say: Callable[[str], None],
                      first_say_s: float = 60.0, on_interrupt: Callable[[BaseException], None] | None = None,
                      ) -> subprocess.CompletedProcess[str]:
    """``subprocess.run(..., capture_output=True)`` that says a run's wait for a lane another
    session holds as it comes: the run's output is kept for the A/B, and a run that sat 80 s
    behind another session's test read as a silent, slow A/B (review171 F2).  A run still going
    after ``first_say_s`` (then twice that, ...) says so with the CPU time it has had: one starved
    by neighbours sat 8 minutes without a word (review165 F4)."""
    proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    kept: dict[str, list[str]] = {"out": [], "err": []}

    def read(stream: Any, key: str) -> None:
        for line in stream:
            kept[key].append(line)
            at = line.find(WAIT_NOTICE)
            if at >= 0:
                say(f"gpuslo ab: {line[at + len('gpuslo: '):].strip()}")

    readers = [threading.Thread(target=read, args=(proc.stdout, "out"), daemon=True),
               threading.Thread(target=read, args=(proc.stderr, "err"), daemon=True)]
    for t in readers:
        t.start()
    started, next_say = time.monotonic(), first_say_s
    try:
        while True:
            try:
                code = proc.wait(timeout=0.5)
                break
            except subprocess.TimeoutExpired:
                took = time.monotonic() - started
                if took >= next_say:
                    from pytest_gpuslo.backends.cpu import process_cpu_seconds

                    cpu = process_cpu_seconds(proc.pid)
                    said = "" if cpu is None else f"; it has had {cpu:.3g} s of CPU time so far"
                    say(f"gpuslo ab: this run is still going after {_duration(took)}{said}")
                    next_say *= 2
    except BaseException as exc:
        if on_interrupt is not None and isinstance(exc, KeyboardInterrupt):
            # the reports first: a run's pytest slow to stop (a fixture's long teardown) held them
            # past a cancelled CI job's kill, which then found none (review198 F2)
            on_interrupt(exc)
        # SIGTERM first: the run's pytest then stops its pytest-xdist workers and says what it cut;
        # a kill left them running under init (review193 F4)
        proc.terminate()
        try:
            proc.wait(timeout=STOP_GRACE_S)
        except BaseException:
            proc.kill()
            proc.wait()
        raise
    for t in readers:
        t.join()
    return subprocess.CompletedProcess(command, code, "".join(kept["out"]), "".join(kept["err"]))

def git(*args: str, cwd: Path) -> str:
    """Ask git; its own message in an ``ABError`` when it refuses."""
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=120)
    except FileNotFoundError:
        raise ABError("git is not installed or not on PATH; gpuslo ab needs it to check out the base") from None
    if done.returncode:
        raise ABError(f"git {' '.join(args)} (in {cwd}) failed: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout.strip()


@dataclass
class Side:
    """One side of the comparison: where its code is and what its runs left."""

    name: str
    root: Path
    #: per run: the --gpuslo-json document's results, by node id.
    summaries: list[dict[str, dict[str, Any]]] = field(default_factory=list)
    #: per run: the --gpuslo-json document's errors (SLO tests that ended in one: a fixture that
    #: raised, ``pytest.fail`` in a body), node id -> pytest's words (review156 F1: such a test of
    #: the working tree read "ran at the base but not in the working tree: not judged", exit 0).
    errors: list[dict[str, str]] = field(default_factory=list)
    #: per run: the --gpuslo-json document's ``interrupted`` words ('' for a whole run): a file that
    #: could not be collected under --continue-on-collection-errors (review157 F2: its tests read
    #: "not judged", exit 0, where pytest exits 1).
    interrupted: list[str] = field(default_factory=list)
    #: per run: the --gpuslo-json document's ``not_judged`` (SLO tests an xfail marker expected to
    #: fail before a verdict), node id -> pytest's words (review157 F3: such a test read "removed,
    #: renamed or deselected" where pytest said XFAIL).
    not_judged: list[dict[str, str]] = field(default_factory=list)
    #: per run: the folder whose .last store holds that run's samples.
    stores: list[Path] = field(default_factory=list)


def pytest_command(python: str, args: Sequence[str], store: Path, report: Path,
                   html: bool) -> list[str]:
    """One run: the user's pytest arguments, samples to ``store``, summaries to ``report``."""
    cmd = [python, "-m", "pytest", *args, "-p", "no:cacheprovider", "--gpuslo-no-baseline",
           # an ini's gpuslo_save = true is refused beside --gpuslo-no-baseline; its gpuslo_suggest
           # = true would pilot instead of measuring (review76)
           "-o", "gpuslo_save=false", "-o", "gpuslo_suggest=false",
           f"--gpuslo-baseline-dir={store}", f"--gpuslo-json={report}"]
    if html:
        cmd.append(f"--gpuslo-html={report.with_suffix('.html')}")
    return cmd


@dataclass
class Session:
    """An A/B session's two sides, the base commit, and the folder its runs left."""

    base: Side
    cand: Side
    sha: str
    work: Path
    temporary: bool
    #: runs a side planned first, and every look (``gate.ab_looks``): the alpha of each look.
    first: int = 0
    looks: Sequence[int] = ()
    #: the signal that came while the base's worktree was being removed after every run was done,
    #: or None: the runs stand, and the CLI decides on them and says so (review201 F2).
    cut: int | None = None

    def cleanup(self) -> None:
        if self.temporary:
            shutil.rmtree(self.work, ignore_errors=True)


#: Signals that end `gpuslo ab` as Ctrl-C does (through the worktree's removal): a cancelled CI
#: job's SIGTERM, a closed terminal's SIGHUP (review36, review37).
ENDING_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


class EndedBySignal(KeyboardInterrupt):
    """An ``ENDING_SIGNALS`` signal, raised as an interrupt so the worktree is removed on the way
    out; the command then exits as that signal would (128 + its number: review192 F6, SIGTERM
    exited 130, the SIGINT code)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class _Deferred:
    """Ctrl-C and the ending signals held while the base's worktree is removed (main thread only):
    one that came then is kept in ``got``, for after.  A cancel during the removal cut git short and
    left a checkout without its .git in the temporary folder for good, and one that came after the
    last run threw away every run (review201 F2/F3)."""

    def __init__(self) -> None:
        self.got: int | None = None
        self.before: dict[int, Any] = {}

    def __enter__(self) -> "_Deferred":
        if threading.current_thread() is threading.main_thread():
            def hold(signum: int, frame: Any) -> None:
                self.got = self.got or signum

            self.before = {sig: signal.signal(sig, hold) for sig in (signal.SIGINT, *ENDING_SIGNALS)}
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self.before.items():
            signal.signal(sig, handler)


def _quiet_git(*args: str, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    """git in a session of its own, so that a Ctrl-C to the process group does not cut it short."""
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, start_new_session=True)


def _terminate_as_interrupt() -> dict[int, Any] | None:
    """``ENDING_SIGNALS`` raise KeyboardInterrupt until restored (main thread only); the handlers
    they replaced, or None where none was installed."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def interrupt(signum: int, frame: Any) -> None:
        raise EndedBySignal(signum)

    return {sig: signal.signal(sig, interrupt) for sig in ENDING_SIGNALS}


#: Where a gpuslo ab puts its base's worktree (``.../gpuslo-ab-base-XXXX/tree``), and the file
#: beside it naming the process that made it.
BASE_TREE_PREFIX, OWNER = "gpuslo-ab-base-", "owner.pid"
#: Where a gpuslo ab without --keep puts its runs (``.../gpuslo-ab-XXXX``), an owner.pid beside them.
RESULTS_PREFIX = "gpuslo-ab-"
#: The JSON report written for a run that selected no SLO test.
NO_SLO_REPORT: dict[str, Any] = {"schema": 1, "tool": "pytest-gpuslo", "results": []}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def forget_stale_trees(top: Path) -> list[str]:
    """Remove the base worktrees a killed gpuslo ab left registered in the repository at ``top``
    (those whose owner process is gone, or older ones with no owner file): SIGKILL leaves no time to
    remove it, and ``git worktree prune`` forgets only worktrees whose folder is gone, which a
    runner's temporary folder never is (review198 F3).  What was removed, as notes."""
    try:
        listed = git("worktree", "list", "--porcelain", cwd=top)
    except ABError:
        return []
    notes = []
    for line in listed.splitlines():
        if not line.startswith("worktree "):
            continue
        path = Path(line[len("worktree "):])
        if path.name != "tree" or not path.parent.name.startswith(BASE_TREE_PREFIX):
            continue
        try:
            pid = int((path.parent / OWNER).read_text(encoding="utf-8").strip())
        except (OSError, ValueError):
            pid = None
        if pid is not None and _alive(pid):
            continue  # another gpuslo ab, running now
        _quiet_git("worktree", "remove", "--force", str(path), cwd=top)
        shutil.rmtree(path.parent, ignore_errors=True)
        gone = f"its process {pid} is gone" if pid is not None else "it names no process"
        notes.append(f"removed the base worktree {shown(path, 200)} an earlier gpuslo ab left behind ({gone})")
    if notes:
        _quiet_git("worktree", "prune", cwd=top)
    # the temporary folders (runs, a base checkout no longer registered) of one whose process is gone
    # (review201 F4, review203 F3: they piled up in a runner's /tmp); a folder naming no owner is left
    for folder in itertools.islice(Path(tempfile.gettempdir()).glob(f"{RESULTS_PREFIX}*"), 1000):
        try:
            pid = int((folder / OWNER).read_text(encoding="utf-8").strip())
        except (OSError, ValueError):
            continue
        if not _alive(pid):
            shutil.rmtree(folder, ignore_errors=True)
            notes.append(f"removed {shown(folder, 200)}, which an earlier gpuslo ab left behind (its process {pid} "
                         f"is gone)")
    return notes


def run(base_rev: str, pytest_args: Sequence[str], *, runs: int = 3, cwd: Path | None = None,
        python: str = sys.executable, html: bool = False, keep: Path | None = None,
        echo: Callable[[str], None] = print, looks: Sequence[int] = (),
        more: Callable[["Session"], bool] | None = None,
        base_notes: Callable[[Path, Path, str], Sequence[str]] | None = None,
        on_interrupt: Callable[[BaseException], None] | None = None) -> Session:
    """Run base and candidate interleaved (ABAB..., ``runs`` each).

    ``base_notes(folder, tree, sha)``: lines to say, prefixed "note: ", about the base's checkout
    before its first run (the CLI: an ini setting there that the runs set aside).
    ``on_interrupt(exc)``: called at once on Ctrl-C or an ending signal during a run, before the
    run's pytest is stopped (the CLI writes its reports there).

    With ``looks`` (run counts after ``runs``, ``gate.ab_looks``) and ``more``: after ``runs``
    pairs and at each look but the last, ``more(session so far)`` says whether another stretch of
    pairs can still decide something; the session stops at the first look where it cannot.
    """
    if runs < 1:
        raise ABError(f"--runs {runs}: give at least 1 (2 or more for a regression verdict, 3 by default)")
    plan = sorted({runs, *looks})
    last = plan[-1]
    here = Path(cwd or Path.cwd()).resolve()
    top = Path(git("rev-parse", "--show-toplevel", cwd=here))
    try:
        sha = git("rev-parse", "--verify", "--quiet", f"{base_rev}^{{commit}}", cwd=here)
    except ABError:
        # review74: git's own "fatal: Needed a single revision" for a mistyped base
        raise ABError(f"{base_rev!r} is not a commit, branch or tag in {top}; give the base revision, e.g. "
                      f"origin/main or HEAD~1") from None
    work = (Path(keep) if keep else Path(tempfile.mkdtemp(prefix=RESULTS_PREFIX))).resolve()
    work.mkdir(parents=True, exist_ok=True)
    if keep is None:  # whose it is, for the next A/B to remove should this one be killed
        (work / OWNER).write_text(f"{os.getpid()}\n", encoding="utf-8")
    for old in [p for p in work.iterdir() if _KEPT_RUN.fullmatch(p.name)]:
        # an interrupted A/B's runs in a --keep folder: a run of this one that writes no report
        # (no SLO test selected) read the old one's as its own (review79)
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old)
        else:
            old.unlink()
    for note in forget_stale_trees(top):
        echo(f"note: {note}")
    # The base's tree lives apart from the results: a --keep folder inside the project must not
    # put a second copy of the tests under the candidate's rootdir.
    tree = Path(tempfile.mkdtemp(prefix=BASE_TREE_PREFIX)) / "tree"
    (tree.parent / OWNER).write_text(f"{os.getpid()}\n", encoding="utf-8")
    rel = here.relative_to(top)
    base, cand = Side("base", tree / rel), Side("candidate", here)
    done_runs = 0
    # A cancelled CI job sends SIGTERM, a closed terminal SIGHUP: leave as on Ctrl-C, through the
    # finally below, so the base's worktree is not left registered in the repository (review36).
    previous = _terminate_as_interrupt()
    started = time.monotonic()
    try:
        # inside the try: a cancel during the checkout (a slow post-checkout hook) left it registered
        # and on disk (review198 F1)
        git("worktree", "add", "--detach", str(tree), sha, cwd=top)
        for note in base_notes(tree / rel, tree, sha) if base_notes else ():
            echo(f"note: {note}")
        for r in range(1, last + 1):
            if r > runs and r - 1 in plan and (more is None or not more(Session(base, cand, sha, work, False))):
                break
            if r == 2:
                # live progress for a long session (review78: --runs 1000 gave no idea of its length)
                pair = time.monotonic() - started
                upto = (f"up to {_duration(pair * (last - 1))} if claims stay undecided to {last} pairs"
                        if last > runs else "")
                rest = (f"the other {'pair takes' if runs == 2 else f'{runs - 1} pairs take'} about "
                        f"{_duration(pair * (runs - 1))}" if runs > 1 else "")
                echo(f"gpuslo ab: a pair of runs took {_duration(pair)}; "
                     + (f"{rest} ({upto})" if rest and upto else rest or upto))
            for side in (base, cand):
                store, report = work / f"{side.name}-{r}", work / f"{side.name}-{r}.json"
                of = (f"{r}/{runs}" if last == runs else f"{r} of {runs} (up to {last} while undecided)"
                      if r <= runs else f"{r} of up to {last} (a claim is still undecided)")
                echo(f"gpuslo ab: run {of}, {side.name} ({sha[:12] if side is base else 'working tree'})")
                # one run's table in $GITHUB_STEP_SUMMARY, or its annotations, would be said 2R
                # times over the A/B's own (gpuslo ab run in a workflow step without --md)
                env = {k: v for k, v in os.environ.items() if k != "GITHUB_STEP_SUMMARY"}
                env["GPUSLO_GITHUB_ANNOTATIONS"] = "0"
                if side is base:
                    # The base's own modules first, wherever an editable install points.
                    env["PYTHONPATH"] = os.pathsep.join(
                        [str(tree), str(tree / "src"), *filter(None, [env.get("PYTHONPATH")])])
                done = _run_saying_waits(pytest_command(python, pytest_args, store, report, html),
                                         cwd=side.root, env=env, say=echo, on_interrupt=on_interrupt)
                if done.returncode in (0, 1, NO_TESTS) and not report.exists():
                    # review71/72: only tests new in the working tree selected (or only tests the
                    # base has): that side has none; the others are named (``new_tests``, the CLI);
                    # review79: nor a side whose selected tests have no slo marker (pytest exits 0)
                    report.write_text(json.dumps(NO_SLO_REPORT), encoding="utf-8")
                said = done.stdout + done.stderr
                if side is base and done.returncode == USAGE and "not found" in said:
                    # review72: a path or node id only the working tree has ended in "exited 4"
                    # naming the base's temporary tree
                    missing = next((ln.strip() for ln in said.splitlines() if "not found" in ln), "")
                    # named as the user typed it, not inside the base's temporary tree (review80)
                    missing = missing.replace(f"{tree / rel}{os.sep}", "").replace(str(tree), ".")
                    raise ABError(f"pytest on the base could not find what the arguments name ({missing}): a path "
                                  f"or node id new in the working tree is not at the base {sha[:12]}; name only "
                                  f"paths both revisions have and select new tests with -k (they are then judged "
                                  f"on their absolute budgets)")
                if done.returncode not in (0, 1, NO_TESTS) or not report.exists():
                    tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
                    raise ABError(f"pytest on the {side.name} exited {done.returncode} without SLO results "
                                  f"(a usage error, a collection error, or no SLO test selected):\n{tail}")
                doc = json.loads(report.read_text(encoding="utf-8"))
                side.summaries.append({s["nodeid"]: s for s in doc.get("results", [])})
                side.errors.append(_errors(doc))
                side.not_judged.append(_errors(doc, "not_judged", "why"))
                side.interrupted.append(str(doc.get("interrupted") or ""))
                side.stores.append(store)
            done_runs = r
            if not base.summaries[-1] or not cand.summaries[-1]:
                # No SLO test on a side: more runs select none either (review74 F7), and nothing is
                # compared; a test new in the working tree is judged on its latest run, so one does
                # (review80: the candidate ran N times for a verdict on the last).
                break
    except BaseException:
        if keep is None:
            shutil.rmtree(work, ignore_errors=True)
        raise
    finally:
        with _Deferred() as deferred:
            removed = _quiet_git("worktree", "remove", "--force", str(tree), cwd=top)
            shutil.rmtree(tree.parent, ignore_errors=True)
            if removed.returncode:  # an add cut short registers a tree it never made
                _quiet_git("worktree", "prune", cwd=top)
        for sig, handler in (previous or {}).items():
            signal.signal(sig, handler)
        cut = deferred.got  # (where an interrupt is under way, it goes on: the runs were not all done)
    if done_runs < runs:  # stopped early as a side selected no SLO test: one look, at its runs
        runs, plan = done_runs, [done_runs]
    (work / "session.json").write_text(json.dumps({"base": sha, "runs": done_runs, "first": runs, "looks": plan}),
                                       encoding="utf-8")
    return Session(base, cand, sha, work, keep is None, runs, plan, cut=cut)


def _errors(doc: dict[str, Any], key: str = "errors", words: str = "error") -> dict[str, str]:
    """A run's JSON report's ``errors`` (or ``not_judged``), node id -> pytest's words ("ERROR in
    setup, before a verdict: ..."); an entry that is not one is left out (the report's own reader
    names a damaged file)."""
    found = doc.get(key)
    return {str(e["nodeid"]): str(e.get(words, "")) for e in found if isinstance(e, dict) and "nodeid" in e} \
        if isinstance(found, list) else {}


def errored(side: Side, *, expected: bool = False) -> dict[str, str]:
    """The SLO tests that ended in an error in some run of ``side``, with pytest's words and the
    run's number (the latest such run): pytest fails them, and so must the A/B.  ``expected``:
    those an xfail marker expected to fail before a verdict instead (pytest's XFAIL), not judged."""
    runs: dict[str, list[int]] = {}
    said: dict[str, str] = {}
    for k, run in enumerate(side.not_judged if expected else side.errors, 1):
        for nodeid, words in run.items():
            runs.setdefault(nodeid, []).append(k)
            said[nodeid] = words
    where = "the working tree" if side.name == "candidate" else "the base"
    n = len(side.not_judged if expected else side.errors)
    # (review157 F4: "run 2 of 2" of an error in every run read as a one-off)
    return {nodeid: f"{said[nodeid]} ({where}, " + (f"every run of {n}" if len(ks) == n and n > 1 else
                                                    f"run{'s' if len(ks) > 1 else ''} {', '.join(map(str, ks))} of {n}")
            + ")" for nodeid, ks in runs.items()}


def interrupted(side: Side) -> str:
    """The latest run's words where a run of ``side`` was not whole ('' where every run was)."""
    said = [(k, words) for k, words in enumerate(side.interrupted, 1) if words]
    return f"{said[-1][1]} (run {said[-1][0]} of {len(side.interrupted)})" if said else ""


def _duration(seconds: float) -> str:
    """``42 s``, ``12 min``, ``3.5 h``: how long runs take, as a person reads it."""
    return (f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min" if seconds < 7200
            else f"{seconds / 3600:.1f} h")


#: The fix for a kept session that cannot be decided again.  Not "--keep" into the same folder:
#: its session.json makes --keep refuse it (review77 H1: each message sent the user to the other).
AGAIN = "run the A/B again with gpuslo ab BASE --keep NEWDIR (an empty or new folder)"

#: A kept run's name in a --keep folder: base-1, candidate-2.json.
_KEPT_RUN = re.compile(r"(base|candidate)-\d+(\.json|\.html)?")


def foreign(folder: Path, shown: int = 3) -> list[str]:
    """Up to ``shown`` names in a ``--keep`` folder that no A/B run wrote (an interrupted A/B's own
    runs may be written over; anything else is refused, not mixed with)."""
    try:
        names = sorted(p.name for p in itertools.islice(folder.iterdir(), 10_000))
    except OSError:  # missing (made later) or unreadable (its own error when the runs are written)
        return []
    return [n for n in names if not _KEPT_RUN.fullmatch(n)][:shown]


def _no_session(folder: Path) -> str:
    """Why ``--from FOLDER`` without a session.json cannot be decided, by what the folder holds
    (review76 G9: a store was told "keep one with --keep" into it, after a raw "[Errno 2]")."""
    from pytest_gpuslo.baseline import LAST_RUNS

    if not folder.exists():
        # review120: a link looping back on itself read "no such folder"
        return (f"--from {folder}: {f'is {dangling(folder)}' if dangling(folder) else 'no such folder'}; give the "
                f"folder an A/B was kept in (gpuslo ab BASE --keep DIR)")
    try:
        names = [p.name for p in itertools.islice(folder.iterdir(), 10_000)]
    except OSError as exc:
        return f"--from {folder}: {exc.strerror or exc}; give a readable folder an A/B was kept in"
    if (folder / "session.json").exists():  # (a folder, or a link to one: not the record)
        return f"--from {folder}: its session.json is not a file; {AGAIN}"
    if dangling(folder / "session.json"):  # review120: a looping one read "that A/B was interrupted"
        return f"--from {folder}: its session.json is {dangling(folder / 'session.json')}; {AGAIN}"
    if any(_KEPT_RUN.fullmatch(n) for n in names):
        # --keep takes the folder back only when nothing else is in it (review79)
        again = f"gpuslo ab BASE --keep {folder}" if not foreign(folder) else "gpuslo ab BASE --keep NEWDIR"
        return (f"--from {folder}: it holds kept runs but no session.json, which gpuslo ab writes when it has run "
                f"them all: that A/B was interrupted, and cannot be decided; run it again with {again}")
    if LAST_RUNS in names or any(n.endswith(".json") for n in names):
        held = "baseline files" if any(n.endswith(".json") for n in names) else f"a {LAST_RUNS} folder of last runs"
        return (f"--from {folder}: that looks like a baseline store (it holds {held}), not a kept A/B "
                f"session; compare stored runs with gpuslo compare, and keep an A/B with gpuslo ab BASE --keep "
                f"NEWDIR")
    return (f"--from {folder}: it holds no kept A/B session (no session.json); keep one with gpuslo ab BASE --keep "
            f"DIR, then decide it again with --from DIR")


def _json_kind(value: object) -> str:
    """``null``, ``a list``, ``a number``: what a JSON file holds, in words for an error."""
    if value is None:
        return "null"
    return {bool: "true or false", list: "a list", str: "a string", dict: "an object"}.get(type(value), "a number")


def _read_kept(path: Path, why: str = "") -> str:
    """A kept session's file as text, a regular file of at most ``limits.MAX_AB_FILE_BYTES``, else
    an ``ABError`` naming it (review117 F20: a 3-GB session.json was read whole)."""
    from pytest_gpuslo import limits

    return limits.read_capped(path, limits.MAX_AB_FILE_BYTES,
                              lambda what: ABError(f"{path} {what}{why}; {AGAIN}")).decode("utf-8")


def load(folder: Path) -> Session:
    """A session kept with ``--keep``, to be decided again (``gpuslo ab --from DIR``)."""
    from pytest_gpuslo.baseline import LAST_RUNS

    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        # review69: "--from /dev/null" advised "--keep /dev/null"
        raise ABError(f"--from {folder}: not a folder; give the folder a run kept with gpuslo ab BASE --keep DIR")
    if not (folder / "session.json").is_file():
        raise ABError(_no_session(folder))
    try:
        meta = json.loads(_read_kept(folder / "session.json"))
        if not isinstance(meta, dict) or not {"runs", "base"} <= meta.keys():
            # review79: a session.json holding null read "(TypeError: 'NoneType' object is not subscriptable)"
            holds = (f"an object without {' or '.join(repr(k) for k in ('base', 'runs') if k not in meta)}"
                     if isinstance(meta, dict) else f"{_json_kind(meta)}, not an object")
            raise ABError(f"{folder / 'session.json'} is not the record gpuslo ab writes: it holds {holds}; {AGAIN}")
        # as gpuslo ab writes them: whole numbers, a list of looks, the base's name (review200 F8: "2",
        # 2.0, a string of looks and a base of 5 were taken)
        def whole(v: Any) -> int:
            if isinstance(v, bool) or not isinstance(v, int):
                raise TypeError(f"{v!r} is not a whole number")
            return v

        looked = meta.get("looks", [meta["runs"]])
        if not isinstance(looked, list) or len(looked) > 1000:
            raise TypeError(f"looks {brief(looked)} is not a list of run counts")
        if not isinstance(meta["base"], str) or not meta["base"]:
            raise TypeError(f"base {brief(meta['base'])} is not a revision's name")
        runs, sha = whole(meta["runs"]), meta["base"]
        first, looks = whole(meta.get("first", runs)), sorted({whole(k) for k in looked})
    except OSError as exc:
        raise ABError(f"{folder / 'session.json'}: {exc.strerror or exc}; make it readable, or {AGAIN}") from None
    except RecursionError:  # review120: a raw traceback
        raise ABError(f"{folder / 'session.json'} is not the record gpuslo ab writes (it nests deeper than the JSON "
                      f"reader can follow); {AGAIN}") from None
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ABError(f"{folder / 'session.json'} is not the record gpuslo ab writes ({exc.__class__.__name__}: "
                      f"{exc}); {AGAIN}") from None
    if shown(sha) != sha or len(sha) > 200:
        # review197 F7: a terminal escape in it reached the terminal as it was
        raise ABError(f"{folder / 'session.json'} is not the record gpuslo ab writes: its base {shown(sha, 80)} is not "
                      f"a revision's name; {AGAIN}")
    if not looks or not (1 <= first <= runs <= looks[-1] and first in looks and runs in looks):
        # (review197 F6: "looks": [] was an IndexError)
        raise ABError(f"{folder / 'session.json'} is inconsistent: {runs} runs, first look {first}, looks "
                      f"{looks} (gpuslo ab writes runs at one of its looks); {AGAIN}")
    sides = []
    kept = f"session.json says {runs} run{'s' if runs != 1 else ''} a side {'were' if runs != 1 else 'was'} kept"
    for name in ("base", "candidate"):
        side = Side(name, folder)
        for r in range(1, runs + 1):
            path = folder / f"{name}-{r}.json"
            try:
                if not path.exists():
                    raise FileNotFoundError(2, "No such file or directory")
                doc = json.loads(_read_kept(path, f"; {kept}, so this report must be there"))
                if not isinstance(doc, dict):
                    raise ABError(f"{path} holds {_json_kind(doc)}, not gpuslo's JSON report; {kept}, "
                                  f"so this report must be there; {AGAIN}")
                why = _not_a_kept_report(doc)
                if why:
                    # review197 F6/F7: a field of the wrong type was a traceback, a foreign or
                    # duplicated report was decided as if whole
                    raise ABError(f"{path} is not the JSON report a gpuslo ab run writes: {why}; {kept}, so this "
                                  f"report must be as the run wrote it; {AGAIN}")
                side.summaries.append({x["nodeid"]: x for x in doc.get("results", [])})
                side.errors.append(_errors(doc))
                side.not_judged.append(_errors(doc, "not_judged", "why"))
                side.interrupted.append(str(doc.get("interrupted") or ""))
            except OSError as exc:  # review81: "FileNotFoundError: [Errno 2] ..." in the message
                raise ABError(f"{path}: {exc.strerror or exc}; {kept}, so "
                              f"this report must be there; {AGAIN}") from None
            except RecursionError:  # review120: a raw traceback
                raise ABError(f"{path}: nests deeper than the JSON reader can follow; {kept}, so this report must "
                              f"be there and hold gpuslo's JSON; {AGAIN}") from None
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                raise ABError(f"{path}: {exc.__class__.__name__}: {exc}; {kept}, "
                              f"so this report must be there and hold gpuslo's JSON; {AGAIN}") from None
            if side.summaries[-1] and not (folder / f"{name}-{r}" / LAST_RUNS).is_dir():
                # review71: a kept run's samples removed, it decided on 3+2 runs without a word;
                # review121: a .last that is a link looping back on itself read "missing"
                last = folder / f"{name}-{r}" / LAST_RUNS
                # (review124 N3: a file in its place read "missing" too)
                broken = dangling(last) or ("not a folder" if last.exists() else "")
                raise ABError(f"{folder / f'{name}-{r}'}: the samples of {name} run {r} are "
                              f"{f'not readable: its {LAST_RUNS} is {broken}' if broken else 'missing'}; {kept}; "
                              f"{AGAIN}")
            side.stores.append(folder / f"{name}-{r}")
        for r in range(1, runs + 1):
            # review200 F7: a run emptied of its results made its tests "not judged", exit 0
            if not (side.summaries[r - 1] or side.errors[r - 1] or side.not_judged[r - 1] or side.interrupted[r - 1]) \
                    and any(side.summaries):
                ran = next(k for k, got in enumerate(side.summaries, 1) if got)
                raise ABError(f"{folder / f'{name}-{r}.json'} holds no result, where {name} run {ran} holds "
                              f"{len(side.summaries[ran - 1])}: a run must not drop out of the comparison "
                              f"unnoticed; {AGAIN}")
        sides.append(side)
    return Session(sides[0], sides[1], sha, folder, False, first, looks)


def _not_a_kept_report(doc: dict[str, Any]) -> str:
    """Why a kept run's ``--gpuslo-json`` document is not one a run of gpuslo ab wrote, or ''."""
    from pytest_gpuslo.reports.files import SCHEMA

    if "tool" not in doc and doc.get("results") == []:
        return ""  # what a run that selected no SLO test leaves (``NO_SLO_REPORT``; before it, without tool)
    if doc.get("tool") != "pytest-gpuslo":
        return f"its tool is {shown(repr(doc.get('tool')), 80)}, not 'pytest-gpuslo'"
    schema = doc.get("schema")
    if not isinstance(schema, int) or isinstance(schema, bool) or not 1 <= schema <= SCHEMA:
        return f"its schema {shown(repr(schema), 40)} is not one this version reads (1 to {SCHEMA})"
    results = doc.get("results", [])
    if not isinstance(results, list):
        return f"its results are {_json_kind(results)}, not a list"
    seen: set[str] = set()
    for x in results:
        if not isinstance(x, dict) or not isinstance(x.get("nodeid"), str):
            return "a result is not an object with a nodeid"
        if x["nodeid"] in seen:
            return f"it lists {shown(x['nodeid'], 120)} twice"
        seen.add(x["nodeid"])
        for key in ("latency_ms", "checks", "baseline", "ab", "telemetry"):
            if key in x and x[key] is not None and not isinstance(x[key], (dict, list)):
                return f"the {key} of {shown(x['nodeid'], 120)} is {_json_kind(x[key])}"
    return ""


#: pytest's exit status when no test was collected (``pytest.ExitCode.NO_TESTS_COLLECTED``).
NO_TESTS = 5
#: ... and on a usage error, e.g. a path that is not there (``pytest.ExitCode.USAGE_ERROR``).
USAGE = 4


def _samples(side: Side, nodeid: str) -> list[Any]:
    """Every run of ``nodeid`` one side kept, in order; a run that ran it but kept no samples, or a
    damaged one, is an error, never a run silently fewer."""
    from pytest_gpuslo.baseline import LAST_RUNS, Store

    runs = []
    for k, (store, ran) in enumerate(zip(side.stores, side.summaries), 1):
        found = []
        for path, b in Store(store / LAST_RUNS).all():
            if isinstance(b, Exception):
                # review118 N6: the store's remedy ("run the test again ... or delete it.;") and
                # the path twice read here as advice for a store
                raise ABError(f"{path}: {getattr(b, 'what', '') or b}; a damaged run must not drop out of the "
                              f"comparison unnoticed: run gpuslo ab again")
            if b.nodeid == nodeid:
                found.append(b.latest)
        if nodeid in ran and not found:
            # review72: one test's samples removed from one kept run, it was decided on 2+3
            # runs under a header saying 3 a side
            raise ABError(f"{store / LAST_RUNS}: {side.name} run {k} ran {nodeid} but its samples are not "
                          f"there; a run must not drop out of the comparison unnoticed: run gpuslo ab again")
        if nodeid in ran and found and not _one_run(ran[nodeid], found[-1]):
            # review164 F10: a kept report swapped for another run's read that run's numbers in the
            # table, beside a decision made on these samples
            raise ABError(f"{store}.json and {store / LAST_RUNS}: the report and the samples of {side.name} run {k} "
                          f"for {nodeid} are not of one run (their request counts, raised requests or percentiles differ); a kept "
                          f"session must be as gpuslo ab wrote it: run gpuslo ab again")
        runs += found
    return runs


def _one_run(summary: dict[str, Any], run: Any) -> bool:
    """Whether a kept report's result and a kept record are of one run: its request count, raised
    requests and latency percentiles as the report says them (what a report leaves out: yes).
    review169 F2: a p95 or a count of raised requests edited in a kept report was printed as it was."""
    import numpy as np

    lat = np.asarray(run.latency_ms, dtype=np.float64)
    n = summary.get("n")
    if isinstance(n, int) and not isinstance(n, bool) and n != lat.size:
        return False
    failed, kept_failed = summary.get("failed"), run.summary.get("failed")
    if isinstance(failed, int) and isinstance(kept_failed, int) and failed != kept_failed:
        return False
    from pytest_gpuslo.spec import percentile_label

    for p in (0.5, 0.9, 0.95, 0.99):
        said = (summary.get("latency_ms") or {}).get(percentile_label(p))
        if isinstance(said, (int, float)) and not isinstance(said, bool) and lat.size and math.isfinite(said):
            # (the record keeps tenths of a microsecond, ``baseline.ENCODING``: a step of 1e-4 ms)
            if abs(float(np.quantile(lat, p)) - said) > 1e-3 * abs(said) + 1e-4:
                return False
    return True


def made_with(session: Session) -> dict[str, Any] | None:
    """The latest candidate run's record's summary (``runner.record``), whose ``policy`` holds what
    its pytest session decided with (``--gpuslo-alpha``, ``--gpuslo-allow-throttle``,
    ``--gpuslo-inconclusive``, after ``--`` or in the ini); None where no record holds one."""
    from pytest_gpuslo.baseline import LAST_RUNS, Store

    for store in reversed(session.cand.stores):
        for _, b in Store(store / LAST_RUNS).all():
            if not isinstance(b, Exception) and isinstance(b.latest.summary.get("policy"), dict):
                return dict(b.latest.summary)
    return None


def new_tests(session: Session, policy: Any) -> list[dict[str, Any]]:
    """The SLO tests only the working tree ran (new, or absent at the base), decided on their
    absolute budgets alone, as ``gpuslo compare`` decides a test with no stored match (review71:
    they were dropped without a word, and ``-k new`` alone ended in "exited 5")."""
    from pytest_gpuslo import gate
    from pytest_gpuslo.spec import SloSpec

    out = []
    cand = session.cand.summaries[-1] if session.cand.summaries else {}
    base = session.base.summaries[-1] if session.base.summaries else {}
    for nodeid in sorted(set(cand) - set(base)):
        runs = _samples(session.cand, nodeid)
        if not runs:
            continue
        summary = _without_pytest_outcome(cand[nodeid])
        spec = SloSpec.from_dict(summary["spec"])
        verdict = gate.decide(spec, runs[-1].measurements(ps=list(spec.budgets_ms) or None), policy, None)
        summary["verdict"] = verdict.as_dict()
        xfail = _xfail_outcome(cand[nodeid], verdict.outcome)
        if xfail:
            summary["pytest_outcome"] = xfail
        summary["ab"] = {"base": session.sha, "candidate": runs[-1].commit, "runs": [0, len(runs)], "new": True,
                         "alpha_per_look": policy.alpha}
        out.append(summary)
    return out


def _judged(session: Session, policy: Any) -> list[tuple[dict[str, Any], Any, list[Any], list[Any], Any, Any]]:
    """Every test both sides ran: (its latest summary, spec, base runs, candidate runs, the
    ``gate.ABInput`` it was decided on, verdict)."""
    import numpy as np

    from pytest_gpuslo import gate, stats
    from pytest_gpuslo.spec import SloSpec
    from pytest_gpuslo.timeline import DISPATCH_PRECISION_NS

    out = []
    common = sorted(set(session.cand.summaries[-1]) & set(session.base.summaries[-1]))
    for nodeid in common:
        latest = session.cand.summaries[-1][nodeid]
        base_runs, cand_runs = _samples(session.base, nodeid), _samples(session.cand, nodeid)
        if not base_runs or not cand_runs:
            continue
        spec = SloSpec.from_dict(latest["spec"])
        # A run on either side whose generator was late: a decided claim must hold on every run's
        # latency as a punctual generator would have left it (gate._late_checks).
        ms = [r.measurements() for r in cand_runs]
        base_ms = [r.measurements() for r in base_runs]
        late = [(k, note) for k, note in enumerate((gate.lateness(spec, x, policy) for x in ms), 1) if note]
        either = bool(late) or any(gate.lateness(spec, x, policy) for x in base_ms)
        # each run with the neighbours' load its report recorded, once for every use below
        base_loaded = [_with_load(x, run.get(nodeid)) for x, run in zip(base_ms, session.base.summaries)]
        cand_loaded = [_with_load(x, run.get(nodeid)) for x, run in zip(ms, session.cand.summaries)]
        # the runs whose generator stalled, both sides (review122 F7)
        stalled = gate.stalls(spec, base_loaded + cand_loaded, policy)
        ab = gate.ABInput(tuple(r.latency_ms for r in base_runs), tuple(r.latency_ms for r in cand_runs),
                          label=f"base {session.sha[:12]}",
                          differing=load_differs(session.base.summaries[-1][nodeid], latest),
                          late=f"candidate run {late[0][0]} of {len(ms)}: {late[0][1]}" if late else "",
                          cand_from_dispatch=tuple(gate.from_dispatch(x) for x in ms) if either else (),
                          base_from_dispatch=tuple(gate.from_dispatch(x) for x in base_ms) if either else (),
                          base_holds=tuple(gate.median_hold(x.launcher_hold_ms) for x in base_ms),
                          cand_holds=tuple(gate.median_hold(x.launcher_hold_ms) for x in ms),
                          base_waits=tuple(x.launcher_wait for x in base_ms),
                          base_raised_counts=tuple(x.failed for x in base_ms),
                          cand_raised_counts=tuple(x.failed for x in ms),
                          cand_hung=tuple(x.hung for x in ms),
                          base_behind=tuple(stalled[:len(base_ms)]), cand_behind=tuple(stalled[len(base_ms):]),
                          cand_waits=tuple(x.launcher_wait for x in ms),
                          base_hosts=tuple(x.body_host_ms for x in base_ms),
                          cand_hosts=tuple(x.body_host_ms for x in ms),
                          base_shuffled=tuple(x.shuffled for x in base_ms),
                          cand_shuffled=tuple(x.shuffled for x in ms),
                          base_shuffled_off=tuple(x.shuffled_off for x in base_ms),
                          cand_shuffled_off=tuple(x.shuffled_off for x in ms),
                          late_floor_ms=DISPATCH_PRECISION_NS / 1e6 if latest.get("backend") == "cpu" else 0.0,
                          cand_budgets=tuple(gate.budget_outcomes(gate.decide(spec, x, policy), stats.stand_in_words(
                              x.failed, gate.unfinished(x, np.asarray(x.latency_ms), spec.timeout_s))[0])
                                             for x in cand_loaded[:len(ms) - 1]))
        m = _with_load(ms[-1], latest)
        out.append((latest, spec, base_runs, cand_runs, ab, gate.decide(spec, m, policy, ab)))
    return out


def _xfail_outcome(candidate: dict[str, Any], outcome: str) -> str | None:
    """What pytest makes of the A/B's verdict ``outcome`` for a test marked xfail (the candidate's
    own runs say the marker applies: XFAIL, XPASS, or an INCONCLUSIVE the plugin skipped), None for
    any other test: an INCONCLUSIVE is skipped, a FAIL is a green XFAIL, a PASS an XPASS, red where the
    marker is strict, as its runs showed (review153 F6: an xfail-marked test's known budget FAIL
    exited 1 under gpuslo ab, and 0 under pytest).  A strict marker whose runs all failed reads
    as not strict: pytest reported nothing that says it."""
    ran = str(candidate.get("pytest_outcome") or "")
    if not ran.startswith(("xfailed", "xpassed", "skipped")) or outcome not in ("FAIL", "PASS", "INCONCLUSIVE"):
        return None
    from pytest_gpuslo.reports.view import under_xfail

    # (an INCONCLUSIVE skipped under inconclusive=fail too; a FAIL under raises= that does not hold
    # the gate's is pytest's FAILED: review160 F2)
    marked = candidate.get("xfail")
    return under_xfail(outcome, ran == "xpassed (strict)", isinstance(marked, dict) and marked.get("raises") is True)


def _without_pytest_outcome(summary: dict[str, Any]) -> dict[str, Any]:
    """A copy of a candidate run's summary for the A/B's reports, less what pytest made of that
    one run (``pytest_outcome``): the A/B's verdict decides, and "passed" beside a REGRESSED that
    fails the session read as a contradiction (review145 F4); nor ``baseline_off``, the flag every
    A/B run is made with: the A/B compares them."""
    out = dict(summary)
    out.pop("pytest_outcome", None)
    out.pop("baseline_off", None)
    return out


def _with_load(m: Any, summary: dict[str, Any] | None) -> Any:
    """A run's measurements with the other processes' load its report recorded (none where the
    report does not hold the test: a FAIL is then not held back for neighbours nobody measured).
    Each earlier candidate run is decided again from its own samples, not read from its report
    (review82: a report edited to drop the test let a run at 13x the budget go unseen)."""
    from pytest_gpuslo import gate

    tel = (summary or {}).get("telemetry") or {}
    return replace(m, contention=gate.cpu_contention(tel.get("other_cpu_load"), tel.get("cpus"),
                                                     tel.get("other_cpu_load_mean"), tel.get("steal_cpus")),
                   contention_slowdown=gate.contention_slowdown(tel.get("other_cpu_load"), tel.get("cpus"),
                                                                tel.get("run_queue_stretch")),
                   run_queue_stretch=gate.figure(tel.get("run_queue_stretch")))


def load_differs(base: dict[str, Any], cand: dict[str, Any]) -> tuple[str, ...]:
    """What made the two sides offer different loads: a changed marker field or schedule."""
    from pytest_gpuslo.spec import load_changes

    out = list(load_changes(base.get("spec") or {}, cand.get("spec") or {}))
    if not out and base.get("schedule_fingerprint") != cand.get("schedule_fingerprint"):
        out.append("another arrival schedule")
    return tuple(out)


def wants_more(session: Session, policy: Any, max_runs: int) -> bool:
    """Could more interleaved runs (up to ``max_runs`` a side) still decide a regression claim?"""
    from pytest_gpuslo import gate

    return gate.ab_wants_more([c for *_, v in _judged(session, policy) for c in v.baseline], max_runs)


def stage_medians(base_runs: Sequence[Any], cand_runs: Sequence[Any]) -> dict[str, dict[str, Any]]:
    """Each stage's p50 and p95, the median over each side's runs, for the stage rows' comparison
    with the base (review186 F4: the rows showed the candidate alone and marked the stage that holds
    the tail, the batcher's model, where the change had doubled the pool stage before it).  Medians,
    as the A/B's levels are read over every run, not one run against another; a stage missing
    from every run of a side is left out."""
    import numpy as np

    out: dict[str, dict[str, Any]] = {}
    names = dict.fromkeys(k for r in (*base_runs, *cand_runs) for k in (r.stages or {}))
    for name in names:
        sides: dict[str, Any] = {}
        for side, runs in (("base", base_runs), ("candidate", cand_runs)):
            got = {q: [float(v) for r in runs for v in [((r.stages or {}).get(name) or {}).get(q)]
                       if isinstance(v, (int, float)) and math.isfinite(v)] for q in ("p50_ms", "p95_ms")}
            if not got["p50_ms"] or not got["p95_ms"]:
                break
            sides[side] = {q: float(np.median(xs)) for q, xs in got.items()}
            sides[side]["runs"] = len(got["p95_ms"])
        else:
            out[name] = sides
    return out


def hung_runs(session: Session, nodeid: str) -> dict[str, list[dict[str, Any]]]:
    """Per side ("base", "candidate"), each run of ``nodeid`` that hung: its number and where its
    bodies were stuck (``stuck``, ``prime_stuck``); sides where none hung left out."""
    out = {}
    for side in (session.base, session.cand):
        runs = [{"run": k, **{key: ran[key] for key in ("stuck", "prime_stuck") if ran.get(key)}}
                for k, run in enumerate(side.summaries, 1)
                for ran in [run.get(nodeid) or {}] if ran.get("stuck") or ran.get("prime_stuck")]
        if runs:
            out[side.name] = runs
    return out


def decide(session: Session, policy: Any) -> list[dict[str, Any]]:
    """Every test both sides ran, decided on all its runs; summaries ready for the reports.
    ``policy`` is the policy of each look (``gate.ab_looks``)."""
    import numpy as np

    from pytest_gpuslo import gate, stats
    from pytest_gpuslo.reports import view
    from pytest_gpuslo.spec import percentile_label

    sha = session.sha
    out = []
    for latest, spec, base_runs, cand_runs, verdict_ab, verdict in _judged(session, policy):
        def level(run: Any, p: float, timeout_s: float = spec.timeout_s) -> float | None:
            """A run's level; None where it lies among its raised requests' stand-in (review104:
            "candidate 500 500 500", the 0.5-s timeout, as each run's p95)."""
            return None if stats.raised_at(run.latency_ms, p, timeout_s) else float(np.quantile(run.latency_ms, p))

        summary = _without_pytest_outcome(latest)
        summary["verdict"] = verdict.as_dict()
        xfail = _xfail_outcome(latest, verdict.outcome)
        if xfail:
            summary["pytest_outcome"] = xfail
        # the candidate's commit as its runs stamped it (+dirty: the tree differed): review94 #5
        summary["ab"] = {"base": sha, "candidate": cand_runs[-1].commit, "runs": [len(base_runs), len(cand_runs)],
                         "looks": list(session.looks) or [len(base_runs)], "alpha_per_look": policy.alpha,
                         "p95_ms": {"base": [level(r, 0.95) for r in base_runs],
                                    "candidate": [level(r, 0.95) for r in cand_runs]},
                         # every budgeted percentile's level run by run, the numbers a claim is decided
                         # on (review94: a p90 claim's runs were shown only at p95)
                         "each_run_ms": {percentile_label(p): {
                             "base": [level(r, p) for r in base_runs],
                             "candidate": [level(r, p) for r in cand_runs]}
                             for p in sorted({*spec.budgets_ms, 0.95})},
                         # ... and the level each claim compares, run by run: the trimmed mean of
                         # the log percentile of 20 batches (``stats.run_statistic``; review194 F1:
                         # six runs' p95s within a few percent beside an interval of [-25%, +42%],
                         # the numbers it was built from shown nowhere)
                         "levels_ms": {percentile_label(p): {
                             side: [None if level(r, p) is None else float(np.exp(stats.run_statistic(r.latency_ms, p)))
                                    for r in runs] for side, runs in (("base", base_runs), ("candidate", cand_runs))}
                             for p in sorted(spec.budgets_ms)},
                         # what a null level is, run by run (review107 F6: a hang's runs read "raised")
                         # (null where nothing stood in: review111 F3)
                         "stand_in": {side: [view.stand_in(r.summary) if r.summary.get("failed") or
                                             r.summary.get("timed_out") else None for r in runs]
                                      for side, runs in (("base", base_runs), ("candidate", cand_runs))}}
        # Every run's lag, and the runs whose generator fell behind: the table's lag column is the
        # latest candidate run's, and a 1-s stall of an earlier one was seen nowhere (review122 F7).
        summary["ab"]["lag_p99_ms"] = {side: [None if r.lag_ms is None or not r.lag_ms.size
                                              else float(np.quantile(r.lag_ms, 0.99)) for r in runs]
                                       for side, runs in (("base", base_runs), ("candidate", cand_runs))}
        behind = {side: [k for k, x in enumerate(stalls, 1) if x is not None]
                  for side, stalls in (("base", verdict_ab.base_behind), ("candidate", verdict_ab.cand_behind))}
        if any(behind.values()):
            summary["ab"]["fell_behind"] = behind
            # ... and what the rule read: the delay the lateness added to completions, against the
            # lag limit (review182 F1: a base run at lag p99 1.06 ms was not named where a candidate
            # run at 1.03 was; the delays, 0.993 and 1.034 against 1 ms, were printed nowhere)
            summary["ab"]["delay_p99_ms"] = {
                side: [None if r.start_delay_ms is None or not r.start_delay_ms.size
                       else float(np.quantile(r.start_delay_ms, 0.99)) for r in runs]
                for side, runs in (("base", base_runs), ("candidate", cand_runs))}
            summary["ab"]["lag_limit_ms"] = gate.lag_limit_ms(spec, policy)
            # how long each such run's process was found stopped, for the row's words (review152 F2:
            # the row named only a request count where a stop and a stall left the A/B undecided)
            stops = {side: [x.frozen_ms if x is not None and x.stopped.startswith(gate.STOPPED) else 0.0
                            for x in stalls]
                     for side, stalls in (("base", verdict_ab.base_behind), ("candidate", verdict_ab.cand_behind))}
            if any(x for xs in stops.values() for x in xs):  # 0.0 where no stop is named (``Stall.stopped``)
                summary["ab"]["frozen_ms"] = stops
        # the runs the claims were decided without (review142 F3: a stall far beyond the others')
        aside = gate.set_aside(verdict_ab).aside
        if aside:
            summary["ab"]["set_aside"] = {side: [k for s, k, _, _ in aside if s == side] for side in ("base", "candidate")}
        controls = {name: {"base": [(r.summary.get("control") or {}).get(name) for r in base_runs],
                           "candidate": [(r.summary.get("control") or {}).get(name) for r in cand_runs]}
                    for name in {k for r in (*base_runs, *cand_runs) for k in (r.summary.get("control") or {})}}
        # Other processes' load run by run, both sides: the busy line said the last candidate
        # run's figure "during these runs" (review69).
        loads = {side.name: [((run.get(summary["nodeid"]) or {}).get("telemetry") or {}).get("other_cpu_load")
                  for run in side.summaries] for side in (session.base, session.cand)}
        if any(x is not None for v in loads.values() for x in v):
            summary["ab"]["other_cpu_load"] = loads
        # Where each run that hung was stuck, both sides (review113 F4: the JSON kept only the
        # latest candidate run's stacks; a hung base's, or an earlier run's, were printed only).
        hung = hung_runs(session, summary["nodeid"])
        if hung:
            summary["ab"]["hung"] = hung
        if controls:
            # The machine's speed run by run: interleaving cancels what lasts across a pair of
            # runs, not what moves between them (an independent check saw a CPU loop move 2.8x
            # between runs 30 s apart on a shared VM; the report said the load "fell alike").
            summary["ab"]["control_ms"] = controls
        # The runs the claims were decided with: a run set aside for its stall is left out of the
        # stages' medians, the own times' sign and the base drawn in the HTML report too (review189
        # F3/F4: a stalled base run drew the base's p95 at 922 ms beside a REGRESSED +109%, and a
        # stage row read "p95 +9391%").
        out_runs = {side: {k for s, k, _, _ in aside if s == side} for side in ("base", "candidate")}
        kept_base = [r for k, r in enumerate(base_runs, 1) if k not in out_runs["base"]]
        kept_cand = [r for k, r in enumerate(cand_runs, 1) if k not in out_runs["candidate"]]
        stages = stage_medians(kept_base, kept_cand)
        if stages:
            summary["ab"]["stages"] = stages
            from pytest_gpuslo.reports.view import grew_most

            grew = grew_most(stages)
            if grew:
                summary["ab"]["stage_grew"] = grew
        # each run's mean own time a request, both sides: evidence the latencies' spread may hide
        # (review188 F3: base 2.07 2.06 1.95 ms, candidate 2.74 2.76 2.90, and the A/B said nothing)
        owns = {side: [r.summary.get("own_mean_ms") for r in runs]
                for side, runs in (("base", kept_base), ("candidate", kept_cand))}
        if all(isinstance(x, (int, float)) and math.isfinite(x) and x > 0 for xs in owns.values() for x in xs):
            summary["ab"]["own_mean_ms"] = owns
        if isinstance(summary.get("series"), dict):
            from pytest_gpuslo import series

            summary["series"] = dict(summary["series"])
            left = f", less run {', '.join(map(str, sorted(out_runs['base'])))} (set aside)" if out_runs["base"] else ""
            summary["series"]["reference"] = series.reference(
                "base", [r.latency_ms for r in kept_base], confidence=1.0 - policy.alpha,
                percentiles=spec.budgets_ms, stages={k: v["base"] for k, v in stages.items()} or kept_base[-1].stages,
                timeout_s=spec.timeout_s,
                detail=f"{len(base_runs)} runs of {sha[:12]}{left}, interleaved with the candidate's on this machine")
        out.append(summary)
    return out

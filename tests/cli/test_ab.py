"""gpuslo ab: the base revision and the working tree, interleaved on this machine, decided on
those same-day pairs (virtual-time backend: the verdicts are exact on a busy machine)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

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


def gpuslo(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest_gpuslo", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=600)


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
    assert result["ab"]["runs"] == [3, 3]
    assert "REGRESSED" in (root / "ab.md").read_text()
    assert again.returncode == 1  # decided again from the kept runs, nothing run
    assert json.loads((root / "again.json").read_text())["results"][0]["verdict"] == result["verdict"]
    assert "run 3/3, candidate" in done.stderr
    assert not (root / ".gpuslo").exists()  # the A/B runs never touch the project's store
    assert subprocess.run(["git", "worktree", "list"], cwd=root, capture_output=True,
                          text=True).stdout.count("\n") == 1  # the base's worktree is gone


def test_an_unchanged_working_tree_is_not_regressed(tmp_path: Path) -> None:
    root = repo(tmp_path)
    done = gpuslo("ab", "HEAD", "--runs", "2", "--json", "ab.json", "--", "-q", cwd=root)

    assert done.returncode == 0, done.stdout + done.stderr
    (claim,) = json.loads((root / "ab.json").read_text())["results"][0]["verdict"]["baseline"]
    assert claim["outcome"] in ("OK", "INCONCLUSIVE") and claim["name"].startswith("p95 vs base ")


@pytest.mark.parametrize(("args", "says"), [
    (["no-such-rev"], "git rev-parse --verify no-such-rev^{commit}"),
    (["HEAD", "--runs", "0"], "--runs 0: give at least 1"),
    (["HEAD", "--", "-k", "nothing_matches"], "without SLO results"),
])
def test_an_ab_run_that_cannot_be_made_exits_2_and_says_why(tmp_path: Path, args: list[str], says: str) -> None:
    done = gpuslo("ab", *args, cwd=repo(tmp_path))

    assert done.returncode == 2 and says in done.stderr, done.stderr


def test_outside_a_git_checkout_ab_says_so(tmp_path: Path) -> None:
    done = gpuslo("ab", "HEAD", cwd=tmp_path)

    assert done.returncode == 2 and "git rev-parse --show-toplevel" in done.stderr

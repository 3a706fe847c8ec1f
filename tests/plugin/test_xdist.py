"""pytest-xdist: workers pinned to GPUs, results aggregated once on the controller."""

from __future__ import annotations

import itertools
import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pytest_gpuslo.backends import devices as lanes

PROBE = """
import os, pytest

@pytest.mark.parametrize("k", range(4))
@pytest.mark.slo(p95_ms=500, rate_hz=400, requests=200)
def test_lane(slo_request, k, worker_id):
    if slo_request.index == 0:
        with open(f"seen-{worker_id}-{k}.txt", "w") as fh:
            fh.write(os.environ.get("CUDA_VISIBLE_DEVICES", "unset"))
"""


def test_workers_are_pinned_home_gpu_first(simtester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """With --gpuslo-devices=all each worker sees its home GPU as device 0, the others after it.
    (Virtual time: 200 requests for a p95 are too few to PASS and INCONCLUSIVE, two warnings each,
    on any machine.)"""
    gputester = simtester
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "5,7")
    gputester.makepyfile(PROBE)
    result = gputester.runpytest_subprocess("-n", "2", "--gpuslo-devices=all", "-p", "no:cacheprovider",
                                            "--gpuslo-json=r.json")

    result.assert_outcomes(passed=4, warnings=8)
    seen = {p.name.split("-")[1]: p.read_text() for p in gputester.path.glob("seen-*.txt")}
    assert {"gw0": "5,7", "gw1": "7,5"} == seen
    doc = json.loads((gputester.path / "r.json").read_text())
    assert 4 == len(doc["results"])  # aggregated once, on the controller
    assert 1 == result.stdout.str().count("gpuslo: tail-latency SLOs")


def test_auto_starts_one_worker_per_gpu(simtester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """-n auto with --gpuslo-devices=all: as many workers as visible GPUs."""
    gputester = simtester
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2,3,4")
    gputester.makepyfile(PROBE)
    result = gputester.runpytest_subprocess("-n", "auto", "--gpuslo-devices=all", "-p", "no:cacheprovider")

    result.assert_outcomes(passed=4, warnings=8)
    result.stdout.fnmatch_lines(["*3 workers [[]4 items[]]*"])


def test_unknown_device_index_is_a_usage_error(simtester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """Asking for GPU 3 on a machine that shows 2 names the range."""
    gputester = simtester
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    gputester.makepyfile(PROBE)
    result = gputester.runpytest_subprocess("-n", "2", "--gpuslo-devices=0,3", "-p", "no:cacheprovider")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--gpuslo-devices=0,3: this machine has 2 GPU(s) visible (indices 0..1)*"])
    # review168 F1: with no GPU visible, "(indices 0..-1); pick from those"
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    none = gputester.runpytest_subprocess("-n", "2", "--gpuslo-devices=0,1", "-p", "no:cacheprovider")
    assert none.ret == pytest.ExitCode.USAGE_ERROR
    none.stderr.fnmatch_lines(["*--gpuslo-devices=0,1: this machine has no GPU visible (CUDA_VISIBLE_DEVICES='' "
                               "hides them); leave --gpuslo-devices out here, or use 'all'*"])
    # review172 F6: without -n it pinned nothing, without a word
    alone = gputester.runpytest_subprocess("--gpuslo-devices=0,1", "-p", "no:cacheprovider", "--collect-only")
    alone.stdout.fnmatch_lines(["*GpuSloWarning: --gpuslo-devices=0,1 pins pytest-xdist workers to GPUs, and this run "
                                "has none (no -n): it does nothing here*"])


def test_lane_rotation_and_worker_index() -> None:
    """gw3 on four GPUs gets 3,0,1,2."""
    assert "3,0,1,2" == lanes.rotated([0, 1, 2, 3], lanes.worker_index("gw3"))
    assert "1,0" == lanes.rotated([0, 1], 5)


def test_lanes_hold_in_sorted_order_and_release(tmp_path: object) -> None:
    """Locks are taken in sorted order (no deadlock between two multi-GPU tests) and released."""
    with lanes.hold(["0000:02:00.0", "0000:01:00.0"]):
        names = sorted(p.name for p in lanes.lock_dir().glob("0000_0*.lock"))
    assert "0000_01_00.0.lock" in names and "0000_02_00.0.lock" in names
    with lanes.hold(["0000:01:00.0"]):  # released: taking it again does not block
        pass


def test_a_cpu_test_taking_the_lane_another_process_just_let_go_waits_for_it_to_go_quiet(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """review100 restart F3: under -n 2 on 2 CPUs the sibling worker ending its session (a second
    of a CPU) was read as a busy neighbour, and the test measured second was never saved."""
    from pytest_gpuslo.backends import cpu

    monkeypatch.setattr(cpu.os, "cpu_count", lambda: 2)

    w = cpu.SETTLE_WINDOW_S

    def process(loads: list[float]) -> Callable[[int], float | None]:
        """A process's CPU seconds as it keeps ``loads[k]`` CPUs busy in window k, then ends."""
        seconds = iter([0.0, *itertools.accumulate(x * w for x in loads)])
        return lambda pid: next(seconds, None)

    assert cpu.settle(4242, used=process([1.0, 1.0, 0.1]), sleep=lambda s: None) == 3 * w
    assert cpu.settle(4242, used=process([1.0] * 100), sleep=lambda s: None) == cpu.SETTLE_MAX_S  # then measures
    assert cpu.settle(4242, used=process([1.0]), sleep=lambda s: None) == 2 * w  # it ended
    assert cpu.settle(4242, used=lambda pid: None, sleep=lambda s: None) == 0.0  # gone already
    assert cpu.process_cpu_seconds(os.getpid()) is not None
    # ... only where another process released the lane moments ago, not after this process's own test
    monkeypatch.setattr(lanes, "lock_dir", lambda: tmp_path)  # this suite's other worker holds the real one
    settled: list[int] = []
    monkeypatch.setattr(cpu, "settle", lambda pid: settled.append(pid) or 0.0)
    with cpu.hold(1):
        pass
    with cpu.hold(1):
        pass
    assert settled == []
    released = lanes.lock_dir() / f"{cpu.HOST_LANE}.released"
    released.write_text(f"{os.getpid() + 1}\t{time.time():.3f}", encoding="utf-8")
    assert lanes.released_by_another(cpu.HOST_LANE, cpu.SETTLE_AFTER_S) == os.getpid() + 1
    with cpu.hold(1):
        pass
    assert settled == [os.getpid() + 1]
    released.write_text(f"{os.getpid() + 1}\t{time.time() - 60:.3f}", encoding="utf-8")
    assert lanes.released_by_another(cpu.HOST_LANE, cpu.SETTLE_AFTER_S) is None


def test_a_worker_says_a_wait_for_another_pytest_but_not_for_its_sibling(
        simtester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory,
        held_elsewhere: Any) -> None:
    """Session 15's leftover: under xdist a test waiting for a lane another pytest held sat silent
    (workers' terminal output is not shown).  A worker now says it on its stderr; the waits of
    sibling workers for each other, which -n 2 makes by design, stay unsaid."""
    shared = tmp_path_factory.mktemp("locks")
    monkeypatch.setenv("TMPDIR", str(shared))
    monkeypatch.setattr("tempfile.tempdir", str(shared))
    started = shared / "foreign-started"
    simtester.makeconftest(
        "import pathlib\n"
        "from pytest_gpuslo import backends\n"
        "from pytest_gpuslo.backends import devices\n"
        "backends.REGISTRY.setdefault('virtual', 'pytest_gpuslo.backends.virtual')\n"
        "devices.NOTICE_AFTER_S = 0.1\n"
        "def pytest_runtest_call(item):\n"
        "    if item.name == 'test_foreign':\n"
        f"        pathlib.Path({str(started)!r}).touch()\n")
    simtester.makepyfile("""
        import time
        import pytest
        from pytest_gpuslo.backends import devices

        @pytest.mark.parametrize("k", range(2))
        def test_sibling(k):
            with devices.hold(["sibling-lane"]):
                time.sleep(0.6)

        def test_foreign():
            with devices.hold(["foreign-lane"]):
                pass
    """)
    def other_pytest() -> Any:
        lanes.set_wait_notice(None, owner="another-invocation")
        return lanes.hold(["foreign-lane"])

    def release_once_waited(release: threading.Event) -> None:
        # The other pytest lets go 2 s (20 notice periods) after test_foreign began waiting, not
        # at a fixed time: on a busy machine two workers took longer than 4 s to start (the lane
        # was free by then and nothing was said).
        while not release.is_set() and not started.exists():
            time.sleep(0.05)
        release.wait(2.0)
        release.set()

    try:
        with held_elsewhere(other_pytest, 120.0) as release:
            threading.Thread(target=release_once_waited, args=(release,), daemon=True).start()
            result = simtester.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider")
    finally:
        lanes.set_wait_notice(None)

    result.assert_outcomes(passed=3)
    err = result.stderr.str()
    assert err.count("gpuslo: waiting for GPU foreign-lane, held by process") == 1, err
    assert "sibling-lane" not in err, err
    assert "[gw0] gpuslo: waiting" in err or "[gw1] gpuslo: waiting" in err, err


def test_a_wait_is_said_when_a_sibling_hands_the_lane_to_another_pytest(
        tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    """review44: the holder was looked at once, after NOTICE_AFTER_S; a sibling worker holding it
    then made the whole wait silent, though another pytest's 20 s test took the lane next.  Each
    new foreign holder is said once; the sibling never."""
    import os
    import tempfile
    import threading
    import time

    import filelock

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(lanes, "NOTICE_AFTER_S", 0.05)
    said: list[str] = []
    lanes.set_wait_notice(said.append, owner="this-invocation")
    holder_file = lanes.lock_dir() / "x.holder"
    taken, done = threading.Event(), threading.Event()

    def others() -> None:
        with filelock.FileLock(lanes.lock_dir() / "x.lock"):
            holder_file.write_text(f"{os.getpid()}\t10:00:00\tt.py::test_sibling\tthis-invocation")
            taken.set()
            time.sleep(0.4)
            holder_file.write_text(f"{os.getpid()}\t10:00:01\tt.py::test_foreign\tanother-invocation")
            time.sleep(0.4)
        done.set()

    t = threading.Thread(target=others)
    t.start()
    try:
        taken.wait(10)
        with lanes.hold(["x"]):
            got_it = done.is_set()
    finally:
        t.join()
        lanes.set_wait_notice(None)

    assert got_it and len(said) == 1, said
    assert "held by process" in said[0] and "(running t.py::test_foreign)" in said[0], said


def test_a_test_a_timer_ends_says_its_run_s_length_and_its_wait_for_a_lane(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory,
        held_elsewhere: Any) -> None:
    """review179 F4, F6: pytest-timeout's ``--timeout`` under an SLO test's 7 s of arrivals said only
    "Timeout (>3.0s)"; under -n 2 most of 8 s went to the host lane a sibling held, unsaid.  The
    line before a verdict says how long the arrivals last and how long the test waited for a lane,
    which the timer counts too, and a timeout to give it."""
    pytest.importorskip("pytest_timeout")
    shared = tmp_path_factory.mktemp("locks")
    monkeypatch.setenv("TMPDIR", str(shared))
    monkeypatch.setattr("tempfile.tempdir", str(shared))
    pytester.makepyfile("""
        import time
        import pytest

        @pytest.mark.slo(p95_ms=50, rate_hz=100, requests=700, streams=2, backend="cpu")
        def test_long(slo_request):
            time.sleep(0.001)
    """)

    def other_pytest() -> Any:
        lanes.set_wait_notice(None, owner="another-invocation")
        return lanes.hold(["cpu-host"])

    try:
        with held_elsewhere(other_pytest, 120.0) as release:  # never let go before the timer
            result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--timeout=6")
            release.set()
    finally:
        lanes.set_wait_notice(None)
    result.assert_outcomes(failed=1)
    line = next(ln for ln in result.outlines if ln.startswith("FAILED test_a_test_a_timer") and "before a verdict" in ln)
    assert "Timeout (>6.0s) from pytest-timeout. (its arrivals alone last about 7.3 s, it waited " in line, line
    assert "s for a lane another SLO test held (one measures at a time on a host), which the timeout counts" in line
    assert "give SLO tests a timeout above their run and that wait, e.g. @pytest.mark.timeout(" in line


def test_a_timer_ending_an_slo_run_call_names_the_run(pytester: pytest.Pytester) -> None:
    """review181 F5: pytest-timeout ended a test inside ``slo_run`` (about 10.5 s of arrivals under a
    3-s timer), and no report said a word: the JSON held no result and no error.  The test is named
    as an SLO test that failed before a verdict, with its run's length; a test whose slo_run call
    returned and whose own assertion then fails is not."""
    pytest.importorskip("pytest_timeout")
    pytester.makepyfile("""
        import time
        import pytest

        @pytest.mark.timeout(2)
        def test_cut(slo_run):
            slo_run(lambda r: time.sleep(0.001), rate_hz=100, requests=700, streams=2, p95_ms=50, backend="cpu")

        def test_asserts(slo_run):
            slo_run(lambda r: None, rate_hz=200, requests=100, streams=2, p95_ms=50, backend="cpu")
            assert False, "the user's own assertion"
    """)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--gpuslo-json=r.json")
    result.assert_outcomes(failed=2)
    line = next(ln for ln in result.outlines if ln.startswith("FAILED test_a_timer_ending") and "test_cut" in ln
                and "before a verdict" in ln)
    assert "Timeout (>2.0s) from pytest-timeout. (its arrivals alone last about 7" in line, line
    errors = json.loads((pytester.path / "r.json").read_text())["errors"]
    assert [e["nodeid"] for e in errors] == ["test_a_timer_ending_an_slo_run_call_names_the_run.py::test_cut"], errors

"""The pipeline fixture's CPU fallback: same stages and overlap report as on the GPU."""

from __future__ import annotations

from pathlib import Path

import pytest


def test_pipeline_runs_on_cpu_with_stage_and_overlap_report(gputester: pytest.Pytester) -> None:
    """slo_pipeline on the CPU backend times h2d/compute/d2h and reports an overlap figure.  (Real
    threads; the budget is far above the work, so no verdict depends on the machine's load.)"""
    gputester.makepyfile(
        """
        import numpy as np, pytest

        @pytest.fixture
        def pipe(slo_pipeline):
            return slo_pipeline(lambda d_in, d_out: np.multiply(d_in, 2, out=d_out),
                                (1024,), (1024,), "float32")

        @pytest.mark.slo(p95_ms=5000, rate_hz=2000, requests=400, streams=2)
        def test_pipe(slo_request, pipe):
            out = pipe(slo_request, np.full(1024, slo_request.index, np.float32))
            assert out[0] == 2 * slo_request.index
        """
    )
    result = gputester.runpytest("-v", "--junitxml=out.xml")

    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*stage h2d*", "*stage compute*", "*stage d2h*",
                                 "*copy/compute overlap*% of copy time*"])


def test_gpu_only_fixtures_skip_with_reason_without_a_gpu(gputester: pytest.Pytester) -> None:
    """slo_streams and slo_occupancy skip and say why on a machine without CUDA."""
    from pytest_gpuslo.backends import probe

    if probe("cuda") is None:
        pytest.skip("this machine has a usable GPU")
    gputester.makepyfile("def test_s(slo_streams):\n    pass\n\ndef test_o(slo_occupancy):\n    pass\n")
    result = gputester.runpytest("-rs")

    result.assert_outcomes(skipped=2)
    result.stdout.fnmatch_lines(["*slo_streams needs the CUDA backend:*", "*slo_occupancy needs the CUDA backend:*"])


def test_a_cupy_that_fails_to_import_is_a_reason_and_auto_runs_on_the_cpu(
        gputester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """review85 #5: a CuPy raising at import (a broken install) crashed every SLO test under
    backend=auto, and gpuslo probe printed a traceback; only ImportError was caught."""
    import sys

    if "cupy" in sys.modules:
        pytest.skip("CuPy is imported in this process")
    (gputester.path / "fake" / "cupy").mkdir(parents=True)
    (gputester.path / "fake" / "cupy" / "__init__.py").write_text("raise RuntimeError('libcudart.so.13: broken')\n")
    gputester.makepyfile("import pytest\n\n@pytest.mark.slo(p95_ms=500, rate_hz=500, requests=100)\n"
                         "def test_s(slo_request):\n    pass\n")
    monkeypatch.setenv("PYTHONPATH", str(gputester.path / "fake"))
    result = gputester.runpytest_subprocess("-o", "gpuslo_backend=auto", "-W", "ignore::pytest_gpuslo.GpuSloWarning")

    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*backend=cpu*"])
    from pytest_gpuslo.backends import cuda

    sys.path.insert(0, str(gputester.path / "fake"))
    try:
        assert cuda.probe() == ("CuPy is installed but failed to import (RuntimeError: libcudart.so.13: broken); "
                                "reinstall it (pip install --force-reinstall cupy-cuda13x, or the wheel for your CUDA)")
    finally:
        sys.path.remove(str(gputester.path / "fake"))
        sys.modules.pop("cupy", None)


def test_pytest_skip_or_fail_inside_a_body_ends_the_test_as_pytest_says(gputester: pytest.Pytester) -> None:
    """review86: pytest.skip() in an SLO body FAILed the test as "1000 of 1000 requests raised ...
    Skipped", with an unhandled exception in the priming thread; now the test is skipped (or fails,
    for pytest.fail), from the first call or any later one."""
    gputester.makepyfile(
        """
        import pytest

        @pytest.mark.slo(p95_ms=500, rate_hz=500, requests=100, streams=2)
        def test_skips(slo_request):
            pytest.skip("needs the model file")

        @pytest.mark.slo(p95_ms=500, rate_hz=500, requests=100, streams=2)
        def test_skips_later(slo_request):
            if slo_request.index == 30:
                pytest.skip("model unloaded")

        @pytest.mark.slo(p95_ms=500, rate_hz=500, requests=100, streams=2)
        def test_fails(slo_request):
            if slo_request.index == 30:
                pytest.fail("bad output")
        """
    )
    result = gputester.runpytest("-rsf", "-W", "ignore::pytest_gpuslo.GpuSloWarning", "-W",
                                 "error::pytest.PytestUnhandledThreadExceptionWarning")

    result.assert_outcomes(skipped=2, failed=1)
    result.stdout.fnmatch_lines(["SKIPPED*needs the model file", "SKIPPED*model unloaded"])
    result.stdout.fnmatch_lines(["FAILED *::test_fails before a verdict: Failed: bad output"])
    assert "requests raised" not in result.stdout.str()


def test_batched_service_under_an_slo(gputester: pytest.Pytester) -> None:
    """slo_batcher puts a batcher in front of a step; 16 lanes feed it; batches really form.

    (With 4 lanes each blocked ~2 ms per request, 2,000/s is the lanes' own capacity: an unstable
    queue that failed this test about one run in ten.  The budget is far above the work: what is
    checked is the batching and its stages, never a verdict that a busy machine could change.)"""
    gputester.makepyfile(
        """
        import time, pytest

        SIZES = []

        def step(batch):
            SIZES.append(len(batch))
            time.sleep(0.001)
            return [x * 2 for x in batch]

        @pytest.fixture
        def model(slo_batcher):
            return slo_batcher(step, max_size=16, max_wait_ms=2.0, target_size=4)

        @pytest.mark.slo(p95_ms=5000, rate_hz=2000, requests=1000, streams=16, backend="cpu")
        def test_batched(slo_request, model):
            assert model(slo_request.index, timeout=5, request=slo_request, stage="model") == 2 * slo_request.index

        def test_batches_formed():
            assert max(SIZES) > 1 and sum(SIZES) == 1000 + 50 + 1
        """
    )
    result = gputester.runpytest("-v")

    assert 2 == result.parseoutcomes()["passed"]
    result.stdout.fnmatch_lines(["*stage model.queue*n=1000*", "*stage model.service*n=1000*"])


def test_a_batcher_made_in_the_body_is_refused_and_a_fixed_target_can_be_asked_for(gputester: pytest.Pytester) -> None:
    """review106: slo_batcher(...) called in the body made a batcher and a thread per request, and
    batches of one, silently; slo_batcher(p, adaptive=False, target_size=4) raised FixedBatcher's
    raw TypeError."""
    gputester.makepyfile(
        """
        import pytest

        def step(batch):
            return list(batch)

        @pytest.mark.slo(p95_ms=5000, rate_hz=200, requests=200, streams=2, backend="cpu")
        def test_made_in_body(slo_request, slo_batcher):
            slo_batcher(step)(slo_request.index, timeout=5)

        def test_fixed_target(slo_batcher):
            b = slo_batcher(step, adaptive=False, target_size=4, max_wait_ms=1.0)
            assert (b.target, b(7, timeout=5)) == (4, 7)
            with pytest.raises(Exception, match="its settings are max_size and max_wait_ms"):
                slo_batcher(step, adaptive=False, colour="red")
        """
    )
    result = gputester.runpytest("-v", "-W", "ignore::pytest_gpuslo.GpuSloWarning")

    assert result.parseoutcomes().get("passed") == 1 and result.parseoutcomes().get("failed") == 1
    # review184 F2: the untimed priming call meets the misuse first, and the run ends there
    result.stdout.fnmatch_lines(["*slo_batcher(...) called inside an SLO body (the priming call before request 0): "
                                 "that makes a new batcher*"])


def test_staged_service_reports_queue_and_service_per_stage(gputester: pytest.Pytester) -> None:
    """A pre-processing pool, a batcher and a post step: each stage's queue and service times are
    reported, so the stage that holds the tail is visible.  (Real threads: the pool's 5 ms sleeps
    against the model's 0.2 ms leave a 25x margin that no scheduler delay closes; the budget is far
    above the work.)"""
    gputester.makepyfile(
        """
        import time, pytest
        from pytest_gpuslo.batching import AdaptiveBatcher, Stage, StagedService

        def tokenize(text):
            time.sleep(0.005)  # the "cheap" pre-processor: 5 ms on a 2-worker pool
            return len(text)

        def model(batch):
            time.sleep(0.0002)
            return [n * 2 for n in batch]

        @pytest.fixture
        def service():
            s = StagedService(Stage.pool("tokenize", tokenize, workers=2),
                              Stage.batched("model", AdaptiveBatcher(model, max_size=16, max_wait_ms=1.0)),
                              Stage.inline("post", lambda n: n + 1))
            yield s
            s.close()

        @pytest.mark.slo(p95_ms=5000, rate_hz=250, requests=500, streams=8, backend="cpu")
        def test_service(slo_request, service):
            assert service("abcd", request=slo_request) == 9
        """
    )
    result = gputester.runpytest("-v", "--gpuslo-json=r.json")

    assert 1 == result.parseoutcomes()["passed"]
    import json

    stages = json.loads((gputester.path / "r.json").read_text())["results"][0]["stages"]
    assert {"admission", "tokenize.queue", "tokenize.service", "model.queue", "model.service", "post"} == set(stages)
    assert stages["tokenize.service"]["p50_ms"] > stages["model.service"]["p50_ms"]
    assert stages["tokenize.queue"]["p95_ms"] > stages["post"]["p95_ms"]


def test_staged_service_propagates_a_stage_error() -> None:
    """An exception in a stage reaches the caller; the service can be closed afterwards."""
    from pytest_gpuslo.batching import Stage, StagedService

    def broken(x):  # type: ignore[no-untyped-def]
        raise KeyError("vocab")

    s = StagedService(Stage.pool("pre", broken, workers=1), Stage.inline("post", lambda x: x))
    with pytest.raises(KeyError, match="vocab"):
        s("x")
    s.close()
    with pytest.raises(Exception, match="at least one Stage"):
        StagedService()


def test_graph_replay_runs_the_body_eagerly_on_the_cpu_backend(gputester: pytest.Pytester) -> None:
    """slo_graph works without a GPU: fn(lane) runs per request, with the request's lane."""
    gputester.makepyfile(
        """
        import collections, pytest

        CALLS = collections.Counter()

        @pytest.fixture
        def step(slo_graph):
            replay = slo_graph(lambda lane: CALLS.update([lane]))
            assert replay.captured is False
            return replay

        @pytest.mark.slo(p95_ms=5000, rate_hz=500, requests=200, streams=2, backend="cpu")
        def test_replayed(slo_request, step):
            step(slo_request)

        def test_every_request_ran_on_a_lane():
            assert set(CALLS) <= {0, 1} and sum(CALLS.values()) >= 200
        """
    )
    result = gputester.runpytest()

    assert 2 == result.parseoutcomes()["passed"]


def test_without_cupy_the_reason_leads_with_the_missing_gpu(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """review134 F2: on a laptop with no NVIDIA GPU and a CPU build of torch, the skip said only
    "install CuPy", which would not help; where a driver is loaded, CuPy is the fix, torch bodies
    included."""
    import sys
    import types

    from pytest_gpuslo.backends import cuda

    missing = ImportError("No module named 'cupy'")
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(cuda, "NVIDIA_DRIVER_FILES", (str(tmp_path / "no-such-file"), str(tmp_path / "no-dev")))
    cpu_torch = types.SimpleNamespace(version=types.SimpleNamespace(cuda=None))
    monkeypatch.setitem(sys.modules, "torch", cpu_torch)
    no_gpu = cuda.no_cupy_reason(missing)
    assert no_gpu.startswith("no NVIDIA GPU here: no NVIDIA driver is loaded (")
    assert "the installed PyTorch is a CPU build" in no_gpu and "install pytest-gpuslo[cuda13]" in no_gpu

    monkeypatch.setitem(sys.modules, "torch", types.SimpleNamespace(version=types.SimpleNamespace(cuda="13.0")))
    assert "CPU build" not in cuda.no_cupy_reason(missing)

    (tmp_path / "no-dev").write_text("")  # WSL2's /dev/dxg, say: a GPU without /proc/driver/nvidia
    with_gpu = cuda.no_cupy_reason(missing)
    assert with_gpu.startswith("CuPy is not installed (No module named 'cupy'); the cuda backends time GPU work")
    assert "PyTorch bodies included" in with_gpu


def test_slo_pinned_refuses_bad_arguments_in_its_own_words(gputester: pytest.Pytester) -> None:
    """review164 F7: a bad dtype or a negative shape read numpy's own errors, 10**12 elements
    numpy's "Unable to allocate 7.28 TiB", and like="jax" gave a numpy array without a word."""
    gputester.makepyfile(
        """
        import pytest

        @pytest.mark.parametrize("args, kwargs", [
            (((4,), "notadtype"), {}), (((-1,),), {}), (((10**12,),), {}), (((4,),), {"like": "jax"}),
            (((4.5,),), {}), (((4,), object), {}), (((4,), str), {}), (((4,), None), {}),
            (((4,), [("a", "f4")]), {}), ((10**400,), {})])
        def test_bad(slo_pinned, args, kwargs):
            slo_pinned(*args, **kwargs)

        def test_good(slo_pinned):
            assert slo_pinned((4, 2), "uint8").shape == (4, 2)
            assert slo_pinned(3, bool).dtype == bool
        """
    )
    result = gputester.runpytest("-rf")

    result.assert_outcomes(passed=1, failed=10)
    result.stdout.fnmatch_lines([
        "*InvalidArgument: slo_pinned((4,), 'notadtype'): 'notadtype' is no numeric dtype numpy knows (a pinned "
        "buffer holds numbers to copy); give one such as*",
        "*InvalidArgument: slo_pinned((-1,), ...): the shape is a whole number of elements or a tuple of them, none "
        "negative*",
        "*InvalidArgument: slo_pinned((1000000000000,), 'float32') asks for 3*GiB, more than this machine's * GiB of "
        "memory; give a smaller shape*",
        "*InvalidArgument: slo_pinned(..., like='jax'): like is 'numpy' (an array) or 'torch' (a tensor)*",
        "*InvalidArgument: slo_pinned((4.5,), ...): the shape is a whole number*",
        # review166 F5: object, str, None (read as float64) and structured dtypes were taken
        "*InvalidArgument: slo_pinned((4,), <class 'object'>): <class 'object'> is no numeric dtype*",
        "*InvalidArgument: slo_pinned((4,), <class 'str'>): <class 'str'> is no numeric dtype*",
        "*InvalidArgument: slo_pinned((4,), None): None is no numeric dtype*",
        "*InvalidArgument: slo_pinned((4,), [[]('a', 'f4')[]]): * is no numeric dtype*",
        # review172 F4: 10**400 elements ended in Python's OverflowError
        "*InvalidArgument: slo_pinned(1000*... (401 characters), 'float32') asks for about 10^400 bytes*"],
        consecutive=False)

"""Every framework timed on the request's own stream, or flagged: PyTorch, CuPy + PyTorch, JAX on
cuda-sync, escaped work, per-lane pinned buffers, torch graphs and NVTX, through the plugin.

Each inner run is a subprocess: PyTorch and JAX cannot be imported twice into one process."""

from __future__ import annotations

import pytest

TORCH_BODY = """
import cupy, pytest
torch = pytest.importorskip("torch")

a = torch.randn(4096, 4096, device="cuda", dtype=torch.bfloat16)
b = torch.randn(4096, 4096, device="cuda", dtype=torch.bfloat16)
out = torch.empty_like(a)

def work():
    for _ in range(8):
        torch.matmul(a, b, out=out)

events = {}
# Made before the run: building two events inside the body is host work before its first launch
# that the service time counts and torch's events do not (50-90 us on H200 hosts).
pool = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)) for _ in range(400)]

def timed(req):
    # torch's own events, on torch's current stream: the lane's, set by the backend
    e0, e1 = pool[req.index]
    e0.record(); work(); e1.record()
    events[req.index] = (e0, e1)

def test_as_written(slo_run):
    import numpy as np
    r = slo_run(timed, rate_hz=100, streams=2, requests=300, p95_ms=50, backend="cuda")
    torch.cuda.synchronize()
    idx = [i for i in sorted(events) if i >= r.warmup + 30]
    own = np.median([events[i][0].elapsed_time(events[i][1]) for i in idx])
    service = np.median(r.service_ms[np.asarray(idx) - r.warmup])
    assert r.telemetry["frameworks"] == ["cupy", "torch"] and r.telemetry["escapes"] == []
    # The service time also holds the body's host time before its first launch and after its
    # last (Python, torch's current-stream lookup for e0.record: 80-90 us on H200 hosts), which is
    # part of the request's latency but not of torch's events.  The bug this guards against read
    # 0.15x of torch's time.
    assert 0.97 * own <= service <= own + 0.2, (service, own)
    assert r.quantile(0.5) >= 0.9 * own
"""


def test_a_torch_body_is_timed_on_the_lanes_stream(pytester: pytest.Pytester) -> None:
    """The issue's case: 8 bf16 matmuls (1.4 ms of GPU time) once measured 0.229 ms and PASSed."""
    pytester.makepyfile(TORCH_BODY)
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_escaped_work_is_flagged_never_passed(pytester: pytest.Pytester) -> None:
    """A body launching on a side stream (priming check) or the legacy stream (sampled check)."""
    pytester.makepyfile("""
        import cupy as cp, pytest
        from pytest_gpuslo.testing import spin_kernel
        spin = spin_kernel()
        side = cp.cuda.Stream(non_blocking=True)

        @pytest.mark.slo(p95_ms=50, rate_hz=500, requests=4000, streams=2, backend="cuda")
        def test_side():
            with side:
                spin((1,), (1,), (cp.int64(300_000),))

        @pytest.mark.slo(p95_ms=50, rate_hz=500, requests=4000, streams=2, backend="cuda")
        def test_legacy():
            with cp.cuda.Stream.null:
                spin((1,), (1,), (cp.int64(300_000),))
        """)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-W", "ignore::UserWarning")

    said = result.stdout.str()[-4000:]  # what the plugin said, should this ever fail again
    assert "PASS" not in "\n".join(line for line in result.stdout.lines if "::test_" in line and "  " in line), said
    assert "GPU work escaped the request's stream" in result.stdout.str(), said


def test_jax_on_cuda_sync_waits_for_the_result(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        import os, time
        os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
        import numpy as np, pytest
        jax = pytest.importorskip("jax")
        import jax.numpy as jnp

        x = jnp.ones((4096, 4096), jnp.float32)
        f = jax.jit(lambda v: v @ v)

        def test_jax(slo_run):
            for _ in range(3):
                f(x).block_until_ready()
            t = time.perf_counter(); f(x).block_until_ready(); own = (time.perf_counter() - t) * 1e3
            r = slo_run(lambda req: f(x), rate_hz=50, requests=200, p95_ms=500, backend="cuda-sync")
            assert r.quantile(0.5) >= 0.8 * own, (r.quantile(0.5), own)
            assert r.machine["backend"] == "cuda-sync"
        """)
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_pinned_buffers_asked_for_in_the_body_are_reused_per_lane(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        import cupy as cp

        def test_in_body(slo_run, slo_pinned):
            seen = set()
            dev = [cp.zeros(16384, cp.float32) for _ in range(4)]
            def body(req):
                h = slo_pinned((16384,), "float32")
                seen.add(id(h))
                dev[req.lane].set(h)
            r = slo_run(body, rate_hz=5000, streams=4, requests=4000, p95_ms=50, backend="cuda")
            assert len(seen) <= 4 * 8  # a ring per lane, not one per request
            assert r.n == 4000
            # (what reuse buys, a lag p99 in tens of microseconds at 20,000/s, is a timing claim:
            # benchmarks/gpu_validation.py measures it; a 1-ms bound here failed once on a machine
            # just started, docs/validation.md)
        """)
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_torch_graph_replay_and_nvtx_ranges(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        import pytest
        torch = pytest.importorskip("torch")
        xs = [torch.ones(1024, device="cuda") for _ in range(2)]

        def fn(lane):
            xs[lane].mul_(2.0)

        def test_graph(slo_run, slo_graph):
            replay = slo_graph(fn, lanes=2)
            for x in xs:
                x.fill_(1.0)
            r = slo_run(replay, rate_hz=200, streams=2, requests=20, p95_ms=50, backend="cuda")
            torch.cuda.synchronize()
            # each lane's graph ran once per request of that lane: priming (lanes 0, 1, 0: three
            # escape checks at least, cuda.priming_order), the warm-up request (index 0, lane 0)
            # and 20 measured ones (10 each)
            assert [float(x[0]) for x in xs] == [2.0 ** 13, 2.0 ** 11]
            assert r.telemetry["escapes"] == []
        """)
    pytester.runpytest_subprocess("-p", "no:cacheprovider", "--gpuslo-nvtx").assert_outcomes(passed=1)


def test_a_hidden_sync_that_holds_the_launcher_fails_its_budget(pytester: pytest.Pytester) -> None:
    """Bodies that wait for their own 1 ms kernel (a hidden sync: .item(), .cpu()) keep the
    launching thread 1 ms each, and 1,200 a second cannot be sent: the latency from the schedule
    grows through the run.  That queue is the code's (each body's host time is measured from its
    dispatch to its return): FAIL naming the bodies' host time, where it was INCONCLUSIVE ("the
    load generator fell behind") and the test passed (issue 14, session 10's second check, N3)."""
    pytester.makepyfile("""
        import cupy as cp
        from pytest_gpuslo.testing import spin_kernel
        spin = spin_kernel()

        def test_synced(slo_run):
            def body(req):
                spin((1,), (1,), (cp.int64(1_000_000),))
                cp.cuda.get_current_stream().synchronize()
            r = slo_run(body, rate_hz=1200, streams=2, requests=3000, p95_ms=20, backend="cuda")
            said = " ".join(r.verdict.reasons)
            assert r.verdict.outcome == "FAIL", said
            assert "each body kept the launching thread" in said, said
        """)
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)

"""The pytest plugin (``-p gpuslo``): options, the ``slo`` marker, fixtures and the summary.

Loading it is cheap: it imports pytest, the stdlib and the pure ``spec``/``options`` modules;
numpy, the runner and any GPU library load only when an SLO test runs, so ``pytest --help`` never
imports CuPy.  State lives in ``StashKey``s; results ride on ``report.user_properties`` so the
controller aggregates the same way with or without pytest-xdist.
"""

from __future__ import annotations

import argparse
import inspect
import json
import warnings
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Final

import pytest

from pytest_gpuslo import options as _options
from pytest_gpuslo import spec as _spec
from pytest_gpuslo.errors import BackendUnavailable, GpuSloWarning, InvalidArgument, WorkloadError

if TYPE_CHECKING:
    from pytest_gpuslo.gate import Policy
    from pytest_gpuslo.measurement import Request
    from pytest_gpuslo.result import SloResult

MARKER: Final = "slo"
PROPERTY: Final = "gpuslo"
MARKER_HELP: Final = (
    "slo(p95_ms=..., p99_ms=..., rate_hz=..., streams=1, arrivals='poisson', duration_s=... | "
    "requests=..., warmup_s=... | warmup_requests=..., seed=..., timeout_s=10, throughput_hz=..., "
    "backend='auto'): run the test body once per request of an open-loop arrival schedule and "
    "gate its tail latency (pytest-gpuslo)."
)


class SloSession:
    """Per-run state and the runtime hooks; registered in ``pytest_configure``."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.settings = _read_settings(config)
        self.summaries: list[dict[str, Any]] = []
        self.written: list[Any] = []
        self._resolved_backend: dict[str, str] = {}

    @property
    def policy(self) -> "Policy":
        from pytest_gpuslo.gate import Policy

        return Policy(alpha=self.settings["alpha"][0], inconclusive=self.settings["inconclusive"][0],
                      allow_disturbances=bool(self.settings["allow_throttle"][0]))

    def layer(self, source: str) -> dict[str, Any]:
        """Measurement settings given in one layer ("ini" or "CLI")."""
        return {key: value for key, (value, src) in self.settings.items() if src == source}

    def resolve(self, marker_kwargs: dict[str, Any], nodeid: str) -> _spec.SloSpec:
        return _spec.resolve(marker_kwargs, nodeid=nodeid, ini=self.layer("ini"), cli=self.layer("CLI"))

    def backend_name(self, requested: str) -> str:
        if requested not in self._resolved_backend:
            from pytest_gpuslo import backends

            self._resolved_backend[requested] = backends.resolve_name(requested)
        return self._resolved_backend[requested]

    @pytest.hookimpl
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        # Validate every marker once; an error is raised at that test's setup, so one typo never
        # aborts the session.
        for item in items:
            marker = item.get_closest_marker(MARKER)
            if marker is None:
                continue
            try:
                if not isinstance(item, pytest.Function):
                    raise InvalidArgument(f"{item.nodeid}: the slo marker works on test functions only.")
                if inspect.iscoroutinefunction(item.obj):
                    raise InvalidArgument(
                        f"{item.nodeid}: the slo marker does not support async tests; make the body "
                        f"synchronous or call your coroutine through asyncio.run in a handler.")
                kwargs = _spec.validate_marker(marker.args, marker.kwargs, item.nodeid)
                if not any(k in kwargs for k in (*_spec.PERCENTILE_ARGS, "throughput_hz")):
                    raise InvalidArgument(
                        f"{item.nodeid}: the slo marker promises nothing; add a latency budget such "
                        f"as p95_ms=40 or a minimum throughput_hz=100.")
                item.stash[SPEC_KEY] = self.resolve(kwargs, item.nodeid)
                if "slo_payloads" not in item.fixturenames:
                    # Set up the payloads fixture for every SLO test, requested or not.
                    item.fixturenames.append("slo_payloads")
            except InvalidArgument as exc:
                item.stash[ERROR_KEY] = str(exc)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        error = item.stash.get(ERROR_KEY, None)
        if error is not None:
            pytest.fail(f"bad slo marker: {error}", pytrace=False)
        spec = item.stash.get(SPEC_KEY, None)
        if spec is not None:
            self._require_backend(spec.backend)

    def _require_backend(self, requested: str) -> str:
        from pytest_gpuslo import backends

        name = self.backend_name(requested)
        reason = backends.probe(name)
        if reason is not None:
            pytest.skip(f"gpuslo backend {name!r} unavailable: {reason}")
        return name

    @pytest.hookimpl(tryfirst=True)
    def pytest_pyfunc_call(self, pyfuncitem: pytest.Function) -> bool | None:
        spec = pyfuncitem.stash.get(SPEC_KEY, None)
        if spec is None:
            return None
        function = pyfuncitem.obj
        names = list(inspect.signature(function).parameters)
        base = {name: pyfuncitem.funcargs[name] for name in names if name in pyfuncitem.funcargs}
        payloads = pyfuncitem.funcargs.get("slo_payloads")
        wants_request = "slo_request" in base

        def body(req: "Request") -> None:
            if wants_request:
                function(**{**base, "slo_request": req})
            else:
                function(**base)

        result = self.run(spec, body, nodeid=pyfuncitem.nodeid, payloads=payloads)
        attach(pyfuncitem, result)
        self.enforce(result, pyfuncitem)
        return True

    def run(self, spec: _spec.SloSpec, body: Callable[["Request"], Any], *, nodeid: str,
            payloads: Any = None) -> "SloResult":
        """Run one SLO measurement and decide it (shared by the marker and ``slo_run``)."""
        from pytest_gpuslo import arrivals, backends
        from pytest_gpuslo.measurement import execute, plan

        name = self._require_backend(spec.backend)
        backend = backends.load(name)
        planned = plan(spec)
        base = self.baseline_input(nodeid, backend.describe(), spec, arrivals.fingerprint(planned[0]))
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        progress = None
        expected_s = (spec.requests or 0) / spec.rate_hz + (spec.duration_s or 0.0)
        if reporter is not None and self.config.get_verbosity() > 0 and expected_s >= 10:
            def progress(done: int, total: int) -> None:
                reporter.write(f"\n  gpuslo: {nodeid}: {done}/{total} requests dispatched")
        failure = None
        try:
            with self.gpu_lanes(name, spec):
                result = execute(spec, body, backend=backend, payloads=payloads, nodeid=nodeid,
                                 policy=self.policy, progress=progress, baseline=base, planned=planned)
        except WorkloadError as exc:
            failure = f"{nodeid}: {exc}"
        if failure is not None:
            pytest.fail(failure, pytrace=False)
        self.record(result)
        if self.settings["html"][0]:
            result.extra["series"] = result.series(baseline_ms=None if base is None else base.latency_ms)
        return result

    # -- baselines ---------------------------------------------------------------------------
    def store(self) -> Any:
        from pytest_gpuslo.baseline import Store

        compare = self.settings["compare"][0]
        root = compare if compare else self.settings["baseline_dir"][0]
        return Store(self.config.rootpath / root)

    def baseline_input(self, nodeid: str, machine: dict[str, Any], spec: _spec.SloSpec,
                       fingerprint: str) -> Any:
        """The stored baseline of this test for this machine class, ready for the gate."""
        if self.settings["no_baseline"][0]:
            return None
        from pytest_gpuslo.baseline import differing_keys
        from pytest_gpuslo.errors import BaselineFormatError
        from pytest_gpuslo.gate import BaselineInput

        store = self.store()
        problem = None
        try:
            found = store.get(nodeid, machine)
        except BaselineFormatError as exc:
            problem = str(exc)
        if problem is not None:
            pytest.fail(f"{nodeid}: {problem}", pytrace=False)
        if found is None:
            return None
        latest = found.latest
        paired = found.schedule_fingerprint == fingerprint
        sigma, source = _sigma_run(found, spec, paired)
        sigma_df = None  # an estimated sigma_run is already a 90% upper limit
        return BaselineInput(latest.latency_ms, paired, sigma, source, 1, sigma_df,
                             tuple(differing_keys(found.machine, machine)), str(found.path),
                             latest.date, latest.commit)

    def record(self, result: "SloResult") -> None:
        """Keep the run as the last result (for ``gpuslo accept``) and save it under --gpuslo-save."""
        from pytest_gpuslo.baseline import Baseline, Run, Store, git_commit, now_iso

        run = Run(result.latency_ms, now_iso(), git_commit(self.config.rootpath),
                  {k: {"n": v.n, "p50_ms": v.p50_ms, "p95_ms": v.p95_ms} for k, v in result.stages.items()},
                  {"verdict": result.verdict.outcome if result.verdict else None,
                   "offered_hz": result.offered_hz, "throughput_hz": result.throughput_hz})
        base = Baseline(result.nodeid, result.spec.as_dict(), result.spec.seed,
                        result.schedule_fingerprint, result.machine, [run], result.telemetry)
        root = self.config.rootpath / self.settings["baseline_dir"][0]
        try:
            Store(root / ".last").save(base, replace=True, history=False)
        except OSError:
            pass
        if not self.settings["save"][0]:
            return
        why_not = _unsaveable(result)
        if why_not:
            result.extra["baseline_saved"] = f"not saved: {why_not}"
            return
        path, what = Store(root).save(base)
        result.extra["baseline_saved"] = f"{what}: {path.relative_to(self.config.rootpath)}"

    def gpu_lanes(self, backend: str, spec: _spec.SloSpec) -> Any:
        """Hold this test's GPUs (device 0 and the next spec.devices - 1) against other workers."""
        import contextlib

        if backend != "cuda":
            if spec.devices > 1:
                pytest.skip(f"devices={spec.devices} needs the CUDA backend")
            return contextlib.nullcontext()
        import cupy as cp

        from pytest_gpuslo import lanes

        count = cp.cuda.runtime.getDeviceCount()
        if count < spec.devices:
            pytest.skip(f"devices={spec.devices}: this process sees {count} GPU(s) "
                        f"(CUDA_VISIBLE_DEVICES={lanes.visible_env()!r})")
        return lanes.hold([cp.cuda.Device(i).pci_bus_id for i in range(spec.devices)])

    def device_list(self) -> list[str]:
        """The GPUs --gpuslo-devices hands to xdist workers, as CUDA_VISIBLE_DEVICES entries."""
        chosen = self.settings["devices"][0]
        if not chosen:
            return []
        from pytest_gpuslo import lanes

        parent = lanes.visible_env()
        base = [d for d in parent.split(",") if d.strip()] if parent else \
            [str(i) for i in range(lanes.count_gpus())]
        if chosen == "all":
            return base
        picked = [int(i) for i in chosen.split(",")]
        if max(picked) >= len(base):
            raise pytest.UsageError(
                f"--gpuslo-devices={chosen}: this machine has {len(base)} GPU(s) visible "
                f"(indices 0..{len(base) - 1}); pick from those or use 'all'.")
        return [base[i] for i in picked]

    def backend_for(self, item: pytest.Item) -> str:
        """The backend a test's fixtures should use: its marker's, else the run's setting."""
        spec = item.stash.get(SPEC_KEY, None)
        return self.backend_name(spec.backend if spec is not None else self.settings["backend"][0])

    def enforce(self, result: "SloResult", item: pytest.Item) -> None:
        """Fail the test on FAIL; on INCONCLUSIVE fail or warn as the policy says."""
        from pytest_gpuslo.report import failure_message

        assert result.verdict is not None
        outcome = result.verdict.outcome
        if outcome == "PASS":
            return
        message = failure_message(result.summary())
        if outcome == "FAIL" or self.policy.inconclusive == "fail":
            pytest.fail(message, pytrace=False)
        _, lineno, _ = item.location
        warnings.warn_explicit(GpuSloWarning(message), GpuSloWarning, filename=str(item.path),
                               lineno=(lineno or 0) + 1)

    @pytest.hookimpl
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "call":
            return
        for name, value in report.user_properties:
            if name == PROPERTY:
                self.summaries.append(json.loads(str(value)))

    @pytest.hookimpl
    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.summaries:
            return
        from pytest_gpuslo.report import summary_lines

        tr = terminalreporter
        tr.write_sep("=", "gpuslo: tail-latency SLOs")
        machines = {json.dumps(s.get("machine", {}), sort_keys=True) for s in self.summaries}
        for m in sorted(machines):
            info = json.loads(m)
            desc = ", ".join(f"{k}={v}" for k, v in info.items() if v not in (None, ""))
            tr.write_line(f"device: {desc}")
        seed = self.settings.get("seed", (None, ""))[0]
        tr.write_line(f"seed: {seed if seed is not None else 'from each node id'}; "
                      f"alpha {self.policy.alpha:g}; inconclusive -> {self.policy.inconclusive}")
        for line in summary_lines(self.summaries, verbose=self.config.get_verbosity()):
            tr.write_line(line)
        holm = self.holm()
        if len(holm) > 1:
            sig = sum(1 for adj in holm.values() if adj <= self.policy.alpha)
            tr.write_line(f"suite: {len(holm)} blocking claims (budget FAIL and baseline REGRESSED "
                          f"directions), {sig} significant after Holm at FWER {self.policy.alpha:g}")
            shown = [(c, a) for c, a in sorted(holm.items(), key=lambda kv: kv[1]) if a < 0.5][:10]
            for claim, adj in shown:
                mark = "significant" if adj <= self.policy.alpha else "not significant after Holm"
                tr.write_line(f"  {adj:.3g}  {claim}  ({mark})")
        saved = [(s["nodeid"], s["baseline_saved"]) for s in self.summaries if s.get("baseline_saved")]
        for nodeid, what in saved:
            tr.write_line(f"baseline {nodeid}: {what}")
        for path in self.written:
            tr.write_line(f"gpuslo wrote {path}")

    def holm(self) -> dict[str, float]:
        """Holm-adjusted p-values of every blocking claim (FAIL direction of budgets, REGRESSED
        direction of baselines) across the SLO tests of this run."""
        from pytest_gpuslo.stats import holm

        claims: list[tuple[str, float]] = []
        for s in self.summaries:
            v = s.get("verdict") or {}
            for c in v.get("checks", []):
                if c.get("p_fail") is not None:
                    claims.append((f"{s['nodeid']} {c['name']}", float(c["p_fail"])))
            for b in v.get("baseline", []):
                if b.get("p_regress") is not None:
                    claims.append((f"{s['nodeid']} {b['name']}", float(b["p_regress"])))
        adjusted = holm([p for _, p in claims])
        return {name: adj for (name, _), adj in zip(claims, adjusted)}

    @pytest.hookimpl
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        # Reports are written once, on the controller (a pytest-xdist worker has "workerinput").
        if hasattr(self.config, "workerinput") or not self.summaries:
            return
        import os

        from pytest_gpuslo import reports
        from pytest_gpuslo.baseline import git_commit

        s = self.settings
        if s["json"][0]:
            doc = reports.results_json(self.summaries, holm=self.holm())
            self.written.append(reports.write(s["json"][0], reports.dumps(doc)))
        md = reports.markdown(self.summaries)
        if s["md"][0]:
            self.written.append(reports.write(s["md"][0], md))
        step = os.environ.get("GITHUB_STEP_SUMMARY")
        if step:
            with open(step, "a", encoding="utf-8") as fh:
                fh.write(md)
        if s["html"][0]:
            from pytest_gpuslo import html

            self.written.append(reports.write(s["html"][0], html.render(self.summaries)))
        if s["benchmark_json"][0]:
            doc = reports.benchmark_json(self.summaries, commit=git_commit(self.config.rootpath))
            self.written.append(reports.write(s["benchmark_json"][0], reports.dumps(doc)))


def _sigma_run(found: Any, spec: _spec.SloSpec, paired: bool) -> tuple[float, str]:
    """Run-to-run sd of ln q_p: estimated from the stored runs when there are 3 or more
    (statistics.md §2.5.3), else a conservative default."""
    from pytest_gpuslo import stats

    p = max(spec.budgets_ms) if spec.budgets_ms else 0.95
    # Stored runs share the baseline's schedule (history resets when it changes).
    sigma = stats.run_to_run_sd([r.latency_ms for r in found.runs if r.latency_ms.size], p,
                                same_schedule=True)
    if sigma is not None:
        floor = 0.005 if paired else 0.01
        return max(sigma, floor), f"90% upper limit from {len(found.runs)} runs"
    if paired:
        return 0.01, "default for a replayed schedule (fewer than 3 stored runs)"
    return 0.03, "conservative default (fewer than 3 stored runs)"


def _unsaveable(result: "SloResult") -> str:
    """Why a run should not become a baseline ('' when it may)."""
    v = result.verdict
    if v is None:
        return "no verdict"
    if "generator_late" in v.conditions:
        return "the load generator fell behind"
    if "disturbed" in v.conditions:
        return "the GPU was disturbed during the run"
    if "nonstationary" in v.conditions:
        return "the run was not stationary"
    if result.failed.any() or result.timed_out.any():
        return "requests failed or timed out"
    return ""


SESSION_KEY: Final = pytest.StashKey[SloSession]()
SPEC_KEY: Final = pytest.StashKey[_spec.SloSpec]()
ERROR_KEY: Final = pytest.StashKey[str]()
OCCUPANCY_KEY: Final = pytest.StashKey[list[dict[str, Any]]]()


def attach(item: pytest.Item, result: "SloResult") -> None:
    """Put a result's summary on the item's user properties.

    Reports copy them, so the summary reaches the controller under pytest-xdist, the JUnit XML
    file (as a ``gpuslo`` property) and the terminal summary by one path.
    """
    summary = result.summary()
    occupancy = item.stash.get(OCCUPANCY_KEY, None)
    if occupancy:
        summary["occupancy"] = occupancy
    item.user_properties.append((PROPERTY, json.dumps(summary, default=str)))


@pytest.hookimpl
def pytest_addoption(parser: pytest.Parser) -> None:
    # Help texts: capitalised, no trailing period (pytest's convention).
    group = parser.getgroup("gpuslo", "tail-latency SLO gates (pytest-gpuslo)")
    for opt in _options.OPTIONS:
        group.addoption(opt.option, dest=opt.ini, metavar=opt.metavar, default=None,
                        type=opt.parse, help=opt.help)
        parser.addini(opt.ini, help=opt.help, default=None)
    for opt in _options.FLAGS:
        group.addoption(opt.option, dest=opt.ini, action="store_true", default=None, help=opt.help)
        parser.addini(opt.ini, help=opt.help, default=None)


def _read_settings(config: pytest.Config) -> dict[str, tuple[Any, str]]:
    """Setting key -> (value, source) with default < ini < CLI; a bad ini value is a usage error."""
    out: dict[str, tuple[Any, str]] = {}
    for opt in (*_options.OPTIONS, *_options.FLAGS):
        value, source = opt.default, "default"
        raw_ini = config.getini(opt.ini)
        if raw_ini not in (None, "", []):
            try:
                value, source = opt.parse(str(raw_ini).strip()), "ini"
            except argparse.ArgumentTypeError as exc:
                raise pytest.UsageError(
                    f"ini key {opt.ini} = {raw_ini!r} (in {config.inipath}): {exc}; fix it there or "
                    f"override it with {opt.option}.") from None
        cli = config.getoption(opt.ini)
        if cli is not None:
            value, source = cli, "CLI"
        out[opt.key] = (value, source)
    return out


class XdistHooks:
    """pytest-xdist integration, registered only when xdist is installed: one worker per GPU."""

    def __init__(self, session: SloSession) -> None:
        self.session = session

    @pytest.hookimpl
    def pytest_configure_node(self, node: Any) -> None:
        devices = self.session.device_list()
        if devices:
            from pytest_gpuslo import lanes

            home = lanes.worker_index(node.workerinput["workerid"])
            order = lanes.rotated(list(range(len(devices))), home).split(",")
            node.workerinput["gpuslo_visible"] = ",".join(devices[int(i)] for i in order)



@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    # xdist resolves "-n auto" before pytest_configure, so this is a module-level hook.
    if config.getoption("gpuslo_devices", None) is None and not config.getini("gpuslo_devices"):
        return None
    devices = SloSession(config).device_list()
    return len(devices) or None


@pytest.hookimpl
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_HELP)
    worker = getattr(config, "workerinput", None)
    if worker and worker.get("gpuslo_visible"):
        # Pin this xdist worker to its GPU before anything initialises CUDA: its home GPU becomes
        # device 0, the others follow (a devices=2 test uses its home and the next).
        import os

        os.environ["CUDA_VISIBLE_DEVICES"] = worker["gpuslo_visible"]
    session = SloSession(config)
    if session.settings["html"][0]:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise pytest.UsageError(
                "--gpuslo-html needs matplotlib to draw its charts; install it with "
                "pip install 'pytest-gpuslo[html]' (or pip install matplotlib).") from None
    backend, source = session.settings["backend"]
    if backend == "cuda" and source != "default":
        from pytest_gpuslo import backends

        reason = backends.probe("cuda")
        if reason is not None:
            where = "--gpuslo-backend=cuda" if source == "CLI" else "ini gpuslo_backend = cuda"
            raise pytest.UsageError(
                f"{where} asks for the GPU backend, but it cannot run here: {reason}. "
                f"Use --gpuslo-backend=auto (GPU tests then skip) or run on a machine with a GPU.")
    config.stash[SESSION_KEY] = session
    config.pluginmanager.register(session, "gpuslo-session")
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(XdistHooks(session), "gpuslo-xdist")


@pytest.hookimpl
def pytest_report_header(config: pytest.Config) -> list[str] | None:
    session = config.stash.get(SESSION_KEY, None)
    if session is None:
        return None
    s = session.settings
    seed = s["seed"][0]
    devices = f", devices={s['devices'][0]}" if s["devices"][0] else ""
    return [f"gpuslo: backend={s['backend'][0]} ({s['backend'][1]}), "
            f"seed={seed if seed is not None else 'per node id'}, alpha={s['alpha'][0]:g}, "
            f"inconclusive={s['inconclusive'][0]}{devices}"]


def _session(request: pytest.FixtureRequest) -> SloSession:
    return request.config.stash[SESSION_KEY]


@pytest.fixture
def slo_request(request: pytest.FixtureRequest) -> "Request":
    """The current request inside the body of a ``@pytest.mark.slo`` test.

    The plugin replaces this value on every call of the body; the value set up here is only a
    placeholder (index -1).
    """
    if request.node.get_closest_marker(MARKER) is None:
        pytest.fail(
            f"{request.node.nodeid}: the slo_request fixture exists only in a test marked "
            f"@pytest.mark.slo(...); add the marker, or use slo_run(handler, ...) whose handler "
            f"receives the request.", pytrace=False)
    from pytest_gpuslo.measurement import Recorder, Request

    return Request(-1, 0.0, None, Recorder(0))


@pytest.fixture
def slo_payloads() -> Any:
    """Payloads handed to requests as ``req.payload``: override in a conftest.

    Return a sequence (cycled in order), a callable ``index -> payload``, or ``None``.
    """
    return None


@pytest.fixture
def slo_arrivals(request: pytest.FixtureRequest) -> Any:
    """The arrival process of the current ``@pytest.mark.slo`` test, as an object."""
    from pytest_gpuslo import arrivals

    spec = request.node.stash.get(SPEC_KEY, None)
    if spec is None:
        pytest.fail(f"{request.node.nodeid}: slo_arrivals needs a test marked @pytest.mark.slo.",
                    pytrace=False)
    return arrivals.parse(spec.arrivals, rate_hz=spec.rate_hz)


@pytest.fixture
def slo_run(request: pytest.FixtureRequest) -> Callable[..., "SloResult"]:
    """Run a handler open-loop and return its ``SloResult`` for custom assertions.

    ``slo_run(handler, rate_hz=200, streams=4, requests=2000, p95_ms=40)`` takes the marker's
    arguments; ``handler(req)`` is one request.  The verdict is in ``result.verdict``; nothing
    fails by itself, so assert what you need (``assert result.passed``).
    """
    session = _session(request)
    item = request.node
    calls = [0]

    def run(handler: Callable[["Request"], Any], /, *, payloads: Any = None, **kwargs: Any) -> "SloResult":
        __tracebackhide__ = True
        calls[0] += 1
        nodeid = item.nodeid if calls[0] == 1 else f"{item.nodeid}[slo_run {calls[0]}]"
        where = f"{nodeid}: slo_run"
        if not callable(handler):
            raise InvalidArgument(f"{where}: handler={handler!r} is not callable; pass a function "
                                  f"taking one request.")
        try:
            checked = _spec.validate_marker((), kwargs, where)
            spec = session.resolve(checked, nodeid)
        except InvalidArgument as exc:
            raise InvalidArgument(str(exc)) from None
        try:
            result = session.run(spec, handler, nodeid=nodeid, payloads=payloads)
        except BackendUnavailable as exc:
            pytest.skip(str(exc))
        attach(item, result)
        return result

    return run


def _require_cuda(what: str) -> None:
    from pytest_gpuslo import backends

    reason = backends.probe("cuda")
    if reason is not None:
        pytest.skip(f"{what} needs the CUDA backend: {reason}")


@pytest.fixture
def slo_streams() -> Callable[[int], list[Any]]:
    """``slo_streams(n)``: n non-blocking CUDA streams from the session's pool (created once)."""
    _require_cuda("slo_streams")
    from pytest_gpuslo.backends import cuda

    return cuda.streams


@pytest.fixture
def slo_pinned(request: pytest.FixtureRequest) -> Iterator[Callable[..., Any]]:
    """``slo_pinned(shape, dtype)``: a host buffer, page-locked on the CUDA backend.

    Allocate in set-up, never inside the measured body (pinning costs about 0.35 ms/MiB).  Every
    buffer stays referenced until the test ends, after all its copies completed, so the pool can
    never hand a block still being written by DMA to another allocation.
    """
    from pytest_gpuslo import backends

    ops = backends.device_ops(_session(request).backend_for(request.node))
    kept: list[Any] = []

    def make(shape: Any, dtype: Any = "float32") -> Any:
        buf = ops.host(shape, dtype, pinned=True)
        kept.append(buf)
        return buf

    yield make
    kept.clear()
    ops.release()


@pytest.fixture
def slo_pipeline(request: pytest.FixtureRequest) -> Iterator[Callable[..., Any]]:
    """``slo_pipeline(compute, in_shape, out_shape, dtype, pinned=True)`` -> ``Pipeline``.

    Call the pipeline in the body as ``pipe(slo_request, host_input)``: H2D, ``compute(d_in,
    d_out)`` and D2H on the request's stream, each a timed stage; the summary then reports per-stage
    p50/p95 and the HtoD/DtoH overlap with compute.
    """
    from pytest_gpuslo import backends
    from pytest_gpuslo.pipeline import Pipeline

    session = _session(request)
    name = session.backend_for(request.node)
    ops = backends.device_ops(name)
    spec = request.node.stash.get(SPEC_KEY, None)
    made: list[Pipeline] = []

    def make(compute: Callable[[Any, Any], Any], in_shape: Any, out_shape: Any,
             dtype: Any = "float32", *, lanes: int | None = None, pinned: bool = True,
             depth: int = 2) -> Pipeline:
        n = lanes if lanes is not None else (spec.streams if spec is not None else 1)
        pipe = Pipeline(ops, compute, in_shape, out_shape, dtype, n, pinned=pinned, depth=depth)
        made.append(pipe)
        return pipe

    yield make
    made.clear()
    ops.release()


class _EagerReplay:
    """The CPU backend's stand-in for a graph: ``fn(lane)`` runs as it is, each request."""

    captured = False

    def __init__(self, fn: Callable[[int], Any], lanes: int) -> None:
        self.fn, self.lanes = fn, lanes

    def __call__(self, request: Any) -> None:
        self.fn(max(request.lane, 0) % self.lanes)


@pytest.fixture
def slo_graph(request: pytest.FixtureRequest) -> Callable[..., Any]:
    """``slo_graph(fn, lanes=None)``: replay ``fn(lane)`` as a captured CUDA graph per lane.

    Multi-kernel bodies spend most of their host time launching (about 6 us a kernel); a graph
    issues them all with one call.  ``fn(lane)`` enqueues the kernels on the current stream using
    lane ``lane``'s buffers; the body copies its input into them, then calls ``replay(slo_request)``.
    ``lanes`` defaults to the test's ``streams``.  On the CPU backend ``fn(lane)`` simply runs, so
    the same test works without a GPU (``replay.captured`` says which).
    """
    session = _session(request)
    spec = request.node.stash.get(SPEC_KEY, None)

    def make(fn: Callable[[int], Any], lanes: int | None = None) -> Any:
        n = int(lanes if lanes is not None else (spec.streams if spec is not None else 1))
        if n < 1:
            raise InvalidArgument(f"slo_graph: lanes={lanes!r} must be at least 1.")
        if session.backend_for(request.node) != "cuda":
            return _EagerReplay(fn, n)
        from pytest_gpuslo.backends.cuda import GraphReplay

        return GraphReplay(fn, n)

    return make


@pytest.fixture
def slo_occupancy(request: pytest.FixtureRequest) -> Callable[..., dict[str, Any]]:
    """``slo_occupancy(raw_kernel, block, dynamic_smem=0)``: theoretical occupancy and its limiter.

    The figures are also reported beside the test's verdict (``-v``, JSON).
    """
    _require_cuda("slo_occupancy")
    from pytest_gpuslo.backends.cuda import occupancy

    item = request.node

    def measure(kernel: Any, block: int, dynamic_smem: int = 0) -> dict[str, Any]:
        result = occupancy(kernel, block, dynamic_smem)
        item.stash.setdefault(OCCUPANCY_KEY, []).append(result)
        return result

    return measure


@pytest.fixture
def slo_batcher() -> Iterator[Callable[..., Any]]:
    """``slo_batcher(process, adaptive=True, **settings)``: a batcher in front of ``process``.

    ``process(batch) -> results`` runs on the batcher's worker thread (CuPy work there uses the
    GPU on either backend); call the batcher from the body of an SLO test
    (``batcher(slo_request.payload)``) to measure the batched service as a whole.  Batchers are
    drained and closed at teardown.  The call waits for its batch, so give such tests
    ``backend="cpu"`` lanes: on the CUDA backend the body runs on the launcher, and a waiting body
    serialises it (it still works, and shows as schedule lag).
    """
    from pytest_gpuslo.batching import AdaptiveBatcher, FixedBatcher

    made: list[Any] = []

    def make(process: Callable[..., Any], *, adaptive: bool = True, **settings: Any) -> Any:
        cls = AdaptiveBatcher if adaptive else FixedBatcher
        b = cls(process, **settings)
        made.append(b)
        return b

    yield make
    for b in made:
        b.close(drain=True)

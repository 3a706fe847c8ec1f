"""The pytest entry point (``-p gpuslo``): options, the ``slo`` marker, and the session's registration.

The hooks here only declare and wire; ``session.SloSession`` runs SLO tests and reports, and
``fixtures`` holds the fixtures (imported below so that pytest finds them).  Loading the plugin
imports pytest, the stdlib and the pure ``spec``/``options`` modules: ``pytest --help`` imports
neither numpy nor a GPU library.
"""

from __future__ import annotations

import os
from typing import Any, Final

import pytest

from pytest_gpuslo import options as _options
from pytest_gpuslo import reports as _reports
from pytest_gpuslo.fixtures import (  # noqa: F401  (re-exported: pytest collects fixtures from here)
    slo_arrivals,
    slo_batcher,
    slo_graph,
    slo_occupancy,
    slo_payloads,
    slo_pinned,
    slo_pipeline,
    slo_request,
    slo_run,
    slo_streams,
)
from pytest_gpuslo.session import SESSION_KEY, SloSession, ini_source

_reports.note_open_fds()  # before pytest's capture takes descriptors of its own (review133 F1)

MARKER_HELP: Final = (
    "slo(p50_ms= | p90_ms= | p95_ms= | p99_ms= | p999_ms=..., rate_hz=..., streams=1, "
    "arrivals='poisson', duration_s=... | requests=... | max_duration_s=..., warmup_s=... | "
    "warmup_requests=..., seed=..., timeout_s=10, throughput_hz=..., backend='auto', devices=1): "
    "run the test body once per request of an open-loop arrival schedule and gate its tail latency "
    "(pytest-gpuslo; README 'Marker reference')."
)


@pytest.hookimpl
def pytest_addoption(parser: pytest.Parser) -> None:
    # Help texts: capitalised, no trailing period (pytest's convention).
    group = parser.getgroup("gpuslo", "tail-latency SLO gates (pytest-gpuslo)")
    for opt in _options.OPTIONS:
        group.addoption(opt.option, dest=opt.ini, metavar=opt.metavar, default=None,
                        type=opt.parse, help=opt.help)
        parser.addini(opt.ini, help=opt.help, type=_ini_type(opt.ini_type), default=None)
    for opt in _options.FLAGS:
        group.addoption(opt.option, dest=opt.ini, action="store_true", default=None, help=opt.help)
        parser.addini(opt.ini, help=opt.help, type=_ini_type(opt.ini_type), default=None)


def _ini_type(kind: type) -> Any:
    """The ini type to register, so that pytest 9's native ``[tool.pytest]`` table takes TOML
    booleans and numbers: ``float | str`` from pytest 9.2 (a string still reaches the option's own
    parser and its message), the plain tag from 8.4, and strings (bool for flags) before that."""
    if kind is str:
        return "string"
    if pytest.version_tuple >= (9, 2):
        return kind | str
    if kind is bool or pytest.version_tuple >= (8, 4):
        return kind.__name__
    return "string"


@pytest.hookimpl
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_HELP)
    worker = getattr(config, "workerinput", None)
    if worker and worker.get("gpuslo_visible"):
        # Pin this xdist worker to its GPU before anything initialises CUDA: its home GPU becomes
        # device 0, the others follow (a devices=2 test uses its home and the next).
        os.environ["CUDA_VISIBLE_DEVICES"] = worker["gpuslo_visible"]
    session = SloSession(config)
    _check_environment()
    _check_report_needs(session)
    _check_backend(session)
    session.check_paths()
    session.say_lane_waits()  # on an xdist worker, only waits for another pytest's tests
    config.stash[SESSION_KEY] = session
    config.pluginmanager.register(session, "gpuslo-session")
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(XdistHooks(session), "gpuslo-xdist")
    if session.value("devices") and not worker and not config.getoption("numprocesses", None):
        # review172 F6: --gpuslo-devices=0,1 without -n did nothing, without a word
        from pytest_gpuslo.session import GpuSloWarning

        config.issue_config_time_warning(GpuSloWarning(
            f"--gpuslo-devices={session.value('devices')} pins pytest-xdist workers to GPUs, and this run has none "
            f"(no -n): it does nothing here; run with -n N (or -n auto), or leave it out"), stacklevel=2)


#: The environment variables ``baseline.check_environment`` reads (``baseline.SESSION_ENV``, ``NOW_ENV``).
CHECKED_ENV: Final = ("GPUSLO_SESSION", "GPUSLO_NOW")


def _check_environment() -> None:
    """A bad $GPUSLO_SESSION or $GPUSLO_NOW is a usage error now, not a FAIL after each measurement.
    Neither set, nothing to check: the store's module (numpy, scipy: over a second) is not imported
    by every pytest start, ``--help`` included (review119 F6)."""
    if not any(name in os.environ for name in CHECKED_ENV):
        return
    from pytest_gpuslo.baseline import check_environment
    from pytest_gpuslo.errors import InvalidArgument

    try:
        check_environment()
    except InvalidArgument as exc:
        raise pytest.UsageError(str(exc)) from None


def _check_report_needs(session: SloSession) -> None:
    """A report format asked for whose library is missing is a usage error now, not at the end."""
    import importlib

    from pytest_gpuslo.reports import FORMATS

    for fmt in FORMATS:
        if not (fmt.needs and session.report_path(fmt)):
            continue
        module, extra = fmt.needs
        try:
            importlib.import_module(module)
        except ImportError:
            raise pytest.UsageError(
                f"--gpuslo-{fmt.flag} needs {module} to draw its charts; install it with "
                f"pip install 'pytest-gpuslo[{extra}]' (or pip install {module}).") from None


def _check_backend(session: SloSession) -> None:
    """A backend named in the ini file or on the command line must be able to run here."""
    backend, source = session.settings["backend"]
    if backend == "auto" or source == "default":
        return
    from pytest_gpuslo import backends
    from pytest_gpuslo.options import unknown_backend

    # review79: an "-o gpuslo_backend=" was said to come from the ini file
    at, fix = ini_source(session.config, "gpuslo_backend", "--gpuslo-backend")
    # worded as every other ini key's error (review81)
    where, fix = ((f"--gpuslo-backend={backend}", "") if source == "CLI" else
                  (f"ini key gpuslo_backend = {backend!r} ({at})", f"; {fix}"))
    unknown = unknown_backend(backend)
    if unknown is not None:
        raise pytest.UsageError(f"{where}: {unknown}{fix}.")
    reason = backends.probe(backend)
    if reason is not None:
        raise pytest.UsageError(
            f"{where} asks for the {backend} backend, but it cannot run here: {reason}. "
            f"Use --gpuslo-backend=auto (its tests then skip) or run on a machine where it can.")


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


class XdistHooks:
    """pytest-xdist integration, registered only when xdist is installed: one worker per GPU."""

    def __init__(self, session: SloSession) -> None:
        self.session = session

    @pytest.hookimpl
    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput["gpuslo_invocation"] = self.session.invocation
        devices = self.session.device_list()
        if devices:
            from pytest_gpuslo.backends.devices import rotated, worker_index

            home = worker_index(node.workerinput["workerid"])
            order = rotated(list(range(len(devices))), home).split(",")
            node.workerinput["gpuslo_visible"] = ",".join(devices[int(i)] for i in order)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    # xdist resolves "-n auto" before pytest_configure, so this is a module-level hook.
    if config.getoption("gpuslo_devices", None) is None and not config.getini("gpuslo_devices"):
        return None
    devices = SloSession(config).device_list()
    return len(devices) or None

"""The pytest session of pytest-gpuslo: collection, running SLO tests, the summary and reports.

``SloSession`` is registered in ``pytest_configure``.  It turns pytest's objects into the core's
(a marker into a ``SloSpec``, a test function into a body) and the core's results back into
pytest outcomes; every decision is the gate's.  Loading this module is cheap (pytest, the stdlib
and the pure ``spec``/``options``/``reports`` registries): numpy, the runner and any GPU library
load when an SLO test runs, so ``pytest --help`` imports none of them.  Results ride on
``report.user_properties``, so the controller aggregates the same way with or without
pytest-xdist.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import functools
import inspect
import json
import math
import os
import re
import sys
import time
import traceback
import unittest
import uuid
import warnings
from collections.abc import Callable, Generator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import pytest

from pytest_gpuslo import options as _options
from pytest_gpuslo import reports as _reports
from pytest_gpuslo import spec as _spec
from pytest_gpuslo.errors import (
    LAST_RUNS,
    BackendUnavailable,
    BaselineFormatError,
    InvalidArgument,
    NotAwaited,
    WorkloadError,
    dangling,
    path_error,
)

if TYPE_CHECKING:
    from pytest_gpuslo.gate import Policy
    from pytest_gpuslo.recorder import Request
    from pytest_gpuslo.result import SloResult
    from pytest_gpuslo.runner import Settings

MARKER: Final = "slo"
PROPERTY: Final = "gpuslo"


def read_settings(config: pytest.Config) -> dict[str, tuple[Any, str]]:
    """Setting key -> (value, source) with default < ini < CLI; a bad ini value is a usage error
    unless the command line overrides it (the CLI wins, so the ini is then not read at all)."""
    out: dict[str, tuple[Any, str]] = {}
    for opt in (*_options.OPTIONS, *_options.FLAGS):
        cli = config.getoption(opt.ini)
        if cli is not None:
            out[opt.key] = (cli, "CLI")
            continue
        value, source = opt.default, "default"
        # a flag cannot turn an ini's true off: -o can (review85 #8)
        where, fix = ini_source(config, opt.ini, opt.option if opt.ini_type is not bool
                                else f"{opt.option} (or -o {opt.ini}=false)")
        try:
            raw_ini = config.getini(opt.ini)
        except pytest.UsageError as exc:  # the ini value is not of the key's registered type
            raise pytest.UsageError(f"ini key {opt.ini} ({where}): {exc}; {fix}.") from None
        if raw_ini not in (None, "", []):
            text = _ini_text(raw_ini)
            try:
                value, source = opt.parse(text), "ini"
            except argparse.ArgumentTypeError as exc:
                raise pytest.UsageError(f"ini key {opt.ini} = {text!r} ({where}): {exc}; {fix}.") from None
        out[opt.key] = (value, source)
    return out


def _option(key: str) -> "_options.Option":
    """The setting ``key`` (``save``), as options.py declares it."""
    return next(o for o in (*_options.OPTIONS, *_options.FLAGS) if o.key == key)


def _ini_text(raw: Any) -> str:
    """An ini value as the user wrote it: pytest hands a key registered as a float back as one,
    and ``gpuslo_alpha = 2`` was echoed as "'2.0' must lie ..." (review79)."""
    if isinstance(raw, float) and raw.is_integer() and abs(raw) < 1e15:
        return str(int(raw))
    return str(raw).strip()


def ini_source(config: pytest.Config, key: str, option: str) -> tuple[str, str]:
    """Where ini ``key``'s value came from and how to fix it: pytest's ``-o key=value`` wins over
    the ini file (review78: a bad ``-o`` value read "(in None)" without an ini file)."""
    overrides = config.getoption("override_ini", None) or []
    if any(str(o).split("=", 1)[0].strip() == key for o in overrides):
        return "from -o on the command line or PYTEST_ADDOPTS", f"fix that -o value or give {option} instead"
    return f"in {config.inipath}", f"fix it there or override it with {option}"


def cancelled_verbosity(config: pytest.Config) -> str:
    """A line for a session given both -q and -v, which pytest nets to the default verbosity, so
    the evidence lines (each claim's interval, the machine control, the stages) are left out
    (review142, review144: two testers read `-q -v` as verbose and missed them); '' otherwise."""
    quiet = getattr(config.option, "quiet", 0) or 0
    level = config.get_verbosity()
    if not isinstance(quiet, int) or quiet < 1 or level > 0 or level + quiet < 1:
        return ""
    return (f"(-q and -v net to verbosity {level} in pytest, which leaves the evidence lines out: "
            f"-{'q' * quiet} -{'v' * (quiet + 1)}, or -v without -q, shows them)")


class GpuSloWarning(pytest.PytestWarning):
    """A measurement is usable but should be read with care (noisy, throttled, generator-limited).

    A ``PytestWarning``, so ``-W error::pytest.PytestWarning`` and pytest's own warning filters treat
    it like pytest's; defined in the pytest layer because the core never imports pytest.
    """

    __module__ = "pytest_gpuslo"


class GpuSloSaveWarning(GpuSloWarning):
    """``--gpuslo-save`` was asked for and this run was not saved (the gate's save refusal).

    Without it a record job on a machine that refuses every run stays green while the store never
    fills (the session-12 independent check); ``-W error::pytest_gpuslo.GpuSloSaveWarning`` turns
    such a job red without failing INCONCLUSIVE verdicts too.
    """

    __module__ = "pytest_gpuslo"


#: What to do with a stored baseline whose test is gone (``SloSession.orphans``).
ORPHAN_FIX: Final = ("its runs gate no test; delete the file (a renamed test draws its schedule from its new name "
                     "unless its marker gives seed=, so it needs a baseline of its own: gpuslo accept or --gpuslo-save)")


class SloSession:
    """Per-run state and the runtime hooks."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.settings = read_settings(config)
        self.summaries: list[dict[str, Any]] = []
        #: node id -> what each earlier attempt of a test rerun (pytest-rerunfailures) came to: its
        #: row says so beside the last attempt's verdict (review179 F1).
        self.reruns: dict[str, list[str]] = {}
        #: SLO tests that ended in an error (node id, pytest's word and when, and the error's first
        #: line: ``reports.Context.errors``).
        self.errors: list[tuple[str, str]] = []
        #: SLO tests an xfail marker expected to fail, that did before a verdict (pytest's XFAIL):
        #: the reports' "not judged" (``reports.Context.notes``), and ``gpuslo ab`` says so of
        #: them rather than "removed, renamed or deselected" (review157 F3).
        self.xfailed: list[tuple[str, str]] = []
        self.written: list[str] = []
        self.step_written = False  # the markdown was appended to $GITHUB_STEP_SUMMARY (or tried)
        self.reports_kept = False  # a report was written somewhere other than /dev/null
        #: marked SLO tests collected in this process (none on an xdist controller, which collects
        #: nothing), for an interrupted session's reports; those deselected (-k, -m) are not
        #: counted as left undone (review193 F6).
        self.marked_ids: set[str] = set()
        #: files that could not be collected (node id -> the error's last line), once each even
        #: when every pytest-xdist worker reports it.
        self.uncollected: dict[str, str] = {}
        #: this session told ``devices`` where to say a long wait for a lane (``say_lane_waits``).
        self._says_waits = False
        #: report files that could not be written: (option, path, why, the fix).
        self.unwritten: list[tuple[str, str, str, str]] = []
        #: reports to this process's own stream (/dev/stdout, /dev/fd/N): (option, path, text),
        #: written at unconfigure, below pytest's last line (review129 F5: the JSON sat between
        #: the progress line and FAILURES, where ``tail`` found none of it).
        self.to_streams: list[tuple[str, str, str]] = []
        self.session: pytest.Session | None = None
        self._resolved_backend: dict[str, str] = {}
        #: every test this session collected (after any deselection: ``pytest_collection_finish``,
        #: or a pytest-xdist worker's list on the controller) and those it deselected (known only
        #: where deselection ran in this process), for the stored baselines no test has any more.
        self.collected_ids: set[str] = set()
        self.deselected_ids: set[str] = set()
        self.deselection_known = True
        self._orphans: list[tuple[str, str, str]] | None = None
        #: tests started and not yet finished (pytest-xdist's workers' too, on the controller), by
        #: start: an interrupted session names those it cut before a verdict (review192 F2).
        self.under_way: dict[str, None] = {}
        #: the SLO tests (a marker or slo_run) collected in this process (none on an xdist controller)
        self.slo_ids: set[str] = set()
        #: why the reports are not of a whole run ('' for a whole one): the terminal says it too
        #: (review192 F1: only the files did).
        self.interrupted = ""
        #: SIGTERM ended the session (a CI job's cancel or timeout): its reports are written as an
        #: interrupted session's, then the process ends by that signal (``_on_sigterm``).
        self.terminated = False
        self._sigterm_before: Any = None
        #: pytest is stopping for an interrupt (Ctrl-C or SIGTERM): a SIGTERM now only marks the exit.
        self.interrupting = False
        self._commit: list[str | None] = []
        #: the SLO tests' modules, for the commit stamp (an untracked one is a change: review102)
        self.measured: set[Path] = set()
        #: --gpuslo-suggest: node id -> the suggestion of its pilot run (picked up by ``attach``).
        self.suggestions: dict[str, dict[str, Any]] = {}
        self._lag_floors: dict[tuple[str, float, int], float | None] = {}
        #: this pytest invocation, shared with its xdist workers: ``gpuslo accept`` takes the runs
        #: of the latest invocation only, not those of tests not run since.
        worker = getattr(config, "workerinput", None) or {}
        self.invocation: str = str(worker.get("gpuslo_invocation") or uuid.uuid4().hex[:12])
        #: when this process began: a last-run record older than this is of an earlier session.
        self.started = time.time()

    def value(self, key: str) -> Any:
        return self.settings[key][0]

    def check_compare(self) -> None:
        """A --gpuslo-compare folder that is not there is a usage error: a typo in a CI path otherwise
        read as "no baseline" and quietly left absolute budgets only (review35)."""
        folder, source = self.settings["compare"]
        if folder and self.value("no_baseline") and source == "CLI" and self.settings["no_baseline"][1] == "CLI":
            # review71: both given, the store was ignored and "no baseline" shown without a word
            raise pytest.UsageError(f"--gpuslo-compare={folder} and --gpuslo-no-baseline contradict each other: the "
                                    f"first asks for a comparison against that store, the second for none; give one.")
        if not folder or self.value("no_baseline"):
            return
        root = self.config.rootpath
        path = root / folder
        where = f"--gpuslo-compare={folder}" if source == "CLI" else f"ini gpuslo_compare = {folder}"
        if not path.is_dir():
            what = "is not a folder" if path.exists() else f"is {dangling(path)}" if dangling(path) else "does not exist"
            raise pytest.UsageError(f"{where}: {path} {what} (relative paths are from the rootdir {root}); give "
                                    f"the folder of a baseline store, e.g. main's, fetched in CI.")
        if not any(path.glob("*.json")):
            # a store inside it (a CI artifact nests it: run-123/.gpuslo), where every test read "no
            # baseline" (review36, review37); an empty folder is an empty store ("no baseline")
            inner = next((d for pattern in (".gpuslo", "*/.gpuslo", "*/*/.gpuslo") for d in sorted(path.glob(pattern))
                          if d.is_dir()), None)
            if inner is not None:
                raise pytest.UsageError(f"{where}: {path} holds no baseline files but a store in {inner}; give "
                                        f"--gpuslo-compare={Path(folder) / inner.relative_to(path)}.")

    def check_paths(self) -> None:
        """``check_compare`` and ``check_report_and_store_paths``; a path either cannot look at is a
        usage error naming it (review197 F4: a name too long for the file system, which
        ``Path.is_dir`` raises on, was pytest's INTERNALERROR, exit 3)."""
        try:
            self.check_compare()
            self.check_report_and_store_paths()
        except OSError as exc:
            if exc.filename is None:
                raise
            raise pytest.UsageError(f"{path_error(exc)} (--gpuslo-baseline-dir, --gpuslo-compare, a report path or "
                                    f"its ini key names it).") from None

    def check_report_and_store_paths(self) -> None:
        """Report files and the store --gpuslo-save writes to are checked before anything runs: a
        folder given as a file, a store path that is a file, or /proc were found only after every
        measurement, and a store that could not be written ended the session green (review69)."""
        if hasattr(self.config, "workerinput"):
            return  # the controller checked them; reports are written there
        asked = [(f"--gpuslo-{fmt.flag}", fmt.key, path, fmt.signature) for fmt in _reports.FORMATS
                 if (path := self.report_path(fmt))]
        # Besides them, what a report must not be written over (review86: --junitxml's XML and
        # the project's pytest.ini were replaced by a report without a word).
        named: list[tuple[str, str | Path]] = [(f"pytest's configuration file {self.config.inipath.name}",
                                                self.config.inipath)] if self.config.inipath else []
        xml = getattr(self.config.option, "xmlpath", None)
        if xml:
            named.append((f"--junitxml={xml}", os.path.join(self.config.invocation_params.dir, xml)))
        if os.environ.get("GITHUB_STEP_SUMMARY"):  # review87: the table was written there twice
            step = os.environ["GITHUB_STEP_SUMMARY"]
            why = _reports.step_summary_unusable(os.path.join(self.config.invocation_params.dir, step),
                                                 self.config.rootpath / self.settings["baseline_dir"][0])
            if why:
                raise pytest.UsageError(f"$GITHUB_STEP_SUMMARY={step} (from the environment): {why}; GitHub Actions "
                                        f"sets it to a file of its own for each step: unset it, or give a markdown "
                                        f"file to append the SLO table to.")
            named.append(("$GITHUB_STEP_SUMMARY", step))
        for option, key, path, signature in asked:
            source = self.settings[key][1] if key in self.settings else "CLI"
            where = f"{option}={path}" if source == "CLI" else f"ini gpuslo_{key} = {path}"
            why = _reports.unwritable(joined := os.path.join(self.config.invocation_params.dir, path), signature)
            if why:
                fix = "" if "; give " in why else "; give a writable file path"  # (a why may name its own)
                raise pytest.UsageError(f"{where}: {why}{fix}.")
            named.append((where, joined))
            # review85 #2: a second report replaced the first, "gpuslo wrote out.md" twice
            clash = _reports.one_file(named)
            if clash:
                raise pytest.UsageError(f"{clash}: the report would be written over it; give each report a path "
                                        f"of its own.")
        if self.value("save") and self.value("no_baseline"):
            # review72: the two together added a 2x slower run to the runs it regressed against;
            # review85: named as flags where an ini set them
            raise pytest.UsageError(f"{self.said('save')} with {self.said('no_baseline')} would add each run to the stored runs "
                                    f"without comparing it to them, so a regression could slip into the baseline; "
                                    f"{self.turned_off('no_baseline')} (a save is refused only for a run judged REGRESSED "
                                    f"or measured on a disturbed machine), or delete the test's baseline file to "
                                    f"record anew.")
        if self.value("save") and self.value("suggest"):
            # review85 #7: a record job whose ini turned on the pilot went green with an empty store
            raise pytest.UsageError(f"{self.said('save')} with {self.said('suggest')}: a pilot run only suggests budgets "
                                    f"and saves no baseline, so nothing would be recorded; run the pilot without "
                                    f"saving ({self.turned_off('save')}), or record without the pilot "
                                    f"({self.turned_off('suggest')}).")
        folder, source = self.settings["baseline_dir"]
        store_said = f"--gpuslo-baseline-dir={folder}" if source == "CLI" else f"ini gpuslo_baseline_dir = {folder}"
        store = self.config.rootpath / folder
        for where, report in named[-len(asked):] if asked else []:
            if _reports.inside(report, store):
                # review87: a JSON report in the store made every later gpuslo show exit 1 (UNREADABLE);
                # review91: the others were let in, and so is what a store committed to git carries
                raise pytest.UsageError(f"{where} is inside the baseline store {store}: the store holds baselines "
                                        f"only (its commands read every .json there as one); give a path outside it.")
        unfit = _reports.store_unfit(store)
        if unfit:
            # review168 F7: --gpuslo-baseline-dir=/etc was taken, and the run wrote /etc/.last/; review197
            # F5: so were /, /dev, /var and a folder inside .git
            raise pytest.UsageError(f"{store_said}: {unfit}; give a folder of the project, e.g. .gpuslo.")
        if store.name == LAST_RUNS:
            # the last-run records of a store are not a store: saving there would nest .last/.last
            raise pytest.UsageError(f"{store_said}: {store} holds the last-run records of the store {store.parent}, "
                                    f"not baselines; give the store itself ({store.parent}).")
        if not self.value("save") and not self.value("no_baseline") and source != "default" and not store.is_dir():
            # review71: a file or a typo'd folder read as "no baseline" everywhere, exit 0: the
            # regression check silently off
            if store.exists() or source == "CLI" or dangling(store):  # review118 N2: a loop from the ini too
                # review116: a link looping back on itself read "does not exist"
                what = "is not a folder" if store.exists() else f"is {dangling(store)}" if dangling(store) else \
                    "does not exist"
                raise pytest.UsageError(f"{store_said}: {store} {what} "
                                        f"(relative paths are from the rootdir {self.config.rootpath}); give the "
                                        f"folder that holds the baselines, or record them there first with "
                                        f"--gpuslo-save.")
            self.config.issue_config_time_warning(GpuSloWarning(
                f"{store_said}: {store} does not exist yet, so no test has a baseline to be compared against; record "
                f"them with --gpuslo-save"), stacklevel=2)
        if (not self.value("save") and not self.value("no_baseline") and not self.value("compare")
                and source == "default" and (store.exists() or dangling(store)) and not store.is_dir()):
            # review164 F6: a default .gpuslo that was a file read "no baseline" for every test, exit
            # 0, with only a warning that the last-run record could not be written
            what = "is not a folder" if store.exists() else f"is {dangling(store)}"
            raise pytest.UsageError(f"the store {folder}: {store} {what}, so no test could be compared against its "
                                    f"baselines; remove or rename it (the store is a folder of baseline files), or "
                                    f"give the store with --gpuslo-baseline-dir.")
        if self.value("save"):
            why = _reports.unwritable(store / "probe.json")
            if why:
                where = (f"--gpuslo-baseline-dir={folder}" if source == "CLI"
                         else f"ini gpuslo_baseline_dir = {folder}" if source != "default" else f"the store {folder}")
                raise pytest.UsageError(f"--gpuslo-save: {where} ({store}) cannot hold the baseline files: {why}; "
                                        f"give a writable folder (relative paths are from the rootdir "
                                        f"{self.config.rootpath}).")

    def say_lane_waits(self) -> None:
        """A test waiting for a lane another session holds (the host-wide CPU lane, a GPU) says so
        on the terminal, naming the holder, instead of sitting silent (``pytest_unconfigure``
        stops it); waits for sibling workers (same invocation) are not said."""
        from pytest_gpuslo.backends import devices

        devices.set_wait_notice(self.say, owner=self.invocation)
        self._says_waits = True

    def say(self, text: str) -> None:
        """A line on the terminal now, outside any test's captured output.  An xdist worker's
        terminal output is not shown, so a worker says it on its stderr, which is the terminal's."""
        config = self.config
        worker = (getattr(config, "workerinput", None) or {}).get("workerid")
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is None and worker is None:
            return
        capture = config.pluginmanager.get_plugin("capturemanager")
        suspended = getattr(capture, "global_and_fixture_disabled", None)
        with suspended() if suspended is not None else contextlib.nullcontext():
            if worker is not None or reporter is None:
                sys.stderr.write(f"\n[{worker}] {text}\n")
                sys.stderr.flush()
                return
            reporter.ensure_newline()
            reporter.write_line(text, yellow=True)

    @pytest.hookimpl(trylast=True)
    def pytest_unconfigure(self, config: pytest.Config) -> None:
        self._write_streams()
        if self._sigterm_before is not None:
            import signal

            if signal.getsignal(signal.SIGTERM) == self._on_sigterm:
                signal.signal(signal.SIGTERM, self._sigterm_before)
            if self.terminated:  # the status a SIGTERM gives (143 in a shell), its reports written
                sys.stdout.flush()
                sys.stderr.flush()
                os.kill(os.getpid(), signal.SIGTERM)

    def _write_streams(self) -> None:
        for option, path, text in self.to_streams:
            try:
                _reports.write(path, text)
            except OSError as exc:  # a closed descriptor or pipe: said, and the exit status says it too
                sys.stderr.write(f"gpuslo ERROR: could not write {option}={path}: {exc.strerror or exc}; give a "
                                 f"writable file path\n")
                if self.session is not None and self.session.exitstatus == pytest.ExitCode.OK:
                    self.session.exitstatus = pytest.ExitCode.USAGE_ERROR
        if self._says_waits:
            from pytest_gpuslo.backends import devices

            devices.set_wait_notice(None)

    def said(self, key: str) -> str:
        """A setting as the user gave it: ``--gpuslo-save``, or ``gpuslo_save = true (in FILE)``."""
        value, source = self.settings[key]
        opt = _option(key)
        if source != "ini":
            return opt.option
        return f"{opt.ini} = {str(value).lower() if isinstance(value, bool) else value} " \
               f"({ini_source(self.config, opt.ini, opt.option)[0]})"

    def turned_off(self, key: str) -> str:
        """How to turn a flag off where it was given: ``drop --gpuslo-save`` on the command line,
        ``-o gpuslo_save=false`` over the ini (review86: "-o gpuslo_save=false" cannot undo a flag)."""
        opt = _option(key)
        return f"drop {opt.option}" if self.settings[key][1] == "CLI" else f"-o {opt.ini}=false"

    def report_path(self, fmt: "_reports.ReportFormat") -> str | None:
        """Where ``fmt`` is to be written, if asked for.  A format a conftest appended to
        ``reports.FORMATS`` came after the settings were read: its option (dest
        ``gpuslo_<key>``, added by that conftest) or ini key is read here (review34: a KeyError)."""
        if fmt.key in self.settings:
            return self.value(fmt.key) or None
        cli = self.config.getoption(f"gpuslo_{fmt.key}", None)
        if cli:
            return str(cli)
        try:
            ini = self.config.getini(f"gpuslo_{fmt.key}")
        except ValueError:  # no such ini key registered
            return None
        return str(ini).strip() or None if isinstance(ini, str) else None

    @property
    def policy(self) -> "Policy":
        from pytest_gpuslo.gate import Policy

        return Policy(alpha=self.value("alpha"), inconclusive=self.value("inconclusive"),
                      allow_disturbances=bool(self.value("allow_throttle")))

    @property
    def commit(self) -> str | None:
        """HEAD's commit, asked of git once per session."""
        if not self._commit:
            from pytest_gpuslo.baseline import git_commit

            self._commit.append(git_commit(self.config.rootpath, self.config.rootpath / self.settings["baseline_dir"][0],
                                           measured=sorted(self.measured)))
        return self._commit[0]

    def run_settings(self) -> "Settings":
        from pytest_gpuslo.runner import Settings

        return Settings(policy=self.policy, root=self.config.rootpath,
                        baseline_dir=self.value("baseline_dir"), compare_dir=self.value("compare"),
                        save=bool(self.value("save")), use_baseline=not self.value("no_baseline"),
                        keep_series=bool(self.value("html")), commit=self.commit,
                        nvtx=bool(self.value("nvtx")), invocation=self.invocation)

    def layer(self, source: str) -> dict[str, Any]:
        """Measurement settings given in one layer ("ini" or "CLI")."""
        return {key: value for key, (value, src) in self.settings.items() if src == source}

    def resolve(self, marker_kwargs: dict[str, Any], nodeid: str, given_in: str = "marker") -> _spec.SloSpec:
        return _spec.resolve(marker_kwargs, nodeid=nodeid, ini=self.layer("ini"), cli=self.layer("CLI"),
                             given_in=given_in)

    def backend_name(self, requested: str) -> str:
        if requested not in self._resolved_backend:
            from pytest_gpuslo import backends

            self._resolved_backend[requested] = backends.resolve_name(requested)
        return self._resolved_backend[requested]

    def backend_for(self, item: pytest.Item) -> str:
        """The backend a test's fixtures should use: its marker's, else the run's setting."""
        spec = item.stash.get(SPEC_KEY, None)
        return self.backend_name(spec.backend if spec is not None else self.value("backend"))

    def require_backend(self, requested: str) -> str:
        """The resolved backend name, or skip the test with the reason it cannot run here."""
        from pytest_gpuslo import backends

        name = self.backend_name(requested)
        reason = backends.probe(name)
        if reason is not None:
            pytest.skip(f"gpuslo backend {name!r} unavailable: {reason}")
        return name

    # -- collection and running ------------------------------------------------------------------
    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_pycollect_makeitem(self, collector: pytest.Module | pytest.Class, name: str,
                                  obj: object) -> Generator[None, Any, Any]:
        # A marked test uses ``slo_payloads`` before pytest parametrizes it, so a parametrized
        # override runs the test once per input set (appending it after collection, as the
        # fallback below does, gives pytest's "no parameter defined" error; review168 F8).  The
        # usefixtures mark is lent for the items' making only: left on, "-k fix" selected every
        # SLO test (the mark's name is a keyword) and the user's function kept it.
        lent = self._lend_payloads(collector, name, obj)
        if lent is None:
            return (yield)
        mark, had, before = lent
        try:
            made = yield
        finally:  # given back even where making the items failed
            if had:
                obj.pytestmark = before  # type: ignore[attr-defined]
            else:
                with contextlib.suppress(AttributeError):
                    del obj.pytestmark  # type: ignore[attr-defined]
        for item in made if isinstance(made, list) else [made]:
            if isinstance(item, pytest.Item) and mark in item.own_markers:
                item.own_markers.remove(mark)
        return made

    @staticmethod
    def _lend_payloads(collector: pytest.Module | pytest.Class, name: str,
                       obj: object) -> tuple[Any, bool, Any] | None:
        """(the mark lent, whether ``obj`` had marks, those marks) where a usefixtures mark for
        ``slo_payloads`` was put on a marked test function, else None."""
        if inspect.isclass(obj) or not collector.istestfunction(obj, name):
            return None
        marks = list(getattr(obj, "pytestmark", None) or ())
        if not any(getattr(m, "name", None) == MARKER for m in marks) and collector.get_closest_marker(MARKER) is None:
            return None
        if any(getattr(m, "name", None) == "usefixtures" and "slo_payloads" in m.args for m in marks):
            return None
        had, before = hasattr(obj, "pytestmark"), getattr(obj, "pytestmark", None)
        decorator = pytest.mark.usefixtures("slo_payloads")
        try:
            decorator(obj)
        except (AttributeError, TypeError):  # an object that takes no marks
            return None
        return decorator.mark, had, before

    @pytest.hookimpl
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.collected_ids.update(item.nodeid for item in session.items)

    @pytest.hookimpl
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        """Take SIGTERM as an interrupt, where nothing else handles it: a CI job cancelled or timed
        out sends it, and by default it killed the session before any report was written, and left
        pytest-xdist's workers running on, holding the host's lane (review192 F3)."""
        import signal
        import threading

        if hasattr(self.config, "workerinput") or threading.current_thread() is not threading.main_thread() \
                or not hasattr(signal, "SIGTERM") or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
            return
        self._sigterm_before = signal.signal(signal.SIGTERM, self._on_sigterm)

    def _on_sigterm(self, signum: int, frame: Any) -> None:
        """Stop as Ctrl-C does (pytest writes what it has, the reports say the run was cut); the
        process ends by the signal once pytest is done (``pytest_unconfigure``)."""
        already = self.terminated or self.interrupting
        self.terminated = True
        if already:
            # a second signal while pytest stops (pytest-xdist waits for its workers): it would cut
            # the reports short, and the process ends by SIGTERM anyway (review193 F5)
            return
        raise KeyboardInterrupt("SIGTERM")

    @pytest.hookimpl
    def pytest_keyboard_interrupt(self, excinfo: Any) -> None:
        self.interrupting = True

    @pytest.hookimpl
    def pytest_runtest_logstart(self, nodeid: str, location: Any) -> None:
        self.under_way[nodeid] = None

    @pytest.hookimpl
    def pytest_runtest_logfinish(self, nodeid: str, location: Any) -> None:
        self.under_way.pop(nodeid, None)

    @pytest.hookimpl
    def pytest_deselected(self, items: Sequence[pytest.Item]) -> None:
        self.deselected_ids.update(item.nodeid for item in items)

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: Sequence[str]) -> None:
        """A pytest-xdist worker's collected tests (after its deselection, which the controller does
        not see)."""
        self.collected_ids.update(ids)
        self.deselection_known = False

    def orphan_notes(self) -> list[tuple[str, str]]:
        """``orphans`` as the reports' "not judged" entries (review193 F3: the terminal alone named
        them; the JSON, markdown and HTML said "no baseline"), by the stored test's node id."""
        if not self.summaries:
            return []
        return [(nodeid, f"its baseline {shown} has no test here: {why}: {ORPHAN_FIX}")
                for shown, nodeid, why in self.orphans()]

    def orphans(self) -> list[tuple[str, str, str]]:
        """Stored baselines whose test this session could have collected and did not: (file, its
        test's node id, why).

        A module collected without the test (renamed or deleted within it), or a module no longer
        on disk (review187 F1: a renamed test read "no baseline" and PASSed; its old file stayed a
        normal row of ``gpuslo show``, the regression it would have caught never compared).  Where
        the arguments name node ids (a module collected in part), or deselection ran in workers
        the controller cannot see (-k, -m or --deselect under pytest-xdist), a collected module
        proves nothing, and only vanished modules are named."""
        if self._orphans is None:
            self._orphans = self._find_orphans()
        return self._orphans

    def _find_orphans(self) -> list[tuple[str, str, str]]:
        from pytest_gpuslo.baseline import Store

        if not self.collected_ids:
            return []
        root = self.config.rootpath
        known = self.collected_ids | self.deselected_ids
        partial = any("::" in str(a) for a in self.config.args) or (not self.deselection_known and bool(
            self.config.getoption("keyword", "") or self.config.getoption("markexpr", "")
            or self.config.getoption("deselect", None)))
        modules = {nodeid.split("::", 1)[0] for nodeid in known}
        out = []
        try:
            stored = Store(root / self.value("baseline_dir")).all()
        except OSError:
            return []
        for path, b in stored:
            if isinstance(b, Exception) or b.nodeid in known:
                continue
            module = b.nodeid.split("::", 1)[0]
            shown = os.path.relpath(path, root)
            if not (root / module).exists():
                out.append((shown, b.nodeid, f"its test {b.nodeid}'s module {module} is gone (renamed or deleted?)"))
            elif module in modules and not partial:
                out.append((shown, b.nodeid, f"its test {b.nodeid} was not collected from {module} (renamed or deleted?)"))
        return out

    @pytest.hookimpl
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        # Validate every marker once; an error is raised at that test's setup, so one typo never
        # aborts the session.
        for item in items:
            marker = item.get_closest_marker(MARKER)
            if marker is not None or "slo_run" in getattr(item, "fixturenames", ()):
                self.measured.add(item.path)
                self.slo_ids.add(item.nodeid)
            if marker is None:
                continue
            self.marked_ids.add(item.nodeid)
            try:
                found = list(item.iter_markers_with_node(MARKER))
                if len(found) > 1:
                    where = ", ".join(f"{m.kwargs or m.args} on {node.nodeid or 'the conftest'}"
                                      for node, m in found)
                    raise InvalidArgument(
                        f"{item.nodeid}: has {len(found)} slo markers ({where}); they would not merge, "
                        f"so give the test one marker with every argument.")
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
                if "slo_payloads" not in item.fixturenames and not _is_unittest(item):
                    # Set up the payloads fixture for every SLO test, requested or not; not for a
                    # TestCase method, which takes no fixtures (review175 F2: a parametrized override
                    # failed it, "does not support fixtures").
                    item.fixturenames.append("slo_payloads")
            except InvalidArgument as exc:
                item.stash[ERROR_KEY] = str(exc)
            except Exception as exc:  # noqa: BLE001 - one test's marker never aborts the session
                item.stash[ERROR_KEY] = (f"{item.nodeid}: checking the slo marker raised "
                                         f"{type(exc).__name__}: {exc}")

    @pytest.hookimpl
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        # After pytest's skip and skipif marks (tryfirst), before its fixtures (an impl of the
        # runner's, registered before this plugin): a skipped test with a half-written marker
        # skips with its own reason (review170 F1: it errored, and --gpuslo-skip hid the reason).
        # A test run again (pytest-rerunfailures) keeps its item, and with it the earlier attempt's
        # results: this attempt's reports, the JUnit XML's included, carry its own only (review181 F1).
        item.user_properties[:] = [(k, v) for k, v in item.user_properties if k != PROPERTY]
        error = item.stash.get(ERROR_KEY, None)
        if error is not None:
            # (review172 F5: a too-short --gpuslo-duration read "bad slo marker")
            what = "settings" if re.search(r"\((CLI|ini)\)", error) else "marker"
            pytest.fail(f"bad slo {what}: {error}", pytrace=False)
        spec = item.stash.get(SPEC_KEY, None)
        if spec is not None:
            self.skip_if_asked()
            self.require_backend(spec.backend)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
        """Mark an SLO test's reports (the attribute travels with them under pytest-xdist), so the
        session can name one that failed before a verdict."""
        outcome = yield
        report = outcome.get_result()
        running = item.stash.get(RUNNING_KEY, None)
        if item.stash.get(SPEC_KEY, None) is not None or item.stash.get(ERROR_KEY, None) is not None \
                or (running is not None and report.failed):
            report.gpuslo_slo = True
            spec = item.stash.get(SPEC_KEY, None) or running
            if report.failed and spec is not None:
                # for a timer's words (pytest-timeout): how long the run takes, and how long the
                # test waited for a lane first (review179 F4, F6)
                from pytest_gpuslo.backends import devices

                report.gpuslo_run_s = _run_seconds(spec)
                report.gpuslo_waited_s = round(devices.WAITED.get(item.nodeid, 0.0), 1)
            if report.when == "call":  # the xfail marker, for the JSON summary (``_xfail_said``)
                report.gpuslo_xfail = _xfail_said(item)
        if report.skipped and isinstance(report.longrepr, tuple) and len(report.longrepr) == 3 \
                and Path(str(report.longrepr[0])).resolve().is_relative_to(_PACKAGE):
            # review116 F6: -rs named the plugin's line that skipped, not the test (pytest's own skip
            # marks point at the test the same way)
            path, line = item.reportinfo()[:2]
            report.longrepr = (str(path), (line or 0) + 1, report.longrepr[2])

    def skip_if_asked(self) -> None:
        """``--gpuslo-skip``: the marker stays registered, the SLO runs are skipped."""
        if self.value("skip"):
            pytest.skip("SLO run skipped (--gpuslo-skip)")

    @pytest.hookimpl(tryfirst=True)
    def pytest_pyfunc_call(self, pyfuncitem: pytest.Function) -> bool | None:
        spec = pyfuncitem.stash.get(SPEC_KEY, None)
        if spec is None:
            return None
        function = pyfuncitem.obj
        names = list(inspect.signature(function).parameters)
        base = {name: pyfuncitem.funcargs[name] for name in names if name in pyfuncitem.funcargs}
        wants_request = "slo_request" in base

        def body(req: "Request") -> Any:
            # The return value matters to completion modes that wait on it (JAX on cuda-sync).
            out = function(**{**base, "slo_request": req}) if wants_request else function(**base)
            if out is not None and inspect.isawaitable(out):
                never_awaited(out)
            return out

        self.run_marked(pyfuncitem, spec, body)
        return True

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Any:
        """A ``unittest.TestCase`` method runs through unittest, not ``pytest_pyfunc_call``: its
        SLO run takes the method's place, with the method as the body (``setUp`` and ``tearDown``
        run once, around the whole run, like fixtures)."""
        spec = item.stash.get(SPEC_KEY, None)
        if spec is None or not _is_unittest(item):
            return (yield)
        assert isinstance(item, pytest.Function)
        method = item.obj

        @functools.wraps(method)
        def run_method_as_slo() -> None:
            self.run_marked(item, spec, lambda req: method())

        item.obj = run_method_as_slo  # unittest calls the item's obj as the test method
        try:
            return (yield)
        finally:
            item.obj = method

    def run_marked(self, item: pytest.Function, spec: _spec.SloSpec, body: Callable[["Request"], Any]) -> None:
        result = self.run(spec, body, item=item, nodeid=item.nodeid, payloads=item.funcargs.get("slo_payloads"))
        attach(item, result)
        if not self.value("suggest"):  # a pilot run has no verdict to enforce
            self.enforce(result, item)
        elif _expects_failure(item):
            # ... so it shows neither the failure an xfail marker expects nor a pass: passing, it read
            # XPASS, and a strict marker failed the pilot run (review162 F1)
            pytest.skip("--gpuslo-suggest: a pilot run reaches no verdict, and the test is marked xfail, which "
                        "expects one; the suggestion is below")

    def run(self, spec: _spec.SloSpec, body: Callable[["Request"], Any], *, item: pytest.Item, nodeid: str,
            payloads: Any = None) -> "SloResult":
        """Run one SLO measurement and decide it (shared by the marker and ``slo_run``)."""
        from pytest_gpuslo import runner

        self.skip_if_asked()
        name = self.require_backend(spec.backend)
        failure = None
        try:
            if self.value("suggest"):
                return self.pilot(spec, body, backend_name=name, nodeid=nodeid, payloads=payloads)
            floor = _spec.pass_floor(spec)
            if floor is not None:
                _warn(item, GpuSloWarning, f"{nodeid}: {floor}")
            from pytest_gpuslo import arrivals

            note = arrivals.caution(spec.arrivals, spec.rate_hz)
            if note is not None:
                _warn(item, GpuSloWarning, f"{nodeid}: {note}")
            settings = dataclasses.replace(self.run_settings(), xfail=_xfail_said(item))
            progress = LiveProgress.for_run(self.config, nodeid, spec, self.say)
            try:
                done = runner.run(spec, body, backend_name=name, settings=settings,
                                  nodeid=nodeid, payloads=payloads, progress=progress)
            except BaseException:
                if progress is not None:
                    progress.close(cut=True)  # (review193 F7: "run done" at 677 of 1,575 requests)
                raise
            if progress is not None:
                progress.close()
            return done
        except BackendUnavailable as exc:
            pytest.skip(str(exc))
        except (BaselineFormatError, WorkloadError, InvalidArgument) as exc:
            failure = f"{nodeid}: {exc}"
        pytest.fail(failure, pytrace=False)

    def pilot(self, spec: _spec.SloSpec, body: Callable[["Request"], Any], *, backend_name: str,
              nodeid: str, payloads: Any) -> "SloResult":
        """``--gpuslo-suggest``: a short run of the test (nothing saved, no verdict enforced) and
        the lag floor at its rate, turned into a suggestion for its marker."""
        from pytest_gpuslo import arrivals, backends, runner, suggest

        short = suggest.pilot_spec(spec)
        schedule, warm = arrivals.plan(short)
        with backends.hold(backend_name, spec.devices):
            floor = self.lag_floor(spec, backend_name)
            started = time.perf_counter()
            result = runner.execute(short, body, backend=backends.load(backend_name), schedule=schedule,
                                    warm=warm, payloads=payloads, nodeid=nodeid, policy=self.policy,
                                    progress=LiveProgress.for_run(self.config, nodeid, short, self.say))
            seconds = time.perf_counter() - started
        policy = self.policy
        self.suggestions[nodeid] = suggest.suggest(
            spec, result.latency_ms, result.lag_ms, floor_lag_ms=floor, pilot_s=seconds,
            achieved_hz=result.throughput_hz, failed=int(result.failed.sum()), hung=len(result.data.stuck),
            alpha=policy.alpha,
            max_lag_fraction=policy.max_lag_fraction, other_cpu_load=result.telemetry.get("other_cpu_load"),
            cpus=result.telemetry.get("cpus"), load_dependent=result.load_dependent)
        return result

    def lag_floor(self, spec: _spec.SloSpec, backend_name: str) -> float | None:
        """Schedule lag p99 of a no-op body at the test's rate and streams: the load generator's
        own lateness on this machine (measured once per rate)."""
        key = (backend_name, spec.rate_hz, spec.streams)
        if key not in self._lag_floors:
            import numpy as np

            from pytest_gpuslo import arrivals, backends, suggest
            from pytest_gpuslo.measurement import run_open_loop

            idle = suggest.floor_spec(spec)
            schedule, warm = arrivals.plan(idle)
            data, _ = run_open_loop(schedule, backends.load(backend_name), lambda req: None,
                                    lanes=spec.streams, timeout_s=spec.timeout_s)
            lag = (data.dispatch_ns[warm:] - data.scheduled_ns[warm:]) / 1e6
            self._lag_floors[key] = float(np.quantile(lag, 0.99)) if lag.size else None
        return self._lag_floors[key]

    def enforce(self, result: "SloResult", item: pytest.Item) -> None:
        """Fail the test on FAIL; on INCONCLUSIVE fail or warn as the policy says.

        ``--gpuslo-inconclusive`` decides what INCONCLUSIVE does, not a suite's blanket
        ``filterwarnings = error``: the warning is issued past such filters, so it reaches the
        user as the plugin's outcome rather than as a traceback from inside the plugin.  A filter
        that names the plugin's warning class itself (``error::pytest_gpuslo.GpuSloWarning``)
        is a request to fail, and fails the test with the same message.
        """
        from pytest_gpuslo.reports.terminal import failure_message

        assert result.verdict is not None
        outcome = result.verdict.outcome
        if outcome == "PASS":
            return
        message = failure_message(result.summary())
        if outcome == "INCONCLUSIVE" and _expects_failure(item):
            # A test marked xfail expects the SLO broken: an INCONCLUSIVE shows neither that nor a
            # PASS, so it must not count as the expected failure (a fixed service read XFAIL as
            # "the incident still reproduces": session 47) nor as an XPASS.
            pytest.skip(f"{message}\n  (skipped: the test is marked xfail, and an INCONCLUSIVE shows neither the "
                        f"failure it expects nor a PASS)")
        if outcome == "FAIL" or self.policy.inconclusive == "fail":
            pytest.fail(message, pytrace=False)
        _warn(item, GpuSloWarning, message, "; --gpuslo-inconclusive=warn with no such filter only warns")

    def device_list(self) -> list[str]:
        """The GPUs --gpuslo-devices hands to xdist workers, as CUDA_VISIBLE_DEVICES entries."""
        chosen = self.value("devices")
        if not chosen:
            return []
        from pytest_gpuslo.backends import devices

        parent = devices.visible_env()
        base = [d for d in parent.split(",") if d.strip()] if parent else \
            [str(i) for i in range(devices.count_gpus())]
        if chosen == "all":
            return base
        picked = [int(i) for i in chosen.split(",")]
        if not base:  # review168 F1: "(indices 0..-1); pick from those"
            raise pytest.UsageError(
                f"--gpuslo-devices={chosen}: this machine has no GPU visible "
                f"({'CUDA_VISIBLE_DEVICES=' + repr(parent) + ' hides them' if parent is not None else 'none found'}); "
                f"leave --gpuslo-devices out here, or use 'all', which pins nothing where there is no GPU.")
        if max(picked) >= len(base):
            raise pytest.UsageError(
                f"--gpuslo-devices={chosen}: this machine has {len(base)} GPU(s) visible "
                f"(indices 0..{len(base) - 1}); pick from those or use 'all'.")
        return [base[i] for i in picked]

    # -- the end of the session --------------------------------------------------------------------
    @pytest.hookimpl
    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        # A file that cannot be collected stops the session before any test runs; a CI step that
        # reads --gpuslo-json must still find the file, saying why (review63: none was written).
        if report.failed:
            lines = [ln.strip() for ln in str(report.longrepr or "error").splitlines() if ln.strip()]
            said = [ln[1:].strip() for ln in lines if ln.startswith("E ")] or lines or ["error"]
            self.uncollected.setdefault(report.nodeid or ".", said[-1][:500])

    def uncollected_words(self, decided: int) -> str:
        """The files that could not be collected, for the reports' "not a whole run" line."""
        if not self.uncollected:
            return ""
        (where, why), n = next(iter(self.uncollected.items())), len(self.uncollected)
        return (f"{n} file{'' if n == 1 else 's'} could not be collected ({where}: {why}"
                + (f"; and {n - 1} more" if n > 1 else "") + "): "
                + ("the SLO tests in them did not run" if decided else "no SLO test ran"))

    @pytest.hookimpl
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        found = False
        rerun = report.outcome == "rerun"  # an attempt pytest-rerunfailures runs again
        if report.when == "call":
            # This attempt's only: each attempt's setup drops an earlier attempt's (review179 F1: one
            # FAIL attempt, then a PASS, read as three rows, two of them FAIL); one per slo_run call.
            for value in [v for name, v in report.user_properties if name == PROPERTY]:
                summary = json.loads(str(value))
                found = True
                if rerun:
                    self.reruns.setdefault(report.nodeid, []).append(
                        str((summary.get("verdict") or {}).get("shown") or "no verdict"))
                    continue
                summary["pytest_outcome"] = _pytest_outcome(report)
                if getattr(report, "gpuslo_xfail", None):
                    summary["xfail"] = report.gpuslo_xfail
                if report.nodeid in self.reruns:
                    summary["reruns"] = self.reruns.pop(report.nodeid)
                self.summaries.append(summary)
        if rerun and not found and getattr(report, "gpuslo_slo", False):
            crash = getattr(report.longrepr, "reprcrash", None)
            text = str(getattr(crash, "message", "") or report.longrepr or "error").strip()
            line = next((ln for ln in text.splitlines() if ln.strip()), "error")[:200]
            self.reruns.setdefault(report.nodeid, []).append(f"no verdict ({report.when}: {line})")
            return
        # An SLO test that failed without a verdict (a malformed baseline, a fixture that raised):
        # the reports name it, rather than sum up the others as if it had not run.
        # An error in teardown, after the verdict, is named too (review33): pytest exits 1 for it.
        expected = report.skipped and hasattr(report, "wasxfail") and report.when in ("setup", "call")
        if (report.failed or expected) and not found and getattr(report, "gpuslo_slo", False):
            crash = getattr(report.longrepr, "reprcrash", None)
            text = str(getattr(crash, "message", "") or report.longrepr or "error").strip()
            if isinstance(report.longrepr, tuple) and len(report.longrepr) == 3:  # xfail(run=False): not run
                text = str(report.longrepr[2])
            line = next((ln for ln in text.splitlines() if ln.strip()), "error")[:500]
            if expected:
                self._drop_stale_record(report.nodeid)
                self.xfailed.append((report.nodeid, _xfail_words(str(report.wasxfail or ""), report.when, line)))
                self.xfailed.sort()
                return
            if "from pytest-timeout" in text:
                line += _timer_words(getattr(report, "gpuslo_run_s", None), getattr(report, "gpuslo_waited_s", 0.0))
            # pytest's own word first: a failure in the call (a warning filter's error too) is
            # FAILED, not ERROR (review82 #12)
            when = {"setup": "ERROR in setup, before a verdict", "teardown": "ERROR in teardown, after its verdict"
                    }.get(report.when, "FAILED before a verdict")
            self.errors.append((report.nodeid, f"{when}: {line}"))
            # by node id, not by arrival: under pytest-xdist the workers' order changes from run to run
            self.errors.sort()

    def _drop_stale_record(self, nodeid: str) -> None:
        """Remove the last-run records (``.gpuslo/.last``) of an SLO test pytest reported XFAIL before
        a verdict, where an earlier pytest session wrote them: ``.last`` holds the last run's results,
        and this run has none, so ``gpuslo compare .gpuslo/.last`` read the earlier run as this one
        (review161 F4: a test since marked ``xfail(run=False)`` kept its FAIL record, and compare
        exited 1 where pytest exited 0).  A test that ended in an error keeps its record: pytest
        fails the run anyway, and ``gpuslo accept`` then names what is wrong (a malformed baseline)
        rather than finding nothing.  A record this session wrote stays; one that cannot be removed
        is left to compare's note on records of earlier sessions."""
        from pytest_gpuslo.baseline import Store

        last = Store(self.config.rootpath / self.value("baseline_dir") / LAST_RUNS)
        with contextlib.suppress(OSError):
            for path in last.files_of(nodeid):
                if path.stat().st_mtime < self.started:
                    path.unlink()

    def holm(self) -> dict[str, float]:
        from pytest_gpuslo.gate import suite_holm

        return suite_holm(self.summaries)

    @pytest.hookimpl
    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        tr = terminalreporter
        if not self.summaries and not self.errors and not self.xfailed:
            if self.interrupted:
                tr.write_sep("=", "gpuslo: tail-latency SLOs")
                tr.write_line(f"NOT A WHOLE RUN: {self.interrupted}", yellow=True, bold=True)
            self._said_reports(tr)  # review85: reports written without a verdict were not named
            return
        from pytest_gpuslo.reports.terminal import section

        if self.value("suggest"):
            from pytest_gpuslo.suggest import lines

            tr.write_sep("=", "gpuslo: suggested budgets and sizes (one pilot run per SLO test)")
            for line in lines(self.summaries):
                tr.write_line(line)
            return
        tr.write_sep("=", "gpuslo: tail-latency SLOs")
        if self.interrupted:  # as the reports open (review192 F1: the terminal's table read as the run's)
            tr.write_line(f"NOT A WHOLE RUN: {self.interrupted}", yellow=True, bold=True)
        policy = self.policy
        for line in section(self.summaries, verbose=self.config.get_verbosity(), holm=self.holm(),
                            alpha=policy.alpha, inconclusive=policy.inconclusive,
                            seed=self.value("seed"), max_lag_fraction=policy.max_lag_fraction,
                            errors=self.errors, notes=self.xfailed):
            tr.write_line(line)
        cancelled = cancelled_verbosity(self.config)
        if cancelled:
            tr.write_line(cancelled)
        for shown, _, why in self.orphans():
            tr.write_line(f"baseline {shown}: {why}: {ORPHAN_FIX}")
        self._said_reports(tr)
        from pytest_gpuslo.reports import github

        if github.enabled():
            step = any(option == "GITHUB_STEP_SUMMARY" for option, *_ in self.unwritten)
            # (review172 F8: a report thrown into /dev/null read "the reports list them")
            listed = github.where_listed(self.step_written and not step and os.path.realpath(
                os.environ.get("GITHUB_STEP_SUMMARY", "")) != os.devnull, self.reports_kept)
            for line in github.commands(self.summaries, inconclusive=policy.inconclusive, errors=self.errors,
                                        notes=self.orphan_notes(), listed=listed):
                tr.write_line(line)

    def _said_reports(self, tr: Any) -> None:
        """The reports written, and those that could not be."""
        for path in self.written:
            tr.write_line(f"gpuslo wrote {path}")
        for option, path, why, fix in self.unwritten:
            said = (f"{option} into {path}" if why.startswith("recorded nothing") else
                    f"{option} could not write the store {path}" if option == "--gpuslo-save"
                    else f"could not write {option}={path}")
            tail = " (the other reports were written)" if option != "--gpuslo-save" else ""
            tr.write_line(f"gpuslo ERROR: {said}: {why}; {fix}{tail}", red=True, bold=True)

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        # Reports are written once, on the controller (a pytest-xdist worker has "workerinput"),
        # first: pytest-xdist's own waits up to seconds for its workers to stop, and a supervisor's
        # SIGKILL after a SIGTERM then found none written (review193 F1).
        if hasattr(self.config, "workerinput"):
            return
        self.session = session
        interrupted = ""
        collected = len(self.marked_ids - self.deselected_ids)
        decided = len(self.summaries)
        stopped = session.shouldstop or session.shouldfail
        if session.exitstatus == pytest.ExitCode.INTERRUPTED or (
                stopped and (collected > decided + len(self.errors) or not collected)):
            # An interrupted session's report read "1 SLO test: 1 INCONCLUSIVE." of three (review35);
            # so did one stopped by -x or --maxfail (review36).
            how = ("was ended by SIGTERM (a job cancelled or timed out)" if self.terminated
                   else "was interrupted" if session.exitstatus == pytest.ExitCode.INTERRUPTED
                   else f"stopped early ({stopped})" if isinstance(stopped, str) else "stopped early")
            # (an xdist controller collects nothing, so it cannot count the SLO tests left)
            # the tests it cut, which had run for a while (review192 F2: "the others did not run"
            # of a test 800 requests into its run, named nowhere)
            judged = {s["nodeid"].split("[slo_run ")[0] for s in self.summaries} | {n for n, _ in self.errors}
            cut = [n for n in self.under_way if n not in judged and (n in self.slo_ids or not self.slo_ids)]
            interrupted = (f"the session {how} after {decided} SLO test(s) reached a verdict"
                           + (f", of {collected} collected" if collected > decided else "")
                           + (f"; {', '.join(cut)} {'was' if len(cut) == 1 else 'were'} under way then, with no "
                              f"verdict" if cut else "")
                           + (": the others did not run" if collected else
                              ": SLO tests after that did not run"))
        if self.uncollected:
            interrupted = self.uncollected_words(decided)
        self.interrupted = interrupted
        asked = [fmt for fmt in _reports.FORMATS if self.report_path(fmt)]
        # (an xdist controller collects nothing: the tests under way when it was cut count too, or a
        # cancelled -n run's step summary said nothing: review201 F5)
        quiet = not (self.summaries or self.errors or self.xfailed or (interrupted and (collected or self.under_way))
                     or self.uncollected)
        if quiet and not asked:
            # nothing to say; but SLO tests collected and stopped before any verdict are said (review37)
            return
        policy = self.policy  # here, not before: a suite without SLO tests never imports the gate (numpy, scipy)
        tried = [str(s["baseline_saved"]) for s in self.summaries if s.get("baseline_saved")]
        refused_all = bool(tried) and all(t.startswith("not saved") for t in tried)
        recorded = (f"{self.said('save')} saved none of this session's {len(tried)} SLO test runs: each was refused "
                    f"as a baseline (its row says why), which fails the session (exit 4 where nothing else failed); "
                    f"{record_hint(tried)}") if refused_all else ""
        context = _reports.Context(holm=self.holm(), commit=self.commit, errors=tuple(self.errors),
                                   alpha=policy.alpha, inconclusive=policy.inconclusive, interrupted=interrupted,
                                   recorded=recorded,
                                   notes=(*self.xfailed, *self.orphan_notes()))
        # Each format on its own: one that cannot be written (a directory, a read-only or full
        # disk) is reported after the others are written, and the run's exit status says so.
        # A report asked for is written even when no SLO test ran (all skipped or deselected): an
        # older one left in its place read as this run's (review85 #3).
        for fmt in asked:
            path = str(self.report_path(fmt))
            self._write(f"--gpuslo-{fmt.flag}", path, functools.partial(fmt.render, self.summaries, context),
                        renderer=fmt.renderer)
        step = os.environ.get("GITHUB_STEP_SUMMARY")
        if step and not quiet:
            md = next(f for f in _reports.FORMATS if f.key == "md")
            self._write("GITHUB_STEP_SUMMARY", step, functools.partial(md.render, self.summaries, context),
                        append=True)
            self.step_written = True
        from pytest_gpuslo.runner import STORE_UNWRITTEN

        lost = [s["nodeid"] for s in self.summaries if str(s.get("baseline_saved", "")).startswith(STORE_UNWRITTEN)]
        if lost:
            # review69: a record-on-main job whose store could not be written went green
            self.unwritten.append(("--gpuslo-save", self.value("baseline_dir"),
                                   f"{len(lost)} baseline file(s) could not be written ({', '.join(lost[:3])}"
                                   f"{', ...' if len(lost) > 3 else ''}; see 'not saved' above)",
                                   "check --gpuslo-baseline-dir and the disk"))
        tried = [str(s["baseline_saved"]) for s in self.summaries if s.get("baseline_saved")]
        if tried and all(t.startswith("not saved") for t in tried):
            # review94: a record job on a busy runner refused every run and went green with an
            # empty store, where the README holds that a record job cannot go green unrecorded
            self.unwritten.append(("--gpuslo-save", self.value("baseline_dir"),
                                   f"recorded nothing: every SLO test's run ({len(tried)}) was refused as a "
                                   f"baseline (see 'not saved' above)",
                                   record_hint(tried)))
        if self.unwritten and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.USAGE_ERROR

    def _write(self, option: str, path: str, render: Callable[[], str], *, append: bool = False,
               renderer: str = "") -> None:
        bug = f"a bug in its renderer{' ' + renderer if renderer else ''}, not in the path"
        try:
            text = render()
        except Exception as exc:  # noqa: BLE001 - a renderer's bug must not cost the other reports
            where = traceback.extract_tb(exc.__traceback__)[-1]
            self.unwritten.append((option, path, f"rendering it raised {type(exc).__name__}: {exc} (at "
                                   f"{where.filename}:{where.lineno}, in {where.name})", bug))
            return
        if not isinstance(text, str):  # review36: None ended the session in a TypeError traceback
            self.unwritten.append((option, path, f"its renderer returned {type(text).__name__}, not str", bug))
            return
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:  # a lone surrogate ended the session, left an empty file (review37)
            self.unwritten.append((option, path, f"its renderer returned text UTF-8 cannot hold ({exc.reason} "
                                   f"at character {exc.start})", bug))
            return
        try:
            if append:
                with open(path, "a", encoding="utf-8") as fh:
                    fh.write(text)
            elif (fd := _reports.stream_fd(path)) is not None:
                self.to_streams.append((option, path, text))
                # (review131 F3: said of /dev/fd/7 and /dev/stderr redirected to files of their own)
                self.written.append(f"{path} (below pytest's last line)" if _reports.same_file(fd, 1) else path)
            else:
                self.written.append(_reports.write(path, text))
            self.reports_kept = self.reports_kept or (not append and os.path.realpath(path) != os.devnull)
        except OSError as exc:
            why = f"{exc.strerror or exc}" + (f" ({exc.filename})" if exc.filename not in (None, path) else "")
            self.unwritten.append((option, path, why, "give a writable file path"))


class LiveProgress:
    """One live line per long SLO run, written through the terminal reporter with capturing
    suspended, so it is never part of a test's captured output.

    On a terminal the line updates in place about once a second (requests done, schedule lag,
    recent p95); elsewhere (a CI log) ``-v`` prints it at each quarter of the run.  A schedule
    that spans far longer than its requests take at the promised rate is said before it starts,
    in any mode: a heavy-tailed draw's one long gap ran half an hour without a word (review47).
    """

    #: Runs expected to take less than this (seconds) show no progress.
    MIN_SECONDS: Final = 5.0
    #: A schedule spanning this many times its expected length (and a minute more) is said.
    LONG_SPAN: Final = 3.0

    def __init__(self, reporter: Any, capture: Any, nodeid: str, tty: bool, *, live: bool = True,
                 say: Callable[[str], None] | None = None, expected_s: float = 0.0, rate_hz: float = 0.0) -> None:
        self.reporter, self.capture, self.nodeid, self.tty = reporter, capture, nodeid, tty
        self.live, self.say, self.expected_s, self.rate_hz = live, say, expected_s, rate_hz
        self.shown = False
        self.quarter = 0

    @classmethod
    def for_run(cls, config: pytest.Config, nodeid: str, spec: _spec.SloSpec,
                say: Callable[[str], None] | None = None) -> "LiveProgress | None":
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is None and say is None:
            return None
        expected_s = (spec.requests or 0) / spec.rate_hz + (spec.duration_s or spec.max_duration_s or 0.0)
        tty = bool(getattr(reporter, "isatty", False))
        live = (reporter is not None and not hasattr(config, "workerinput") and expected_s >= cls.MIN_SECONDS
                and (tty or config.get_verbosity() > 0))
        return cls(reporter, config.pluginmanager.get_plugin("capturemanager"), nodeid, tty, live=live,
                   say=say, expected_s=expected_s, rate_hz=spec.rate_hz)

    def close(self, *, cut: bool = False) -> None:
        """End a terminal's live line: pytest's result character for the test was written after
        it, on the same line, and the last count it showed was never the end (review192 F5).  The
        line ends, so pytest starts the test's file on a fresh one."""
        if not (self.tty and self.shown):
            return
        suspended = getattr(self.capture, "global_and_fixture_disabled", None)
        with suspended() if suspended is not None else contextlib.nullcontext():
            self.reporter.write("; run cut" if cut else "; run done", flush=True)
            config = getattr(self.reporter, "config", None)
            if config is not None and config.get_verbosity() <= 0 and hasattr(self.reporter, "write_fspath_result"):
                # the test's file again, on a line of its own, for pytest's result character
                self.reporter.write_fspath_result(self.nodeid.split("[slo_run ")[0], "")
            else:  # -v: pytest writes the test's line itself, on a line of its own
                self.reporter.write("\n", flush=True)
        self.shown = False

    def __call__(self, p: Any) -> None:
        from pytest_gpuslo.reports.view import fmt_ms

        if p.span_s is not None:  # the schedule, before it starts
            if self.say is not None and p.span_s > max(self.LONG_SPAN * self.expected_s, self.expected_s + 60.0):
                self.say(f"gpuslo {self.nodeid}: this schedule spans {p.span_s:,.0f} s, not the {self.expected_s:.3g} s "
                         f"its {p.total:,} requests take at {self.rate_hz:g}/s on average (its longest gap: "
                         f"{p.longest_gap_s:,.3g} s), and the run will take that long: a heavy-tailed process draws "
                         f"such gaps; cap them (pareto's cap_s) or give the marker another seed")
            return
        if not self.live:
            return
        quarter = 4 * p.done // max(p.total, 1)
        if not self.tty and quarter <= self.quarter:
            return
        self.quarter = quarter
        text = (f"gpuslo {self.nodeid}: {p.done:,}/{p.total:,} requests, schedule lag p99 "
                f"{fmt_ms(p.lag_p99_ms)} ms, recent p95 {fmt_ms(p.p95_ms)} ms")
        suspended = getattr(self.capture, "global_and_fixture_disabled", None)
        with suspended() if suspended is not None else contextlib.nullcontext():
            if not self.tty:
                self.reporter.write_line(text)
            elif self.shown:
                self.reporter.rewrite(text, erase=True)
            else:
                self.reporter.ensure_newline()
                self.reporter.write(text, flush=True)
            self.shown = True


def record_hint(refusals: list[str]) -> str:
    """What to do when every run of a record job was refused: the fix of what its refusals name
    (review104: a refusal for raised requests read "record on a quiet machine")."""
    if refusals and all("failed or timed out" in r for r in refusals):
        return "fix what raised or timed out, then record"
    if refusals and all("a Python tracer was active" in r for r in refusals):  # review181 F3
        return "record without the tracer: pytest-cov's --no-cov, or a job of the SLO tests' own"
    return ("record on a quiet machine, SLO jobs alone; on a shared one gate pull requests with gpuslo ab, "
            "which needs no stored runs")


def never_awaited(out: Any, what: str = "the body") -> None:
    """Raise for a body that returned a coroutine or another awaitable: nothing ran it, so its time
    is not the work's (review178 F2: ``return client(...)`` of an async client measured 0.9 ms
    against a 500-ms server, and PASSed).  A coroutine is closed: no "never awaited" warning."""
    close = getattr(out, "close", None)
    if inspect.iscoroutine(out) and callable(close):
        close()
    raise NotAwaited(f"{what} returned {type(out).__name__} {getattr(out, '__qualname__', '')!s}"
                    f"{' ' if getattr(out, '__qualname__', '') else ''}without running it (an awaitable nothing "
                    f"awaited), so no work was timed; run it in the body: asyncio.run(...) or "
                    f"loop.run_until_complete(...) on a loop of the test's")


def _run_seconds(spec: _spec.SloSpec) -> float | None:
    """How long an SLO test's arrivals last, its warm-up's included (None: not known before it runs)."""
    if not spec.rate_hz > 0:
        return None
    run = spec.requests / spec.rate_hz if spec.requests else spec.duration_s
    warm = spec.warmup_s if spec.warmup_s is not None else (spec.warmup_requests or 0) / spec.rate_hz
    return None if run is None else round(float(max(run, spec.max_duration_s or 0.0)) + float(warm), 1)


def _timer_words(run_s: float | None, waited_s: float) -> str:
    """Why a timer (pytest-timeout) ended an SLO test: its run's length and its wait for a lane,
    which the timer counts too (review179 F4: a --timeout under the run's 7 s said only
    "Timeout"; F6: under -n 2 most of 8 s went to the lane a sibling worker held)."""
    waited = waited_s >= 1
    if not run_s and not waited:
        return ""
    said = ", ".join(x for x in (f"its arrivals alone last about {run_s:g} s" if run_s else "",
                                 f"it waited {waited_s:g} s for a lane another SLO test held (one measures at a time "
                                 f"on a host), which the timeout counts too" if waited else "") if x)
    above = math.ceil(2 * (run_s or 0.0) + waited_s + 10)
    return (f" ({said}: give SLO tests a timeout above their run{' and that wait' if waited else ''}, "
            f"e.g. @pytest.mark.timeout({above}))")


def _pytest_outcome(report: pytest.TestReport) -> str:
    """What pytest made of an SLO test: an xfail turns the gate's FAIL into a green XFAIL and its
    PASS into an XPASS, red under ``strict`` (review136 N3: the reports read FAIL and PASS)."""
    if hasattr(report, "wasxfail"):
        return "xfailed" if report.skipped else "xpassed"
    if report.failed and str(report.longrepr).startswith("[XPASS(strict)]"):
        return "xpassed (strict)"
    return report.outcome


def _xfail_words(reason: str, when: str, line: str) -> str:
    """An xfail-marked SLO test's XFAIL before a verdict, in words: "XFAIL (known broken) in setup,
    before a verdict: RuntimeError: ..."; one its marker kept from running (``run=False``) says so,
    and a ``pytest.xfail()`` call is named as one, not as pytest's internal exception (review159 F8)."""
    notrun = reason.startswith("[NOTRUN]")
    reason = reason.removeprefix("[NOTRUN]").strip().removeprefix("reason: ")
    why = f" ({reason})" if reason else ""
    if notrun:
        return f"XFAIL{why}, not run: its xfail marker says run=False"
    called = line.startswith(("_pytest.outcomes.XFailed", "XFailed"))
    return f"XFAIL{why} in {when}, before a verdict: " + ("pytest.xfail() called" if called else line)


def _expects_failure(item: pytest.Item) -> bool:
    """Whether an xfail marker applies to ``item`` (not under ``--runxfail``)."""
    return _xfail_mark(item) is not None


def _xfail_mark(item: pytest.Item) -> pytest.Mark | None:
    """The xfail marker that applies to ``item``, as pytest picks it (not under ``--runxfail``).  A
    string condition is evaluated as pytest does (``os``, ``sys``, ``platform``, ``config`` and the
    test module's globals): an xfail for another platform must leave an INCONCLUSIVE as it is
    (review136 N2).  One that cannot be evaluated is taken to hold (pytest reports it as an error
    of its own)."""
    if item.config.getoption("runxfail", False):
        return None
    for mark in item.iter_markers("xfail"):
        # a condition= keyword wins over positional ones, as in pytest (review161 F3)
        conditions = (mark.kwargs["condition"],) if "condition" in mark.kwargs else mark.args
        if not conditions or any(_condition_holds(item, c) for c in conditions):
            return mark
    return None


def _strict_default(config: pytest.Config) -> bool:
    """An xfail marker's ``strict`` where it gives none, as pytest picks it: the ini's
    ``strict_xfail`` (``xfail_strict`` before pytest 9), else pytest 9's ``strict`` (``--strict``;
    review161 F2: a strict XPASS of ``--strict`` was recorded as not strict)."""
    for name in ("strict_xfail", "xfail_strict", "strict"):
        try:
            value = config.getini(name)
        except ValueError:  # not an ini option of this pytest
            continue
        if value is not None:
            return bool(value)
    return False


def _xfail_said(item: pytest.Item) -> dict[str, bool] | None:
    """``{"strict": ...}`` where an xfail marker applies to ``item``, for its run's record: `gpuslo
    compare` turns a verdict as pytest did (review159 F4: an expected FAIL read FAIL, exit 1);
    ``"raises": true`` where the marker expects only exceptions the gate's FAIL (pytest's
    ``Failed``) is not, so pytest fails the test on it (review160 F2: compare read it XFAIL)."""
    mark = _xfail_mark(item)
    if mark is None:
        return None
    strict = mark.kwargs.get("strict")
    said = {"strict": bool(strict) if strict is not None else _strict_default(item.config)}
    raises = mark.kwargs.get("raises")
    if raises is not None:
        kinds = raises if isinstance(raises, tuple) else (raises,)
        if not any(isinstance(k, type) and issubclass(pytest.fail.Exception, k) for k in kinds):
            said["raises"] = True
    return said


def _condition_holds(item: pytest.Item, condition: object) -> bool:
    if not isinstance(condition, str):
        return bool(condition)
    import platform

    namespace: dict[str, Any] = {"os": os, "sys": sys, "platform": platform, "config": item.config}
    # ... and every pytest_markeval_namespace hook's names, as pytest adds them (review161 F1: a
    # condition on such a name raised NameError here and was taken to hold, where pytest's was False)
    for names in reversed(item.ihook.pytest_markeval_namespace(config=item.config)):
        if isinstance(names, Mapping):
            namespace.update(names)
    namespace.update(getattr(getattr(item, "obj", None), "__globals__", {}))
    try:
        return bool(eval(compile(condition, "<xfail condition>", "eval"), namespace))  # noqa: S307 - as pytest does
    except Exception:  # noqa: BLE001 - pytest fails the test for it itself
        return True


def _is_unittest(item: pytest.Item) -> bool:
    cls = getattr(item, "cls", None)
    return isinstance(cls, type) and issubclass(cls, unittest.TestCase)


def _warn(item: pytest.Item, category: type[GpuSloWarning], message: str, hint: str = "") -> None:
    """Issue one of the plugin's warnings on ``item`` past a suite's blanket ``filterwarnings =
    error`` (an outcome of the plugin, not a traceback from inside it); a filter that names the
    class itself or a parent of it (``pytest_gpuslo.GpuSloWarning``) is a request to fail, and
    fails the test with the same message."""
    action, named = _warning_filter(category, message)
    if named and action == "error":
        pytest.fail(f"{message}\n  (failed: a warning filter turns {category.__name__} into an error{hint})",
                    pytrace=False)
    _, lineno, _ = item.location
    with warnings.catch_warnings():
        if action == "error":  # a blanket filter for every warning: not about this outcome
            warnings.simplefilter("always", category)
        warnings.warn_explicit(category(message), category, filename=str(item.path), lineno=(lineno or 0) + 1)


def _warning_filter(category: type[Warning], message: str) -> tuple[str, bool]:
    """The action of the first warning filter that applies to ``category`` and whether that filter
    names the plugin's warnings (``GpuSloWarning`` or a subclass) rather than all warnings
    (``"default"``, False when none applies)."""
    for action, text, cat, _module, _lineno in warnings.filters:
        if not isinstance(cat, type) or not issubclass(category, cat):
            continue
        if text is not None and not text.match(message):
            continue
        return action, issubclass(cat, GpuSloWarning)
    return "default", False


#: The plugin's own folder: a skip raised from inside it is reported at the test's line.
_PACKAGE: Final = Path(__file__).resolve().parent
SESSION_KEY: Final = pytest.StashKey[SloSession]()
SPEC_KEY: Final = pytest.StashKey[_spec.SloSpec]()
#: The spec of an ``slo_run`` call under way on the item: a test a timer (pytest-timeout) ends in
#: it is named as an SLO test, with its run's length (review181 F5: no report said a word).
RUNNING_KEY: Final = pytest.StashKey[_spec.SloSpec]()
ERROR_KEY: Final = pytest.StashKey[str]()
OCCUPANCY_KEY: Final = pytest.StashKey[list[dict[str, Any]]]()


def attach(item: pytest.Item, result: "SloResult") -> None:
    """Put a result's summary on the item's user properties, and warn where ``--gpuslo-save``
    saved nothing (``GpuSloSaveWarning``).

    Reports copy them, so the summary reaches the controller under pytest-xdist, the JUnit XML
    file (as a ``gpuslo`` property) and the terminal summary by one path; the marker and
    ``slo_run`` both come here.
    """
    summary = result.summary()
    session = item.config.stash.get(SESSION_KEY, None)
    suggestion = session.suggestions.pop(result.nodeid, None) if session is not None else None
    if suggestion is not None:
        summary["suggest"] = suggestion
    occupancy = item.stash.get(OCCUPANCY_KEY, None)
    if occupancy:
        summary["occupancy"] = occupancy
    if session is not None and session.reruns.get(result.nodeid):
        summary["reruns"] = list(session.reruns[result.nodeid])  # the JUnit XML's property says it too
    item.user_properties.append((PROPERTY, json.dumps(summary, default=str)))
    saved = result.baseline_saved
    if session is not None and session.value("save") and saved and saved.startswith("not saved"):
        # review74: the warning named --gpuslo-save where the ini's gpuslo_save had asked for it
        asked = "--gpuslo-save" if session.settings["save"][1] == "CLI" else "gpuslo_save (ini)"
        _warn(item, GpuSloSaveWarning, f"{result.nodeid}: {asked}: baseline {saved}")
    if result.last_unwritten:
        _warn(item, GpuSloWarning, f"{result.nodeid}: {result.last_unwritten}")

"""The ``gpuslo`` command line (layer 4', no pytest): inspect what the plugin measures.

Subcommands grow with the issues; each has complete ``--help``.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import datetime as _dt
import math
import os
import re
import shlex
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pytest_gpuslo import limits
from pytest_gpuslo.errors import InvalidArgument, brief, dangling, path_error, shown


def _cmd_version(args: argparse.Namespace) -> int:
    import pytest_gpuslo

    print(f"pytest-gpuslo {pytest_gpuslo.__version__}")
    return 0


def _cmd_probe(args: argparse.Namespace) -> int:
    """Print each registered backend's availability; exit 1 when one cannot run here."""
    from pytest_gpuslo import backends

    worst = 0
    for name in backends.names():
        reason = backends.probe(name)
        print(f"{name:5} {'available' if reason is None else 'unavailable: ' + reason}")
        worst = worst if reason is None else 1
    return worst


#: Files pytest takes its configuration from, in its order, and the sections it reads in each;
#: a file counts when it has one of them (pytest.ini always counts, even empty).
_INI_FILES = (("pytest.ini", ("pytest",)), (".pytest.ini", ("pytest",)),
              ("pyproject.toml", ("tool.pytest.ini_options", "tool.pytest")),
              ("tox.ini", ("pytest",)), ("setup.cfg", ("tool:pytest",)))


def _ini_section(path: Path, sections: tuple[str, ...], given: str | None = None) -> dict[str, Any] | None:
    """The pytest section of one configuration file as ``key -> text`` (a TOML value that is no
    string nor boolean stays as TOML typed it, for the caller to refuse as pytest does), or ``None``
    when the file does not configure pytest (or cannot be read: pytest's own run then says why).
    ``given``: the file was named with ``-c given``: one that cannot be read or parsed is an
    ``InvalidArgument`` (review117 F7: it read as no configuration, and the default store was used).

    Read as pytest reads it, with its own parsers (``iniconfig``, and ``tomllib``/``tomli`` for
    TOML), not a hand-written one: quotes stay part of an ini value, as pytest keeps them; at most
    ``limits.MAX_CONFIG_BYTES`` of a regular file (review117 F6)."""

    def unreadable(what: str, refused: bool = True) -> dict[str, Any] | None:
        if given is None:
            if not refused:
                return None  # too large or no regular file: passed over, as before
            # review118 N1: found upwards, pytest refuses it too; passed over, the store was another one
            raise InvalidArgument(f"{path}: {what}; pytest refuses it too: mend it (the commands find the store "
                                  f"through the configuration file pytest takes)")
        raise InvalidArgument(f"-c {given}: {what}; {'pytest refuses it too: ' if refused else ''}mend it, or give "
                              f"the configuration file pytest is run with")

    try:
        text = limits.read_capped(path, limits.MAX_CONFIG_BYTES, ValueError).decode("utf-8")
    except UnicodeDecodeError:
        return unreadable("is not UTF-8 text")
    except ValueError as exc:
        return unreadable(str(exc), refused=False)
    if path.suffix == ".toml":
        if sys.version_info >= (3, 11):
            import tomllib
        else:  # pragma: no cover - pytest itself needs tomli before 3.11
            import tomli as tomllib
        try:
            doc: Any = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            return unreadable(f"is not valid TOML ({exc})")
        for name in sections:
            table = doc
            for part in name.split("."):
                table = table.get(part) if isinstance(table, dict) else None
            if isinstance(table, dict):
                return {str(k): (str(v).lower() if isinstance(v, bool) else v) for k, v in table.items()}
        return None
    import iniconfig

    try:
        ini = iniconfig.IniConfig(str(path), data=text)
    except iniconfig.ParseError as exc:
        return unreadable(f"is not a valid ini file ({exc})")
    for name in sections:
        if name in ini:
            return dict(ini[name].items())
    return {} if path.name in ("pytest.ini", ".pytest.ini") else None


def find_ini(start: Path) -> tuple[Path, Path, dict[str, Any]] | None:
    """(its folder, the file, its pytest section's values) of the configuration file pytest takes
    when run from ``start`` with no arguments; None when there is none."""
    start = start.resolve()
    for folder in (start, *start.parents):
        for name, sections in _INI_FILES:
            values = _ini_section(folder / name, sections) if (folder / name).is_file() else None
            if values is not None:
                return folder, folder / name, values
    return None


def read_config_file(path: Path, given: str | None = None) -> tuple[Path, Path, dict[str, Any]] | None:
    """(its folder, the file, its pytest section's values) of a file given as pytest's ``-c FILE``,
    read by its name, or its suffix where the name is not one of pytest's; None where it does not
    configure pytest (``given``: as typed, for ``_ini_section``'s refusal)."""
    sections = next((secs for name, secs in _INI_FILES if name == path.name),
                    {".cfg": ("tool:pytest",), ".toml": _INI_FILES[2][1]}.get(path.suffix, ("pytest",)))
    values = _ini_section(path, sections, given) if path.is_file() else None
    return (path.parent, path, values) if values is not None else None


def find_rootdir(start: Path, config: str | None = None) -> tuple[Path, str | None]:
    """The rootdir pytest would use when run from ``start`` with no arguments (the first folder
    upwards with a configuration file for pytest, else one with setup.py, else ``start``), or with
    ``-c config`` (that file's folder, as pytest takes it), and the ``gpuslo_baseline_dir`` that
    file sets, if any; ``InvalidArgument`` where it is no string, which pytest refuses too
    (review82: ``gpuslo show`` read ``= 5`` in a TOML table as a folder "5"), or where ``config``
    is no file."""
    start = start.resolve()
    if config is not None:
        path = start / config
        if not path.is_file():
            # review117 F8: a folder, a FIFO and /dev/zero read "no such file"
            what = dangling(path) or ("no such file" if not path.exists() else "is a folder" if path.is_dir()
                                      else "is not a regular file (a device, FIFO or socket)")
            raise InvalidArgument(f"-c {config}: {what}; give the configuration file "
                                  f"pytest is run with (-c FILE), or leave -c out to use the one pytest finds")
        found = read_config_file(path, config)
        if found is None:  # pytest takes the file's folder as rootdir even without a pytest section
            return path.parent, None
    else:
        found = find_ini(start)
    if found is not None:
        configured = found[2].get("gpuslo_baseline_dir")
        if configured is not None and not isinstance(configured, str):
            raise InvalidArgument(f"gpuslo_baseline_dir = {configured!r} in {found[1]} is not a string, and pytest "
                                  f"refuses it too; write the folder as a quoted string, e.g. \".gpuslo\"")
        return found[0], configured or None
    for folder in (start, *start.parents):
        if (folder / "setup.py").is_file():
            return folder, None
    return start, None


#: The plugin's option that names the store; in addopts it wins over the ini key, as in pytest.
STORE_OPTION = "--gpuslo-baseline-dir"
#: The ini key that names the store (``-o gpuslo_baseline_dir=DIR`` overrides the file's).
STORE_KEY = "gpuslo_baseline_dir"


def _addopts_store(tokens: Sequence[str]) -> tuple[str | None, str | None]:
    """(the store the last ``--gpuslo-baseline-dir`` in ``tokens`` names, the one the last
    ``-o gpuslo_baseline_dir=DIR`` names), each None where none does: the last one wins, as in
    pytest (review124 N1: ``-o`` was not read)."""
    option = override = None
    for a, b in zip(tokens, [*tokens[1:], None]):
        if a == STORE_OPTION and b is not None:
            option = b
        elif a.startswith(STORE_OPTION + "="):
            option = a.split("=", 1)[1]
        said = (b if a in ("-o", "--override-ini") else a[2:] if a.startswith("-o") and not a.startswith("--")
                else a.split("=", 1)[1] if a.startswith("--override-ini=") else None)
        # (as pytest splits it: no spaces stripped, review125 N3)
        if said is not None and said.partition("=")[0] == STORE_KEY and "=" in said:
            override = said.partition("=")[2]
    return option, override


def find_store(start: Path, config: str | None = None) -> tuple[Path, Path, str]:
    """(rootdir, the store pytest would use, where it was set in words: '' for the default), as
    ``find_rootdir`` finds the rootdir, in pytest's order: ``--gpuslo-baseline-dir``, then
    ``-o gpuslo_baseline_dir=DIR``, each from the ini's ``addopts`` or $PYTEST_ADDOPTS (the latter
    read after, so it wins), then the ini key, then ``.gpuslo`` (review121: ``show`` and ``accept``
    read the default store beside one that addopts set)."""
    root, configured = find_rootdir(start, config)
    found = read_config_file(start.resolve() / config) if config is not None else find_ini(start)
    ini = (found[2] if found is not None and found[0] == root else {}).get("addopts")
    try:
        ini_tokens = shlex.split(ini) if isinstance(ini, str) else [str(x) for x in ini] if isinstance(ini, list) else []
    except ValueError:  # unbalanced quotes: pytest's own run says so
        ini_tokens = []
    env, from_ini = _addopts_store(_env_addopts()), _addopts_store(ini_tokens)
    ini_words = f"the addopts of {found[1]}" if found is not None else "the ini's addopts"
    for k, flag in enumerate((f"{STORE_OPTION}=", f"-o {STORE_KEY}=")):
        for tokens, where in ((env, "PYTEST_ADDOPTS"), (from_ini, ini_words)):
            if tokens[k]:
                return root, root / str(tokens[k]), f"{flag}{tokens[k]} in {where}"
    if configured:
        return root, root / configured, f"ini {STORE_KEY} = {configured}"
    return root, root / ".gpuslo", ""


def _store(args: argparse.Namespace) -> tuple[Any, str]:
    """The baseline store: --dir as given, else the one pytest uses from this folder (its rootdir
    and ini key gpuslo_baseline_dir, default .gpuslo), so the commands work from any subfolder;
    and where it was set, in words ('' for --dir and the default)."""
    from pytest_gpuslo.baseline import Store
    from pytest_gpuslo.reports import store_unfit

    if args.dir is not None:
        if not args.dir:  # review117 F1: an unset CI variable's empty --dir read the current folder
            print("error: --dir is empty; give the baseline store's folder (e.g. .gpuslo), or leave --dir out to "
                  "use the one pytest uses from here", file=sys.stderr)
            raise SystemExit(2)
        if Path(args.dir).exists() and not Path(args.dir).is_dir():
            # review71: "gpuslo show --dir pytest.ini" said "no baselines in pytest.ini", exit 0
            print(f"error: --dir {args.dir}: not a folder; give the baseline store's folder (e.g. .gpuslo)",
                  file=sys.stderr)
            raise SystemExit(2)
        if not Path(args.dir).exists():
            # review74: "accept --dir <typo>" said "<typo>/.last is empty; run the SLO tests first";
            # review78: "show --dir <typo>" exited 0, a green CI step; review79: a link to nothing
            print(f"error: --dir {args.dir}: {dangling(args.dir) or 'no such folder'}; give the baseline store's folder (e.g. .gpuslo)",
                  file=sys.stderr)
            raise SystemExit(2)
        if not os.access(args.dir, os.R_OK | os.X_OK):
            # review117 F21: an unreadable store read as empty ("no baselines", exit 0)
            print(f"error: --dir {args.dir}: permission denied; make it readable for this user", file=sys.stderr)
            raise SystemExit(2)
        unfit = store_unfit(args.dir)
        if unfit:  # review200 F9: accept --dir / wrote a baseline into /, show read / as a store
            print(f"error: --dir {args.dir}: {unfit}; give the baseline store's folder (e.g. .gpuslo)",
                  file=sys.stderr)
            raise SystemExit(2)
        return Store(Path(args.dir)), ""
    try:
        root, store, set_by = find_store(Path.cwd(), args.config)
    except InvalidArgument as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    if (store.exists() or dangling(store)) and not store.is_dir():
        # review118 N4: "= /dev/null" read "no baselines ... (no such folder)", exit 0, where pytest
        # refuses the same ini key as "is not a folder"; review120: so did a default .gpuslo that is
        # a file or a link looping back on itself (and accept's resolve() of the loop, a traceback)
        what = "is not a folder" if store.exists() else f"is {dangling(store)}"
        where = (f"{set_by}: {store} {what} (relative paths are from the rootdir "
                 f"{root})" if set_by else f"the store {store} (pytest's default, from the rootdir) {what}")
        print(f"error: {where}; give the folder that holds the baselines, or --dir FOLDER", file=sys.stderr)
        raise SystemExit(2)
    unfit = store_unfit(store)
    if unfit:  # (as pytest refuses it)
        print(f"error: {set_by or 'the store'}: {unfit}; give the folder that holds the baselines, or --dir FOLDER",
              file=sys.stderr)
        raise SystemExit(2)
    if not store.exists() and set_by.startswith("--"):
        # as pytest refuses a store its option names that is not there (review124 N2: "no
        # baselines in .../nope (no such folder)", exit 0); a missing one the ini key names, or
        # -o (an ini value), pytest only warns of, and the commands say where it was set (review125 N2)
        print(f"error: {set_by}: {store} does not exist (relative paths are from the rootdir {root}); pytest "
              f"refuses it too: give the folder that holds the baselines, or --dir FOLDER", file=sys.stderr)
        raise SystemExit(2)
    return Store(store), set_by


#: The longest machine name `gpuslo show` prints (a CPU model string can run to 60 characters).
MACHINE_WIDTH = 60


def _cmd_show(args: argparse.Namespace) -> int:
    """List baselines: test, machine, runs, n, p95 of the latest run, its age and commit."""
    import datetime as dt

    import numpy as np

    from pytest_gpuslo import stats
    from pytest_gpuslo.baseline import Baseline, named_for
    from pytest_gpuslo.errors import BaselineFormatError
    from pytest_gpuslo.spec import DEFAULT_TIMEOUT_S

    store, set_by = _store(args)
    entries = store.all()
    if not entries:
        said = f"; set by {set_by}" if set_by else ""
        print(f"no baselines in {store.root}" + (f" ({said[2:]})" if said and store.root.is_dir() else
                                                 "" if store.root.is_dir() else f" (no such folder{said})"))
        return 0
    now = dt.datetime.now(dt.timezone.utc)
    bad = 0

    good = [b for _, b in entries if not isinstance(b, BaselineFormatError)]
    labels = _machine_labels(good)

    def machine_of(b: Baseline) -> str:
        return labels[id(b)]

    width = max([7, *(len(machine_of(b)) for b in good)])
    print(f"{'machine':<{width}} {'runs':>4} {'n':>7} {'p95 ms':>8} {'age':>6}  {'commit':<12}  test")
    for path, b in entries:
        if isinstance(b, BaselineFormatError):
            bad += 1
            print(f"UNREADABLE {shown(path.name)}: {b}")
            continue
        if not named_for(path, b.nodeid):
            # review100 F2: listed under the other test's name, exit 0, where the plugin refuses it
            bad += 1
            print(f"MISPLACED {shown(path.name)}: holds another test's runs ({b.nodeid}), not the test its name is "
                  f"for (copied or renamed by hand?); the plugin refuses it: move it back to {b.nodeid}'s name "
                  f"or delete it")
            continue
        # The newest run by date, whatever order it was saved in: its age, size, p95 and commit
        # (review98 #10: the p95 of the last saved run beside the age of the newest-dated one).
        latest = b.by_date()[-1]
        age = _age(latest.date, now)
        # A date ahead of this clock (another machine's, or set by hand): "future", not "-26328d".
        age_s = ("?" if age is None else "future" if age.days < 0 else f"{age.days}d" if age.days
                 else f"{age.seconds // 3600}h")
        p95 = float(np.quantile(latest.latency_ms, 0.95))
        # a p95 among raised requests is their timeout, no latency (review102 F3: "1e+04")
        from pytest_gpuslo.reports import view

        t_s = float(b.spec.get("timeout_s") or DEFAULT_TIMEOUT_S)
        span = stats.raised_span(latest.latency_ms, t_s,
                                 int(latest.summary.get("failed") or 0) + stats.stand_ins(latest.latency_ms, t_s))
        p95_text = view.stand_in(latest.summary) if span[0] < p95 <= span[1] else f"{p95:.3g}"
        print(f"{machine_of(b):<{width}} {len(b.runs):>4} {latest.latency_ms.size:>7} {p95_text:>8} {age_s:>6}  "
              f"{latest.commit or '-':<12}  {b.nodeid}")
        if args.verbose:
            for k, v in sorted(b.machine.items()):
                print(f"    {k}: {v}")
    return 1 if bad else 0


def _machine_labels(entries: list[Any]) -> dict[int, str]:
    """Each baseline's machine as `gpuslo show` prints it: the GPU or CPU name, whole
    (review35: "AMD EPYC 7763 64-Core Proces") up to what a line can hold, and where one test
    has files from machines of that same name, the class keys that tell them apart ("cpu_count
    4"): two identical rows read as a duplicate."""
    from pytest_gpuslo.baseline import differing_keys

    def name(b: Any) -> str:
        return str(b.machine.get("gpu") or b.machine.get("cpu") or "?")

    def key_text(k: str, machine: dict[str, Any]) -> str:
        k = "driver" if k == "driver (major)" else k
        return f"{k} {machine.get(k, '-')}"

    groups: dict[tuple[str, str], list[Any]] = {}
    for b in entries:
        groups.setdefault((b.nodeid, name(b)), []).append(b)
    out: dict[int, str] = {}
    for b in entries:
        twins = [o for o in groups[(b.nodeid, name(b))] if o is not b]
        # every key the files' classes differ in (review45: driver and power limit were left out)
        keys = sorted({k for o in twins for k in differing_keys(b.machine, o.machine)})
        extra = ", ".join(key_text(k, b.machine) for k in keys if k not in ("gpu", "cpu"))
        # the name keeps at least 24 characters ("NVIDIA H100 80GB HBM3" whole); the column grows
        label = name(b)[:max(24, MACHINE_WIDTH - len(extra) - 3) if extra else MACHINE_WIDTH]
        out[id(b)] = f"{label} ({extra})" if extra else label
    return out


def _age(date: str, now: Any) -> Any:
    """``now`` minus an ISO date (a date without a zone is taken as UTC); ``None`` if unreadable."""
    from pytest_gpuslo.baseline import parse_date

    when = parse_date(date)
    return None if when is None else now - when


def _same_test(folder: Path, run_file: Path) -> Path | None:
    """The file in ``folder`` for the test and machine of ``run_file``, found as the plugin finds
    it (``Store.path_for``: this machine class's file, an old-named one included), else the newest
    for the same test on another machine class, which the gate then calls NOT COMPARABLE with the
    keys that differ (review36: a folder of another machine's baselines read "no baseline").  A
    run file that cannot be read is matched by name; reading it again reports it."""
    from pytest_gpuslo.baseline import Store, load
    from pytest_gpuslo.errors import BaselineFormatError

    try:
        run = load(run_file)
    except (BaselineFormatError, OSError):
        return folder / run_file.name if (folder / run_file.name).is_file() else None
    store = Store(folder)
    own = store.path_for(run.nodeid, run.machine)
    if own.is_file() or os.path.lexists(own):
        # not a regular file (a FIFO, a link to a device or to nothing): reading it says so, as the
        # plugin and gpuslo show refuse it (review100 restart F6: "no baseline", PASS, exit 0)
        return own
    others = store.files_of(run.nodeid)
    return others[0] if others else None


def _pairs(base: Path, new: Path) -> list[tuple[Path | None, Path]]:
    """(stored file or None, run file): of two folders, every run file, with the same test's file in
    BASE when it has one."""
    if base.is_dir() and new.is_dir():
        return [(_same_test(base, p), p) for p in sorted(new.glob("*.json"))]
    if base.is_dir():  # a store and one run: the same test's file in it
        return [(_same_test(base, new), new)]
    return [(base, new)]


def _older_records(pairs: Sequence[tuple[Path | None, Path]]) -> dict[Path, Path]:
    """Of NEW records that hold the same test on the same machine class, each older one (by its
    latest run's date) and the newest; the rest read once more in the loop that judges them."""
    import json as _json

    from pytest_gpuslo.baseline import load, named_for
    from pytest_gpuslo.errors import BaselineFormatError

    newest: dict[tuple[str, str], tuple[str, Path]] = {}
    out: dict[Path, Path] = {}
    for _, npath in pairs:
        try:
            b = load(npath)
        except BaselineFormatError:
            continue  # said where it is judged
        if not named_for(npath, b.nodeid):
            continue  # another test's run under this name: misplaced, said where it is judged
        key = (b.nodeid, _json.dumps(b.machine, sort_keys=True, default=str))
        mine = (b.latest.date if b.runs else "", npath)
        if key in newest:
            old, new = sorted([newest[key], mine])
            out[old[1]] = new[1]
            out = {k: (new[1] if v == old[1] else v) for k, v in out.items()}
            newest[key] = new
        else:
            newest[key] = mine
    return out


def _cmd_compare(args: argparse.Namespace) -> int:
    """Compare baseline files (or folders of them) with the plugin's own decision path: the
    candidate's latest run is decided by ``gate.decide`` against ``gate.baseline_input`` of every
    stored run of BASE, at the alpha the plugin used, exactly as the plugin decided it."""
    from dataclasses import replace

    from pytest_gpuslo import gate
    from pytest_gpuslo.baseline import LAST_RUNS, load, named_for, repair_hint
    from pytest_gpuslo.errors import BaselineFormatError
    from pytest_gpuslo.spec import SloSpec

    for given in (args.base, args.new):
        if dangling(given):
            # review77 H3: "no such file or folder" was true of its target only
            print(f"error: {given} is {dangling(given)}: mend it or delete it (the SLO "
                  f"tests write .gpuslo/.last again when they run); then give a baseline file or a folder of them",
                  file=sys.stderr)
            return 2
        if not Path(given).exists():
            print(f"error: {given}: no such file or folder; give a baseline file (e.g. .gpuslo/<test>.json, "
                  f"or .gpuslo/.last/<test>.json for the last run) or a folder of them", file=sys.stderr)
            return 2
    pairs = _pairs(Path(args.base), Path(args.new))
    if not pairs:
        print(f"nothing to compare: {args.new} holds no baseline file", file=sys.stderr)
        return 2
    if Path(args.base).name == LAST_RUNS and Path(args.new).is_dir() and Path(args.new).name != LAST_RUNS:
        # review76: "gpuslo compare .gpuslo/.last .gpuslo" judged the store's runs against the last ones
        print(f"note: BASE {args.base} holds last-run records and NEW {args.new} looks like a store: the order is "
              f"gpuslo compare BASE NEW (e.g. gpuslo compare .gpuslo .gpuslo/.last)")
    if Path(args.base).is_dir() and not any(Path(args.base).glob("*.json")):
        # review72: a mistyped or empty store read "no baseline" per test, exit 0, like a green gate
        print(f"note: {args.base} holds no baseline file, so nothing below is compared with a baseline; if it "
              f"should, give the store's folder (where pytest --gpuslo-save wrote, .gpuslo by default)")
    worst = 0
    older = _older_records(pairs) if Path(args.new).is_dir() else {}
    if Path(args.base).is_dir() and Path(args.new).is_dir():
        # Say which stored tests have no run in NEW, so none is missed silently.
        for p in sorted(Path(args.base).glob("*.json")):
            try:
                stored = load(p)
            except BaselineFormatError as exc:  # review102 F5: read "no run", where show says UNREADABLE
                if not (Path(args.new) / p.name).exists():  # else its pair below says it (review120 NEW-8: twice)
                    print(f"unreadable: {exc}; not judged")
                worst = 2  # review120 NEW-9: exit 0, where the help says 2 on unreadable input
                continue
            if not named_for(p, stored.nodeid):  # review103 F4: silent, where show says MISPLACED
                worst = 2  # review121: exit 0, where show exits 1 and accept 2 for the same file
                print(f"misplaced: {shown(p.name)} holds another test's runs ({stored.nodeid}), not the test its name "
                      f"is for; not judged (the plugin refuses it): move it back to that test's name or delete it")
            elif _same_test(Path(args.new), p) is None:
                print(f"no run: {shown(p.name)} is stored in {args.base} but has no run in {args.new}; not judged")
    policy = gate.Policy(alpha=args.alpha if args.alpha is not None else gate.Policy().alpha)
    dates: list[tuple[str, str, str]] = []  # (the run's date, its test, its pytest session) of each run judged
    failed: set[str] = set()  # the tests whose run FAILed or REGRESSED
    judged: list[tuple[dict[str, Any], str | None]] = []  # (summary, inconclusive policy) for the annotations
    base_dates: list[str] = []  # the latest stored run's date of each test judged against BASE
    for bpath, npath in pairs:
        try:
            base = load(bpath) if bpath is not None else None
        except BaselineFormatError as exc:
            print(f"error: {exc}", file=sys.stderr)
            worst = max(worst, 2)
            continue
        try:
            new = load(npath)
        except BaselineFormatError as exc:
            # the run to judge, wherever it was copied (review160 F4: "baseline X: is malformed")
            said = str(exc)
            print(f"error: {'NEW run record ' + said[len('baseline '):] if said.startswith('baseline ') else said}",
                  file=sys.stderr)
            worst = max(worst, 2)
            continue
        if npath in older:
            # review191 F4: two records of one test on one machine class read as two verdicts
            # under one name, without a word
            print(f"duplicate: NEW {shown(npath.name)} holds an older run of {new.nodeid} than "
                  f"{shown(older[npath].name)}, which is judged; not judged: delete it")
            worst = max(worst, 2)
            continue
        if Path(args.new).is_dir() and not named_for(npath, new.nodeid):
            # review187 F2: a record edited or copied under another test's name was judged as that
            # test, beside its own row, exit 0, where the BASE side, show and accept refuse it
            print(f"misplaced: NEW {shown(npath.name)} holds another test's run ({new.nodeid}), not the test its "
                  f"name is for; not judged (the plugin refuses it): run the SLO tests again, which write "
                  f"{LAST_RUNS} anew, or delete it")
            worst = max(worst, 2)
            continue
        try:
            spec = SloSpec.from_dict(new.spec)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            print(f"error: baseline {shown(npath)}: its \"spec\" cannot be read ({type(exc).__name__}: {exc}). "
                  f"{repair_hint(npath)}", file=sys.stderr)
            worst = max(worst, 2)
            continue
        cand = new.latest
        dates.append((cand.date, new.nodeid, str(cand.summary.get("invocation") or "")))
        itself = ""
        if base is not None and base.nodeid != new.nodeid:
            # review78: two tests' files read "+2085% ... record 3 or more runs", which cannot help
            itself = (f" (BASE {bpath} holds another test, {base.nodeid}: not compared; its absolute budgets "
                      f"only; give the same test's baseline file, or folders, where tests are matched by name)")
            base = None
        if base is not None:
            base_dates.append(base.latest.date)
            # Right after --gpuslo-save the last run is also the store's latest: judged against
            # itself it would look like no change at all.  Judge it against the runs before it.
            kept = [r for r in base.runs if not _same_run(r, cand)]
            if len(kept) < len(base.runs):
                itself = (f" (this run is stored in {bpath} too: judged against the {len(kept)} stored "
                          f"run(s) before it)" if kept else
                          f" (this run is the only one stored in {bpath}: its absolute budgets only)")
                base = replace(base, runs=kept) if kept else None
        verdict = _judge(base, new, spec, policy, alpha_given=args.alpha is not None)
        alone = (f" (no baseline in {args.base}: its absolute budgets only; record one with --gpuslo-save or "
                 f"gpuslo accept)") if base is None and not itself else ""
        # The headline's outcome is the budgets' unless a claim FAILed or REGRESSED: an undecided
        # baseline claim is said beside it (review84: "PASS" above "it would read REGRESSED ...").
        vs = list(dict.fromkeys(b.outcome for b in verdict.baseline))
        against = f" (vs baseline: {', '.join(vs)})" if vs and verdict.outcome != "FAIL" else ""
        # REGRESSED where only the baseline claim failed it, as the reports say (review87 #6)
        from pytest_gpuslo.reports import terminal, view
        from pytest_gpuslo.result import lag_figures

        outcome_text = view.shown_outcome({"verdict": verdict.as_dict()})
        # a test an xfail marker applied to, as pytest made of it (review159 F4: its expected FAIL
        # read FAIL here, exit 1 and an ::error, where pytest said XFAIL and exited 0)
        marked = cand.summary.get("xfail")
        xstrict = isinstance(marked, dict) and marked.get("strict") is True
        as_pytest = (view.under_xfail(verdict.outcome, xstrict, marked.get("raises") is True)
                     if isinstance(marked, dict) else None)
        note = view.PYTEST_NOTES.get(as_pytest, "") if as_pytest else ""
        print(f"{new.nodeid}: {outcome_text}{note}{against}{alone}{itself}")
        if as_pytest:
            print(f"  note: the test is marked xfail{' (strict)' if xstrict else ''}, as its record "
                  f"says: pytest reported this {verdict.outcome} as {as_pytest.upper()}, and so does the exit status here")
        made = _recorded_policy(cand.summary, policy, alpha_given=args.alpha is not None)[1]
        if made:
            print(f"  note: {made}")
        refused = [r for r in base.runs if r.summary.get("save_refusal")] if base is not None else []
        if base is not None and refused:
            # A .last run --gpuslo-save refused: the plugin never compares against one (review46).
            which = (f"the base run in {bpath} was" if len(base.runs) == 1 else
                     f"all {len(refused)} base runs in {bpath} were" if len(refused) == len(base.runs) else
                     f"{len(refused)} of the {len(base.runs)} base runs in {bpath} were")
            print(f"  note: {which} refused as a baseline ({refused[-1].summary['save_refusal']}); judged "
                  f"against {'it' if len(refused) == 1 else 'them'} as given, though the plugin would not have "
                  f"stored {'it' if len(refused) == 1 else 'them'}")
        for c in verdict.checks:
            # The reason too, as the plugin prints it: a FAIL's or INCONCLUSIVE's numbers alone do
            # not say why (the session-11 check).
            print(f"  {c.outcome:<13} {c.detail}" + (f"; {c.reason}" if c.reason and c.outcome != "PASS" else ""))
        for b in verdict.baseline:
            # a claim that is not compared (NOT COMPARABLE) has its reason for detail: said once (review35)
            print(f"  {b.outcome:<13} {b.detail}" + (f"; {b.reason}" if b.reason and b.reason != b.detail else ""))
        named = tuple(f"{name}:" for name in [c.name for c in verdict.checks] + [b.name for b in verdict.baseline])
        for r in verdict.reasons:  # the run's own notes (a late generator, the bodies' host time)
            if not r.startswith(named):
                print(f"  {r}")
        # ... and the stall note the terminal prints under it (review146 N1)
        figures = lag_figures(cand.lag_ms, cand.start_delay_ms) if cand.lag_ms is not None else {}
        figures["frozen_max"] = cand.summary.get("frozen_ms")  # not kept per request
        stall = (terminal.stall_words(figures, busy=bool(cand.summary.get("contention")))
                 if verdict.outcome != "PASS" and cand.lag_ms is not None else "")
        if stall:
            print(f"  {stall}")
        strict = isinstance(made_with := cand.summary.get("policy"), dict) and made_with.get("inconclusive") == "fail"
        judged.append(({**cand.summary, "nodeid": new.nodeid, "spec": new.spec, "verdict": verdict.as_dict(),
                        "lag_ms": figures, "n": int(cand.latency_ms.size),
                        # the machine as the latest run saw it, for the row's words (review159 F5: "needs a
                        # quieter machine" in pytest's annotation, only a count here)
                        "telemetry": new.telemetry}
                       | ({"pytest_outcome": as_pytest} if as_pytest else {}), "fail" if strict else None))
        if as_pytest:
            if as_pytest == "xpassed (strict)":
                failed.add(new.nodeid)
        elif verdict.outcome == "FAIL":
            failed.add(new.nodeid)
        elif verdict.outcome == "INCONCLUSIVE" and strict:
            # review146: pytest failed it under --gpuslo-inconclusive=fail; exit 0 here read green
            print("  note: the run was made with --gpuslo-inconclusive=fail, under which pytest failed this "
                  "INCONCLUSIVE: so does the exit status here")
            failed.add(new.nodeid)
    stale = _stale_note(dates, args.new) if Path(args.new).is_dir() else set()
    # A record named stale does not decide the exit status: a deleted test's last FAIL turned the
    # gate red (review102 F4); the note names it and what to do.
    if failed - stale:
        worst = max(worst, 1)
    _swapped_note(base_dates, [d for d, _, _ in dates], args.base, args.new)
    from pytest_gpuslo.reports import github

    if github.enabled():  # as the plugin and gpuslo ab annotate a pull request's checks
        for inconclusive in (None, "fail"):  # (runs made under either --gpuslo-inconclusive)
            for line in github.commands([s for s, made in judged if made == inconclusive], inconclusive=inconclusive,
                                        listed="the log above lists them"):
                print(line)
    return worst


def _swapped_note(base_dates: list[str], new_dates: list[str], base: str, new: str) -> None:
    """Say so when every run of NEW is older than BASE's latest by over a day: the arguments are
    probably the wrong way round (review77: "gpuslo compare NEW OLD" read rc 0 without a word)."""
    from pytest_gpuslo.baseline import parse_date

    b = [w for w in map(parse_date, base_dates) if w is not None]
    n = [w for w in map(parse_date, new_dates) if w is not None]
    if b and n and min(b) - max(n) > STALE_AFTER:
        print(f"note: the runs in BASE {base} are newer than every run in NEW {new} (latest {max(n):%Y-%m-%d}); "
              f"the order is gpuslo compare BASE NEW, the candidate last")


#: A run this much older than the newest one in a folder of runs is named as possibly stale.
STALE_AFTER = _dt.timedelta(days=1)


def _stale_note(dates: list[tuple[str, str, str]], folder: str) -> set[str]:
    """Name the runs of a folder (a store's .last) made by an earlier pytest session than its newest
    run: a test renamed or deleted keeps its last-run record there, and was judged as if it had just
    run (review100 restart F4: a deleted test's record of the same day read REGRESSED, exit 1,
    without a word).  Returns the tests whose run is over a day older than the newest: those do not
    decide the exit status (review102 F4); a run of the same day may be another step of the same CI
    job (``pytest tests/a; pytest tests/b``), so it still counts."""
    from pytest_gpuslo.baseline import parse_date

    when = [(parse_date(d), node, inv) for d, node, inv in dates]
    known = [(w, inv) for w, _, inv in when if w is not None]
    if not known:
        return set()
    newest, session = max(known, key=lambda k: k[0])
    old = [(node, w) for w, node, inv in when if w is not None and newest - w > STALE_AFTER]
    earlier = [(node, w) for w, node, inv in when
               if w is not None and newest - w <= STALE_AFTER and session and inv and inv != session]
    gone = "a test renamed or deleted since keeps its last-run record in " + folder
    if old:
        print(f"note: {len(old)} of these runs {'is' if len(old) == 1 else 'are'} over a day older than the newest "
              f"({newest:%Y-%m-%d %H:%M} UTC): {', '.join(f'{node} ({w:%Y-%m-%d})' for node, w in old)}; {gone}, "
              f"judged above but not counted in the exit status: delete the records of tests that are gone, or "
              f"run them again")
    if earlier:
        print(f"note: {len(earlier)} of these runs {'comes' if len(earlier) == 1 else 'come'} from an earlier "
              f"pytest session than the newest: {', '.join(f'{node} ({w:%H:%M})' for node, w in earlier)}; "
              f"{gone}, judged above as if it had just run and counted in the exit status (it may be another "
              f"step of this job): delete the records of tests that are gone")
    return {node for node, _ in old}


def _recorded_policy(summary: dict[str, Any], policy: Any, alpha_given: bool) -> tuple[Any, str]:
    """The policy a run was made with, as its record says (``runner.record``: the alpha and
    ``--gpuslo-allow-throttle`` of its pytest session), over ``policy``'s defaults, and words for
    where it differs from them; an ``alpha_given`` on the command line wins.  review146 F1, F2:
    a run made with --gpuslo-allow-throttle FAILed (exit 1) and `gpuslo compare` of its record held
    the FAIL back as busy neighbours' (exit 0); one made at another alpha was judged at 0.01.  A
    value that cannot be read is left out (the defaults decide)."""
    from dataclasses import replace

    from pytest_gpuslo.options import MIN_ALPHA

    made = summary.get("policy")
    if made is None:
        return policy, ""
    if not isinstance(made, dict):  # review147 F1: a broken field was left out without a word
        return policy, (f"its record's \"policy\" ({str(made)[:60]!r}) is not an object; judged at the "
                        f"defaults (a record pytest wrote holds one: the file was edited or damaged)")
    said, unread = [], []
    alpha = made.get("alpha")
    value = float(alpha) if isinstance(alpha, (int, float)) and not isinstance(alpha, bool) \
        and MIN_ALPHA <= alpha < 0.5 else None
    if alpha is not None and value is None:
        unread.append(f"alpha {str(alpha)[:30]!r}")
    if not alpha_given and value is not None and value != policy.alpha:
        policy = replace(policy, alpha=value)
        said.append(f"alpha {value:g}")
    throttle = made.get("allow_throttle")
    if throttle is not None and not isinstance(throttle, bool):
        unread.append(f"allow_throttle {str(throttle)[:30]!r}")
    if throttle is True and not policy.allow_disturbances:
        policy = replace(policy, allow_disturbances=True)
        said.append("--gpuslo-allow-throttle")
    if made.get("inconclusive") not in (None, "warn", "fail"):
        unread.append(f"inconclusive {str(made['inconclusive'])[:30]!r}")
    override = "; --alpha overrides its alpha" if said and said[0].startswith("alpha") else ""
    words = [f"judged with {' and '.join(said)}, as its record says the run was made, so that this reads as "
             f"pytest did{override}"] if said else []
    if unread:
        words.append(f"its record's policy holds {', '.join(unread)}, which pytest never writes (the file was "
                     f"edited or damaged): the default decides there")
    return policy, "; ".join(words)


def _judge(base: Any, new: Any, spec: Any, policy: Any, alpha_given: bool = False) -> Any:
    """``new``'s latest run decided against ``base``'s runs (None: its budgets only), exactly as the
    plugin decided it, under the policy its record says it was made with (``_recorded_policy``):
    ``gpuslo compare`` and ``gpuslo accept`` (which must not add a regression to the runs it
    regressed against) both ask here."""
    from dataclasses import replace

    from pytest_gpuslo import gate
    from pytest_gpuslo.baseline import gate_input

    cand = new.latest
    policy = _recorded_policy(cand.summary, policy, alpha_given)[0]
    binput = (gate_input(base, spec, fingerprint=new.schedule_fingerprint, machine=new.machine)
              if base is not None else None)
    # A run decided at a sequential look used a share of alpha: judge it at the same share.
    looks = max(1, int(cand.summary.get("looks") or 1))
    return gate.decide(spec, cand.measurements(_scheduled(spec, new.schedule_fingerprint),
                                               list(spec.budgets_ms) or None),
                       replace(policy, alpha=policy.alpha / looks), binput)


def _same_run(a: Any, b: Any) -> bool:
    """The same recorded run (a stored run and the .last record written with it)."""
    import numpy as np

    return (a.date == b.date and a.commit == b.commit and a.latency_ms.shape == b.latency_ms.shape
            and bool(np.array_equal(a.latency_ms, b.latency_ms)))


def _scheduled(spec: Any, fingerprint: str) -> Any:
    """The measured window of a stored run's schedule, drawn again from its spec (the file keeps
    only its fingerprint); None when it does not draw the same schedule here (another NumPy)."""
    from pytest_gpuslo import arrivals

    try:
        schedule, warm = arrivals.plan(spec)
    except Exception:  # noqa: BLE001 - a spec this version cannot plan: compare without it
        return None
    if arrivals.fingerprint(schedule) != fingerprint:
        return None
    return (schedule[warm:] - schedule[warm]) / 1e6


def _cmd_accept(args: argparse.Namespace) -> int:
    """Promote the last run's results (<store>/.last) into the baseline store."""
    from pytest_gpuslo import gate
    from pytest_gpuslo.baseline import LAST_RUNS, Store, git_commit, named_for, power_note, previous_path
    from pytest_gpuslo.errors import BaselineFormatError

    store, set_by = _store(args)
    if store.root.name == LAST_RUNS or store.root.resolve().name == LAST_RUNS:  # review77: a link to it too
        # review76: "--dir .gpuslo/.last" looked for .gpuslo/.last/.last and said "run the SLO tests first"
        print(f"error: --dir {args.dir}: that folder holds the last-run records themselves; give the store that "
              f"holds it ({store.root.parent})", file=sys.stderr)
        return 2
    last = Store(store.root / LAST_RUNS)
    if (last.root.exists() and not last.root.is_dir()) or dangling(last.root):
        # review74: a file in its place read "is empty; run the SLO tests first", which cannot help;
        # review76: so did a link to nothing
        what = dangling(last.root) or ("a file" if last.root.is_file() else "no folder (a FIFO, device or socket)")
        print(f"error: {last.root} is {what}, where the SLO tests keep their last-run records (a folder): delete "
              f"it and run the SLO tests again", file=sys.stderr)
        return 2
    if last.root.is_dir() and not os.access(last.root, os.R_OK | os.X_OK):
        # (review117 F21's rule for a store: an unreadable folder of records read "is empty")
        print(f"error: {last.root}: permission denied; make it readable for this user", file=sys.stderr)
        return 2
    entries = last.all()
    if not entries:
        # review78: outside any project, "/tmp/.gpuslo/.last is empty" named a folder that is not there
        print(f"nothing to accept: {last.root} " + ("is empty" if last.root.is_dir() else "does not exist")
              + (f" (the store set by {set_by})" if set_by else "")
              + "; run the SLO tests first (their last runs are kept there); if they ran with another store "
                "(--gpuslo-baseline-dir on their command line), give it with --dir")
        return 1
    wanted = set(args.tests or [])
    good = [b for _, b in entries if not isinstance(b, Exception)]
    latest = _latest_invocation([(path, b) for path, b in entries if not isinstance(b, Exception)])
    labels = _machine_labels(good)
    several = {nodeid for nodeid, k in collections.Counter(b.nodeid for b in good).items() if k > 1}
    done = failed = refused = added = 0
    checkout: list[str | None] = []  # this checkout's commit, asked of git once, where a run to accept has one
    for path, b in entries:
        if isinstance(b, Exception):
            print(f"skipped {shown(path.name)}: {b}")
            # review118 N6: bare accept exited 1 (or 0 beside others accepted), accept NODEID 2, for
            # the same unreadable record; a named test's is counted below
            failed += not wanted
            continue
        if not named_for(path, b.nodeid):
            # review120 NEW-11: a record copied under another test's name was accepted, and the test
            # then listed twice; show calls it MISPLACED and the plugin refuses such a file
            print(f"skipped {shown(path.name)}: holds another test's run ({b.nodeid}), not the test its name is for "
                  f"(copied or renamed by hand?); delete it, and run the SLO tests again")
            failed += 1
            continue
        # a test with last runs on two machine classes (review44): each line names its machine
        test = f"{b.nodeid} [{labels[id(b)]}]" if b.nodeid in several else b.nodeid
        if wanted and b.nodeid not in wanted:
            continue
        if not wanted and latest is not None and b.latest.summary.get("invocation") != latest:
            # .last keeps every test's latest run; a test not run by the last pytest
            # invocation still has an older one there, which "the last run" does not mean.
            if store.holds(b):
                print(f"{test}: already stored (its run of {b.latest.date}, from an earlier pytest run)")
            else:
                where = "" if args.dir is None else f" --dir {args.dir}"
                print(f"{test}: left: its run ({b.latest.date}) is from an earlier pytest run than the "
                      f"last; `gpuslo accept{where} {b.nodeid}` takes it")
            continue
        verdict = _against_stored(store, b)
        busy = b.latest.summary.get("contention")
        refusal = (b.latest.summary.get("save_refusal") or (gate.busy_refusal(busy) if busy else "")
                   or (gate.regressed_refusal(verdict) if verdict else ""))
        if refusal:
            print(f"{test}: not accepted: {refusal} (the rule of --gpuslo-save)")
            refused += 1
            continue
        keep = gate.moves_stored_level(verdict)
        try:
            dest, what = store.save(b, keep_previous=keep)
        except BaselineFormatError as exc:
            print(f"error: {test}: not accepted: {exc}")
            failed += 1
            continue
        except OSError as exc:
            # review100 F3: "[Errno 30] Read-only file system: '.../.x.json.udegul3h.tmp'", no fix
            print(f"error: {test}: not accepted: could not write {store.path_for(b.nodeid, b.machine)} "
                  f"({exc.strerror or exc}); nothing was changed: make the store {store.root} writable, or "
                  f"give --dir a writable one")
            failed += 1
            continue
        added += not what.startswith("already stored")
        # review78: a run +106% against one stored run was added without the note a save prints
        moved = gate.moved_note(verdict, str(dest), str(previous_path(dest)) if keep else "")
        made = b.latest.commit
        if made and not checkout:
            checkout.append(git_commit(store.root.parent, store.root))
        if made and checkout[0] and made != checkout[0]:
            # review100 F1: a later pytest run that could not write its record left this older one
            moved = "; ".join(x for x in (moved, f"this run was made at commit {made}, the checkout is at {checkout[0]} "
                                          f"now: if a later pytest run warned that its last-run record could not "
                                          f"be written, this is an older run") if x)
        moved = "; ".join(x for x in (moved, power_note(store, b)) if x)  # review138 F1, as the save says it
        print(f"{test}: {what}: {dest}" + (f"; note: {moved}" if moved else ""))
        done += 1
    for nodeid in sorted(wanted - {b.nodeid for b in good}):
        unreadable = [(path, b) for path, b in entries if isinstance(b, Exception) and named_for(path, nodeid)]
        if unreadable:
            # review116 F2: its record was there but unreadable, and this read "no last run; run it first"
            for path, _ in unreadable:  # why is on its "skipped" line above
                print(f"error: {nodeid}: not accepted: its last-run record {shown(path.name)} could not be read (above); "
                      f"run the test again to write a new one")
            failed += 1
            continue
        # review71: a node id with no last run printed nothing and exited 1
        print(f"{nodeid}: no last run in {last.root}; run it first (a node id as pytest prints it, "
              f"e.g. tests/test_slo.py::test_x)")
    if refused and not added and not failed:
        # review139 F6: a refused run beside one already stored exited 0, and a record job of
        # `pytest; gpuslo accept` went green with nothing recorded (--gpuslo-save exits 4)
        print(f"nothing accepted: {refused} run{'s were' if refused != 1 else ' was'} refused (above)")
        return 1
    return 2 if failed else 0 if done else 1


def _against_stored(store: Any, last: Any) -> Any:
    """``last``'s run judged against the runs stored now, as --gpuslo-save judges it (None: nothing
    stored to judge it by): ``gpuslo accept`` refuses it when REGRESSED (review72: a run made with
    --gpuslo-no-baseline was never compared, and three accepts moved a stored p95 from 2.1 to
    6.0 ms) and says a large undecided move (``gate.moved_note``)."""
    from dataclasses import replace

    from pytest_gpuslo import gate
    from pytest_gpuslo.errors import BaselineFormatError
    from pytest_gpuslo.spec import SloSpec

    try:
        base = store.get(last.nodeid, last.machine)
        if base is None:
            return None
        kept = [r for r in base.runs if not _same_run(r, last.latest)]
        if not kept:
            return None
        return _judge(replace(base, runs=kept), last, SloSpec.from_dict(last.spec), gate.Policy())
    except (BaselineFormatError, KeyError, TypeError, ValueError):
        return None  # the store's own error is said when the save is tried


def _latest_invocation(entries: list[tuple[Path, Any]]) -> str | None:
    """The pytest invocation of the run last written to ``.last`` (``None``: runs written before
    invocations were kept, which are then all taken, as before).  By when its record was written,
    then its date: a run dated by $GPUSLO_NOW to an earlier day, made last, read "from an earlier
    pytest run than the last" (review141 F9)."""
    if not entries:
        return None

    def written(entry: tuple[Path, Any]) -> tuple[float, str]:
        try:
            return entry[0].stat().st_mtime, entry[1].latest.date
        except OSError:
            return 0.0, entry[1].latest.date

    found = max(entries, key=written)[1].latest.summary.get("invocation")
    return str(found) if found else None


def _cmd_prune(args: argparse.Namespace) -> int:
    """Trim old runs and drop stale baseline files."""
    import datetime as dt

    from pytest_gpuslo.baseline import previous_path

    store, _ = _store(args)
    if args.keep_runs is None and args.older_than is None:
        print("nothing to prune: give --keep-runs N (runs kept per file) and/or --older-than DAYS", file=sys.stderr)
        return 2
    now = dt.datetime.now(dt.timezone.utc)
    entries = store.all()
    changed = unreadable = 0
    for path, b in entries:
        if isinstance(b, Exception):
            # review117 F9: exit 0 and no reason, where `gpuslo show` exits 1 for the same file
            print(f"left alone (unreadable): {shown(path.name)}: {b}")
            unreadable += 1
            continue
        age = _age(b.by_date()[-1].date, now)  # the newest run's age (review86: the last saved, backdated)
        age_days = 0 if age is None else age.days
        if args.older_than is not None and age_days > args.older_than:
            print(f"{'would remove' if args.dry_run else 'removed'} {shown(path.name)} ({age_days} days old)")
            changed += 1
            if not args.dry_run:
                path.unlink()
                previous_path(path).unlink(missing_ok=True)  # its copy from a save that moved it goes too
            continue
        if args.keep_runs is not None and len(b.runs) > args.keep_runs:
            print(f"{'would trim' if args.dry_run else 'trimmed'} {shown(path.name)}: {len(b.runs)} -> {args.keep_runs} runs")
            changed += 1
            if not args.dry_run:
                newest = {id(r) for r in b.by_date()[-args.keep_runs:]}
                b.runs = [r for r in b.runs if id(r) in newest]  # the newest by date, in saved order
                store.rewrite(path, b)
    verb = "would change" if args.dry_run else "changed"
    print(f"{store.root}: {len(entries)} baseline file(s), {verb} {changed}"
          + (" (dry run: nothing was changed)" if args.dry_run else "")
          + (f"; {unreadable} unreadable, left alone (above)" if unreadable else ""))
    return 1 if unreadable else 0

def _cmd_capacity(args: argparse.Namespace) -> int:
    """The highest rate this machine's harness sustains on time, per backend and reference body."""
    from pytest_gpuslo import backends, capacity

    if args.backend not in ("all", backends.AUTO, *backends.names()):
        # review117 F10: the backend registry's own error, as a raw traceback and exit 1
        print(f"error: --backend {args.backend!r}: no such backend; give all, {backends.AUTO} or one of "
              f"{', '.join(backends.names())}", file=sys.stderr)
        return 2
    names = backends.names() if args.backend == "all" else [backends.resolve_name(args.backend)]
    rows = []
    measured = 0
    for name in names:
        reason = backends.probe(name)
        if reason is not None:
            print(f"{name}: skipped ({reason})")
            continue
        measured += 1
        # Host-thread lanes (the dispatcher sleeps, never spins) cannot hold tens of microseconds.
        host_lanes = getattr(backends.module(name).Backend, "spin_ns", 0) == 0
        lanes = args.lanes or (4 if host_lanes else 64)
        lag_us = args.lag_us or (500.0 if host_lanes else 50.0)
        for work in capacity.workloads(name, lanes):
            print(f"{name}, {lanes} lanes, {work.name}: lag p99 (us) by rate, harness (bare paced)",
                  flush=True)
            try:
                row = capacity.measure(name, work, lanes=lanes, lag_us=lag_us, runs=1 if args.quick else 3,
                                       seconds=0.3 if args.quick else 0.6,
                                       closed_n=5000 if args.quick else 20000)
            except RuntimeError as exc:
                if "thread" not in str(exc):
                    raise
                # review117 F13: "can't start new thread" (a memory limit) was a raw traceback
                print(f"error: {name}: could not start {lanes} lanes' threads ({exc}); give fewer --lanes",
                      file=sys.stderr)
                return 2
            print("  " + ", ".join(f"{rate:,.0f}/s: {h:.0f} ({b:.0f})" for rate, h, b in row.sweep))
            rows.append((lag_us, row))
    print()
    for lag_us in sorted({lag for lag, _ in rows}):
        for line in capacity.table([r for lag, r in rows if lag == lag_us], lag_us):
            print(line)
        print()
    if not measured:  # review117 F12: nothing measured read as a success, and advice on a table not there
        print(f"nothing measured: {f'{names[0]} is not' if len(names) == 1 else 'no backend is'} available here "
              f"(the skipped line above says why)", file=sys.stderr)
        return 1
    print("Size rate_hz below the harness column; a budget tighter than about 20x the lag threshold "
          "makes lag, not the service, decide the verdict (lag p99 over 5% of the tightest budget, "
          "counting the lag that delayed completions, is INCONCLUSIVE).")
    return 0


#: store options that ``gpuslo ab`` refuses after ``--`` (by key): each run would save to, compare
#: with or read from a store the A/B does not use.
AB_REFUSED = ("save", "compare", "baseline_dir")


def _ab_options(pytest_args: Sequence[str]) -> list[tuple[str, str, str]]:
    """(as typed, option key, value) of every gpuslo option (value "true") and ini override
    (-o gpuslo_<key>=value, in each of pytest's spellings) in ``pytest_args``, and
    ("-p no:gpuslo", "unload", "") where the plugin is unloaded."""
    out: list[tuple[str, str, str]] = []
    nxt = [*pytest_args[1:], ""]
    for a, b in zip(pytest_args, nxt):
        if a.startswith("--gpuslo-"):
            out.append((a, a[len("--gpuslo-"):].split("=", 1)[0].replace("-", "_"), "true"))
        elif (a == "-p" and b == "no:gpuslo") or a in ("-pno:gpuslo", "-p=no:gpuslo"):
            out.append((f"{a} {b}".strip() if a == "-p" else a, "unload", ""))
        else:
            spaced = a in ("-o", "--override-ini")
            # review77: "-o=gpuslo_save=true" is pytest's too
            value = (b if spaced else a.split("=", 1)[1] if a.startswith(("--override-ini=", "-o="))
                     else a[2:] if a.startswith("-o") and len(a) > 2 else "")
            key, _, setting = value.partition("=")
            if key.strip().startswith("gpuslo_"):
                out.append((f"{a} {b}" if spaced else a, key.strip()[len("gpuslo_"):], setting.strip()))
    return out


def _on(value: str) -> bool:
    """Whether an option's value turns it on (one pytest could not parse counts as on: refused)."""
    from pytest_gpuslo.options import parse_bool

    try:
        return parse_bool(value)
    except argparse.ArgumentTypeError:
        return True


def _ab_refusal(pytest_args: Sequence[str], where: str = "after --") -> str | None:
    """Why ``gpuslo ab`` cannot pass ``pytest_args`` (found ``where``) to its runs (None: it can), said
    before any run."""
    from pytest_gpuslo import reports

    report_keys = {fmt.key for fmt in reports.FORMATS}
    for typed in pytest_args:
        if typed in ("--collect-only", "--co", "--setup-plan", "--setup-only"):
            # review94 #6: a pair of runs, then "selected no SLO test on either side"
            return (f"{typed} {where}: it runs no test, which leaves gpuslo ab nothing to compare; to see what "
                    f"gpuslo ab would run, use pytest {typed} with the same arguments on its own")
    for typed, key, value in _ab_options(pytest_args):
        if key == "unload":
            # review74: pytest's "unrecognized arguments: --gpuslo-no-baseline ..." named flags never typed
            return f"{typed} {where}: it unloads the plugin whose runs gpuslo ab compares; drop it"
        if key == "suggest" and _on(value):
            # review74/76: every pilot ran, then "samples are not there ... run gpuslo ab again"
            return (f"{typed} {where}: it runs short pilots that record nothing to compare; run pytest "
                    f"--gpuslo-suggest on its own, then gpuslo ab with the budgets it suggests")
        if key == "skip" and _on(value):
            # review77: stopped after the first run with a list of causes that did not name it
            return f"{typed} {where}: it skips every SLO run, which leaves gpuslo ab nothing to compare; drop it"
        if key in report_keys:
            # review72: "-- --gpuslo-md=o/" failed only after the base's checkout, naming its temporary
            # tree; review77: "-o gpuslo_html=FILE" wrote one candidate run's report
            return (f"{typed} {where}: each of the 2 x N pytest runs would write that report, the base's inside "
                    f"its temporary tree; give --json, --md or --html to gpuslo ab itself, which reports the "
                    f"decision on all of them")
        if key in AB_REFUSED and (key != "save" or _on(value)):
            # session 29's "left alone": each run refused "--gpuslo-save with --gpuslo-no-baseline", an
            # option the user never gave; a store folder was silently replaced by the session's own
            return (f"{typed} {where}: gpuslo ab compares the two sides' interleaved runs with each other, not "
                    f"with a store, and keeps those runs in a folder of its own (--keep DIR); record or compare "
                    f"stored baselines with pytest itself (pytest --gpuslo-save, or gpuslo compare)")
    return None


def _ab_set_aside(start: Path, pytest_args: Sequence[str] = (), *, tree: Path | None = None,
                  at: str = "") -> dict[str, str]:
    """The ini settings the A/B's runs override (``ab.pytest_command``), said once: review76 found
    them set aside without a word; review80, from an ini given with ``-c FILE``, or one only the
    base revision has (``tree``: its checkout, whose path is shown relative to it, ``at`` after).
    Ini key -> the note."""
    from pytest_gpuslo.options import parse_bool

    given = _config_file(pytest_args)
    try:
        found = find_ini(start) if given is None else read_config_file(start / given)
    except InvalidArgument:
        found = None  # an unreadable configuration: the runs' own pytest says why
    out: dict[str, str] = {}
    for key, why in (("gpuslo_save", "its runs are compared with each other, never stored"),
                     ("gpuslo_suggest", "its runs measure rather than pilot")):
        try:
            on = found is not None and key in found[2] and parse_bool(str(found[2][key]))
        except argparse.ArgumentTypeError:
            on = False  # pytest's own run says what is wrong with it
        if on and found is not None:
            if tree is not None and not found[1].is_relative_to(tree.resolve()):
                continue  # a file above the base's checkout is no file of the base revision
            shown = found[1].relative_to(tree.resolve()) if tree is not None else found[1]
            out[key] = f"{key} = {found[2][key]} in {shown}{at} is set aside for the A/B's runs: {why}"
    return out


def _config_file(pytest_args: Sequence[str]) -> str | None:
    """The file pytest's ``-c FILE`` / ``--config-file=FILE`` names in ``pytest_args``, if any."""
    for a, b in zip(pytest_args, [*pytest_args[1:], ""]):
        if a in ("-c", "--config-file") and b:
            return b
        if a.startswith("--config-file="):
            return a.split("=", 1)[1]
    return None


def _env_addopts() -> list[str]:
    """PYTEST_ADDOPTS as pytest splits it: every run of ``gpuslo ab`` reads it (review76 G4: a
    ``-p no:gpuslo`` there failed the first run, naming options the user never typed)."""
    try:
        return shlex.split(os.environ.get("PYTEST_ADDOPTS", ""))
    except ValueError:  # unbalanced quotes: pytest's own error on the first run says so
        return []


def _hung_lines(nodeid: str, session: Any) -> list[str]:
    """Where a test's bodies hung in an A/B: the latest candidate run and the latest base run that
    hung, each with its run's number (the stored runs keep no stack; review111 F4: a fixed base's
    hang was said nowhere, F7: an earlier candidate run's hang was lost behind a clean latest one)."""
    from pytest_gpuslo.reports.terminal import stuck_lines

    out: list[str] = []
    for side, who in ((session.cand, "candidate"), (session.base, "base")):
        runs = [run.get(nodeid) for run in side.summaries]
        hung = [(k, run) for k, run in enumerate(runs, 1) if run and stuck_lines(run, most=1)]
        if hung:
            k, run = hung[-1]
            latest = "the latest " if k == len(runs) else ""
            out.append(f"{nodeid} ({latest}{who} run {k} of {len(runs)} hung):")
            out.extend(stuck_lines(run, most=1))
    return out


def _cmd_ab(args: argparse.Namespace) -> int:
    """Base revision against the working tree, interleaved on this machine; exit 1 on FAIL/REGRESSED."""
    from pytest_gpuslo import ab, gate, reports
    from pytest_gpuslo.reports import view
    from pytest_gpuslo.reports.terminal import ab_control_line, busy_line, summary_lines

    pytest_args = list(args.pytest_args)
    if not args.again and not args.base:
        print("error: give the base revision (e.g. gpuslo ab origin/main), or --from DIR to decide a kept "
              "session again", file=sys.stderr)
        return 2
    if args.again and (args.runs is not None or args.max_runs is not None or args.keep):
        # review71/72: ignored without a word; the kept session's own runs and looks decide
        print(f"note: --from decides the runs kept in {args.again} at the looks they were run with; --runs, "
              f"--max-runs and --keep are not used", file=sys.stderr)
    args.runs = 3 if args.runs is None else args.runs
    # review114: --runs 1 ran a whole session that could only end "INCONCLUSIVE" on every change.
    # Said once the base revision is known to be one (review122: before "'no-such-rev' is not a commit").
    one_run = ["--runs 1 runs each side once: budgets are judged, but a change needs 2 or more runs a side to be "
               "told from run-to-run noise (3 by default), so no regression verdict will come of it"
               ] if args.runs == 1 and not args.again and (args.max_runs or 1) == 1 else []
    # review158 F3: a renderer 1.7x slower in every run stayed INCONCLUSIVE at --runs 2 ([-69%,
    # >+1000%]) and read REGRESSED at 3: 2 runs a side leave the comparison 2 degrees of freedom
    if args.runs == 2 and not args.again and (args.max_runs or 2) == 2:
        one_run = ["--runs 2 leaves the comparison 2 degrees of freedom: its interval is about 2.3 times as wide "
                   "as with 3 runs a side (the default; t quantiles at alpha 0.01), so only large changes are "
                   "decided"]
    over = next((f"--{name} {value}" for name, value in (("runs", args.runs), ("max-runs", args.max_runs))
                 if value is not None and value > limits.MAX_AB_RUNS), None)
    if over:  # review117 F18: --runs 99999999999999999999 ran until killed
        print(f"error: {over}: over the limit of {limits.MAX_AB_RUNS:,} runs a side (limits.MAX_AB_RUNS; at about "
              f"10 s a run that is hours); give fewer", file=sys.stderr)
        return 2
    if args.max_runs is not None and args.max_runs < args.runs:
        print(f"error: --max-runs {args.max_runs} is below --runs {args.runs}; give at least --runs", file=sys.stderr)
        return 2
    if args.again and pytest_args:
        # The kept runs are decided again, not run again (review50: "-- --gpuslo-inconclusive=fail"
        # was ignored without a word).
        print(f"note: --from decides the kept runs in {args.again} again; the pytest arguments after -- "
              f"({' '.join(pytest_args)}) are not used", file=sys.stderr)
    refusal = None if args.again else _ab_refusal(pytest_args) or _ab_refusal(_env_addopts(), "in PYTEST_ADDOPTS")
    if refusal:
        print(f"error: {refusal}", file=sys.stderr)
        return 2
    said = {} if args.again else _ab_set_aside(Path.cwd(), pytest_args)
    for note in said.values():
        print(f"note: {note}", file=sys.stderr)

    def base_notes(start: Path, tree: Path, sha: str) -> list[str]:
        """The base revision's own ini, for a key the working tree's did not set (review80); and the
        --runs 1 note."""
        return one_run + [note for key, note in _ab_set_aside(start, pytest_args, tree=tree,
                                                              at=f" at the base {sha[:12]}").items() if key not in said]

    named: list[tuple[str, str]] = []
    try:
        store: Path | None = find_store(Path.cwd())[1]
    except InvalidArgument:
        store = None  # the runs' own pytest says why
    for fmt in reports.FORMATS:
        # before the 2 x N runs, not after them in a traceback (review69)
        path = getattr(args, fmt.key, None)
        if path == "":  # review117 F19: an unset CI variable's empty path was taken as no report, silently
            print(f"error: --{fmt.flag} is empty; give a file path, or leave the option out", file=sys.stderr)
            return 2
        why = reports.unwritable(path, fmt.signature) if path else None
        if path and not why and store is not None and reports.inside(path, store):
            # review92: as pytest's own report options (a JSON there made every gpuslo show exit 1)
            why = f"it is inside the baseline store {store}, which holds baselines only"
        if why:
            fix = "" if "; give " in why else "; give a writable file path"  # (a why may name its own)
            print(f"error: --{fmt.flag} {path}: {why}{fix}", file=sys.stderr)
            return 2
        if path:
            named.append((f"--{fmt.flag} {path}", path))
    step = os.environ.get("GITHUB_STEP_SUMMARY")
    why = reports.step_summary_unusable(step, store) if step else None
    if why:  # review164 F9: appended to a .py module or /etc/passwd, a folder refused after every run
        print(f"error: $GITHUB_STEP_SUMMARY={step} (from the environment): {why}; GitHub Actions sets it to a "
              f"file of its own for each step: unset it, or give a markdown file to append the A/B table to",
              file=sys.stderr)
        return 2
    if step:  # review166 F7: --json at the same file was appended to, its JSON broken
        named.append(("$GITHUB_STEP_SUMMARY", step))
    clash = reports.one_file(named)
    if clash:  # review86: the markdown was written over the JSON after every run
        print(f"error: {clash}: one report would be written over the other; give each a path of its own",
              file=sys.stderr)
        return 2
    if args.keep == "":  # review117 F19
        print("error: --keep is empty; give a folder, or leave the option out", file=sys.stderr)
        return 2
    if args.keep and dangling(args.keep):
        # review80: the link's target was made, wherever it pointed, and the runs written there
        print(f"error: --keep {args.keep} is {dangling(args.keep)}; mend it or give a "
              f"folder", file=sys.stderr)
        return 2
    keep_why = reports.unwritable(Path(args.keep) / "session.json") if args.keep else None
    if keep_why:  # review70b: a file or /proc as --keep ended in a traceback with exit 1
        print(f"error: --keep {args.keep}: {keep_why}; give a writable folder", file=sys.stderr)
        return 2
    if args.keep and not args.again and (Path(args.keep) / "session.json").exists():
        # review76: a second session wrote over the first's runs one by one, and --from then decided
        # on runs of two projects under the first one's base
        print(f"error: --keep {args.keep} already holds a kept A/B session; give an empty or new folder (decide "
              f"the kept one again with gpuslo ab --from {args.keep})", file=sys.stderr)
        return 2
    others = ab.foreign(Path(args.keep)) if args.keep and not args.again else []
    if others:
        # review77: the runs were written beside a project's own files (an interrupted A/B's own runs are fine)
        print(f"error: --keep {args.keep} holds other files ({', '.join(others)}); give an empty or new folder, "
              f"where the kept runs cannot mix with them", file=sys.stderr)
        return 2
    policy = gate.Policy(alpha=args.alpha if args.alpha is not None else gate.Policy().alpha)
    said_cut: list[bool] = []
    deciding = [False]

    def say_cut(exc: BaseException) -> None:
        """The reports asked for say the A/B decided nothing, rather than an earlier A/B's in their
        place reading as this one's (review193 F2); written once, at the interrupt, before a run's
        pytest is stopped (review198 F2: one slow to stop held them past a CI job's kill)."""
        if said_cut:
            return
        said_cut.append(True)
        how = f"ended by {exc}" if isinstance(getattr(exc, "signum", None), int) else "interrupted"
        # (review198 F4: one cut while deciding read "before its runs were done")
        when = (("after its runs, while deciding: nothing decided" + (
            f" (decide the kept runs with gpuslo ab --from {args.keep})" if args.keep else ""))
            if deciding[0] else "before its runs were done: nothing decided")
        context = reports.Context(interrupted=f"gpuslo ab was {how} {when}")
        for fmt in reports.FORMATS:
            path = getattr(args, fmt.key, None)
            if path:
                with contextlib.suppress(OSError):
                    print(f"gpuslo wrote {reports.write(path, fmt.render([], context))}", file=sys.stderr)

    args.on_cut = say_cut  # a Ctrl-C from here on (main's handler): review201 F1, none was written
    try:
        if args.again:
            session = ab.load(Path(args.again))
            looks, look_policy = gate.ab_looks(session.first, max(session.looks or [session.first]), policy)
        else:
            looks, look_policy = gate.ab_looks(args.runs, args.max_runs, policy)
            started = time.monotonic()
            session = ab.run(args.base, pytest_args, runs=args.runs, html=bool(args.html),
                             keep=Path(args.keep) if args.keep else None,
                             echo=lambda line: print(line, file=sys.stderr, flush=True), looks=looks,
                             more=lambda s: ab.wants_more(s, look_policy, looks[-1]), base_notes=base_notes,
                             on_interrupt=say_cut)
    except ab.ABError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        say_cut(exc)
        raise
    deciding[0] = True
    took_s = None if args.again else time.monotonic() - started
    # The runs' own settings (--gpuslo-alpha, --gpuslo-allow-throttle, --gpuslo-inconclusive after --,
    # or the project's ini) decide here as they decided each run (review155 F2: an INCONCLUSIVE
    # under --gpuslo-inconclusive=fail exited 0, the A/B deciding at its own defaults)
    made = ab.made_with(session)
    strict = made is not None and made["policy"].get("inconclusive") == "fail"
    if made is not None:
        ran_with, note = _recorded_policy(made, policy, alpha_given=args.alpha is not None)
        if ran_with != policy:
            policy = ran_with
            looks, look_policy = gate.ab_looks(looks[0], looks[-1], policy)
        if note:
            note = note.replace("its record says the run was", "the working tree's runs were").replace(
                "--alpha overrides its alpha", "gpuslo ab --alpha overrides it")
            print(f"gpuslo ab: note: {note}", file=sys.stderr)
    try:
        summaries = ab.decide(session, look_policy)
        new = ab.new_tests(session, look_policy)
    except ab.ABError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        session.cleanup()
    # SLO tests that ended in an error (a fixture that raised, pytest.fail in a body): pytest fails
    # them, and so does the A/B (review156 F1: "ran at the base but not in the working tree: not
    # judged", exit 0, for a pull request that broke the test's fixture)
    cand_errors, base_errors = ab.errored(session.cand), ab.errored(session.base)
    # ... and those an xfail marker expected to fail, that did before a verdict: pytest's XFAIL, not
    # judged, named as pytest names them (review157 F3: "removed, renamed or deselected")
    cand_xfailed, base_xfailed = ab.errored(session.cand, expected=True), ab.errored(session.base, expected=True)
    broken = ab.interrupted(session.cand)
    if broken:  # a file of the working tree not collected (review157 F2: exit 0, its tests "not judged")
        print(f"gpuslo ab: the working tree's runs were not whole: {broken}")
    latest = set(session.cand.summaries[-1] if session.cand.summaries else {})
    gone = sorted(set(session.base.summaries[-1] if session.base.summaries else {}) - latest - set(cand_errors))
    expected = sorted(set(cand_xfailed) - latest - set(gone) - set(cand_errors))
    # (in pytest's words, not "as its xfail marker expected": pytest.xfail() in a body needs none: review162 F2)
    not_judged = tuple((nodeid, f"ran at the base; in the working tree pytest reported it XFAIL before a verdict: "
                                f"{cand_xfailed[nodeid]}: not judged" if nodeid in cand_xfailed else
                        "ran at the base but not in the working tree (removed, renamed or deselected "
                        "there): not judged") for nodeid in gone) + tuple(
        (nodeid, f"pytest reported it XFAIL before a verdict: {cand_xfailed[nodeid]}: not judged")
        for nodeid in expected)
    for nodeid, why in not_judged:
        print(f"gpuslo ab: {nodeid} {why}")
    for nodeid, words in sorted(cand_errors.items()):
        print(f"gpuslo ab: {nodeid} ended in an error: {words}")
    for s in new:
        if s["nodeid"] in base_errors and isinstance(s.get("ab"), dict):
            s["ab"]["base_error"] = base_errors[s["nodeid"]]
        elif s["nodeid"] in base_xfailed and isinstance(s.get("ab"), dict):
            s["ab"]["base_xfailed"] = base_xfailed[s["nodeid"]]
        print(f"gpuslo ab: {s['nodeid']} " + (
            f"ended in an error at the base {session.sha[:12]}: {base_errors[s['nodeid']]}; nothing to compare it "
            f"with, judged on its absolute budgets only, on its latest run" if s["nodeid"] in base_errors else
            f"was XFAIL before a verdict at the base {session.sha[:12]}: "
            f"{base_xfailed[s['nodeid']]}; nothing to compare it with, judged on its absolute budgets only, on its "
            f"latest run" if s["nodeid"] in base_xfailed else
            f"is not at the base {session.sha[:12]} (new in the working tree): judged on its absolute budgets only, "
            f"on its latest run"))
    summaries += new
    if took_s and session.base.stores:  # the pace more runs are advised at (review129 F7), in every report
        for s in summaries:
            if isinstance(s.get("ab"), dict):
                s["ab"]["seconds_a_pair"] = round(took_s / len(session.base.stores), 1)
    if not summaries and not cand_errors and not broken and not not_judged:
        print("error: pytest selected no SLO test on either side, so the A/B has no SLO results to compare; "
              "check the pytest arguments after --", file=sys.stderr)
        return 2
    done = len(session.base.stores)
    decided = all(b.get("outcome") != gate.INCONCLUSIVE for s in summaries for b in s["verdict"].get("baseline", []))
    why_stop = ("at the last" if done >= looks[-1] else "after the look that decided every claim" if decided
                else f"because up to {looks[-1]} runs a side could not decide what is left")
    plan = (f"; looks after {', '.join(map(str, looks))} runs at alpha {look_policy.alpha:.3g} each, stopped {why_stop}"
            if len(looks) > 1 else "")
    tests = f"{len(summaries)} SLO test{'s' if len(summaries) != 1 else ''}"
    commits = view.ab_commits(summaries)
    if not summaries:
        # every SLO test selected ended in an error, or was not judged, in the working tree: said
        # above; and why the runs stopped short (review159 F7: "run 1 of 1" after --runs 2)
        if done < looks[-1]:
            print(f"gpuslo ab: stopped after {done} run{'s' if done != 1 else ''} a side: no SLO test of the working "
                  f"tree reached a verdict, so more runs would compare nothing")
    elif len(new) == len(summaries):
        # review80: "2 interleaved runs each" where the base ran none of them
        print(f"gpuslo ab: {tests}, none of them judged at the base {session.sha[:12]}: nothing compared, judged on "
              f"absolute budgets only (one run of the working tree)")
    else:
        print(f"gpuslo ab: {tests}, base {session.sha[:12]} against the working tree"
              f"{f' (at {commits[1]})' if commits else ''}, {done} interleaved run{'s' if done != 1 else ''} each{plan}")
    busy = busy_line(summaries, ab=True)
    if busy:
        print(busy)
    moved = ab_control_line(summaries)
    if moved:
        print(moved)
    for line in summary_lines(summaries, verbose=1, max_lag_fraction=gate.Policy().max_lag_fraction) if summaries else ():
        print(line)
    pace = view.ab_pace(summaries)
    if pace:
        print(f"gpuslo ab: {pace}")
    for s in summaries:
        for line in _hung_lines(s["nodeid"], session):
            print(line)
    if session.cut:
        # a cancel that came once every run was done: the runs stand, whole, and are decided; the exit
        # status is the signal's (review201 F2: it threw every run away, "before its runs were done")
        how = "interrupted" if session.cut == signal.SIGINT else f"ended by {signal.Signals(session.cut).name}"
        print(f"gpuslo ab: {how} after its runs were done: decided on all of them", file=sys.stderr)
    context = reports.Context(holm=gate.suite_holm(summaries), commit=commits[1] if commits else None,
                              notes=not_judged, errors=tuple(sorted(cand_errors.items())),
                              inconclusive="fail" if strict else None,
                              interrupted=f"the working tree's runs were not whole: {broken}" if broken else "")
    unwritten = wrote = step_wrote = False
    for fmt in reports.FORMATS:
        path = getattr(args, fmt.key, None)
        if path:
            try:
                print(f"gpuslo wrote {reports.write(path, fmt.render(summaries, context))}")
                wrote = True
            except OSError as exc:  # checked before the runs; a disk that filled since is said, not raised
                print(f"error: could not write --{fmt.flag} {path}: {exc.strerror or exc}", file=sys.stderr)
                unwritten = True
    step = os.environ.get("GITHUB_STEP_SUMMARY")
    if step:  # with --md too, as the plugin's --gpuslo-md does (review155 F1: none was written)
        md = next(f for f in reports.FORMATS if f.key == "md")
        try:
            with open(step, "a", encoding="utf-8") as fh:
                fh.write(md.render(summaries, context))
            step_wrote = True
        except OSError as exc:  # checked before the runs; a disk that filled since is said (review166 F1)
            print(f"error: could not write $GITHUB_STEP_SUMMARY={step}: {exc.strerror or exc}", file=sys.stderr)
            unwritten = True
    from pytest_gpuslo.reports import github

    if github.enabled():
        for line in github.commands(summaries, inconclusive="fail" if strict else None,
                                    errors=tuple(sorted(cand_errors.items())), notes=not_judged,
                                    listed=github.where_listed(step_wrote, wrote)):
            print(line)
    if session.cut:  # a cancelled job's step still fails, as an interrupted one does
        return 128 + int(session.cut)
    if cand_errors or broken:
        return 1
    # the tests pytest would fail: a strict XPASS, never an XFAIL (review153 F6), an INCONCLUSIVE under
    # the runs' --gpuslo-inconclusive=fail (not an xfail-marked test's, which pytest skips)
    failing = [s for s in summaries if view.fails_test(s, "fail" if strict else None)]
    undecided = [s["nodeid"] for s in failing if (s.get("verdict") or {}).get("outcome") == "INCONCLUSIVE"]
    if undecided:
        print(f"gpuslo ab: the working tree's runs were made with --gpuslo-inconclusive=fail, under which pytest fails an "
              f"INCONCLUSIVE test: so does the exit status here ({', '.join(undecided)})")
    if failing:
        return 1
    return 2 if unwritten else 0


def _cmd_arrivals_describe(args: argparse.Namespace) -> int:
    """Rate, burstiness and the closest arrival process of a recorded trace."""
    from pytest_gpuslo.arrivals import describe
    from pytest_gpuslo.arrivals.trace import BURST_WINDOWS
    from pytest_gpuslo.errors import InvalidArgument

    one_series = args.file.lower().endswith((".json", ".npy"))
    if one_series and not args.column.isdigit():
        # review120: "no such column ... (the file has no header line)" of a file that has no lines
        print(f"error: --column {args.column}: a {Path(args.file).suffix} trace holds one series, no named columns; "
              f"leave --column out", file=sys.stderr)
        return 2
    # a number, or a name in the header line (the trace reader finds it, and the unit it names)
    column: int | str = int(args.column) if args.column.isdigit() else args.column
    try:
        # (a flag given that contradicts what the file names is refused by the reader: review121)
        d = describe(args.file, unit=args.unit, kind=args.kind, column=column)
    except (InvalidArgument, OSError) as exc:
        # The trace reader speaks the marker's language; here the fixes are command-line flags.
        text = str(exc).replace("pass kind='intervals'", "pass --kind intervals").replace(
            "set column= to", "set --column to").replace("column=", "--column ").replace("check unit=", "check --unit")
        text = re.sub(r"\b(unit|kind)='(\w+)' was given; leave \1 out", r"--\1 \2 was given; leave --\1 out", text)
        print(f"error: {text}", file=sys.stderr)
        return 2
    if d.get("unit_named"):  # review120: a JSON trace's own "unit" was used, and "assumed: s" printed
        unit, unit_note = d["unit"], f"(from {d['unit_from']})"
    elif args.unit:
        unit, unit_note = args.unit, "(from --unit)"
    elif d.get("unit_dated"):  # review129 F3: JMeter's epoch-ms timeStamp read as 0.3 arrivals/s
        jmeter = ", as JMeter's timeStamp" if d["unit"] == "ms" else ""
        unit, unit_note = d["unit"], (f"(from the size of the stamps: in {d['unit']} they are dates from 2000 "
                                      f"to 2100{jmeter}; pass --unit if they are not)")
    else:
        unit, unit_note = "s", ("(assumed: no header names it as its suffix, such as time_ms; pass --unit ms, us "
                                "or ns if it is not seconds)")
    print(f"trace        {d['path']}")
    print(f"unit         {unit} {unit_note}")
    print(f"arrivals     {d['arrivals']} over {d['span_s']:.4g} s")
    print(f"rate         {d['rate_hz']:.4g} /s")
    print(f"cv of gaps   {d['cv']:.3g}  (1 = Poisson; above 1 bursty)")
    for w, v in d["idc"].items():
        print(f"IDC({w:>8})  {'-' if v is None else f'{v:.3g}'}  (index of dispersion of counts)")
    tail = d["hill_tail_index"]
    none = "-  (the stamps are rounded)" if d["rounded"] else "-  (too few distinct gaps)"
    print(f"tail index   {none if math.isnan(tail) else f'{tail:.3g}'}"
          f"{'' if math.isnan(tail) else '  (Hill, top 5% of gaps; below 2: infinite variance)'}")
    if math.isnan(d["burst_window_s"]):
        print(f"bursts       -  (not measured: the trace is shorter than 4 windows of {min(BURST_WINDOWS)} mean gaps)")
    else:
        print(f"bursts       {len(d['bursts'])} spells over twice the mean rate (in {d['burst_window_s']:.3g}-s "
              f"windows)" + (f", first at {d['bursts'][0][0]:.3g} s" if d["bursts"] else ""))
    print(f"closest      {d['closest'] or '-  (not fitted: ' + d['unfitted'] + ')'}")
    if d["marker"] is None:
        fix = ("rename the column to one naming theirs, e.g. 'time_s'" if d.get("unit_named")
               else "pass --unit with theirs")
        print(f"as a test    -  (none at {d['rate_hz']:.4g}/s: are the numbers in {unit}? If not, {fix})")
    else:
        print(f"as a test    {d['marker']}" + ("" if d["closest"] else "  (choose arrivals=, or replay the trace)"))
    if d["caveat"]:
        # review139 F4: a steady trace with one burst of 500 fitted gamma(cv=0.354), with no word
        shown = f", unit='{unit}'" if unit != "s" else ""
        print(f"warning      {d['caveat']}: "
              f"arrivals=\"trace(path='{d['path']}'{shown})\"")
    if d["rounded"]:
        # review128 N6: whole-second stamps (k6, Locust) read "cv 14.9, closest gamma(cv=14.9)"
        print(f"warning      {d['rounded']}, and the cv and IDC describe the rounding as much as the traffic; "
              f"record finer stamps if you can")
    minutes = 4000 / d["rate_hz"] / 60
    if minutes > 10:
        print(f"warning      at {d['rate_hz']:.4g}/s a p95 test (4,000 requests) takes {minutes:.0f} minutes: "
              f"check the unit ({unit} {unit_note}), or give the marker a higher rate_hz")
    return 0


def _report_formats() -> Any:
    from pytest_gpuslo.reports import FORMATS

    return FORMATS


def _whole(minimum: int, maximum: int | None = None, why: str = "") -> Any:
    """An argparse type: a whole number >= ``minimum`` (and <= ``maximum``, ``why``: its limit's
    name) (a bad one is a usage error, exit 2)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{text!r} must be >= {minimum}")
        if maximum is not None and value > maximum:
            raise argparse.ArgumentTypeError(f"{text!r} is over the limit of {maximum:,}{why}; give fewer")
        return value

    return parse


def _positive_us(text: str) -> float:
    """An argparse type for a lag threshold: a finite number of microseconds from 1 to a
    second (review117 F11: 0, -1 and nan ran a whole measurement into a table of 0/s)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of microseconds, e.g. 500") from None
    if not 1.0 <= value <= 1e6:  # review118 N3: 1e-300 measured a table of 0/s
        raise argparse.ArgumentTypeError(f"{text!r} must be from 1 to 1000000 (a second), e.g. 500")
    return value


def build_parser() -> argparse.ArgumentParser:
    from pytest_gpuslo.options import parse_alpha

    parser = argparse.ArgumentParser(
        prog="gpuslo",
        description="pytest-gpuslo: tail-latency SLO gates. The gate itself runs inside pytest "
                    "(mark a test with @pytest.mark.slo); these commands look at this machine and at "
                    "the baseline store (show, compare), write to the store (accept, prune), and gate a "
                    "change against a base revision run here (ab).")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p = sub.add_parser("version", help="Print the installed version")
    p.set_defaults(func=_cmd_version)
    p = sub.add_parser("probe", help="Say which backends can run on this machine, and why not",
                       description="Try each registered backend and say which can "
                                   "run here and, for each that cannot, why (no GPU, a library missing) and "
                                   "what to install. Imports a GPU library only to try it. Exit 0 when "
                                   "every backend can run here, 1 when one cannot (on a machine without a "
                                   "GPU, always: read the CUDA line).")
    p.set_defaults(func=_cmd_probe)
    p = sub.add_parser("ab", usage="gpuslo ab BASE [options] [-- PYTEST_ARGS ...]",
                       help="Gate the working tree against a base revision, both run here, interleaved",
                       description="Check BASE out in a git worktree and run the selected SLO tests for "
                                   "base and working tree interleaved (base, candidate, base, ...), "
                                   "--runs of each, every run replaying the same schedules; decide each "
                                   "test on those same-machine pairs (machine shifts cancel). Arguments "
                                   "after -- go to pytest. Exit 1 when a test FAILs or REGRESSED (or is "
                                   "INCONCLUSIVE, where the runs were made with --gpuslo-inconclusive=fail), 0 "
                                   "otherwise, 2 when the runs cannot be made; 130 on Ctrl-C, 143 on SIGTERM (128 + the "
                                   "signal), the base's worktree removed and nothing decided (once every run is "
                                   "done, a cancel while the worktree is removed lets the runs be decided; the "
                                   "exit status is still the signal's).")
    p.add_argument("base", nargs="?", default=None,
                   help="the base revision: a branch, tag or commit (e.g. origin/main); not needed with --from")
    p.add_argument("--runs", type=int, default=None, help="runs of each side (default 3; 2 or more to judge regressions, each one fewer widening the interval)")
    p.add_argument("--max-runs", type=int, default=None, metavar="N",
                   help="while a regression claim is undecided, go on up to N runs a side (looks after --runs, "
                        "halfway and N, alpha split over them; default: no more runs)")
    p.add_argument("--alpha", type=parse_alpha, default=None,
                   help="error rate per claim (default: the runs' own --gpuslo-alpha / gpuslo_alpha, else 0.01)")
    p.add_argument("--keep", default=None, metavar="DIR", help="keep every run's reports and samples in DIR")
    p.add_argument("--from", dest="again", default=None, metavar="DIR",
                   help="decide again from runs kept with --keep DIR (BASE is then ignored; nothing runs)")
    for fmt in _report_formats():
        p.add_argument(f"--{fmt.flag}", dest=fmt.key, default=None, metavar="PATH", help=fmt.help)
    # review203 F1: "gpuslo ab HEAD -v" was refused with the top-level usage, where the README says
    # -v is always on here
    p.add_argument("-v", "--verbose", action="store_true",
                   help="taken and changes nothing: gpuslo ab always prints the -v detail (each claim's "
                        "evidence, the stage rows)")
    p.set_defaults(func=_cmd_ab)
    p = sub.add_parser("capacity", help="Measure the highest rate the harness sustains on time here",
                       description="For each available backend and reference body (empty, a short "
                                   "kernel or busy loop, a copy), the highest constant open-loop rate "
                                   "with schedule lag p99 under --lag-us, beside a bare loop doing the "
                                   "same work: size rate_hz from it.")
    p.add_argument("--backend", default="all", help="a backend name, or all (default)")
    p.add_argument("--lag-us", type=_positive_us, default=None,
                   help="lag p99 threshold in microseconds (default 50 for GPU lanes, 500 for host threads)")
    # review116 F4: -3 and 100000 ended in raw tracebacks, 0 became the default without a word
    p.add_argument("--lanes", type=_whole(1, limits.MAX_STREAMS, " lanes (limits.MAX_STREAMS, as a marker's streams)"),
                   default=None, help=f"lanes, 1 to {limits.MAX_STREAMS} (default: 64 on a GPU, 4 on the CPU)")
    p.add_argument("--quick", action="store_true", help="one run per rate, shorter runs")
    p.set_defaults(func=_cmd_capacity)

    def store_arg(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--dir", default=None,
                        help="baseline store (default: the one pytest uses from here: <rootdir>/.gpuslo, the "
                             "ini key gpuslo_baseline_dir, or --gpuslo-baseline-dir in the ini's addopts or "
                             "$PYTEST_ADDOPTS, which wins as in pytest)")
        sp.add_argument("-c", "--config-file", dest="config", default=None, metavar="FILE",
                        help="the configuration file pytest is run with (pytest -c FILE): its folder is the "
                             "rootdir and its gpuslo_baseline_dir names the store (--dir, if given, wins)")

    p = sub.add_parser("arrivals", help="Arrival processes: describe a recorded trace",
                       description="Tools for arrival processes.")
    asub = p.add_subparsers(dest="arrivals_command", metavar="COMMAND", required=True)
    d = asub.add_parser("describe", help="Rate, burstiness and the closest process of a trace file",
                        description="Read arrival timestamps or gaps (CSV, JSON or .npy) and print the "
                                    "rate, coefficient of variation, index of dispersion at several "
                                    "windows, burst episodes and the closest parametric process, with "
                                    "the marker that replays such traffic.")
    d.add_argument("file")
    d.add_argument("--unit", default=None, choices=["s", "ms", "us", "ns"],
                   help="unit of the numbers (default: named by the CSV header, e.g. timestamp_ms, else s)")
    d.add_argument("--kind", default=None, choices=["timestamps", "intervals"],
                   help="timestamps (default) or intervals (gaps between arrivals)")
    d.add_argument("--column", default="0", help="CSV column holding the numbers: a 0-based index or a "
                                                 "header name (default 0)")
    d.set_defaults(func=_cmd_arrivals_describe)
    p = sub.add_parser("show", help="List the baselines in a store with machine, runs, p95, age",
                       description="List every baseline file: test, machine, runs kept, requests, "
                                   "p95 of the latest run, its age and commit. Exit 1 if a file is unreadable "
                                   "or holds another test's runs under its name.")
    store_arg(p)
    p.add_argument("-v", "--verbose", action="store_true", help="also print each machine fingerprint")
    p.set_defaults(func=_cmd_show)
    p = sub.add_parser("compare", help="Compare two baseline files or folders; exit 1 on FAIL/REGRESSED",
                       description="Compare NEW against BASE with the same decide() as the plugin: "
                                   "absolute budgets of NEW's latest run and the regression test against "
                                   "every run stored in BASE (with 3 or more, a prediction interval from "
                                   "their spread; paired where they replayed the same schedule). Of two "
                                   "folders, a test "
                                   "with no namesake in BASE is judged on its absolute budgets, and a stored "
                                   "test with no run in NEW is named, as are runs of NEW over a day older than "
                                   "its newest (a renamed or deleted test's last-run record). Each run is "
                                   "decided under the policy its record says its pytest session used "
                                   "(--gpuslo-alpha, --gpuslo-allow-throttle, --gpuslo-inconclusive). Exit 0 when "
                                   "nothing failed or regressed, 1 when something did (or an INCONCLUSIVE of a "
                                   "run made with --gpuslo-inconclusive=fail), 2 on unreadable input.")
    p.add_argument("base", help="baseline file, or a folder (files matched by name)")
    p.add_argument("new", help="candidate file, or a folder")
    p.add_argument("--alpha", type=parse_alpha, default=None,
                   help="error rate per claim (default: the one each run was made with, as its record says, "
                        "else 0.01)")
    p.set_defaults(func=_cmd_compare)
    p = sub.add_parser("accept", help="Promote the last run's results into the baseline store",
                       description="Every SLO run leaves its results in <store>/.last; accept adds "
                                   "them to the store as new baseline runs: every test the last pytest invocation ran, "
                                   "or those named (a test not run since keeps an older result there). "
                                   "Exit 0 when one was accepted, 1 when none was, 2 when a stored "
                                   "file could not be read or written.")
    store_arg(p)
    p.add_argument("tests", nargs="*", help="node ids to accept (default: those the last pytest run ran)")
    p.set_defaults(func=_cmd_accept)
    p = sub.add_parser("prune", help="Trim old runs or remove stale baselines",
                       description="Keep at most --keep-runs runs per file and/or remove files whose "
                                   "latest run is older than --older-than days. An unreadable file is left "
                                   "alone and named, with why; exit 1 then (as gpuslo show), else 0.")
    store_arg(p)
    p.add_argument("--keep-runs", type=_whole(1), default=None, metavar="N", help="runs to keep per file (>= 1)")
    p.add_argument("--older-than", type=_whole(0), default=None, metavar="DAYS", help="remove older files")
    p.add_argument("--dry-run", action="store_true", help="say what would change, change nothing")
    p.set_defaults(func=_cmd_prune)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    words = list(sys.argv[1:] if argv is None else argv)
    # Everything after "--" belongs to pytest (gpuslo ab); argparse would take it for its own.
    extra: list[str] = []
    if "--" in words:
        cut = words.index("--")
        words, extra = words[:cut], words[cut + 1:]
    args = parser.parse_args(words)
    args.pytest_args = extra
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        code = int(args.func(args))
        sys.stdout.flush()  # inside the try: a reader gone before the last flush is not an error
        return code
    except KeyboardInterrupt as exc:
        # Ctrl-C (in gpuslo ab, between or inside runs): a sentence, not a traceback (review35);
        # the ab worktree is removed on the way out.  SIGTERM or SIGHUP exits as that signal would.
        on_cut = getattr(args, "on_cut", None)
        if on_cut is not None:
            on_cut(exc)
        signum = getattr(exc, "signum", None)
        how = f"ended by {exc}" if isinstance(signum, int) else "interrupted"
        print(f"\ngpuslo {words[0] if words else ''}: {how}, nothing decided", file=sys.stderr)
        return 128 + signum if isinstance(signum, int) else 130
    except (TypeError, ValueError, KeyError, AttributeError, IndexError) as exc:
        if not getattr(args, "again", None):
            raise
        # review200 F6: a kept report edited by hand (a percentile "fast", a budget "x") was a traceback,
        # exit 1, the code of a regression, for a folder gpuslo ab --from is given to decide again
        from pytest_gpuslo.ab import AGAIN

        print(f"error: --from {args.again}: a kept report or record holds what no gpuslo ab run writes "
              f"({type(exc).__name__}: {brief(str(exc), 120)}); {AGAIN}", file=sys.stderr)
        return 2
    except PermissionError as exc:
        # review117 F21: a store file or folder this user may not read was a raw traceback, exit 1
        print(f"error: {exc.filename or 'a file'}: permission denied; make it readable for this user, or give "
              f"another path", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (gpuslo ... | head): stop quietly, as other command-line tools do.
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except OSError as exc:
        if exc.filename is None:
            raise
        # review197 F4: a path check that raised (a name too long) was a traceback, exit 1 (the code of
        # FAIL or REGRESSED)
        print(f"error: {path_error(exc)}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

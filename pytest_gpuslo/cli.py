"""The ``gpuslo`` command line (layer 4', no pytest): inspect what the plugin measures.

Subcommands grow with the issues; each has complete ``--help``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any


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


def _ini_section(path: Path, sections: tuple[str, ...]) -> dict[str, str] | None:
    """The ``key = value`` lines of the pytest section of one configuration file, or ``None`` when
    the file does not configure pytest (all ``gpuslo_baseline_dir`` needs; no TOML arrays)."""
    import re

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    values: dict[str, str] | None = {} if path.name in ("pytest.ini", ".pytest.ini") else None
    inside = False
    for line in text.splitlines():
        head = re.match(r"\s*\[([^\]]+)\]\s*$", line)
        if head:
            inside = head.group(1).strip() in sections
            if inside and values is None:
                values = {}
            continue
        kv = re.match(r"\s*([A-Za-z_][\w.-]*)\s*[=:]\s*(.*?)\s*$", line)
        if inside and kv and values is not None:
            values[kv.group(1)] = kv.group(2).strip().strip("'\"")
    return values


def find_rootdir(start: Path) -> tuple[Path, str | None]:
    """The rootdir pytest would use when run from ``start`` with no arguments (the first folder
    upwards with a configuration file for pytest, else one with setup.py, else ``start``) and the
    ``gpuslo_baseline_dir`` that file sets, if any."""
    start = start.resolve()
    for folder in (start, *start.parents):
        for name, sections in _INI_FILES:
            values = _ini_section(folder / name, sections) if (folder / name).is_file() else None
            if values is not None:
                return folder, values.get("gpuslo_baseline_dir") or None
    for folder in (start, *start.parents):
        if (folder / "setup.py").is_file():
            return folder, None
    return start, None


def _store(args: argparse.Namespace) -> Any:
    """The baseline store: --dir as given, else the one pytest uses from this folder (its rootdir
    and ini key gpuslo_baseline_dir, default .gpuslo), so the commands work from any subfolder."""
    from pytest_gpuslo.baseline import Store

    if args.dir is not None:
        return Store(Path(args.dir))
    root, configured = find_rootdir(Path.cwd())
    return Store(root / (configured or ".gpuslo"))


def _cmd_show(args: argparse.Namespace) -> int:
    """List baselines: test, machine, runs, n, p95 of the latest run, its age and commit."""
    import datetime as dt

    import numpy as np

    from pytest_gpuslo.errors import BaselineFormatError

    store = _store(args)
    entries = store.all()
    if not entries:
        print(f"no baselines in {store.root}")
        return 0
    now = dt.datetime.now(dt.timezone.utc)
    bad = 0
    print(f"{'machine':<28} {'runs':>4} {'n':>7} {'p95 ms':>8} {'age':>6}  {'commit':<12}  test")
    for path, b in entries:
        if isinstance(b, BaselineFormatError):
            bad += 1
            print(f"UNREADABLE {path.name}: {b}")
            continue
        latest = b.latest
        try:
            age = now - dt.datetime.fromisoformat(latest.date)
            age_s = f"{age.days}d" if age.days else f"{age.seconds // 3600}h"
        except ValueError:
            age_s = "?"
        p95 = float(np.quantile(latest.latency_ms, 0.95))
        machine = str(b.machine.get("gpu") or b.machine.get("cpu") or "?")[:28]
        print(f"{machine:<28} {len(b.runs):>4} {latest.latency_ms.size:>7} {p95:>8.3g} {age_s:>6}  "
              f"{latest.commit or '-':<12}  {b.nodeid}")
        if args.verbose:
            for k, v in sorted(b.machine.items()):
                print(f"    {k}: {v}")
    return 1 if bad else 0


def _pairs(base: Path, new: Path) -> list[tuple[Path, Path]]:
    if base.is_dir() and new.is_dir():
        return [(base / p.name, p) for p in sorted(new.glob("*.json")) if (base / p.name).exists()]
    return [(base, new)]


def _cmd_compare(args: argparse.Namespace) -> int:
    """Compare baseline files (or folders of them) with the plugin's own decision path: the
    candidate's latest run is decided by ``gate.decide`` against ``gate.baseline_input`` of every
    stored run of BASE, at the alpha the plugin used, exactly as the plugin decided it."""
    from dataclasses import replace

    from pytest_gpuslo import gate
    from pytest_gpuslo.baseline import differing_keys, load
    from pytest_gpuslo.errors import BaselineFormatError
    from pytest_gpuslo.spec import SloSpec

    for given in (args.base, args.new):
        if not Path(given).exists():
            print(f"error: {given}: no such file or folder; give a baseline file (e.g. .gpuslo/<test>.json, "
                  f"or .gpuslo/.last/<test>.json for the last run) or a folder of them")
            return 2
    pairs = _pairs(Path(args.base), Path(args.new))
    if not pairs:
        print(f"nothing to compare: no file of {args.new} has a namesake in {args.base}")
        return 2
    worst = 0
    policy = gate.Policy(alpha=args.alpha)
    for bpath, npath in pairs:
        try:
            base, new = load(bpath), load(npath)
        except BaselineFormatError as exc:
            print(f"error: {exc}")
            worst = max(worst, 2)
            continue
        spec = SloSpec.from_dict(new.spec)
        cand = new.latest
        paired = base.schedule_fingerprint == new.schedule_fingerprint
        binput = gate.baseline_input([r.latency_ms for r in base.runs], spec, paired=paired,
                                     differing=differing_keys(base.machine, new.machine),
                                     where=str(bpath), date=base.latest.date, commit=base.latest.commit)
        if args.sigma_run is not None:
            binput = replace(binput, sigma_run=args.sigma_run, sigma_source="from --sigma-run")
        # A run decided at a sequential look used a share of alpha: judge it at the same share.
        looks = max(1, int(cand.summary.get("looks") or 1))
        verdict = gate.decide(spec, cand.measurements(), replace(policy, alpha=policy.alpha / looks), binput)
        print(f"{new.nodeid}: {verdict.outcome}")
        for c in verdict.checks:
            print(f"  {c.outcome:<13} {c.detail}")
        for b in verdict.baseline:
            print(f"  {b.outcome:<13} {b.detail}; {b.reason}")
        if verdict.outcome == "FAIL":
            worst = max(worst, 1)
    return worst


def _cmd_accept(args: argparse.Namespace) -> int:
    """Promote the last run's results (<store>/.last) into the baseline store."""
    from pytest_gpuslo.baseline import Store

    store = _store(args)
    last = Store(store.root / ".last")
    entries = last.all()
    if not entries:
        print(f"nothing to accept: {last.root} is empty; run the SLO tests first")
        return 1
    wanted = set(args.tests or [])
    done = 0
    for path, b in entries:
        if isinstance(b, Exception):
            print(f"skipped {path.name}: {b}")
            continue
        if wanted and b.nodeid not in wanted:
            continue
        refusal = b.latest.summary.get("save_refusal")
        if refusal:
            print(f"{b.nodeid}: not accepted: {refusal} (the rule of --gpuslo-save)")
            continue
        dest, what = store.save(b)
        print(f"{b.nodeid}: {what}: {dest}")
        done += 1
    return 0 if done else 1


def _cmd_prune(args: argparse.Namespace) -> int:
    """Trim old runs and drop stale baseline files."""
    import datetime as dt

    from pytest_gpuslo.baseline import write_atomic

    store = _store(args)
    if args.keep_runs is None and args.older_than is None:
        print("nothing to prune: give --keep-runs N (runs kept per file) and/or --older-than DAYS")
        return 2
    now = dt.datetime.now(dt.timezone.utc)
    entries = store.all()
    changed = 0
    for path, b in entries:
        if isinstance(b, Exception):
            print(f"left alone (unreadable): {path.name}")
            continue
        try:
            age_days = (now - dt.datetime.fromisoformat(b.latest.date)).days
        except ValueError:
            age_days = 0
        if args.older_than is not None and age_days > args.older_than:
            print(f"{'would remove' if args.dry_run else 'removed'} {path.name} ({age_days} days old)")
            changed += 1
            if not args.dry_run:
                path.unlink()
            continue
        if args.keep_runs is not None and len(b.runs) > args.keep_runs:
            print(f"{'would trim' if args.dry_run else 'trimmed'} {path.name}: {len(b.runs)} -> {args.keep_runs} runs")
            changed += 1
            if not args.dry_run:
                b.runs = b.runs[-args.keep_runs:]
                write_atomic(path, b.to_json())
    verb = "would change" if args.dry_run else "changed"
    print(f"{store.root}: {len(entries)} baseline file(s), {verb} {changed}"
          + (" (dry run: nothing was changed)" if args.dry_run else ""))
    return 0


#: Units that a CSV header can name, by suffix (``timestamp_ms``, ``t [us]``, ``gap (s)``).
_HEADER_UNITS = ("ms", "us", "ns", "s")


def _csv_header(path: str) -> list[str] | None:
    """The cells of a CSV trace's header line (the first line, when it holds no digits)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            for raw in fh:
                text = raw.strip()
                if not text or text.startswith("#"):
                    continue
                if any(ch.isdigit() for ch in text):
                    return None
                return [c.strip() for c in text.replace(";", ",").replace("\t", ",").split(",")]
    except OSError:
        return None
    return None


def _unit_of(name: str) -> str | None:
    import re

    match = re.search(r"(?:^|[_\s(\[])(ms|us|µs|ns|s|sec|seconds)[)\]]?$", name.strip().lower())
    if not match:
        return None
    unit = match.group(1)
    return {"µs": "us", "sec": "s", "seconds": "s"}.get(unit, unit)


def _cmd_arrivals_describe(args: argparse.Namespace) -> int:
    """Rate, burstiness and the closest arrival process of a recorded trace."""
    from pytest_gpuslo.arrivals.trace import describe
    from pytest_gpuslo.errors import InvalidArgument

    header = None if args.file.endswith((".json", ".npy")) else _csv_header(args.file)
    column: int
    if args.column.isdigit():
        column = int(args.column)
    elif header is not None and args.column in header:
        column = header.index(args.column)
    else:
        names = ", ".join(header) if header else "none (the file has no header line)"
        print(f"error: --column {args.column}: no such column; give a 0-based index or one of the "
              f"header's names: {names}", file=sys.stderr)
        return 2
    unit, unit_note = args.unit, "(from --unit)"
    if unit is None:
        named = _unit_of(header[column]) if header is not None and column < len(header) else None
        unit, unit_note = (named, f"(from the header {header[column]!r})") if named and header else \
            ("s", "(assumed: nothing names it; pass --unit ms, us or ns if it is not seconds)")
    try:
        d = describe(args.file, unit=unit, kind=args.kind, column=column)
    except (InvalidArgument, OSError) as exc:
        # The trace reader speaks the marker's language; here the fixes are command-line flags.
        text = str(exc).replace("pass kind='intervals'", "pass --kind intervals").replace(
            "set column= to", "set --column to")
        print(f"error: {text}", file=sys.stderr)
        return 2
    print(f"trace        {d['path']}")
    print(f"unit         {unit} {unit_note}")
    print(f"arrivals     {d['arrivals']} over {d['span_s']:.4g} s")
    print(f"rate         {d['rate_hz']:.4g} /s")
    print(f"cv of gaps   {d['cv']:.3g}  (1 = Poisson; above 1 bursty)")
    for w, v in d["idc"].items():
        print(f"IDC({w:>8})  {'-' if v is None else f'{v:.3g}'}  (index of dispersion of counts)")
    print(f"tail index   {d['hill_tail_index']:.3g}  (Hill, top 5% of gaps; below 2: infinite variance)")
    print(f"bursts       {len(d['bursts'])} windows over twice the mean rate"
          + (f", first at {d['bursts'][0][0]:.3g} s" if d["bursts"] else ""))
    print(f"closest      {d['closest']}")
    print(f"as a test    {d['marker']}")
    minutes = 4000 / d["rate_hz"] / 60
    if minutes > 10:
        print(f"warning      at {d['rate_hz']:.4g}/s a p95 test (4,000 requests) takes {minutes:.0f} minutes: "
              f"check the unit ({unit} {unit_note}), or give the marker a higher rate_hz")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gpuslo",
        description="pytest-gpuslo: tail-latency SLO gates. The gate itself runs inside pytest "
                    "(mark a test with @pytest.mark.slo); these commands inspect its inputs.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p = sub.add_parser("version", help="Print the installed version")
    p.set_defaults(func=_cmd_version)
    p = sub.add_parser("probe", help="Say which backends can run on this machine, and why not")
    p.set_defaults(func=_cmd_probe)

    def store_arg(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--dir", default=None,
                        help="baseline store (default: the one pytest uses from here: <rootdir>/.gpuslo, "
                             "or the ini key gpuslo_baseline_dir)")

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
    d.add_argument("--kind", default="timestamps", choices=["timestamps", "intervals"],
                   help="timestamps (default) or intervals (gaps between arrivals)")
    d.add_argument("--column", default="0", help="CSV column holding the numbers: a 0-based index or a "
                                                 "header name (default 0)")
    d.set_defaults(func=_cmd_arrivals_describe)
    p = sub.add_parser("show", help="List the baselines in a store with machine, runs, p95, age",
                       description="List every baseline file: test, machine, runs kept, requests, "
                                   "p95 of the latest run, its age and commit. Exit 1 if a file is unreadable.")
    store_arg(p)
    p.add_argument("-v", "--verbose", action="store_true", help="also print each machine fingerprint")
    p.set_defaults(func=_cmd_show)
    p = sub.add_parser("compare", help="Compare two baseline files or folders; exit 1 on FAIL/REGRESSED",
                       description="Compare NEW against BASE with the same decide() as the plugin: "
                                   "absolute budgets of NEW and the regression test against BASE "
                                   "(paired when both replayed the same schedule). Exit 0 when "
                                   "nothing failed or regressed, 1 when something did, 2 on unreadable input.")
    p.add_argument("base", help="baseline file, or a folder (files matched by name)")
    p.add_argument("new", help="candidate file, or a folder")
    p.add_argument("--alpha", type=float, default=0.01, help="error rate per claim (default 0.01)")
    p.add_argument("--sigma-run", type=float, default=None,
                   help="run-to-run sd of ln(p95) (default: as the plugin sets it from BASE's runs)")
    p.set_defaults(func=_cmd_compare)
    p = sub.add_parser("accept", help="Promote the last run's results into the baseline store",
                       description="Every SLO run leaves its results in <store>/.last; accept adds "
                                   "them to the store as new baseline runs (all tests, or those named).")
    store_arg(p)
    p.add_argument("tests", nargs="*", help="node ids to accept (default: all)")
    p.set_defaults(func=_cmd_accept)
    p = sub.add_parser("prune", help="Trim old runs or remove stale baselines",
                       description="Keep at most --keep-runs runs per file and/or remove files whose "
                                   "latest run is older than --older-than days.")
    store_arg(p)
    p.add_argument("--keep-runs", type=int, default=None, help="runs to keep per file")
    p.add_argument("--older-than", type=int, default=None, metavar="DAYS", help="remove older files")
    p.add_argument("--dry-run", action="store_true", help="say what would change, change nothing")
    p.set_defaults(func=_cmd_prune)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        code = int(args.func(args))
        sys.stdout.flush()  # inside the try: a reader gone before the last flush is not an error
        return code
    except BrokenPipeError:
        # The reader went away (gpuslo ... | head): stop quietly, as other command-line tools do.
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""The ``gpuslo`` command line (layer 4', no pytest): inspect what the plugin measures.

Subcommands grow with the issues; each has complete ``--help``.
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence


def _cmd_version(args: argparse.Namespace) -> int:
    import pytest_gpuslo

    print(f"pytest-gpuslo {pytest_gpuslo.__version__}")
    return 0


def _cmd_probe(args: argparse.Namespace) -> int:
    from pytest_gpuslo import backends

    worst = 0
    for name in ("cpu", "cuda"):
        reason = backends.probe(name)
        print(f"{name:5} {'available' if reason is None else 'unavailable: ' + reason}")
        worst = worst if reason is None else 1
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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return int(args.func(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

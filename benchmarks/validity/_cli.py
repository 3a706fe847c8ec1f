"""The command line every replication script of the grid shares: --reps, --seed, --jobs."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from typing import Any


def parser(doc: str | None, reps: int, seed: int) -> argparse.ArgumentParser:
    """An argument parser with the grid's common options (the first line of ``doc`` describes it)."""
    ap = argparse.ArgumentParser(description=(doc or "").splitlines()[0] if doc else None)
    ap.add_argument("--reps", type=int, default=reps, help=f"replications per cell (default {reps})")
    ap.add_argument("--seed", type=int, default=seed, help=f"base seed (default {seed})")
    ap.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    return ap


def table(ex: Executor, cell: Callable[[Any], tuple[str, int, dict[str, int]]], families: Sequence[Any],
          sizes: Sequence[int], reps: int, seed: int, step: int, heads: Sequence[str],
          row: Callable[[dict[str, int]], Sequence[str]]) -> None:
    """A markdown table with a row per family and size, each cell's counts from ``cell`` run in
    ``ex``'s workers on (family, n, reps, its own seed): ``heads`` name the columns after family
    and n, ``row`` formats a cell's counts into them."""
    print("| family | n | " + " | ".join(heads) + " |")
    print("|---" * (2 + len(heads)) + "|")
    jobs = [(f, n, reps, seed + step * i + n) for i, f in enumerate(families) for n in sizes]
    for name, n, counts in ex.map(cell, jobs):
        print(f"| {name} | {n} | " + " | ".join(row(counts)) + " |", flush=True)

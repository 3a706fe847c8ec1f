"""The command line every replication script of the grid shares: --reps, --seed, --jobs."""

from __future__ import annotations

import argparse


def parser(doc: str | None, reps: int, seed: int) -> argparse.ArgumentParser:
    """An argument parser with the grid's common options (the first line of ``doc`` describes it)."""
    ap = argparse.ArgumentParser(description=(doc or "").splitlines()[0] if doc else None)
    ap.add_argument("--reps", type=int, default=reps, help=f"replications per cell (default {reps})")
    ap.add_argument("--seed", type=int, default=seed, help=f"base seed (default {seed})")
    ap.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    return ap

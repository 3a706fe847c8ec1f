"""Fixtures of the example service: built once per session, shared by every request."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from textpipe import Pipeline, Tokenizer  # noqa: E402

WORDS = ("latency budget stream kernel batch queue token tail percentile request arrival "
         "throughput memory pinned copy overlap device host schedule burst service").split()


def sentences(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(20, 120))) + "." for _ in range(n)]


@pytest.fixture(scope="session")
def tokenizer() -> Tokenizer:
    return Tokenizer(sentences(300, seed=1))


@pytest.fixture(scope="session")
def pipeline(tokenizer: Tokenizer) -> Pipeline:
    return Pipeline(tokenizer)


@pytest.fixture
def slo_payloads() -> list[str]:
    """Each request scores one of these sentences (cycled in order)."""
    return sentences(512, seed=2)


@pytest.fixture(scope="session")
def device_pipeline(tokenizer: Tokenizer) -> Pipeline:
    """The scoring step on the GPU with CuPy where one is usable, else the same code on numpy."""
    from pytest_gpuslo.backends import probe

    if probe("cuda") is None:
        import cupy as xp
    else:
        import numpy as xp
    return Pipeline(tokenizer, xp=xp)

"""Fixtures of the example service: built once per session, shared by every request."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from textpipe import Pipeline, Tokenizer  # noqa: E402
from textpipe.service import Model  # noqa: E402

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


def documents(n: int, words: int = 1200, seed: int = 3) -> list[str]:
    """Documents of about 10 KB with punctuation, for the service's pre-processing to chew on."""
    rng = random.Random(seed)
    marks = ["", "", " ", ",", ".", "!", " -"]
    return [" ".join(rng.choice(WORDS).capitalize() if rng.random() < 0.1 else rng.choice(WORDS) + rng.choice(marks)
                     for _ in range(words)) for _ in range(n)]


@pytest.fixture(scope="session")
def xp():
    """CuPy where a GPU is usable, else numpy: the model step's array module."""
    from pytest_gpuslo.backends import probe

    if probe("cuda") is None:
        import cupy

        return cupy
    return __import__("numpy")


@pytest.fixture
def model(tokenizer: Tokenizer, xp) -> Model:
    """A fresh batched model per test (its batch-size log starts empty).  On a GPU one batch runs
    first: CuPy loads its kernels on first use, and a run that paid for it read its first 8% over
    budget (an H200, session 37: "raise warmup_requests by about 308")."""
    m = Model(tokenizer.size, floor_ms=6.0, per_item_ms=0.05, xp=xp)
    m.warm()
    return m

"""The example as a mini inference service: normalise -> tokenize -> batched model -> detokenise.

``normalise`` and ``tokenize`` run on the CPU in Python; the model step runs one *batch* at a time,
on the GPU with CuPy where there is one (numpy otherwise); detokenisation turns the model's top
token ids back into text.  ``build`` wires the stages with ``pytest_gpuslo.batching`` so an SLO
test sees each stage's time in queue and in service.

The model is small, so its cost is made explicit: ``floor_ms`` per batch plus ``per_item_ms`` per
request, spent on the device (a spin kernel on the global timer) or, without a GPU, in a sleep that
releases the GIL as a device wait does.  That is the shape of a real batched forward pass (a fixed
cost of launching its layers, a small cost per row) and it keeps the two incidents in
``tests/test_incidents.py`` the same on a laptop, a CI runner and an H100 host.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from pytest_gpuslo.batching import AdaptiveBatcher, FixedBatcher, Stage, StagedService
from textpipe.tokenizer import Tokenizer

# -- normalisation: lower-case, punctuation and symbols become spaces, split into words ---------

_KEEP = {ch: ch.lower() for ch in map(chr, range(0x250)) if ch.isalnum()}
_TABLE = str.maketrans({chr(i): _KEEP.get(chr(i), " ") for i in range(0x250)})


def normalise_two_pass(text: str) -> list[str]:
    """The shipped version: one Python pass to clean each character, a second to cut words.

    Cheap in a micro-benchmark (about a millisecond for an 8 KB document), but it holds the GIL
    the whole time, so under concurrency it is the stage every request queues for.
    """
    cleaned = "".join(ch.lower() if ch.isalnum() else " " for ch in text)
    words: list[str] = []
    start = -1
    for i, ch in enumerate(cleaned):
        if ch != " ":
            if start < 0:
                start = i
        elif start >= 0:
            words.append(cleaned[start:i])
            start = -1
    if start >= 0:
        words.append(cleaned[start:])
    return words


def normalise(text: str) -> list[str]:
    """The fix: the two passes collapsed into one, done by ``str.translate`` and ``split`` in C."""
    return text.translate(_TABLE).split()


# -- the batched model ------------------------------------------------------------------------


class Model:
    """Mean token embedding -> scores over the vocabulary -> the top ``k`` token ids, per request.

    ``xp`` is numpy or cupy.  On the GPU a batch is padded into one array, copied over, and scored
    with one gather, one masked mean and one matrix product on the model's own stream.
    """

    def __init__(self, vocab_size: int, dim: int = 64, k: int = 3, floor_ms: float = 4.0,
                 per_item_ms: float = 0.1, max_len: int = 128, xp: Any = np, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.xp, self.k, self.max_len = xp, k, max_len
        self.floor_ms, self.per_item_ms = floor_ms, per_item_ms
        self.table = xp.asarray(rng.standard_normal((vocab_size, dim), dtype=np.float32))
        self.out = xp.asarray(rng.standard_normal((dim, vocab_size), dtype=np.float32))
        self.on_gpu = xp.__name__ == "cupy"
        self._spin: Any = None
        self._stream: Any = None
        self.batches: list[int] = []

    def __call__(self, batch: Sequence[list[int]]) -> list[list[int]]:
        self.batches.append(len(batch))
        width = max(1, min(self.max_len, max(len(ids) for ids in batch)))  # the context length
        ids = np.zeros((len(batch), width), np.int64)
        mask = np.zeros((len(batch), width), np.float32)
        for row, seq in enumerate(batch):
            seq = seq[:width]
            ids[row, :len(seq)] = seq
            mask[row, :len(seq)] = 1.0
        cost_ns = int((self.floor_ms + self.per_item_ms * len(batch)) * 1e6)
        if self.on_gpu:
            return self._on_gpu(ids, mask, cost_ns)
        top = self._score(np, ids, mask)
        time.sleep(cost_ns / 1e9)
        return top.tolist()

    def _score(self, xp: Any, ids: Any, mask: Any) -> Any:
        emb = self.table[ids] * mask[..., None]
        mean = emb.sum(axis=1) / xp.maximum(mask.sum(axis=1, keepdims=True), 1.0)
        scores = mean @ self.out
        return xp.argsort(-scores, axis=1)[:, :self.k]

    def warm(self) -> None:
        """Load the GPU kernels (CuPy compiles or loads each on its first use) before a timed run,
        on a stream of their own: the model's stream is made on the batcher's thread."""
        if not self.on_gpu:
            return
        from pytest_gpuslo.testing import spin_kernel

        cp = self.xp
        with cp.cuda.Stream(non_blocking=True) as stream:
            self._score(cp, cp.ones((2, 3), cp.int64), cp.ones((2, 3), cp.float32)).get()
            spin_kernel()((1,), (1,), (cp.int64(1000),))
            stream.synchronize()

    def _on_gpu(self, ids: np.ndarray, mask: np.ndarray, cost_ns: int) -> list[list[int]]:
        cp = self.xp
        if self._stream is None:  # created on the batcher's worker thread, which calls us
            from pytest_gpuslo.testing import spin_kernel

            self._spin = spin_kernel()
            self._stream = cp.cuda.Stream(non_blocking=True)
        with self._stream:
            top = self._score(cp, cp.asarray(ids), cp.asarray(mask))
            self._spin((1,), (1,), (cp.int64(cost_ns),))  # the rest of the forward pass
            out = top.get()  # waits for this stream only
        return out.tolist()


# -- the service ------------------------------------------------------------------------------


def make_batcher(model: Model, policy: str) -> AdaptiveBatcher | FixedBatcher:
    """``"fixed"``: the configuration of the safety-timer incident (a batch of 4, or whatever is
    queued after 0.5 ms "just to be safe"); ``"adaptive"``: its fix, a target that follows the
    arrival rate under a ceiling of 64, and 2 ms at most for the oldest request."""
    if policy == "fixed":
        return FixedBatcher(model, max_size=4, max_wait_ms=0.5)
    if policy == "adaptive":
        return AdaptiveBatcher(model, max_size=64, target_size=8, max_wait_ms=2.0)
    raise ValueError(f"policy={policy!r}: choose 'fixed' or 'adaptive'")


def build(tokenizer: Tokenizer, model: Model, *, normaliser: Callable[[str], list[str]] = normalise,
          policy: str = "adaptive", workers: int = 2) -> StagedService:
    """The service as stages: ``normalise`` on a pool of ``workers`` threads, ``tokenize`` and
    ``detokenise`` inline, ``model`` behind a batcher.  Call as ``service(text, request=req)``."""
    return StagedService(
        Stage.pool("normalise", normaliser, workers=workers),
        Stage.inline("tokenize", tokenizer.encode_words),
        Stage.batched("model", make_batcher(model, policy)),
        Stage.inline("detokenise", tokenizer.decode),
    )

"""Embedding lookup and scoring with numpy (the GPU variant swaps numpy for CuPy)."""

from __future__ import annotations

from typing import Any

import numpy as np

from textpipe.tokenizer import Tokenizer


class Pipeline:
    """text -> token ids -> mean embedding -> scores against a set of labels."""

    def __init__(self, tokenizer: Tokenizer, dim: int = 256, labels: int = 64, seed: int = 0,
                 xp: Any = np) -> None:
        rng = np.random.default_rng(seed)
        self.tokenizer = tokenizer
        self.xp = xp
        self.table = xp.asarray(rng.standard_normal((tokenizer.size, dim), dtype=np.float32))
        self.labels = xp.asarray(rng.standard_normal((dim, labels), dtype=np.float32))

    def embed(self, ids: list[int]) -> Any:
        xp = self.xp
        return self.table[xp.asarray(ids, dtype=np.int64)].mean(axis=0)

    def score(self, vector: Any) -> Any:
        return vector @ self.labels

    def __call__(self, text: str) -> Any:
        return self.score(self.embed(self.tokenizer.encode(text)))

"""A byte-pair-style tokenizer in pure Python: the kind of 'cheap' CPU stage that holds tails."""

from __future__ import annotations

import re
from collections import Counter

_WORD = re.compile(r"\w+|[^\w\s]")


class Tokenizer:
    """Greedy longest-match subword tokenizer with a learned vocabulary and byte fallback."""

    def __init__(self, corpus: list[str], vocab_size: int = 2000) -> None:
        counts: Counter[str] = Counter()
        for text in corpus:
            for word in _WORD.findall(text.lower()):
                for i in range(len(word)):
                    for j in range(i + 1, min(len(word), i + 8) + 1):
                        counts[word[i:j]] += 1
        pieces = [p for p, _ in counts.most_common(vocab_size)]
        self.vocab: dict[str, int] = {p: i + 256 for i, p in enumerate(pieces)}
        self.max_piece = max((len(p) for p in pieces), default=1)

    @property
    def size(self) -> int:
        return 256 + len(self.vocab)

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text``: longest known piece first, unknown characters as bytes."""
        ids: list[int] = []
        for word in _WORD.findall(text.lower()):
            i = 0
            while i < len(word):
                for j in range(min(len(word), i + self.max_piece), i, -1):
                    tok = self.vocab.get(word[i:j])
                    if tok is not None:
                        ids.append(tok)
                        i = j
                        break
                else:
                    ids.extend(word[i].encode("utf-8"))
                    i += 1
        return ids

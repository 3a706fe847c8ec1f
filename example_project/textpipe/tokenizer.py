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
        self.pieces: dict[int, str] = {i: p for p, i in self.vocab.items()}
        self.max_piece = max((len(p) for p in pieces), default=1)
        self._words: dict[str, list[int]] = {}

    @property
    def size(self) -> int:
        return 256 + len(self.vocab)

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text``: longest known piece first, unknown characters as bytes."""
        ids: list[int] = []
        for word in _WORD.findall(text.lower()):
            ids.extend(self._encode_word(word))
        return ids

    def encode_words(self, words: list[str]) -> list[int]:
        """Token ids of already-normalised words, with a per-word cache (as serving tokenizers do)."""
        ids: list[int] = []
        cache = self._words
        for word in words:
            got = cache.get(word)
            if got is None:
                got = cache[word] = self._encode_word(word)
            ids.extend(got)
        return ids

    def decode(self, ids: list[int]) -> str:
        """Text of token ids: pieces joined; byte ids (< 256) decoded as UTF-8 where they can be."""
        out: list[str] = []
        raw = bytearray()
        for t in ids:
            if t < 256:
                raw.append(t)
                continue
            if raw:
                out.append(raw.decode("utf-8", errors="replace"))
                raw.clear()
            out.append(self.pieces.get(t, "\ufffd"))
        if raw:
            out.append(raw.decode("utf-8", errors="replace"))
        return " ".join(out)

    def _encode_word(self, word: str) -> list[int]:
        ids: list[int] = []
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

"""A small text-scoring service used to show pytest-gpuslo: tokenize, embed, score."""

from textpipe.pipeline import Pipeline
from textpipe.tokenizer import Tokenizer

__all__ = ["Pipeline", "Tokenizer"]

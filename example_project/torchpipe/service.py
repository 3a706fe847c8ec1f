"""The encoder as a service: tokenize -> AdaptiveBatcher -> encoder on the GPU -> embedding norm.

``tokenize`` and ``postprocess`` run in the request's lane; ``model`` runs one batch at a time on
the batcher's worker thread, which waits for the batch's results before handing them out.  An
SLO test calls ``service(text, request=slo_request)`` and sees each stage's share of the latency.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import torch
from textpipe import Tokenizer
from textpipe.service import normalise

from pytest_gpuslo.batching import AdaptiveBatcher, Stage, StagedService
from torchpipe.encoder import Encoder, pad


class EmbedStep:
    """The batched model step: pad the batch, copy it to the device, one forward pass, copy back."""

    def __init__(self, encoder: Encoder) -> None:
        self.encoder = encoder
        self.device = next(encoder.parameters()).device

    @torch.inference_mode()
    def __call__(self, batch: Sequence[list[int]]) -> list[npt.NDArray[np.float32]]:
        ids, padding = pad(batch, self.encoder.max_len)
        pooled = self.encoder(torch.from_numpy(ids).to(self.device),
                              torch.from_numpy(padding).to(self.device))
        # The work is on this thread's current stream; .cpu() waits for it, so the rows are
        # ready when the batcher hands them to the waiting requests.
        return list(pooled.float().cpu().numpy())


def encode(tokenizer: Tokenizer, text: str) -> list[int]:
    """The service's tokenizer: textpipe's one-pass normaliser, then cached subword ids."""
    return tokenizer.encode_words(normalise(text))


def embedding_norm(row: npt.NDArray[np.float32]) -> float:
    return float(np.linalg.norm(row))


def build(tokenizer: Tokenizer, step: EmbedStep, *, max_size: int = 32, target_size: int = 8,
          max_wait_ms: float = 2.0) -> StagedService:
    """The service as stages; call as ``service(text, request=req)``, ``close()`` when done.

    The batcher ships at its target size (which follows the arrival rate, up to ``max_size``) or
    when the oldest request has waited ``max_wait_ms``.
    """
    return StagedService(
        Stage.inline("tokenize", lambda text: encode(tokenizer, text)),
        Stage.batched("model", AdaptiveBatcher(step, max_size=max_size, target_size=target_size,
                                               max_wait_ms=max_wait_ms)),
        Stage.inline("postprocess", embedding_norm),
    )

"""A small transformer encoder built in code: random weights from a seed, nothing to download."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import torch
from torch import nn

MAX_LEN = 64


class Encoder(nn.Module):
    """Token ids -> one mean-pooled embedding per sequence: a sentence encoder in miniature.

    The layers are the size of a small production encoder (d_model 256, 4 heads, feed-forward
    1024); with 4 of them, a batch of 32 x 64 tokens is about 13 GFLOP.
    """

    def __init__(self, vocab_size: int, d_model: int = 256, layers: int = 4, heads: int = 4,
                 max_len: int = MAX_LEN) -> None:
        super().__init__()
        self.max_len = max_len
        self.tokens = nn.Embedding(vocab_size, d_model)
        self.positions = nn.Embedding(max_len, d_model)
        layer = nn.TransformerEncoderLayer(d_model, heads, dim_feedforward=4 * d_model, dropout=0.0,
                                           batch_first=True)
        # No nested tensors: building one from a padded batch reads the lengths back to the host,
        # a synchronisation in the middle of the forward pass.
        self.layers = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)

    def forward(self, ids: torch.Tensor, padding: torch.Tensor) -> torch.Tensor:
        """``ids`` (batch, length) int64 and ``padding`` (batch, length) bool, True where a row has
        no token; returns (batch, d_model), the mean over each row's real tokens."""
        x = self.tokens(ids) + self.positions.weight[:ids.shape[1]]
        x = self.layers(x, src_key_padding_mask=padding)
        keep = (~padding).unsqueeze(-1).to(x.dtype)
        return (x * keep).sum(dim=1) / keep.sum(dim=1).clamp(min=1)


def make_encoder(vocab_size: int, device: str | torch.device = "cuda", seed: int = 0,
                 **sizes: int) -> Encoder:
    """The encoder with weights drawn from ``seed``, in eval mode: bf16 on a GPU, fp32 on the CPU.

    The global random state is left as it was, so building a model does not change a test's draws.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = Encoder(vocab_size, **sizes)
    dtype = torch.bfloat16 if torch.device(device).type == "cuda" else torch.float32
    return model.to(device=device, dtype=dtype).eval()


def pad(batch: Sequence[Sequence[int]],
        max_len: int = MAX_LEN) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """Token id lists -> (ids, padding): one row each, cut to ``max_len``, padded to the longest row.

    An empty list becomes one token 0 (a NUL byte): a row of padding only would attend to nothing.
    """
    rows = [list(seq[:max_len]) or [0] for seq in batch]
    width = max(len(row) for row in rows)
    ids = np.zeros((len(rows), width), np.int64)
    padding = np.ones((len(rows), width), np.bool_)
    for i, row in enumerate(rows):
        ids[i, :len(row)] = row
        padding[i, :len(row)] = False
    return ids, padding

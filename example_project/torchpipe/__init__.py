"""textpipe's tokenizer in front of a small PyTorch transformer encoder: the example for PyTorch users."""

from torchpipe.encoder import Encoder, make_encoder, pad
from torchpipe.service import EmbedStep, build, encode

__all__ = ["EmbedStep", "Encoder", "build", "encode", "make_encoder", "pad"]

"""A convolutional discriminator over whole sequences."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from seqgan_core.models.base import Discriminator


class CNNDiscriminator(Discriminator):
    """Whole-sequence D: one-hots ``(B, L, V)`` -> embed -> 2 x Conv1d(k=3) -> MLP -> score ``(B, 1)``.

    The convolutions see neighbouring positions together, where order and symmetry live.
    """

    name = "cnn"

    @dataclass
    class Options:
        embed: int = 64  # E: token embedding size (Linear(V, E) on the one-hots)
        channels: int = 128  # channels of both convolutions
        hidden: int = 256  # width of the MLP on the flattened convolution output

    def __init__(self, vocab_size: int, length: int, options: CNNDiscriminator.Options | None = None):
        super().__init__()
        o = options or self.Options()
        self.embed = nn.Linear(vocab_size, o.embed, bias=False)
        self.conv1 = nn.Conv1d(o.embed, o.channels, 3, padding=1)
        self.conv2 = nn.Conv1d(o.channels, o.channels, 3, padding=1)
        self.head = nn.Sequential(nn.Linear(o.channels * length, o.hidden), nn.LeakyReLU(0.2),
                                  nn.Linear(o.hidden, 1))

    def forward(self, seqs: torch.Tensor) -> torch.Tensor:
        h = self.embed(seqs).transpose(1, 2)  # (B, E, L)
        h = nn.functional.leaky_relu(self.conv1(h), 0.2)  # (B, C, L)
        h = nn.functional.leaky_relu(self.conv2(h), 0.2)
        return self.head(h.flatten(1))  # (B, 1)

"""The tutorial's GAN models, parameter for parameter: every number of a sequence is one row."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from seqgan_core.models.base import Discriminator, Generator
from seqgan_core.models.sampling import one_hot


class ArticleGenerator(Generator):
    """The tutorial's G: each number is one row, Linear(V, V) + ReLU on V-dim N(0, 1) noise."""

    @dataclass
    class Options:
        pass  # the tutorial's model has no choices

    def __init__(self, vocab_size: int, length: int, options: ArticleGenerator.Options | None = None):
        super().__init__()
        self.vocab_size = vocab_size
        self.length = length
        self.noise_dim = vocab_size  # as in the tutorial
        self.linear = nn.Linear(self.noise_dim, vocab_size)
        self.activation = nn.ReLU()

    def forward(self, noise: torch.Tensor) -> torch.Tensor:
        return self.activation(self.linear(noise))  # (rows, noise_dim) -> (rows, V)

    def noise(self, rows: int) -> torch.Tensor:
        return torch.randn(rows, self.noise_dim, device=self.linear.weight.device)

    def generate(self, n: int, tau: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
        """Each row's argmax as a one-hot ``(n, L, V)`` whose gradients reach the rows (straight
        through), and the indices ``(n, L)``; ``tau`` is accepted and ignored, like the sampler's
        temperature."""
        rows = self.forward(self.noise(n * self.length)).view(n, self.length, self.vocab_size)  # (n, L, V)
        index = rows.argmax(dim=-1)  # (n, L)
        hard = one_hot(index, self.vocab_size, rows.dtype)
        return hard - rows.detach() + rows, index

    @torch.jit.export
    def sample(self, n: int, temperature: float = 1.0, min_p: float = 0.0) -> torch.Tensor:
        """The tutorial's argmax of each row; ``temperature`` and ``min_p`` are accepted (every
        generator takes them) and ignored: the tutorial's sampling is greedy."""
        rows = self.forward(self.noise(n * self.length))  # (n * L, V)
        if hasattr(self, "banned"):  # tokens trained on but never drawn (constraints.never_sample)
            rows = rows.masked_fill(self.banned, float("-inf"))
        return rows.argmax(dim=-1).view(n, self.length)  # (n, L)


class ArticleDiscriminator(Discriminator):
    """The tutorial's D: Linear(V, 1) + Sigmoid on one 100-wide row; outputs P(real)."""

    def __init__(self, vocab_size: int):
        super().__init__()
        self.linear = nn.Linear(vocab_size, 1)

    def forward(self, rows: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.linear(rows))  # (rows, V) -> (rows, 1)

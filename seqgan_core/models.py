"""Generators and discriminators. Every generator has ``sample(n) -> LongTensor (n, length)``.

``sample`` draws its own noise from torch's global RNG, so ``torch.manual_seed(s)`` followed by
``sample(n)`` is reproducible, in seqgan and in the exported file alike.
"""

from __future__ import annotations

import torch
from torch import nn


class ArticleGenerator(nn.Module):
    """The tutorial's G: each number is one row, Linear(V, V) + ReLU on V-dim N(0, 1) noise."""

    def __init__(self, vocab_size: int, length: int):
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

    @torch.jit.export
    def sample(self, n: int) -> torch.Tensor:
        rows = self.forward(self.noise(n * self.length))  # (n * L, V)
        return rows.argmax(dim=-1).view(n, self.length)  # (n, L)


class ArticleDiscriminator(nn.Module):
    """The tutorial's D: Linear(V, 1) + Sigmoid on one 100-wide row; outputs P(real)."""

    def __init__(self, vocab_size: int):
        super().__init__()
        self.linear = nn.Linear(vocab_size, 1)

    def forward(self, rows: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.linear(rows))  # (rows, V) -> (rows, 1)


class Sampler(nn.Module):
    """What gets exported: ``sampler(n)`` -> int64 ``(n, length)`` vocabulary indices."""

    def __init__(self, generator: nn.Module):
        super().__init__()
        self.generator = generator

    def forward(self, n: int) -> torch.Tensor:
        with torch.no_grad():
            return self.generator.sample(n)

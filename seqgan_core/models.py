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


def gumbel_noise(shape: list[int], device: torch.device) -> torch.Tensor:
    """Gumbel(0, 1) noise from ``torch.rand`` (several times faster here than ``exponential_``)."""
    eps = 1e-10
    return -torch.log(-torch.log(torch.rand(shape, device=device) + eps) + eps)


def categorical(logits: torch.Tensor) -> torch.Tensor:
    """One draw per row from softmax(logits) ``(..., V)`` -> indices ``(...)``, by inverse CDF.

    Needs one uniform number per token where Gumbel-max needs V, which makes sampling a few
    times faster; both are exact draws from the same distribution.
    """
    cdf = logits.softmax(dim=-1).cumsum(dim=-1)  # (..., V)
    u = torch.rand(list(logits.shape[:-1]) + [1], device=logits.device) * cdf[..., -1:]  # (..., 1)
    # the first index whose cumulative probability exceeds u; never a zero-probability token
    index = torch.searchsorted(cdf, u, right=True).squeeze(-1)  # (...)
    return index.clamp(max=logits.shape[-1] - 1)


def straight_through(logits: torch.Tensor, tau: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Straight-through Gumbel-softmax: hard one-hots forward, soft gradients backward.

    ``logits`` ``(..., V)`` -> one-hots ``(..., V)`` (exactly one-hot in value) and their
    indices ``(...)``.
    """
    y = (logits + gumbel_noise(list(logits.shape), logits.device)) / tau
    soft = y.softmax(dim=-1)
    index = y.argmax(dim=-1)
    hard = torch.nn.functional.one_hot(index, logits.shape[-1]).to(soft.dtype)
    return hard - soft.detach() + soft, index


class MLPGenerator(nn.Module):
    """Noise -> logits for every position at once; tokens are categorical draws from them.

    ``hidden == 0`` makes it a single Linear(noise_dim, L * V): the positions of multiples5 are
    independent, and a linear map already covers every distribution over them.
    """

    def __init__(self, vocab_size: int, length: int, noise_dim: int = 16, hidden: int = 0):
        super().__init__()
        self.vocab_size = vocab_size
        self.length = length
        self.noise_dim = noise_dim
        out = length * vocab_size
        if hidden:
            self.net = nn.Sequential(nn.Linear(noise_dim, hidden), nn.ReLU(), nn.Linear(hidden, out))
        else:
            self.net = nn.Sequential(nn.Linear(noise_dim, out))
        self.anchor = nn.Parameter(torch.zeros(0))  # carries the device into TorchScript

    def logits(self, n: int) -> torch.Tensor:
        noise = torch.randn(n, self.noise_dim, device=self.anchor.device)  # (n, Z)
        return self.net(noise).view(n, self.length, self.vocab_size)  # (n, L, V)

    def generate(self, n: int, tau: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
        """Straight-through one-hot sequences ``(n, L, V)`` for training, and their indices ``(n, L)``."""
        return straight_through(self.logits(n), tau)

    @torch.jit.export
    def sample(self, n: int) -> torch.Tensor:
        return categorical(self.logits(n))  # (n, L)


class MLPDiscriminator(nn.Module):
    """Scores packs of ``pack`` whole sequences (PacGAN): ``(B, L, V)`` -> ``(B / pack, 1)``.

    Seeing several sequences at once lets D notice a generator that repeats itself.
    """

    def __init__(self, vocab_size: int, length: int, hidden: int = 32, pack: int = 2, layers: int = 1):
        super().__init__()
        self.pack = pack
        dims = [pack * length * vocab_size] + [hidden] * layers
        body = []
        for d_in, d_out in zip(dims, dims[1:]):
            body += [nn.Linear(d_in, d_out), nn.LeakyReLU(0.2)]
        self.net = nn.Sequential(*body, nn.Linear(dims[-1], 1))

    def forward(self, seqs: torch.Tensor) -> torch.Tensor:
        packed = seqs.reshape(seqs.shape[0] // self.pack, -1)  # (B / pack, pack * L * V)
        return self.net(packed)  # raw scores

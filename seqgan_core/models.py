"""Generators and discriminators. Every generator has ``sample(n) -> LongTensor (n, length)``.

``sample`` draws its own noise from torch's global RNG, so ``torch.manual_seed(s)`` followed by
``sample(n)`` is reproducible, in seqgan and in the exported file alike.
"""

from __future__ import annotations

from dataclasses import dataclass

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

    autoregressive = False

    @dataclass
    class Options:
        noise_dim: int = 16  # noise size
        hidden: int = 0  # hidden width; 0 = a single linear layer

    def __init__(self, vocab_size: int, length: int, options: Options | None = None):
        super().__init__()
        options = options or self.Options()
        noise_dim, hidden = options.noise_dim, options.hidden
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

    @dataclass
    class Options:
        hidden: int = 32  # hidden width
        pack: int = 2  # sequences per input (PacGAN)
        layers: int = 1  # hidden layers

    def __init__(self, vocab_size: int, length: int, options: Options | None = None):
        super().__init__()
        options = options or self.Options()
        hidden, pack, layers = options.hidden, options.pack, options.layers
        self.pack = pack
        dims = [pack * length * vocab_size] + [hidden] * layers
        body = []
        for d_in, d_out in zip(dims, dims[1:]):
            body += [nn.Linear(d_in, d_out), nn.LeakyReLU(0.2)]
        self.net = nn.Sequential(*body, nn.Linear(dims[-1], 1))

    def forward(self, seqs: torch.Tensor) -> torch.Tensor:
        packed = seqs.reshape(seqs.shape[0] // self.pack, -1)  # (B / pack, pack * L * V)
        return self.net(packed)  # raw scores


class GRUGenerator(nn.Module):
    """Autoregressive: a GRU reads the token it sampled last and scores the next one.

    logits_t = Linear(h_t) + skip[token_{t-1}]; the ``skip`` table (one extra row for the start)
    lets the generator learn "what may follow what" directly, which pushes invalid continuations
    down fast. In training every token is a straight-through Gumbel-softmax sample fed back as
    the next input, so D's gradients flow through the discrete choices.
    """

    autoregressive = True

    @dataclass
    class Options:
        embed_dim: int = 32  # token embedding size
        hidden: int = 128  # GRU width

    def __init__(self, vocab_size: int, length: int, options: Options | None = None):
        super().__init__()
        options = options or self.Options()
        embed_dim, hidden = options.embed_dim, options.hidden
        self.vocab_size, self.length, self.hidden = vocab_size, length, hidden
        self.embed = nn.Parameter(torch.randn(vocab_size, embed_dim) * 0.1)  # (V, E)
        self.start = nn.Parameter(torch.randn(embed_dim) * 0.1)  # (E,)
        self.rnn = nn.GRU(embed_dim, hidden, batch_first=True)
        self.out = nn.Linear(hidden, vocab_size)
        self.skip = nn.Parameter(torch.zeros(vocab_size + 1, vocab_size))  # (V + 1, V); row V = start

    def head_parameters(self) -> list[nn.Parameter]:
        """The output layer and skip table, which pretraining moves with a larger learning rate."""
        return [self.skip, *self.out.parameters()]

    def _first(self, n: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        h = torch.zeros(1, n, self.hidden, device=self.start.device)  # (1, n, H)
        inp = self.start.view(1, 1, -1).expand(n, 1, self.start.shape[0])  # (n, 1, E)
        skip = self.skip[self.vocab_size].view(1, -1)  # (1, V)
        return h, inp, skip

    def teacher_forced_logits(self, seqs: torch.Tensor) -> torch.Tensor:
        """Real ``seqs`` ``(n, L)`` -> next-token logits ``(n, L, V)`` (maximum likelihood)."""
        n = seqs.shape[0]
        h, first, _ = self._first(n)
        inp = torch.cat([first, self.embed[seqs[:, :-1]]], dim=1)  # (n, L, E)
        out, _ = self.rnn(inp, h)  # (n, L, H)
        prev = torch.cat([torch.full_like(seqs[:, :1], self.vocab_size), seqs[:, :-1]], dim=1)  # (n, L)
        return self.out(out) + self.skip[prev]

    def nll(self, seqs: torch.Tensor) -> torch.Tensor:
        logits = self.teacher_forced_logits(seqs)
        return nn.functional.cross_entropy(logits.reshape(-1, self.vocab_size), seqs.reshape(-1))

    def token_log_probs(self, seqs: torch.Tensor) -> torch.Tensor:
        logp = self.teacher_forced_logits(seqs).log_softmax(-1)  # (n, L, V)
        return logp.gather(-1, seqs.unsqueeze(-1)).squeeze(-1)  # (n, L)

    def generate(self, n: int, tau: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
        """Straight-through one-hot sequences ``(n, L, V)`` for training, and their indices ``(n, L)``."""
        h, inp, skip = self._first(n)
        onehots, indices = [], []
        for _ in range(self.length):
            out, h = self.rnn(inp, h)
            y, index = straight_through(self.out(out[:, 0]) + skip, tau)  # (n, V), (n,)
            onehots.append(y)
            indices.append(index)
            inp = (y @ self.embed).unsqueeze(1)  # (n, 1, E)
            skip = y @ self.skip[: self.vocab_size]  # (n, V)
        return torch.stack(onehots, dim=1), torch.stack(indices, dim=1)

    @torch.jit.export
    def sample(self, n: int) -> torch.Tensor:
        h, inp, skip = self._first(n)
        tokens = []
        for _ in range(self.length):
            out, h = self.rnn(inp, h)
            index = categorical(self.out(out[:, 0]) + skip)  # (n,)
            tokens.append(index)
            inp = self.embed[index].unsqueeze(1)
            skip = self.skip[index]
        return torch.stack(tokens, dim=1)  # (n, L)


class CNNDiscriminator(nn.Module):
    """Whole-sequence D: one-hot ``(B, L, V)`` -> embed -> 2 x Conv1d(k=3) -> MLP -> score ``(B, 1)``.

    The convolutions see neighbouring positions together, where order and symmetry live.
    """

    pack = 1

    @dataclass
    class Options:
        hidden: int = 256  # width of the head
        embed: int = 64  # token embedding size
        channels: int = 128  # convolution channels

    def __init__(self, vocab_size: int, length: int, options: Options | None = None):
        super().__init__()
        options = options or self.Options()
        hidden, embed, channels = options.hidden, options.embed, options.channels
        self.embed = nn.Linear(vocab_size, embed, bias=False)
        self.conv1 = nn.Conv1d(embed, channels, 3, padding=1)
        self.conv2 = nn.Conv1d(channels, channels, 3, padding=1)
        self.head = nn.Sequential(nn.Linear(channels * length, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, 1))

    def forward(self, seqs: torch.Tensor) -> torch.Tensor:
        h = self.embed(seqs).transpose(1, 2)  # (B, E, L)
        h = nn.functional.leaky_relu(self.conv1(h), 0.2)  # (B, C, L)
        h = nn.functional.leaky_relu(self.conv2(h), 0.2)
        return self.head(h.flatten(1))  # (B, 1)


GENERATORS = {"mlp": MLPGenerator, "gru": GRUGenerator}
DISCRIMINATORS = {"mlp": MLPDiscriminator, "cnn": CNNDiscriminator}

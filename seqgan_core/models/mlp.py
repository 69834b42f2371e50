"""Non-autoregressive models: a generator that emits every position at once from one noise
vector, and a packed (PacGAN) discriminator over whole sequences."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from seqgan_core.models.base import Discriminator, Generator
from seqgan_core.models.sampling import categorical, straight_through


class ScaledLinear(nn.Module):
    """``Linear`` whose weight is used as ``scale * theta`` (``theta`` initialised ``/ scale``): the
    same function at initialisation, but Adam, which moves every parameter by about ``lr`` a
    step whatever its gradient, moves this weight ``scale`` times as fast as the optimiser's
    ``lr`` — a per-layer learning rate the model carries itself (as muP's multipliers do)."""

    def __init__(self, d_in: int, d_out: int, scale: float, bias_scale: float = 1.0):
        super().__init__()
        self.scale, self.bias_scale = scale, bias_scale
        bound = d_in ** -0.5  # nn.Linear's initialisation
        self.weight = nn.Parameter(torch.empty(d_out, d_in).uniform_(-bound, bound) / scale)
        self.bias = nn.Parameter(torch.zeros(d_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x * 1.0 is x: a scale of 1 costs no op (the same numbers and gradients)
        weight = self.weight if self.scale == 1.0 else self.scale * self.weight
        bias = self.bias if self.bias_scale == 1.0 else self.bias_scale * self.bias
        return nn.functional.linear(x, weight, bias)


class MLPGenerator(Generator):
    """Noise -> a hidden vector per position -> logits from one shared output layer.

    ``h_l = act(LayerNorm(W_z z + p_l))`` mixes the noise ``z`` with a learned position vector
    ``p_l`` (then ``layers - 1`` more ``Linear(H, H)`` + act), and one ``Linear(H, V)`` turns every
    ``h_l`` into logits. Parameters ~ Z*H + L*H + H*V and cost ~ L * (H^2 + H*V) per sequence,
    where a single ``Linear(Z, L * V)`` would grow as Z*L*V. Tokens are categorical draws from the
    logits; the shared noise is what lets positions vary together.

    The default preset trains G with Adam at lr 0.3 without momentum: steps of about 0.3 on every
    parameter, which suits the output bias (invalid tokens go down fast) but thrashes hidden
    features and makes a shared output layer swing every position's distribution together. So
    the hidden weights move at ``hidden_lr_scale`` and the output weight at ``out_lr_scale`` of
    the optimiser's rate (see ``ScaledLinear``); the LayerNorm keeps the features' scale fixed.
    Measured on multiples5 (benchmarks/benchmark.py); with a small optimiser lr (1e-3) set both
    scales to 1.
    """

    name = "mlp"

    @dataclass
    class Options:
        noise_dim: int = 16  # Z: size of the noise vector shared by all positions
        hidden: int = 64  # H: width of each position's hidden vector
        layers: int = 1  # hidden layers per position (the noise/position mix counts as one)
        hidden_lr_scale: float = 0.01  # W_z, p_l and hidden layers learn at this x the optimiser's lr
        out_lr_scale: float = 0.1  # the output weight learns at this x the lr (its bias at 1 x)

    def __init__(self, vocab_size: int, length: int, options: MLPGenerator.Options | None = None):
        super().__init__()
        o = options or self.Options()
        self.vocab_size, self.length, self.noise_dim = vocab_size, length, o.noise_dim
        self.position_scale = o.hidden_lr_scale
        self.noise = ScaledLinear(o.noise_dim, o.hidden, o.hidden_lr_scale, o.hidden_lr_scale)  # W_z
        self.position = nn.Parameter(torch.randn(length, o.hidden) * 0.1 / o.hidden_lr_scale)  # (L, H): p_l
        body: list[nn.Module] = [nn.LayerNorm(o.hidden, elementwise_affine=False), nn.LeakyReLU(0.2)]
        for _ in range(o.layers - 1):
            body += [ScaledLinear(o.hidden, o.hidden, o.hidden_lr_scale, o.hidden_lr_scale), nn.LeakyReLU(0.2)]
        self.body = nn.Sequential(*body)
        self.out = ScaledLinear(o.hidden, vocab_size, o.out_lr_scale)  # shared by all positions

    def logits(self, n: int) -> torch.Tensor:
        z = torch.randn(n, self.noise_dim, device=self.out.weight.device)  # (n, Z)
        h = self.noise(z).unsqueeze(1) + self.position_scale * self.position  # (n, L, H)
        return self.out(self.body(h))  # (n, L, V)

    def generate(self, n: int, tau: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
        """Straight-through one-hot sequences ``(n, L, V)`` for training, and their indices ``(n, L)``."""
        return straight_through(self.logits(n), tau)

    @torch.jit.export
    def sample(self, n: int, temperature: float = 1.0, min_p: float = 0.0) -> torch.Tensor:
        logits = self.logits(n)  # (n, L, V)
        if hasattr(self, "banned"):  # tokens trained on but never drawn (constraints.never_sample)
            logits = logits.masked_fill(self.banned, float("-inf"))
        return categorical(logits, temperature, min_p)  # (n, L)


class MLPDiscriminator(Discriminator):
    """Scores packs of ``pack`` whole sequences (PacGAN): one-hots ``(B, L, V)`` -> ``(B / pack, 1)``.

    Tokens are embedded first (``Linear(V, E)`` on the one-hots: a lookup that straight-through
    one-hots also pass gradients through), then ``pack * L * E`` values go through an MLP. Seeing
    several sequences at once lets D notice a generator that repeats itself.
    """

    name = "mlp"

    @dataclass
    class Options:
        embed: int = 16  # E: token embedding size
        hidden: int = 32  # width of the hidden layers
        pack: int = 2  # sequences scored together; must divide the batch size
        layers: int = 1  # hidden layers

    @classmethod
    def packs(cls, options: MLPDiscriminator.Options) -> int:
        return options.pack

    def __init__(self, vocab_size: int, length: int, options: MLPDiscriminator.Options | None = None):
        super().__init__()
        o = options or self.Options()
        self.pack = o.pack
        self.embed = nn.Linear(vocab_size, o.embed, bias=False)
        dims = [o.pack * length * o.embed] + [o.hidden] * o.layers
        body: list[nn.Module] = []
        for d_in, d_out in zip(dims, dims[1:]):
            body += [nn.Linear(d_in, d_out), nn.LeakyReLU(0.2)]
        self.net = nn.Sequential(*body, nn.Linear(dims[-1], 1))

    def forward(self, seqs: torch.Tensor) -> torch.Tensor:
        x = self.embed(seqs)  # (B, L, E)
        packed = x.reshape(x.shape[0] // self.pack, -1)  # (B / pack, pack * L * E)
        return self.net(packed)  # raw scores

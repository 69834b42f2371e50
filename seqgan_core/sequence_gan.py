"""A GAN over whole sequences: batches, straight-through Gumbel outputs, packed D, EMA.

One step, for a batch of B sequences:
1. G generates B straight-through one-hot sequences ``(B, L, V)`` (one forward, reused below);
2. D is updated on B real one-hot sequences against the detached fakes;
3. G is updated through the updated D, gradients flowing through the discrete choices;
4. the moving average of G (if ``ema > 0``) follows G; it is what is checked and exported.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch

from . import losses
from .config import TrainConfig
from .models import MLPDiscriminator, MLPGenerator
from .rule import Rule


def adam(params, lr: float, betas: tuple[float, float]) -> torch.optim.Adam:
    """Adam, fused where this torch supports it (fewer tiny kernels per step on the CPU)."""
    params = list(params)
    try:
        return torch.optim.Adam(params, lr=lr, betas=betas, fused=True)
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.Adam(params, lr=lr, betas=betas)


class SequenceGAN:
    def __init__(self, rule: Rule, config: TrainConfig, device: torch.device):
        V, L = len(rule.vocabulary), rule.length
        self.rule, self.config = rule, config
        self.generator = MLPGenerator(V, L, config.noise_dim, config.g_hidden).to(device)
        self.discriminator = MLPDiscriminator(V, L, config.d_hidden, config.pack).to(device)
        self.g_opt = adam(self.generator.parameters(), config.lr, config.betas)
        self.d_opt = adam(self.discriminator.parameters(), config.lr_d or config.lr, config.betas_d or config.betas)
        if config.ema:
            self.sampler_generator = copy.deepcopy(self.generator).requires_grad_(False)
        else:
            self.sampler_generator = self.generator

    def parts(self) -> dict:
        parts = {"generator": self.generator, "discriminator": self.discriminator,
                 "g_opt": self.g_opt, "d_opt": self.d_opt}
        if self.sampler_generator is not self.generator:
            parts["ema"] = self.sampler_generator
        return parts

    def step(self, real: Callable[[int], torch.Tensor], step: int) -> tuple[dict[str, float], torch.Tensor]:
        cfg, D = self.config, self.discriminator
        fake, generated = self.generator.generate(cfg.batch_size, cfg.tau)  # (B, L, V), (B, L)
        real_onehot = self.rule.vocabulary.one_hot(real(cfg.batch_size))  # (B, L, V)

        self.d_opt.zero_grad(set_to_none=True)
        d_loss = losses.d_loss(cfg.loss, D, real_onehot, fake.detach())
        d_loss.backward()
        self.d_opt.step()

        self.g_opt.zero_grad(set_to_none=True)
        g_loss = losses.g_loss(cfg.loss, D, fake)
        g_loss.backward()
        self.g_opt.step()

        if cfg.ema:
            with torch.no_grad():
                for avg, p in zip(self.sampler_generator.parameters(), self.generator.parameters()):
                    avg.lerp_(p, 1 - cfg.ema)
        return {"d": d_loss.item(), "g": g_loss.item()}, generated

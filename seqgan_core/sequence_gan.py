"""A GAN over whole sequences: batches, straight-through Gumbel outputs, optional EMA.

Phases, by step (all counted in the one step counter, so checkpoints and resume see one loop):

1. ``1 .. pretrain_steps``: maximum likelihood on real sequences (autoregressive G only), with
   learning rates decaying exponentially to ``pretrain_decay`` of their start;
2. the next ``d_warmup`` steps: only D trains, so G meets a discriminator that already knows
   something;
3. then adversarial steps. For a batch of B sequences:
   a. G generates B straight-through one-hot sequences ``(B, L, V)`` (one forward, reused below);
   b. D is updated on B real one-hot sequences against the detached fakes;
   c. G is updated through the updated D, gradients flowing through the discrete choices, plus
      ``mle_weight`` x its negative log-likelihood of a real batch;
   d. the moving average of G (if ``ema > 0``) follows G; it is what is checked and exported.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch

from . import losses
from .config import TrainConfig
from .models import DISCRIMINATORS, GENERATORS
from .rule import Rule


def adam(params, lr: float, betas: tuple[float, float]) -> torch.optim.Adam:
    """Adam, fused where this torch supports it (fewer tiny kernels per step on the CPU)."""
    params = list(params)
    try:
        return torch.optim.Adam(params, lr=lr, betas=betas, fused=True)
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.Adam(params, lr=lr, betas=betas)


def build_generator(config: TrainConfig, vocab_size: int, length: int) -> torch.nn.Module:
    family = GENERATORS[config.generator]
    if config.generator == "mlp":  # g_hidden 0 (the default preset's) = the family's own width
        options = family.Options(noise_dim=config.noise_dim, hidden=config.g_hidden or family.Options.hidden)
    elif config.generator == "gru":
        options = family.Options(embed=config.embed_dim, hidden=config.g_hidden or family.Options.hidden)
    else:
        options = family.Options()
    return family(vocab_size, length, options)


def build_discriminator(config: TrainConfig, vocab_size: int, length: int) -> torch.nn.Module:
    family = DISCRIMINATORS[config.discriminator]
    if config.discriminator == "cnn":
        return family(vocab_size, length, family.Options(hidden=config.d_hidden))
    return family(vocab_size, length, family.Options(hidden=config.d_hidden, pack=config.pack))


class SequenceGAN:
    def __init__(self, rule: Rule, config: TrainConfig, device: torch.device):
        V, L = len(rule.vocabulary), rule.length
        self.rule, self.config = rule, config
        self.generator = build_generator(config, V, L).to(device)
        self.discriminator = build_discriminator(config, V, L).to(device)
        self.g_opt = adam(self.generator.parameters(), config.lr, config.betas)
        self.d_opt = adam(self.discriminator.parameters(), config.lr_d or config.lr, config.betas_d or config.betas)
        self.pretrain_opt = None
        if config.pretrain_steps:
            head = {id(p) for p in self.generator.head_parameters()}
            body = [p for p in self.generator.parameters() if id(p) not in head]
            self.pretrain_opt = torch.optim.Adam(
                [{"params": body, "lr": config.pretrain_lr},
                 {"params": self.generator.head_parameters(), "lr": config.pretrain_head_lr}],
                betas=(0.9, 0.999),
            )
            self.pretrain_base_lrs = [config.pretrain_lr, config.pretrain_head_lr]
        if config.ema:
            self.sampler_generator = copy.deepcopy(self.generator).requires_grad_(False)
        else:
            self.sampler_generator = self.generator

    def parts(self) -> dict:
        parts = {"generator": self.generator, "discriminator": self.discriminator,
                 "g_opt": self.g_opt, "d_opt": self.d_opt}
        if self.pretrain_opt is not None:
            parts["pretrain_opt"] = self.pretrain_opt
        if self.sampler_generator is not self.generator:
            parts["ema"] = self.sampler_generator
        return parts

    def step(self, real: Callable[[int], torch.Tensor], step: int) -> tuple[dict[str, float], torch.Tensor]:
        cfg = self.config
        if step <= cfg.pretrain_steps:
            return self._pretrain_step(real, step)
        adversarial = step > cfg.pretrain_steps + cfg.d_warmup
        return self._adversarial_step(real, train_generator=adversarial)

    def _pretrain_step(self, real, step: int) -> tuple[dict[str, float], torch.Tensor]:
        cfg = self.config
        fraction = cfg.pretrain_decay ** ((step - 1) / cfg.pretrain_steps)  # exponential decay
        for group, base in zip(self.pretrain_opt.param_groups, self.pretrain_base_lrs):
            group["lr"] = base * fraction
        seqs = real(cfg.batch_size)  # (B, L)
        self.pretrain_opt.zero_grad(set_to_none=True)
        loss = self.generator.nll(seqs)
        loss.backward()
        self.pretrain_opt.step()
        return {"mle": loss.item()}, seqs

    def _adversarial_step(self, real, train_generator: bool) -> tuple[dict[str, float], torch.Tensor]:
        cfg, D, G = self.config, self.discriminator, self.generator
        fake, generated = G.generate(cfg.batch_size, cfg.tau)  # (B, L, V), (B, L)
        # real() is range-checked already (Rule.sample_checked): no second check on the hot path
        real_onehot = torch.nn.functional.one_hot(real(cfg.batch_size), G.vocab_size).float()  # (B, L, V)

        self.d_opt.zero_grad(set_to_none=True)
        d_loss = losses.d_loss(cfg.loss, D, real_onehot, fake.detach())
        d_loss.backward()
        self.d_opt.step()
        out = {"d": d_loss.item()}
        if not train_generator:
            return out, generated

        self.g_opt.zero_grad(set_to_none=True)
        g_loss = losses.g_loss(cfg.loss, D, fake)
        out["g"] = g_loss.item()
        if cfg.mle_weight:
            mle = G.nll(real(cfg.batch_size))
            out["mle"] = mle.item()
            g_loss = g_loss + cfg.mle_weight * mle
        g_loss.backward()
        self.g_opt.step()

        if cfg.ema:
            with torch.no_grad():
                for avg, p in zip(self.sampler_generator.parameters(), G.parameters()):
                    avg.lerp_(p, 1 - cfg.ema)
        return out, generated

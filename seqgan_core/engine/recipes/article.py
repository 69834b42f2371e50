"""The tutorial's GAN, step for step: per-number rows, BCE, Adam, three updates per step.

One step sees one real sequence and generated sequences of ``length`` rows each:
1. D on the ``length`` real one-hot rows, label 1, update D;
2. D on ``length`` generated rows (detached), label 0, update D;
3. G on ``length`` fresh generated rows through D, label 1, update G.

It stays single-process and on the tutorial's terms: no options but the learning rate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from seqgan_core.models import ArticleDiscriminator, ArticleGenerator
from seqgan_core.engine.optim import Adam
from seqgan_core.options import in_range
from seqgan_core.rules.rule import Rule


@dataclass
class ArticleOptions:
    lr: float = 5e-4  # Adam learning rate of G and D, as in the tutorial

    def check(self) -> None:
        in_range(self.lr, 0, 100, "--lr")


class ArticleGAN:
    Options = ArticleOptions
    batch_size = 1  # one real sequence per step
    phase = "adversarial"

    def __init__(self, rule: Rule, options: ArticleOptions, device: torch.device):
        vocab_size = len(rule.vocabulary)
        self.rule = rule
        self.generator = ArticleGenerator(vocab_size, rule.length).to(device)
        self.discriminator = ArticleDiscriminator(vocab_size).to(device)
        self.g_opt = Adam(self.generator.parameters(), lr=options.lr)  # torch.optim.Adam's algorithm and defaults
        self.d_opt = Adam(self.discriminator.parameters(), lr=options.lr)
        self.eval_generator = self.generator  # the tutorial samples from G itself
        self.loss = nn.BCELoss()

    @staticmethod
    def build_generator(vocab_size: int, length: int, options: ArticleOptions) -> nn.Module:
        """The generator this recipe trains, untrained: what a weights-only file is loaded into."""
        return ArticleGenerator(vocab_size, length)

    def next_phase(self, step: int = 0) -> bool:
        return False

    def phase_done(self, step: int) -> bool:
        return False

    def plateau_counts(self, step: int) -> bool:
        return True

    def cut_learning_rates(self, step: int) -> bool:
        return False  # the tutorial's fixed Adam rate: a plateau ends the run

    lr_scale = 1.0

    def parts(self) -> dict:
        return {"generator": self.generator, "discriminator": self.discriminator,
                "g_opt": self.g_opt, "d_opt": self.d_opt}

    def step(self, real: Callable[[int], torch.Tensor], step: int) -> tuple[dict[str, float], torch.Tensor]:
        """One training step; returns the losses and G's sequences ``(1, length)`` from step 3."""
        G, D, L = self.generator, self.discriminator, self.rule.length
        # real() is range-checked already (Rule.sample_checked): no second check on the hot path
        rows = nn.functional.one_hot(real(1)[0], self.generator.vocab_size).float()  # (L, V)
        ones = torch.ones(L, 1, device=rows.device)
        zeros = torch.zeros(L, 1, device=rows.device)

        self.d_opt.zero_grad()
        d_real = self.loss(D(rows), ones)
        d_real.backward()
        self.d_opt.step()

        self.d_opt.zero_grad()
        d_fake = self.loss(D(G(G.noise(L)).detach()), zeros)
        d_fake.backward()
        self.d_opt.step()

        self.g_opt.zero_grad()
        fake = G(G.noise(L))  # (L, V)
        g_loss = self.loss(D(fake), ones)
        g_loss.backward()
        self.g_opt.step()

        losses = {"d_real": d_real.item(), "d_fake": d_fake.item(), "g": g_loss.item()}
        return losses, fake.detach().argmax(dim=-1).view(1, L)

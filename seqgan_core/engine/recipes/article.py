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

from seqgan_core.engine.optim import Adam
from seqgan_core.engine.recipes.base import Recipe
from seqgan_core.engine.recipes.phases import AdversarialPhase, Phase, StepResult
from seqgan_core.models.article import ArticleDiscriminator, ArticleGenerator
from seqgan_core.options import in_range
from seqgan_core.rules.rule import Rule
from seqgan_core.runtime.runtime import Runtime


@dataclass
class ArticleOptions:
    lr: float = 5e-4  # Adam learning rate of G and D, as in the tutorial

    def check(self) -> None:
        in_range(self.lr, 0, 100, "--lr")


class ArticleGAN(Recipe):
    name = "article"
    Options = ArticleOptions

    def __init__(self, rule: Rule, options: ArticleOptions, runtime: Runtime):
        super().__init__(rule, options, runtime)
        vocab_size = len(rule.vocabulary)
        self._generator = ArticleGenerator(vocab_size, rule.length).to(self.device)
        self.discriminator = ArticleDiscriminator(vocab_size).to(self.device)
        self.g_opt = Adam(self._generator.parameters(), lr=options.lr)  # torch.optim.Adam's algorithm and defaults
        self.d_opt = Adam(self.discriminator.parameters(), lr=options.lr)
        self.loss = nn.BCELoss()
        self._start_phases()

    @staticmethod
    def build_generator(vocab_size: int, length: int, options: ArticleOptions) -> ArticleGenerator:
        """The generator this recipe trains, untrained: what a weights-only file is loaded into."""
        return ArticleGenerator(vocab_size, length)

    @property
    def generator(self) -> ArticleGenerator:
        return self._generator  # the tutorial samples from G itself

    @property
    def batch_size(self) -> int:
        return 1  # one real sequence per step

    def build_phases(self) -> list[Phase]:
        # one phase at the tutorial's fixed Adam rate: a plateau ends the run, it never cuts the rate
        return [AdversarialPhase(lambda real: self.train_step(real), [self.g_opt, self.d_opt], cuttable=False)]

    def modules(self) -> dict:
        return {"generator": self.generator, "discriminator": self.discriminator,
                "g_opt": self.g_opt, "d_opt": self.d_opt}

    def train_step(self, real: Callable[[int], torch.Tensor]) -> StepResult:
        """One training step; returns the losses and G's sequences ``(1, length)`` from step 3."""
        G, D, L = self.generator, self.discriminator, self.rule.length
        # real() is range-checked already (Rule.sample_checked): no second check on the hot path
        rows = nn.functional.one_hot(real(1)[0], self.generator.vocab_size).float()  # (L, V)
        ones = torch.ones(L, 1, device=rows.device)
        zeros = torch.zeros(L, 1, device=rows.device)

        d_real = self.loss(D(rows), ones)
        self.runtime.step(d_real, self.d_opt)

        d_fake = self.loss(D(G(G.noise(L)).detach()), zeros)
        self.runtime.step(d_fake, self.d_opt)

        fake = G(G.noise(L))  # (L, V)
        g_loss = self.loss(D(fake), ones)
        self.runtime.step(g_loss, self.g_opt)

        losses = {"d_real": d_real.item(), "d_fake": d_fake.item(), "g": g_loss.item()}
        return losses, fake.detach().argmax(dim=-1).view(1, L)

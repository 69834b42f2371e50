"""What the recipes share whose generator learns from its own sampled sequences, scored by a
discriminator on index sequences, on SeqGAN's schedule (``seqgan``, ``maligan``):

1. ``mle`` (``FixedMaximumLikelihoodPhase``): maximum likelihood on real sequences, one batch a
   step, ``pretrain_epochs`` epochs of ``epoch_sequences`` sequences (``ClippedAdam``);
2. ``warmup`` (``WarmupPhase``): ``d_pretrain`` discriminator steps (``SampledGAN.d_step``: fresh
   negatives from G and as many real positives, shuffled together, some epochs of 2-way
   cross-entropy);
3. ``adversarial`` (``AdversarialPhase``, not cut at plateaus): ``adversarial_rounds`` rounds, each
   the recipe's own ``adversarial_round`` (its generator steps, then discriminator steps).

A recipe subclasses ``SampledGANOptions`` (redeclaring the defaults its paper changes, with their
sources) and ``SampledGAN`` (its optimisers, its generator step and its round).
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar

import torch
from torch import nn

from seqgan_core.engine.optim import Adam
from seqgan_core.engine.recipes.base import (Recipe, check_autoregressive_families, family_generator, family_options,
                                             generator_and_discriminator)
from seqgan_core.engine.recipes.phases import (AdversarialPhase, MaximumLikelihoodPhase, Phase, Real, StepResult,
                                               WarmupPhase)
from seqgan_core.errors import SeqganError
from seqgan_core.models.base import AutoregressiveGenerator
from seqgan_core.options import at_least, in_range
from seqgan_core.rules.rule import Rule
from seqgan_core.runtime.runtime import Runtime

SCORE_CHUNK = 4096  # sequences D scores at once when it computes rewards (bounded memory)
SAMPLE_CHUNK = 4096  # sequences G draws at once for D's negatives


@dataclass
class SampledGANOptions:
    """The options every such recipe has; the defaults are SeqGAN's (Yu et al. 2017, LantaoYu/SeqGAN)."""

    recipe: ClassVar[str] = "seqgan"  # the recipe named in messages
    generator: str = "lstm"  # generator family (seqgan_core.plugins.registry.GENERATORS); must be autoregressive
    # that family's own options: the paper's oracle-sized generator (embedding 32, hidden 32)
    generator_options: dict = field(default_factory=lambda: {"embed": 32, "hidden": 32})
    discriminator: str = "highway_cnn"  # discriminator family; it must give score_indices or take one-hots
    discriminator_options: dict = field(default_factory=dict)  # that family's own options (highway_cnn: the paper's)
    batch_size: int = 64  # sequences per G step and per D batch (paper: 64)
    epoch_sequences: int = 10_000  # real sequences in one maximum-likelihood epoch (paper: generated_num 10 000)
    pretrain_epochs: int = 120  # maximum-likelihood epochs of G before anything adversarial (paper: 120)
    pretrain_lr: float = 0.01  # Adam learning rate of maximum likelihood (reference code: 0.01)
    grad_clip: float = 5.0  # G's gradients are clipped to this norm in both phases (reference code: 5.0)
    d_pretrain: int = 50  # discriminator pretraining steps, each on fresh negatives (paper: 50)
    d_sequences: int = 10_000  # negatives (and as many positives) drawn for each discriminator step (paper: 10 000)
    d_epochs: int = 3  # epochs over them per discriminator step (paper: 3)
    lr_d: float = 1e-4  # Adam learning rate of D (paper: 1e-4)
    l2_reg: float = 0.2  # weight of D's L2 term (paper: l2_reg_lambda 0.2)
    adversarial_rounds: int = 200  # adversarial rounds (paper: TOTAL_BATCH 200)
    g_steps: int = 1  # generator steps per round (paper: 1)
    d_steps: int = 5  # discriminator steps per round, each on fresh negatives (paper: 5)
    lr: float = 0.01  # Adam learning rate of G's adversarial steps (reference code: 0.01)

    def check(self) -> None:
        check_autoregressive_families(self, self.recipe)
        at_least(self, 1, "batch_size", "epoch_sequences", "d_sequences", "d_epochs")
        at_least(self, 0, "pretrain_epochs", "d_pretrain", "adversarial_rounds", "g_steps", "d_steps")
        if not (self.pretrain_epochs or self.d_pretrain or self.adversarial_rounds):
            raise SeqganError("pretrain_epochs, d_pretrain and adversarial_rounds are all 0: nothing to train")
        for name in ("pretrain_lr", "lr", "lr_d"):
            in_range(getattr(self, name), 0, 100, name)
        if not self.grad_clip > 0:
            raise SeqganError(f"grad_clip must be positive, got {self.grad_clip}")
        if not self.l2_reg >= 0:
            raise SeqganError(f"l2_reg must be >= 0, got {self.l2_reg}")
        self.model_options()  # the model families check their own options

    def model_options(self) -> tuple:
        """The generator's and the discriminator's own options objects."""
        return family_options(self)

    def budgets(self) -> dict[str, int]:
        """Trainer steps of each phase: one batch, one discriminator step, one adversarial round."""
        per_epoch = -(-self.epoch_sequences // self.batch_size)  # ceil: a last partial batch is a batch
        return {"mle": self.pretrain_epochs * per_epoch, "warmup": self.d_pretrain,
                "adversarial": self.adversarial_rounds}


class ClippedAdam(Adam):
    """Adam whose step first clips its parameters' gradient norm to ``max_norm`` (the reference
    code's ``clip_by_global_norm``), so ``runtime.step`` applies the clip after any averaging."""

    def __init__(self, params, lr: float, max_norm: float):
        super().__init__(params, lr)
        self.max_norm = max_norm

    def step(self) -> None:
        nn.utils.clip_grad_norm_([p for g in self.param_groups for p in g["params"]], self.max_norm)
        super().step()


class FixedMaximumLikelihoodPhase(MaximumLikelihoodPhase):
    """The paper's maximum likelihood: a constant learning rate for the whole budget, which no
    plateau ends or cuts (the shared phase decays its rate and ends at a held-out plateau)."""

    def __init__(self, generator: AutoregressiveGenerator, optimizer, steps: int, batch_size: int, runtime: Runtime):
        super().__init__(generator, optimizer, steps, batch_size, runtime, decay=1.0)

    def plateau_counts(self, used: int) -> bool:
        return False

    def cut(self, factor: float) -> bool:
        return False


def d_logits(discriminator: nn.Module, seqs: torch.Tensor) -> torch.Tensor:
    """D's log-odds of "real" ``(n,)`` for index sequences ``seqs`` ``(n, L)``."""
    if hasattr(discriminator, "score_indices"):
        return discriminator.score_indices(seqs).squeeze(1)
    vocab = discriminator.embed.in_features  # families that read one-hots embed them with Linear(V, E)
    return discriminator(nn.functional.one_hot(seqs, vocab).float()).squeeze(1)


class PretrainedGAN(Recipe):
    """A recipe on a fixed schedule whose autoregressive generator is first trained by maximum
    likelihood (``mle_phases``), against one discriminator: the models, the pretraining optimiser
    and what a checkpoint holds. A subclass sets ``g_opt`` and ``d_opt``, lists its phases and calls
    ``_start_phases``. Its options give ``batch_size``, ``pretrain_lr``, ``grad_clip`` and ``budgets()``."""

    g_opt: torch.optim.Optimizer  # G's adversarial optimiser
    d_opt: torch.optim.Optimizer  # D's optimiser

    @staticmethod
    def build_generator(vocab_size: int, length: int, options) -> AutoregressiveGenerator:
        """The generator this recipe trains, untrained: what a weights-only file is loaded into."""
        return family_generator(vocab_size, length, options)

    def __init__(self, rule: Rule, options, runtime: Runtime):
        super().__init__(rule, options, runtime)
        self._generator, self.discriminator = generator_and_discriminator(rule, options, self.device)
        self.pretrain_opt = ClippedAdam(self.generator.parameters(), options.pretrain_lr, options.grad_clip)

    @property
    def generator(self) -> AutoregressiveGenerator:
        return self._generator

    @property
    def batch_size(self) -> int:
        return self.options.batch_size

    def mle_phases(self) -> list[Phase]:
        """The maximum-likelihood phase, when the options give it a budget."""
        steps = self.options.budgets()["mle"]
        return [FixedMaximumLikelihoodPhase(self.generator, self.pretrain_opt, steps, self.batch_size,
                                            self.runtime)] if steps else []

    def modules(self) -> dict:
        return {"generator": self.generator, "discriminator": self.discriminator,
                "pretrain_opt": self.pretrain_opt, "g_opt": self.g_opt, "d_opt": self.d_opt}


class SampledGAN(PretrainedGAN):
    """The phases and the discriminator step of SeqGAN's schedule; a subclass sets ``g_opt`` and
    ``d_opt``, then calls ``_start_phases``, and says how G steps (``g_step``)."""

    Options = SampledGANOptions
    data_parallel = False  # one process: the discriminator's epochs are not split across ranks

    def build_phases(self) -> list[Phase]:
        budgets = self.options.budgets()
        phases = self.mle_phases()
        if budgets["warmup"]:
            phases.append(WarmupPhase(lambda real: (self.d_step(real), None), budgets["warmup"]))
        if budgets["adversarial"]:
            phases.append(AdversarialPhase(self.adversarial_round, [self.g_opt, self.d_opt],
                                           steps=budgets["adversarial"], cuttable=False))
        return phases

    @abstractmethod
    def g_step(self) -> tuple[dict[str, float], torch.Tensor]:
        """One adversarial step of G: its losses, and the sequences ``(B, L)`` it drew."""

    def after_g_steps(self) -> None:
        """Called once a round's generator steps are done (nothing by default)."""

    @property
    def round_d_epochs(self) -> int:
        """Epochs of each discriminator step in a round (by default as in pretraining: ``d_epochs``)."""
        return self.options.d_epochs

    def adversarial_round(self, real: Real) -> StepResult:
        """``g_steps`` generator steps, then ``d_steps`` discriminator steps: losses, and the
        sequences ``(B, L)`` the last generator step drew."""
        o = self.options
        out, generated = {}, None
        for _ in range(o.g_steps):
            out, generated = self.g_step()
        self.after_g_steps()
        for _ in range(o.d_steps):
            out.update(self.d_step(real, self.round_d_epochs))
        return out, generated

    @torch.no_grad()
    def negatives(self, n: int) -> torch.Tensor:
        """``n`` sequences ``(n, L)`` from G at temperature 1, in evaluation mode."""
        G = self.generator
        was_training = G.training
        G.eval()
        out = torch.cat([G.sample(min(SAMPLE_CHUNK, n - i)) for i in range(0, n, SAMPLE_CHUNK)])
        G.train(was_training)
        return out

    def d_step(self, real: Real, epochs: int | None = None) -> dict[str, float]:
        """One discriminator step: fresh negatives and positives, ``epochs`` (default ``d_epochs``)
        shuffled epochs of 2-way cross-entropy (+ ``l2_reg`` x D's L2 term)."""
        o, D = self.options, self.discriminator
        fake = self.negatives(o.d_sequences)
        seqs = torch.cat([real(o.d_sequences), fake])  # (2n, L)
        labels = torch.cat([torch.ones(o.d_sequences), torch.zeros(o.d_sequences)]).to(seqs.device)  # 1 = real
        D.train()
        total, batches = 0.0, 0
        for _ in range(o.d_epochs if epochs is None else epochs):
            order = torch.randperm(len(seqs), device=seqs.device)
            for idx in order.split(o.batch_size):
                loss = nn.functional.binary_cross_entropy_with_logits(d_logits(D, seqs[idx]), labels[idx])
                if o.l2_reg and hasattr(D, "penalty"):
                    loss = loss + o.l2_reg * D.penalty()
                self.runtime.step(loss, self.d_opt, D)
                total, batches = total + loss.item(), batches + 1
        return {"d": total / batches}

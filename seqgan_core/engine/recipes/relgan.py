"""RelGAN (Nie et al., ICLR 2019) as the paper and its reference code train it: the generator's
Gumbel-softmax relaxations, at an inverse temperature annealed from 1 to ``beta_max``, against a
multi-representation CNN discriminator, with the relativistic standard GAN loss.

Phases, in the trainer's one step counter, as phase objects (each ends at its own budget; plateaus
end none of them, the paper's schedule is fixed):

1. ``mle`` (``FixedMaximumLikelihoodPhase``): maximum likelihood on real sequences, one batch a step,
   ``pretrain_epochs`` epochs of ``epoch_sequences`` sequences (Adam ``pretrain_lr``, gradients
   clipped to norm ``grad_clip``). There is no discriminator pretraining;
2. ``adversarial`` (``AnnealedAdversarialPhase``): ``adversarial_rounds`` steps; round n (0, 1, ...,
   N - 1 of N) runs at inverse temperature ``beta_n`` (``inverse_temperature``; the paper's
   ``exp`` schedule ``beta_n = beta_max ** (n / (N - 1))``: 1 in the first round, ``beta_max`` in
   the last) and is

   a. ``g_steps`` generator steps: G draws B sequences, at every position the token ``y_t =
      argmax(o_t + g_t)`` (``o_t`` its logits, ``g_t`` Gumbel noise; ``y_t`` is the next input) and
      its relaxation ``softmax(beta_n (o_t + g_t))`` ``(B, L, V)``; D scores B real one-hots and the
      relaxations, one logit per sequence and representation ``(B, R)``; loss = RSGAN's
      ``mean log(1 + exp(-(D(fake) - D(real))))``, real and fake paired in batch order
      (Adam ``lr``, clipped to ``grad_clip``);
   b. ``d_steps`` discriminator steps on fresh real sequences and fresh relaxations (no gradient
      to G), loss ``mean log(1 + exp(-(D(real) - D(fake))))`` (Adam ``lr_d``, clipped to ``grad_clip``).

Every count and size defaults to the paper's synthetic-data setting and its reference code's values
(weilinie/RelGAN ``run.py``, ``oracle/experiments/oracle_relgan.py``, ``oracle/oracle_gan/oracle_train.py``,
``models/lstm_vanilla.py``; williamSYSU/TextGAN-PyTorch ``relgan_instructor.py``): the LSTM
generator of embedding 32 and hidden 32 (models/lstm.py; the paper's recurrent baseline, its
relational memory is not built here), the multi-representation CNN discriminator (models/relgan_cnn.py).

Where it differs from the reference: the reference sets the temperature after each step from
``beta_max ** (i / N)`` (its first step at 1, its last at ``beta_max ** ((N - 2) / N)``); here round
n uses ``n / (N - 1)``, so the last round reaches ``beta_max`` as its ``lin`` schedule does. D's
negatives in its own steps are drawn without gradients (the reference builds G's graph and then
ignores it). Every update goes through ``runtime.step``; the clip rides on the optimiser
(``ClippedAdam``). G's Gumbel noise comes from torch's global RNG (the ``noise`` stream).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import nn

from seqgan_core.engine.recipes.base import check_autoregressive_families, family_options
from seqgan_core.engine.recipes.phases import AdversarialPhase, Phase, PhaseState, Real, StepResult
from seqgan_core.engine.recipes.sampled import ClippedAdam, PretrainedGAN
from seqgan_core.errors import SeqganError
from seqgan_core.models.sampling import one_hot
from seqgan_core.options import at_least, in_range
from seqgan_core.rules.rule import Rule
from seqgan_core.runtime.runtime import Runtime

# beta_max, round n of N (N > 1) -> inverse temperature; the reference code's ``get_fixed_temperature``
SCHEDULES = {
    "no": lambda top, n, N: top,  # beta_max from the first round
    "lin": lambda top, n, N: 1 + n / (N - 1) * (top - 1),
    "exp": lambda top, n, N: top ** (n / (N - 1)),  # the paper's
    "log": lambda top, n, N: 1 + (top - 1) / math.log(N) * math.log(n + 1),
    "sigmoid": lambda top, n, N: (top - 1) / (1 + math.exp((N / 2 - n) * 20 / N)) + 1,
    "quad": lambda top, n, N: (top - 1) / (N - 1) ** 2 * n ** 2 + 1,
    "sqrt": lambda top, n, N: (top - 1) / math.sqrt(N - 1) * math.sqrt(n) + 1,
}


def inverse_temperature(beta_max: float, n: int, rounds: int, schedule: str = "exp") -> float:
    """The inverse temperature of adversarial round ``n`` (0-based) of ``rounds``: 1 at the first
    (``no``: ``beta_max``), ``beta_max`` at the last (``sigmoid``: within e^-10 (beta_max - 1) of both)."""
    if rounds <= 1:
        return beta_max if schedule == "no" else 1.0
    return float(SCHEDULES[schedule](beta_max, min(max(n, 0), rounds - 1), rounds))


def rsgan(d_first: torch.Tensor, d_second: torch.Tensor) -> torch.Tensor:
    """The relativistic standard GAN loss of ``first`` over ``second`` (Jolicoeur-Martineau, 2019):
    ``mean softplus(-(d_first - d_second))``, scores paired elementwise (``(B, R)`` each). D minimises
    ``rsgan(real, fake)``, G ``rsgan(fake, real)``."""
    diff = d_first - d_second
    return nn.functional.binary_cross_entropy_with_logits(diff, torch.ones_like(diff))


@dataclass
class RelGANOptions:
    generator: str = "lstm"  # generator family (seqgan_core.plugins.registry.GENERATORS); must be autoregressive
    # that family's own options: RelGAN's LSTM generator for synthetic data (gen_emb_dim 32, hidden_dim 32)
    generator_options: dict = field(default_factory=lambda: {"embed": 32, "hidden": 32})
    discriminator: str = "relgan_cnn"  # discriminator family; its rep_logits (or forward) must take soft one-hots
    discriminator_options: dict = field(default_factory=dict)  # that family's own options (relgan_cnn: the paper's)
    batch_size: int = 64  # sequences per G step, per D step and per MLE batch (paper: 64)
    epoch_sequences: int = 10_000  # real sequences in one maximum-likelihood epoch (reference: num_sentences 10 000)
    pretrain_epochs: int = 150  # maximum-likelihood epochs before anything adversarial (reference: npre_epochs 150)
    pretrain_lr: float = 1e-2  # Adam learning rate of maximum likelihood (reference: gpre_lr 1e-2)
    grad_clip: float = 5.0  # G's and D's gradients are clipped to this global norm (reference: grad_clip 5.0)
    adversarial_rounds: int = 3000  # adversarial rounds N (reference oracle experiments: nadv_steps 3000)
    g_steps: int = 1  # generator steps per round (reference: gsteps 1)
    d_steps: int = 5  # discriminator steps per round (reference: dsteps 5)
    lr: float = 1e-4  # Adam learning rate of G's adversarial steps (paper and reference: gadv_lr 1e-4)
    lr_d: float = 1e-4  # Adam learning rate of D (paper and reference: d_lr 1e-4)
    beta_max: float = 1000.0  # the largest inverse temperature (paper, synthetic data: RelGAN(1000); run.py default)
    schedule: str = "exp"  # how beta rises from 1 to beta_max: exp (the paper's), lin, log, sigmoid, quad, sqrt, no

    def check(self) -> None:
        check_autoregressive_families(self, "relgan")
        at_least(self, 1, "batch_size", "epoch_sequences")
        at_least(self, 0, "pretrain_epochs", "adversarial_rounds", "g_steps", "d_steps")
        if not (self.pretrain_epochs or self.adversarial_rounds):
            raise SeqganError("pretrain_epochs and adversarial_rounds are both 0: nothing to train")
        for name in ("pretrain_lr", "lr", "lr_d"):
            in_range(getattr(self, name), 0, 100, name)
        if not self.grad_clip > 0:
            raise SeqganError(f"grad_clip must be positive, got {self.grad_clip}")
        if not (math.isfinite(self.beta_max) and self.beta_max >= 1):
            raise SeqganError(f"beta_max must be a finite number of at least 1, got {self.beta_max}")
        if self.schedule not in SCHEDULES:
            raise SeqganError(f"schedule must be one of {', '.join(SCHEDULES)}, got {self.schedule!r}")
        self.model_options()  # the model families check their own options

    def model_options(self) -> tuple:
        """The generator's and the discriminator's own options objects."""
        return family_options(self)

    def budgets(self) -> dict[str, int]:
        """Trainer steps of each phase: one batch, one adversarial round."""
        per_epoch = -(-self.epoch_sequences // self.batch_size)  # ceil: a last partial batch is a batch
        return {"mle": self.pretrain_epochs * per_epoch, "adversarial": self.adversarial_rounds}


class AnnealedAdversarialPhase(AdversarialPhase):
    """Adversarial rounds that know their own index (the inverse temperature follows it, and a
    resumed run recomputes it from the phase state) and that no plateau ends or cuts."""

    def step(self, real: Real, step: int, state: PhaseState) -> StepResult:
        return self.train(real, step - 1 - state.started)  # 0 for the phase's first round

    def plateau_counts(self, used: int) -> bool:
        return False


def rep_logits(discriminator: nn.Module, onehots: torch.Tensor) -> torch.Tensor:
    """D's logits ``(B, R)`` of (soft) one-hots ``(B, L, V)``: one per representation where the
    family gives them (``relgan_cnn``), else its one score ``(B, 1)``."""
    if hasattr(discriminator, "rep_logits"):
        return discriminator.rep_logits(onehots)
    return discriminator(onehots)


class RelGAN(PretrainedGAN):
    name = "relgan"
    Options = RelGANOptions
    data_parallel = False  # one process: real and generated sequences are paired within one batch

    def __init__(self, rule: Rule, options: RelGANOptions, runtime: Runtime):
        super().__init__(rule, options, runtime)
        self.g_opt = ClippedAdam(self.generator.parameters(), options.lr, options.grad_clip)  # its own moments
        self.d_opt = ClippedAdam(self.discriminator.parameters(), options.lr_d, options.grad_clip)
        self.vocab_size = len(rule.vocabulary)
        self._start_phases()

    # -- phases

    def build_phases(self) -> list[Phase]:
        phases = self.mle_phases()
        rounds = self.options.budgets()["adversarial"]
        if rounds:
            phases.append(AnnealedAdversarialPhase(self.adversarial_round, [self.g_opt, self.d_opt],
                                                   steps=rounds, cuttable=False))
        return phases

    def beta(self, n: int) -> float:
        """The inverse temperature of adversarial round ``n`` (0-based)."""
        o = self.options
        return inverse_temperature(o.beta_max, n, o.adversarial_rounds, o.schedule)

    # -- steps

    def real_onehots(self, real: Real) -> torch.Tensor:
        """A batch of real sequences as one-hots ``(B, L, V)``."""
        return one_hot(real(self.batch_size), self.vocab_size)

    def g_step(self, real: Real, beta: float) -> tuple[dict[str, float], torch.Tensor]:
        """One generator step; returns its loss and the tokens ``(B, L)`` G drew."""
        G, D = self.generator, self.discriminator
        D.train().requires_grad_(False)  # D's weights take no gradient here (its own step clears them anyway)
        try:
            fake, drawn = G.relaxed(self.batch_size, beta)  # (B, L, V), (B, L)
            loss = rsgan(rep_logits(D, fake), rep_logits(D, self.real_onehots(real)))
            self.runtime.step(loss, self.g_opt, G)
        finally:
            D.requires_grad_(True)
        return {"g": loss.item()}, drawn

    def d_step(self, real: Real, beta: float) -> dict[str, float]:
        """One discriminator step on fresh real sequences and fresh relaxations."""
        G, D = self.generator, self.discriminator
        with torch.no_grad():
            fake, _ = G.relaxed(self.batch_size, beta)  # (B, L, V)
        D.train()
        loss = rsgan(rep_logits(D, self.real_onehots(real)), rep_logits(D, fake))
        self.runtime.step(loss, self.d_opt, D)
        return {"d": loss.item()}

    def adversarial_round(self, real: Real, n: int) -> StepResult:
        o, beta = self.options, self.beta(n)
        out: dict[str, float] = {"beta": beta}
        generated = None
        for _ in range(o.g_steps):
            losses, generated = self.g_step(real, beta)
            out.update(losses)
        for _ in range(o.d_steps):
            out.update(self.d_step(real, beta))
        return out, generated

"""A GAN over whole sequences: batches, straight-through Gumbel outputs, optional EMA.

Phases, in one step counter (so checkpoints and resume see one loop):

1. ``mle`` (autoregressive generators, ``pretrain_steps > 0``): maximum likelihood on real
   sequences, learning rates decaying exponentially to ``pretrain_decay`` of their start over
   ``pretrain_steps``; the trainer ends the phase earlier when its checks stop improving — after
   ``plateau_cut`` < 1 has multiplied its rates once at the first such plateau (the same in the
   adversarial phase);
2. ``warmup``: ``d_warmup`` steps in which only D trains, so G meets a discriminator that
   already knows something;
3. ``adversarial``. For a batch of B sequences:
   a. G generates B straight-through one-hot sequences ``(B, L, V)`` (one forward, reused below);
   b. D is updated on B real one-hot sequences against the detached fakes;
   c. G is updated through the updated D, gradients flowing through the discrete choices, plus
      ``mle_weight`` x its negative log-likelihood of a real batch;
   d. the moving average of G (if ``ema > 0``) follows G; it is what is checked and saved.

``adversarial=False`` stops after the ``mle`` phase: maximum likelihood alone, the baseline every
GAN claim has to beat.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from seqgan_core.engine import losses
from seqgan_core.engine.optim import Adam
from seqgan_core.engine.recipes.base import Recipe, family_generator, family_options, generator_and_discriminator
from seqgan_core.engine.recipes.phases import AdversarialPhase, MaximumLikelihoodPhase, Phase, StepResult, WarmupPhase
from seqgan_core.errors import SeqganError
from seqgan_core.models.base import AutoregressiveGenerator, Generator
from seqgan_core.models.sampling import one_hot
from seqgan_core.options import at_least, in_range
from seqgan_core.plugins.registry import DISCRIMINATORS, GENERATORS
from seqgan_core.rules.rule import Rule
from seqgan_core.runtime.runtime import Runtime


@dataclass
class SequenceOptions:
    generator: str = "mlp"  # generator family (seqgan_core.plugins.registry.GENERATORS)
    generator_options: dict = field(default_factory=dict)  # that family's own options (its Options)
    discriminator: str = "mlp"  # discriminator family (seqgan_core.plugins.registry.DISCRIMINATORS)
    discriminator_options: dict = field(default_factory=dict)  # that family's own options
    loss: str = "hinge"  # adversarial loss: bce | nonsaturating | hinge | wgan-gp
    lr: float = 1e-4  # Adam learning rate of G in the adversarial phase
    lr_d: float | None = None  # Adam learning rate of D; None = lr
    betas: tuple[float, float] = (0.5, 0.999)  # Adam betas of G
    betas_d: tuple[float, float] | None = None  # Adam betas of D; None = betas
    batch_size: int = 64  # sequences per step
    max_batch_tokens: int | None = None  # fewer sequences per step where batch_size x length would pass this
    max_batch_logits: int | None = None  # ... where batch_size x length x vocabulary would (never below 64)
    tau: float = 1.0  # Gumbel-softmax temperature of the straight-through samples
    ema: float = 0.0  # decay of G's moving average (what is checked and saved); 0 = off
    pretrain_steps: int = 0  # most maximum-likelihood steps before the adversarial phase (autoregressive G)
    pretrain_lr: float = 5e-3  # Adam learning rate of the maximum-likelihood phase
    pretrain_head_lr: float | None = None  # ... of the generator's output layer; None = pretrain_lr
    pretrain_decay: float = 0.1  # maximum-likelihood learning rates decay to this fraction over pretrain_steps
    pretrain_betas: tuple[float, float] = (0.9, 0.999)  # Adam betas of the maximum-likelihood phase
    d_warmup: int = 0  # discriminator-only steps between the two phases
    mle_weight: float = 0.0  # weight of a maximum-likelihood term in G's adversarial loss
    adversarial: bool = True  # False: maximum likelihood only (no discriminator phase)
    plateau_cut: float = 1.0  # at a phase's first plateau its learning rates are multiplied by this and it goes on; 1 = off

    def check(self) -> None:
        GENERATORS.lookup(self.generator)  # one line naming the available families otherwise
        DISCRIMINATORS.lookup(self.discriminator)
        if self.loss not in losses.LOSSES:
            raise SeqganError(f"unknown loss {self.loss!r}; use one of {', '.join(losses.LOSSES)}")
        at_least(self, 1, "batch_size")
        at_least(self, 0, "pretrain_steps", "d_warmup")
        for name in ("max_batch_tokens", "max_batch_logits"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise SeqganError(f"{name} must be at least 1, got {getattr(self, name)}")
        for name in ("lr", "lr_d", "pretrain_lr", "pretrain_head_lr"):
            if getattr(self, name) is not None:
                in_range(getattr(self, name), 0, 100, "--lr" if name == "lr" else name)
        in_range(self.ema, 0, 1, "ema", low_open=False)
        if self.ema == 1:
            raise SeqganError("ema must be below 1")
        if not self.tau > 0:
            raise SeqganError(f"tau must be positive, got {self.tau}")
        if self.mle_weight < 0:
            raise SeqganError(f"mle_weight must be >= 0, got {self.mle_weight}")
        in_range(self.pretrain_decay, 0, 1, "pretrain_decay")
        in_range(self.plateau_cut, 0, 1, "plateau_cut")
        for name in ("betas", "betas_d", "pretrain_betas"):
            betas = getattr(self, name)
            if betas is not None and not (len(betas) == 2 and all(0 <= b < 1 for b in betas)):
                raise SeqganError(f"{name} must be two numbers in [0, 1), got {betas}")
        if self.pretrain_steps and not issubclass(GENERATORS[self.generator], AutoregressiveGenerator):
            raise SeqganError(
                f"--pretrain-steps needs an autoregressive generator; the {self.generator!r} generator is not one "
                "(use --preset autoregressive)"
            )
        if not self.adversarial and not self.pretrain_steps:
            raise SeqganError("adversarial=false leaves nothing to train: give --pretrain-steps too")
        self.model_options()  # the model families check their own options
        pack = self.pack()
        if self.batch_size % pack:
            raise SeqganError(
                f"--batch-size {self.batch_size} must be a multiple of {pack} "
                f"(the discriminator sees {pack} sequences at a time)"
            )

    def pack(self) -> int:
        """Sequences the discriminator scores together (PacGAN); a batch is a whole number of them."""
        return DISCRIMINATORS[self.discriminator].packs(self.model_options()[1])

    def model_options(self) -> tuple:
        """The generator's and the discriminator's own options objects."""
        return family_options(self)


class SequenceGAN(Recipe):
    name = "sequence"
    Options = SequenceOptions
    data_parallel = True  # trains under torchrun: every update goes through runtime.step
    # What a run on finite data with an autoregressive generator changes, unless given (api._for_data):
    # maximum likelihood alone. On COCO, the oracle, a word list and a CSV file the adversarial
    # phase's generator was never the one kept; on the 10 000-line file it was (2.919 -> 2.887
    # nats/token, 18 min in all), but a faster learning-rate decay alone did better (2.827, 474 s).
    # That decay (pretrain_steps=1000) is not the default: on COCO it overshot real captions' BLEU
    # and Self-BLEU and took 1 344 s (README, "Maximum likelihood alone on finite data").
    # The plateau cut and the caps per step (tokens, logits) were measured on rules only (presets.py): a data
    # run still ends at its first held-out plateau, with 256 sequences a step, as every data figure
    # in the README was measured.
    finite_data = {"adversarial": False, "plateau_cut": 1.0, "max_batch_tokens": None, "max_batch_logits": None}

    @staticmethod
    def build_generator(vocab_size: int, length: int, options: SequenceOptions) -> Generator:
        """The generator this recipe trains, untrained: what a weights-only file is loaded into."""
        return family_generator(vocab_size, length, options)

    def __init__(self, rule: Rule, options: SequenceOptions, runtime: Runtime):
        super().__init__(rule, options, runtime)
        self._generator, self.discriminator = generator_and_discriminator(rule, options, self.device)
        self._batch_size = self.sequences_per_step(options, rule.length, len(rule.vocabulary))
        self.g_opt = Adam(self.generator.parameters(), options.lr, options.betas)
        self.d_opt = Adam(self.discriminator.parameters(), options.lr_d or options.lr, options.betas_d or options.betas)
        self.pretrain_opt = None
        if options.pretrain_steps:
            head = self.generator.head_parameters()
            head_ids = {id(p) for p in head}
            body = [p for p in self.generator.parameters() if id(p) not in head_ids]
            head_lr = options.pretrain_head_lr or options.pretrain_lr
            groups = [{"params": body, "lr": options.pretrain_lr}]
            if head:
                groups.append({"params": head, "lr": head_lr})
            self.pretrain_opt = Adam(groups, lr=options.pretrain_lr, betas=options.pretrain_betas)
        # G's moving average, from the first adversarial step on
        self.ema = copy.deepcopy(self.generator).requires_grad_(False) if options.ema else None
        self._start_phases()

    @property
    def generator(self) -> Generator:
        return self._generator

    @property
    def batch_size(self) -> int:
        return self._batch_size

    @property
    def plateau_cut(self) -> float:
        return self.options.plateau_cut

    MIN_LOGIT_CAPPED = 64  # the fewest sequences a step keeps under max_batch_logits (walk64 learned at 64)

    @staticmethod
    def sequences_per_step(options: SequenceOptions, length: int, vocab_size: int) -> int:
        """``batch_size``, or fewer sequences where ``max_batch_tokens`` caps the tokens of a step or
        ``max_batch_logits`` its output layer's logits (not below ``MIN_LOGIT_CAPPED`` sequences);
        rounded down to a multiple of the discriminator's pack, at least one pack."""
        fits = options.batch_size
        if options.max_batch_tokens is not None:
            fits = min(fits, options.max_batch_tokens // length)
        if options.max_batch_logits is not None:
            fits = min(fits, max(SequenceGAN.MIN_LOGIT_CAPPED, options.max_batch_logits // (length * vocab_size)))
        if fits == options.batch_size:
            return fits
        pack = options.pack()
        return max(pack, fits // pack * pack)

    @property
    def eval_generator(self) -> Generator:
        """What is checked and saved: G's moving average once maximum likelihood is over, else G."""
        if self.ema is not None and not isinstance(self.current, MaximumLikelihoodPhase):
            return self.ema
        return self.generator

    # -- phases

    def build_phases(self) -> list[Phase]:
        o = self.options
        phases: list[Phase] = []
        if o.pretrain_steps:
            phases.append(MaximumLikelihoodPhase(self.generator, self.pretrain_opt, o.pretrain_steps, self.batch_size,
                                                 self.runtime, decay=o.pretrain_decay))
        if o.adversarial:
            if o.d_warmup:
                phases.append(WarmupPhase(lambda real: self._adversarial_step(real, train_generator=False), o.d_warmup))
            phases.append(AdversarialPhase(lambda real: self._adversarial_step(real, train_generator=True),
                                           [self.g_opt, self.d_opt]))
        return phases

    def phase_changed(self, old: Phase, new: Phase) -> None:
        if self.ema is not None and isinstance(old, MaximumLikelihoodPhase):
            self.ema.load_state_dict(self.generator.state_dict())  # the average starts from the MLE model

    def modules(self) -> dict:
        parts = {"generator": self.generator, "discriminator": self.discriminator,
                 "g_opt": self.g_opt, "d_opt": self.d_opt}
        if self.pretrain_opt is not None:
            parts["pretrain_opt"] = self.pretrain_opt
        if self.ema is not None:
            parts["ema"] = self.ema
        return parts

    # -- steps

    def _adversarial_step(self, real, train_generator: bool) -> StepResult:
        o, D, G = self.options, self.discriminator, self.generator
        fake, generated = G.generate(self.batch_size, o.tau)  # (B, L, V), (B, L)
        # real() is range-checked already (Rule.sample_checked): no second check on the hot path
        real_onehot = one_hot(real(self.batch_size), G.vocab_size)  # (B, L, V)

        d_loss = losses.d_loss(o.loss, D, real_onehot, fake.detach())
        self.runtime.step(d_loss, self.d_opt, D)  # D's gradients travel here only, never during G's step
        out = {"d": d_loss.item()}
        if not train_generator:
            return out, generated

        d_params = list(D.parameters())
        for p in d_params:  # G's step needs no gradient for D's weights
            p.requires_grad_(False)
        g_loss = losses.g_loss(o.loss, D, fake)
        for p in d_params:
            p.requires_grad_(True)
        out["g"] = g_loss.item()
        if o.mle_weight:
            mle = G.nll(real(self.batch_size))
            out["mle"] = mle.item()
            g_loss = g_loss + o.mle_weight * mle
        self.runtime.step(g_loss, self.g_opt, G)
        self._follow_ema()
        return out, generated

    def _follow_ema(self) -> None:
        if self.ema is not None:
            with torch.no_grad():  # one foreach call: the same lerp per tensor, without a Python loop
                torch._foreach_lerp_(list(self.ema.parameters()), list(self.generator.parameters()),
                                     1 - self.options.ema)

"""MaliGAN (Che et al., "Maximum-Likelihood Augmented Discrete Generative Adversarial Networks",
2017) as its reference code trains it (williamSYSU/TextGAN-PyTorch ``maligan_instructor.py``,
``MaliGAN_G.py``, ``MaliGAN_D.py``, ``run/run_maligan.py``): G learns from its own samples, each
weighted by D's estimate of how much likelier it is under the data than under G.

If D is optimal, ``D(x) / (1 - D(x)) = p_data(x) / p_G(x)``, so ``r(x) = D / (1 - D)`` is an
importance weight that turns G's own samples into a maximum-likelihood target. Phases, in the
trainer's one step counter (the schedule and D step of ``sampled.py``):

1. ``mle``: maximum likelihood on real sequences, ``pretrain_epochs`` epochs of ``epoch_sequences``
   sequences, one batch of ``batch_size`` a step (Adam ``pretrain_lr``, clipped to ``grad_clip``);
2. ``warmup``: ``d_pretrain`` discriminator steps; each draws ``d_sequences`` negatives from G and
   as many real positives and trains D ``d_epochs`` epochs on them in shuffled batches of
   ``batch_size`` (2-way cross-entropy, no L2 term; Adam ``lr_d``, clipped to ``grad_clip``);
3. ``adversarial``: ``adversarial_rounds`` rounds, each

   a. ``g_steps`` MaliGAN steps of G: B = ``batch_size`` sequences ``x_i`` drawn from G; D scores
      each ``d_passes`` times with its dropout on and ``D_i`` is the mean probability "real";
      ``r_i = D_i / (1 - D_i)``, the normalised weight ``w_i = r_i / sum_j r_j`` (sums to 1),
      the baseline ``b = mean_i w_i = 1 / B``; loss = ``-sum_i (w_i - b) sum_t log G(x_i,t | x_i,<t)``
      (Adam ``lr``, not clipped: the reference's ``optimize`` is given no model there);
   b. ``d_steps`` discriminator steps as in ``warmup``, ``adv_d_epochs`` epochs each.

Every count defaults to the reference's oracle experiment; the models are SeqGAN's (an LSTM of
embedding 32 and hidden 32, the CNN + highway discriminator with MaliGAN_D's filters, embedding 64
and dropout 0.25). The paper's variance reductions for long sequences (mixed MLE training of the
first tokens with MaliGAN on the last K, several completions per real prefix) are not in the
reference code and not here. Every update goes through ``runtime.step``; D's dropout and G's
samples draw from torch's global RNG (the ``noise`` stream).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from seqgan_core.engine.optim import Adam
from seqgan_core.engine.recipes.sampled import SCORE_CHUNK, ClippedAdam, SampledGAN, SampledGANOptions, d_logits
from seqgan_core.options import at_least
from seqgan_core.rules.rule import Rule
from seqgan_core.runtime.runtime import Runtime


@dataclass
class MaliGANOptions(SampledGANOptions):
    """The reference's oracle run (``run/run_maligan.py``, job 0, and ``config.py``); the options not
    redeclared here have the same value there as SeqGAN's (batch 64, 10 000 sequences, learning
    rates 0.01 and 1e-4 for D, 200 rounds, clip 5.0, embedding and hidden 32)."""

    recipe: ClassVar[str] = "maligan"
    pretrain_epochs: int = 80  # maximum-likelihood epochs of G before the rest (reference: MLE_train_epoch 80)
    # maximum likelihood's and D's gradients are clipped to this norm, G's MaliGAN steps are not
    # (reference: clip_norm 5.0; adv_train_generator calls optimize without the model)
    grad_clip: float = 5.0
    d_pretrain: int = 4  # discriminator pretraining steps, each on fresh negatives (reference: d_step 4)
    d_epochs: int = 2  # epochs over them per pretraining step (reference: d_epoch 2)
    l2_reg: float = 0.0  # weight of D's L2 term (reference: plain cross-entropy, none)
    g_steps: int = 50  # MaliGAN steps of G per round (reference: ADV_g_step 50 on the oracle, 1 on real data)
    d_steps: int = 1  # discriminator steps per round, each on fresh negatives (reference: ADV_d_step 1)
    adv_d_epochs: int = 3  # epochs per discriminator step of a round (reference: ADV_d_epoch 3)
    d_passes: int = 16  # D's scores of a sample averaged, its dropout on (reference: rollout_num 16 passes)

    def check(self) -> None:
        super().check()
        at_least(self, 1, "adv_d_epochs", "d_passes")


def importance_weights(logits: torch.Tensor) -> torch.Tensor:
    """MaliGAN's normalised weights ``(B,)`` from D's log-odds of "real" ``(K, B)`` (K passes over B
    sequences; ``(B,)`` is one pass): ``D_i = mean_k sigmoid(logits[k, i])``, ``r_i = D_i / (1 - D_i)``,
    ``w_i = r_i / sum_j r_j``. Computed in log space, so a confident D (``D_i`` of 1.0 in float)
    gives finite weights."""
    logits = logits.reshape(-1, logits.shape[-1]).float()  # (K, B)
    log_k = math.log(logits.shape[0])
    log_d = torch.logsumexp(nn.functional.logsigmoid(logits), dim=0) - log_k  # log D_i
    log_not_d = torch.logsumexp(nn.functional.logsigmoid(-logits), dim=0) - log_k  # log (1 - D_i)
    return torch.softmax(log_d - log_not_d, dim=0)  # r_i / sum_j r_j


def maligan_loss(token_log_probs: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """``-sum_i (w_i - b) log G(x_i)`` with the baseline ``b = mean_i w_i`` (the reference's
    ``rewards -= mean(rewards)``), summed over the batch and the tokens as the reference sums it;
    ``token_log_probs`` ``(B, L)``, ``weights`` ``(B,)``."""
    advantage = (weights - weights.mean()).detach()  # (B,): a constant of G's gradient
    return -(token_log_probs.sum(dim=1) * advantage).sum()


class MaliGAN(SampledGAN):
    name = "maligan"
    Options = MaliGANOptions

    def __init__(self, rule: Rule, options: MaliGANOptions, runtime: Runtime):
        super().__init__(rule, options, runtime)
        self.g_opt = Adam(self.generator.parameters(), options.lr)  # its own moments, as the reference's gen_adv_opt
        self.d_opt = ClippedAdam(self.discriminator.parameters(), options.lr_d, options.grad_clip)
        self._start_phases()

    @torch.no_grad()
    def weights(self, seqs: torch.Tensor) -> torch.Tensor:
        """The normalised weights ``(B,)`` of G's samples ``seqs`` ``(B, L)``: D in training mode,
        ``d_passes`` passes, as the reference scores them (it never switches D to evaluation)."""
        D, passes = self.discriminator, self.options.d_passes
        was_training = D.training
        D.train()
        repeated = seqs.repeat(passes, 1)  # (passes * B, L): one dropout mask per row is one pass
        logits = torch.cat([d_logits(D, part) for part in repeated.split(SCORE_CHUNK)])
        D.train(was_training)
        return importance_weights(logits.view(passes, len(seqs)))

    def g_step(self) -> tuple[dict[str, float], torch.Tensor]:
        """One MaliGAN step of G; returns its losses and the sequences ``(B, L)`` it drew."""
        G = self.generator
        seqs = self.negatives(self.batch_size)  # (B, L)
        w = self.weights(seqs)  # (B,)
        loss = maligan_loss(G.token_log_probs(seqs), w)
        self.runtime.step(loss, self.g_opt, G)
        # the weights' effective sample size, 1 / sum w^2: B when D cannot tell G's samples apart, 1 when one takes all
        return {"g": loss.item(), "ess": (1.0 / w.square().sum()).item()}, seqs

    @property
    def round_d_epochs(self) -> int:
        return self.options.adv_d_epochs

"""SeqGAN (Yu et al., AAAI 2017) as the paper and its reference code train it: REINFORCE with
Monte Carlo rollouts against a CNN + highway discriminator.

Phases, in the trainer's one step counter, as phase objects (each ends at its own budget; plateaus
end none of them, the paper's schedule is fixed); the schedule, the options every such recipe has
and the discriminator step are ``sampled.py``'s, shared with ``maligan``:

1. ``mle`` (``FixedMaximumLikelihoodPhase``): maximum likelihood on real sequences, one batch a step, ``pretrain_epochs`` epochs of
   ``epoch_sequences`` sequences (Adam ``pretrain_lr``, gradients clipped to norm ``grad_clip``);
2. ``warmup`` (``WarmupPhase``): discriminator pretraining, ``d_pretrain`` steps; each draws ``d_sequences`` fresh
   negatives from G and as many real positives and trains D ``d_epochs`` epochs on them, shuffled
   together in batches of ``batch_size`` (2-way cross-entropy + ``l2_reg`` x D's L2 term, Adam ``lr_d``);
3. ``adversarial`` (``AdversarialPhase``, not cut at plateaus): ``adversarial_rounds`` steps, each a round of

   a. ``g_steps`` policy-gradient steps of G: B sequences ``y`` drawn from G; for every prefix
      length t < L the reward is the mean over ``rollouts`` completions of ``y_<=t`` by the
      rollout policy of D's probability "real", at t = L D's probability of ``y`` itself
      (``rewards``, ``(B, L)`` in [0, 1]); loss = -mean_{b,t} log G(y_t | y_<t) x reward_t
      (Adam ``lr``, clipped to ``grad_clip``);
   b. the rollout policy, a delayed copy of G, follows it: ``p_roll = rollout_update x p_roll +
      (1 - rollout_update) x p_G`` (its token embeddings are copied, as in the reference code);
   c. ``d_steps`` discriminator steps as in ``warmup``.

Every count and size defaults to the paper's and reference code's value (LantaoYu/SeqGAN
``sequence_gan.py``, ``discriminator.py``, ``rollout.py``; TextGAN-PyTorch ``seqgan_instructor.py``):
an LSTM generator of embedding 32 and hidden 32 (models/lstm.py), the CNN + highway discriminator
(models/highway_cnn.py). Where the paper's counts do not fit a machine, they are options.

Every update goes through ``runtime.step``; the gradient-norm clip rides on the optimiser
(``ClippedAdam``). Rollouts draw from the runtime's ``rollout`` stream, G's negatives from torch's
global RNG (the ``noise`` stream), as every recipe's generator does.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from torch import nn

from seqgan_core.engine.optim import Adam
from seqgan_core.engine.recipes.phases import MaximumLikelihoodPhase, Phase
from seqgan_core.engine.recipes.sampled import (SCORE_CHUNK, ClippedAdam, FixedMaximumLikelihoodPhase, SampledGAN,
                                                SampledGANOptions, d_logits)
from seqgan_core.models.base import AutoregressiveGenerator
from seqgan_core.models.rollout import rollouts
from seqgan_core.options import at_least, in_range
from seqgan_core.rules.rule import Rule
from seqgan_core.runtime.runtime import Runtime

EMBEDDING_PARAMETERS = ("embed", "start")  # generator parameters the rollout policy copies instead of averaging
__all__ = ["ClippedAdam", "FixedMaximumLikelihoodPhase", "SeqGAN", "SeqGANOptions", "d_logits", "rewards"]


@dataclass
class SeqGANOptions(SampledGANOptions):
    """Every default is the paper's (``SampledGANOptions``), and the rollouts'."""

    rollouts: int = 16  # Monte Carlo completions per prefix for the rewards (paper: 16)
    rollout_update: float = 0.8  # rollout policy <- this x itself + (1 - this) x G, after each round (paper: 0.8)

    def check(self) -> None:
        super().check()
        at_least(self, 1, "rollouts")
        in_range(self.rollout_update, 0, 1, "rollout_update", low_open=False)


@torch.no_grad()
def rewards(policy: AutoregressiveGenerator, discriminator: nn.Module, seqs: torch.Tensor, count: int,
            generator: torch.Generator | None = None) -> torch.Tensor:
    """SeqGAN's rewards ``(B, L)`` in [0, 1] for ``seqs`` ``(B, L)``: column t - 1 is the mean over
    ``count`` completions of ``seqs[:, :t]`` by ``policy`` of D's probability "real" (t < L), the
    last column D's probability of ``seqs`` itself. D scores in evaluation mode (no dropout);
    ``generator`` (a seeded ``torch.Generator``) draws the completions."""
    was_training = discriminator.training
    discriminator.eval()
    B, length = seqs.shape
    out = torch.empty(B, length, device=seqs.device)

    def p_real(x: torch.Tensor) -> torch.Tensor:
        return torch.cat([torch.sigmoid(d_logits(discriminator, part)) for part in x.split(SCORE_CHUNK)])

    for t, completed in rollouts(policy, seqs, count, generator):  # completed: (count * B, L)
        out[:, t - 1] = p_real(completed).view(count, B).mean(dim=0)
    out[:, length - 1] = p_real(seqs)
    discriminator.train(was_training)
    return out


class SeqGAN(SampledGAN):
    name = "seqgan"
    Options = SeqGANOptions
    data_parallel = False  # one process: the rollouts and the discriminator's epochs are not split across ranks

    def __init__(self, rule: Rule, options: SeqGANOptions, runtime: Runtime):
        super().__init__(rule, options, runtime)
        # the rollout policy: a delayed copy of G (LantaoYu/SeqGAN rollout.py, update_rate 0.8)
        self.policy = copy.deepcopy(self.generator).requires_grad_(False).eval()
        # its own moments, as in the reference code
        self.g_opt = ClippedAdam(self.generator.parameters(), options.lr, options.grad_clip)
        self.d_opt = Adam(self.discriminator.parameters(), options.lr_d)
        self.rollout_rng = runtime.generator("rollout", self.device)  # the completions' own stream
        self._start_phases()

    def phase_changed(self, old: Phase, new: Phase) -> None:
        if isinstance(old, MaximumLikelihoodPhase):
            self.policy.load_state_dict(self.generator.state_dict())  # the rollout policy starts from pretrained G

    def modules(self) -> dict:
        return {**super().modules(), "policy": self.policy}

    def g_step(self) -> tuple[dict[str, float], torch.Tensor]:
        """One policy-gradient step of G; returns its losses and the sequences ``(B, L)`` it drew."""
        o, G = self.options, self.generator
        seqs = self.negatives(self.batch_size)  # (B, L)
        reward = rewards(self.policy, self.discriminator, seqs, o.rollouts, self.rollout_rng)  # (B, L)
        loss = -(G.token_log_probs(seqs) * reward).mean()
        self.runtime.step(loss, self.g_opt, G)
        return {"g": loss.item(), "reward": reward.mean().item()}, seqs

    def after_g_steps(self) -> None:
        self.update_policy()

    @torch.no_grad()
    def update_policy(self) -> None:
        """The rollout policy follows G: ``p <- rollout_update x p + (1 - rollout_update) x p_G`` for
        the recurrent and output weights; the token embeddings (and the start input, the start
        token's embedding there) are copied, as the reference code's ``update_params`` does."""
        rate = 1 - self.options.rollout_update
        for (name, p), g in zip(self.policy.named_parameters(), self.generator.parameters()):
            if any(part in EMBEDDING_PARAMETERS for part in name.split(".")[-2:]):  # embed.weight, start
                p.copy_(g)
            else:
                p.lerp_(g, rate)

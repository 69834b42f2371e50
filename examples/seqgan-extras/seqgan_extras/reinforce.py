"""The ``reinforce`` recipe: maximum likelihood, then REINFORCE with Monte Carlo rollouts.

SeqGAN's policy gradient with the rule itself as the critic: after the core's
``MaximumLikelihoodPhase``, each step samples B sequences, scores every prefix by the share of its
rollouts (``AutoregressiveGenerator.rollout``) that the rule accepts, and moves the generator
along ``(reward - batch mean) x log p(token | prefix)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from seqgan_core.engine.optim import Adam
from seqgan_core.engine.recipes import MaximumLikelihoodPhase, Phase, PhaseState, Recipe
from seqgan_core.errors import SeqganError
from seqgan_core.models import AutoregressiveGenerator
from seqgan_core.options import at_least, build, in_range
from seqgan_core.plugins.registry import GENERATORS


@dataclass
class ReinforceOptions:
    generator: str = "extras-lstm"  # an autoregressive generator family (seqgan plugins lists them)
    generator_options: dict = field(default_factory=dict)  # that family's own options
    batch_size: int = 64  # sequences per step
    pretrain_steps: int = 100  # maximum-likelihood steps before the policy gradient; 0 = none
    pretrain_lr: float = 5e-3  # Adam learning rate of maximum likelihood
    lr: float = 1e-3  # Adam learning rate of the policy gradient
    rollouts: int = 1  # Monte Carlo completions per prefix

    def check(self) -> None:
        family = GENERATORS.lookup(self.generator)
        if not issubclass(family, AutoregressiveGenerator):
            raise SeqganError(f"the reinforce recipe needs an autoregressive generator; {self.generator!r} is not one")
        at_least(self, 1, "batch_size", "rollouts")
        at_least(self, 0, "pretrain_steps")
        in_range(self.lr, 0, 100, "--lr")
        in_range(self.pretrain_lr, 0, 100, "pretrain_lr")
        self.generator_family_options()

    def generator_family_options(self):
        family = GENERATORS[self.generator]
        return build(family.Options, self.generator_options, f"the {self.generator} generator")


class PolicyGradientPhase(Phase):
    """REINFORCE on the rule's verdict, one reward per token from rollouts of its prefix."""

    name = "policy_gradient"

    def __init__(self, recipe: ReinforceRecipe):
        super().__init__()
        self.recipe = recipe

    def step(self, real, step: int, state: PhaseState):
        r = self.recipe
        G, B, L = r.generator, r.batch_size, r.generator.length
        with torch.no_grad():
            seqs = G.sample(B)  # (B, L)
        rewards = torch.empty(B, L)
        for t in range(1, L + 1):  # the reward of token t - 1: how often its prefix ends valid
            if t == L:
                rewards[:, t - 1] = r.rule.valid(seqs.cpu()).float()
                continue
            done = [r.rule.valid(G.rollout(seqs[:, :t], generator=r.rollout_rng).cpu()).float()
                    for _ in range(r.options.rollouts)]
            rewards[:, t - 1] = torch.stack(done).mean(0)
        advantage = (rewards - rewards.mean(0, keepdim=True)).to(seqs.device)  # (B, L): a baseline per position
        loss = -(advantage * G.token_log_probs(seqs)).mean()
        r.runtime.step(loss, r.pg_opt, G)
        return {"pg": loss.item(), "reward": rewards[:, -1].mean().item()}, seqs


class ReinforceRecipe(Recipe):
    name = "reinforce"
    Options = ReinforceOptions
    data_parallel = True  # every update goes through runtime.step

    @staticmethod
    def build_generator(vocab_size: int, length: int, options: ReinforceOptions) -> AutoregressiveGenerator:
        return GENERATORS[options.generator](vocab_size, length, options.generator_family_options())

    def __init__(self, rule, options: ReinforceOptions, runtime):
        super().__init__(rule, options, runtime)
        self._generator = self.build_generator(len(rule.vocabulary), rule.length, options).to(self.device)
        self.mle_opt = Adam(self._generator.parameters(), options.pretrain_lr, (0.9, 0.999))
        self.pg_opt = Adam(self._generator.parameters(), options.lr, (0.9, 0.999))
        self.rollout_rng = runtime.generator("rollout", self.device)  # rollouts never shift G's noise
        self._start_phases()

    @property
    def generator(self) -> AutoregressiveGenerator:
        return self._generator

    @property
    def batch_size(self) -> int:
        return self.options.batch_size

    def build_phases(self) -> list[Phase]:
        o = self.options
        phases: list[Phase] = []
        if o.pretrain_steps:
            phases.append(MaximumLikelihoodPhase(self.generator, self.mle_opt, o.pretrain_steps, o.batch_size,
                                                 self.runtime))
        return phases + [PolicyGradientPhase(self)]

    def modules(self) -> dict:
        return {"generator": self.generator, "mle_opt": self.mle_opt, "pg_opt": self.pg_opt}


def register_recipes(register):
    register(ReinforceRecipe)

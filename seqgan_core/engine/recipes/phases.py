"""Phases of a recipe as objects: each says how one step trains, how long it may run, what a
plateau of it is judged on, and whether a plateau may first cut its learning rates.

A recipe lists its phases (``Recipe.build_phases``); they run in that order in one step counter.
Their ``name`` is what records and checkpoints carry (``"mle"``, ``"warmup"``, ``"adversarial"``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable

import torch

from seqgan_core.models.base import AutoregressiveGenerator
from seqgan_core.runtime.runtime import Runtime

Real = Callable[[int], torch.Tensor]  # n -> real index sequences (n, L)
StepResult = tuple[dict[str, float], "torch.Tensor | None"]  # losses, and what the step generated (n, L) or None


class PhaseState:
    """Which phase the recipe is in, where it began and the factor a plateau cut its learning rates
    by (1.0: not cut); checkpointed with the models."""

    def __init__(self, phase: str):
        self.phase, self.started, self.cut = phase, 0, 1.0

    def state_dict(self) -> dict:
        return {"phase": self.phase, "started": self.started, "cut": self.cut}

    def load_state_dict(self, state: dict) -> None:
        self.phase, self.started = str(state["phase"]), int(state["started"])
        self.cut = float(state.get("cut", 1.0))  # checkpoints from before plateau cuts had none


class Phase(ABC):
    """One phase of training."""

    name = ""  # what records, checks and checkpoints call it
    signal = "distance"  # what a plateau of it is judged on: distance | heldout_nll

    def __init__(self, steps: int | None = None):
        self.steps = steps  # its own step budget; None = until a plateau (or max_steps)

    @abstractmethod
    def step(self, real: Real, step: int, state: PhaseState) -> StepResult:
        """One training step of this phase (``step`` counts from 1 over the whole run)."""

    def done(self, used: int) -> bool:
        """The phase has used its own budget after ``used`` steps."""
        return self.steps is not None and used >= self.steps

    def plateau_counts(self, used: int) -> bool:
        """Whether a plateau may end (or cut) the phase after ``used`` of its steps."""
        return True

    def cut(self, factor: float) -> bool:
        """At a plateau: lower the phase's learning rates by ``factor`` and go on (True), or let the
        plateau end the phase (False: this phase has no rates to cut)."""
        return False


class MaximumLikelihoodPhase(Phase):
    """Maximum likelihood on real sequences: an ``AutoregressiveGenerator``'s NLL of a real batch,
    learning rates decaying exponentially to ``decay`` of their start over ``steps``. Any recipe
    may run it first. A plateau is judged on held-out NLL, and only after half the budget: before
    that the learning rate is still high (above ~30 % of the start with the default decay), the
    held-out NLL jitters from check to check, and a "plateau" there ended the phase early on rules
    that were still learning (suite rules ``ascending`` and ``sum``)."""

    name = "mle"
    signal = "heldout_nll"

    def __init__(self, generator: AutoregressiveGenerator, optimizer: torch.optim.Optimizer, steps: int,
                 batch_size: int, runtime: Runtime, decay: float = 0.1):
        super().__init__(steps)
        self.generator, self.optimizer, self.batch_size, self.runtime = generator, optimizer, batch_size, runtime
        self.decay = decay
        self.base_lrs = [group["lr"] for group in optimizer.param_groups]

    def step(self, real: Real, step: int, state: PhaseState) -> StepResult:
        used = step - 1 - state.started
        fraction = self.decay ** (min(used, self.steps) / self.steps)  # exponential decay
        fraction *= state.cut  # and a plateau's cut (1.0 until one)
        for group, base in zip(self.optimizer.param_groups, self.base_lrs):
            group["lr"] = base * fraction
        seqs = real(self.batch_size)  # (B, L)
        loss = self.generator.nll(seqs)
        self.runtime.step(loss, self.optimizer, self.generator)
        return {"mle": loss.item()}, None  # G scored real sequences and generated none

    def plateau_counts(self, used: int) -> bool:
        return used >= self.steps // 2

    def cut(self, factor: float) -> bool:
        return True  # the phase sets its rates every step from the state's cut


class WarmupPhase(Phase):
    """Only the discriminator trains, so the generator meets one that already knows something."""

    name = "warmup"

    def __init__(self, train_discriminator: Callable[[Real], StepResult], steps: int):
        super().__init__(steps)
        self.train_discriminator = train_discriminator

    def step(self, real: Real, step: int, state: PhaseState) -> StepResult:
        return self.train_discriminator(real)


class AdversarialPhase(Phase):
    """Generator and discriminator train against each other until a plateau of the distance."""

    name = "adversarial"

    def __init__(self, train: Callable[[Real], StepResult], optimizers: list[torch.optim.Optimizer],
                 steps: int | None = None, cuttable: bool = True):
        super().__init__(steps)
        self.train, self.optimizers, self.cuttable = train, optimizers, cuttable

    def step(self, real: Real, step: int, state: PhaseState) -> StepResult:
        return self.train(real)

    def cut(self, factor: float) -> bool:
        if not self.cuttable:
            return False
        for opt in self.optimizers:
            for group in opt.param_groups:
                group["lr"] *= factor
        return True

"""The recipe contract: what the trainer may ask of a recipe, and nothing else.

A recipe owns its models, optimisers and phases. It is built as ``Recipe(rule, options, runtime)``
(``runtime``: device, rank, gradient averaging, random streams; ``seqgan_core.runtime.runtime``)
and the trainer calls ``step(real, step)``, walks the phases (``phase``, ``phase_done``,
``plateau_counts``, ``cut_learning_rates``, ``next_phase``), checks ``eval_generator`` and saves
``parts()``. The phase bookkeeping is written here once; a recipe lists its phases
(``build_phases``) and says how its models are built.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import is_dataclass
from typing import Any

import torch
from torch import nn

from seqgan_core.errors import SeqganError
from seqgan_core.models.base import AutoregressiveGenerator, Discriminator, Generator
from seqgan_core.models.constraints import constrain, never_sample
from seqgan_core.engine.recipes.phases import Phase, PhaseState, StepResult
from seqgan_core.options import build
from seqgan_core.plugins.registry import DISCRIMINATORS, GENERATORS
from seqgan_core.rules.rule import Rule
from seqgan_core.runtime.runtime import Runtime


class Recipe(ABC):
    name = ""  # the registry name (a preset's or config's ``recipe``)
    Options: type = object  # a dataclass of the recipe's options (defaults commented, ``check()`` for bad values)
    data_parallel = False  # True: may train under torchrun (its updates go through runtime.step)
    # options a run on finite data changes, unless given (api._for_data)
    finite_data: dict = {}

    def __init__(self, rule: Rule, options: Any, runtime: Runtime):
        self.rule, self.options, self.runtime = rule, options, runtime
        self.device = runtime.device

    def _start_phases(self) -> None:
        """Build the phases; a subclass calls it once its models and optimisers exist."""
        self.phases: list[Phase] = self.build_phases()
        if not self.phases:
            raise SeqganError(f"the {self.name} recipe has nothing to train with these options")
        self.state = PhaseState(self.phases[0].name)

    # -- what a recipe provides

    @classmethod
    def check(cls, options: Any) -> None:
        """Refuse bad options with one line (the options' own ``check``)."""
        options.check()

    @classmethod
    def contract_problems(cls) -> list[str]:
        return [] if is_dataclass(cls.Options) else ["its Options is not a dataclass"]

    @staticmethod
    @abstractmethod
    def build_generator(vocab_size: int, length: int, options: Any) -> Generator:
        """The generator this recipe trains, untrained: what a weights-only model file is loaded into."""

    @property
    @abstractmethod
    def generator(self) -> Generator:
        """The generator that trains."""

    @property
    @abstractmethod
    def batch_size(self) -> int:
        """Sequences per step (per process)."""

    @abstractmethod
    def build_phases(self) -> list[Phase]:
        """The phases, in the order they run."""

    @abstractmethod
    def modules(self) -> dict[str, Any]:
        """Models and optimisers by name (everything with a ``state_dict`` but the phase state)."""

    @property
    def eval_generator(self) -> Generator:
        """What is checked and saved: the generator itself unless a recipe keeps, e.g., an average."""
        return self.generator

    @property
    def autoregressive(self) -> bool:
        """Whether the checked generator gives likelihoods (held-out NLL checks, NLL-based stopping)."""
        return isinstance(self.eval_generator, AutoregressiveGenerator)

    @property
    def plateau_cut(self) -> float:
        """What a phase's first plateau multiplies its learning rates by; 1 = never cut."""
        return 1.0

    def parts(self) -> dict[str, Any]:
        """Everything with a ``state_dict``, for checkpoints."""
        return {**self.modules(), "phase": self.state}

    # -- phases, shared by every recipe

    @property
    def current(self) -> Phase:
        return next(p for p in self.phases if p.name == self.state.phase)

    @property
    def phase(self) -> str:
        return self.state.phase

    def step(self, real: Callable[[int], torch.Tensor], step: int) -> StepResult:
        """One training step of the current phase: losses, and the indices ``(n, L)`` it generated
        (None when it generated none: maximum likelihood)."""
        return self.current.step(real, step, self.state)

    def phase_done(self, step: int) -> bool:
        """The current phase has used its own step budget."""
        return self.current.done(step - self.state.started)

    def plateau_counts(self, step: int) -> bool:
        return self.current.plateau_counts(step - self.state.started)

    def cut_learning_rates(self, step: int) -> bool:
        """At a plateau: multiply the phase's learning rates by ``plateau_cut`` and go on (True),
        once per phase; False when they were cut already, cuts are off or the phase has no rates
        to cut, and the plateau ends the phase. A plateau at a high learning rate can be the
        optimiser's noise rather than the model's limit."""
        factor = self.plateau_cut
        if factor >= 1 or self.state.cut < 1 or not self.current.cut(factor):
            return False
        self.state.cut = factor
        return True

    @property
    def lr_scale(self) -> float:
        """What a plateau multiplied this phase's learning rates by; 1.0: nothing."""
        return self.state.cut

    def next_phase(self, step: int = 0) -> bool:
        """Move on to the next phase; False when this was the last one."""
        names = [p.name for p in self.phases]
        i = names.index(self.state.phase)
        if i + 1 >= len(self.phases):
            return False
        self.phase_changed(self.phases[i], self.phases[i + 1])
        self.state.phase, self.state.started, self.state.cut = names[i + 1], step, 1.0
        return True

    def phase_changed(self, old: Phase, new: Phase) -> None:
        """Called as ``old`` ends and ``new`` begins (nothing to do by default)."""

    def trainable(self) -> dict[str, nn.Module]:
        """The models among the parts: what every rank must hold identically."""
        return {name: part for name, part in self.parts().items() if isinstance(part, nn.Module)}


def family_options(options: Any) -> tuple:
    """The generator's and the discriminator's own options objects, built from a recipe's
    ``generator``/``generator_options`` and ``discriminator``/``discriminator_options`` (each family
    checks its own options there)."""
    g_cls, d_cls = GENERATORS[options.generator], DISCRIMINATORS[options.discriminator]
    return (build(g_cls.Options, options.generator_options, f"the {options.generator} generator"),
            build(d_cls.Options, options.discriminator_options, f"the {options.discriminator} discriminator"))


def check_autoregressive_families(options: Any, recipe: str) -> None:
    """Refuse, in one line, a generator family that is not autoregressive or an unknown discriminator
    family (the registries name the available ones)."""
    if not issubclass(GENERATORS.lookup(options.generator), AutoregressiveGenerator):
        raise SeqganError(f"the {recipe} recipe needs an autoregressive generator; {options.generator!r} is "
                          "not one (use --set generator=lstm)")
    DISCRIMINATORS.lookup(options.discriminator)


def family_generator(vocab_size: int, length: int, options: Any) -> Generator:
    """An untrained generator of ``options.generator``'s family, built from ``options.model_options()``:
    what a recipe with generator/discriminator options trains, and what a weights-only file loads into."""
    return GENERATORS[options.generator](vocab_size, length, options.model_options()[0])


def generator_and_discriminator(rule: Rule, options: Any, device: torch.device) -> tuple[Generator, Discriminator]:
    """The options' generator, trained under the rule's constraint (models/constraints.py) and never
    sampling its unknown token (a text data run's ``<unk>``), and discriminator, on ``device``."""
    V, L = len(rule.vocabulary), rule.length
    generator = constrain(family_generator(V, L, options), rule.constraint())
    if rule.unk_index is not None:
        never_sample(generator, [rule.unk_index])
    generator = generator.to(device)
    discriminator = DISCRIMINATORS[options.discriminator](V, L, options.model_options()[1]).to(device)
    return generator, discriminator

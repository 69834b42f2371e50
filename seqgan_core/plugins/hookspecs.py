"""The hooks a seqgan plugin can implement; they have no body on purpose.

Each hook gets ``register`` and the plugin calls it once per thing it provides (as in simonw/llm).
``register`` validates the thing at once and raises ``PluginError`` naming your plugin when it
is broken or its name is taken. Return values are ignored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pluggy

from seqgan_core.models.base import Discriminator, Generator
from seqgan_core.rules.rule import Rule

if TYPE_CHECKING:
    from seqgan_core.engine.presets import Preset
    from seqgan_core.engine.recipes.base import Recipe

hookspec = pluggy.HookspecMarker("seqgan")
hookimpl = pluggy.HookimplMarker("seqgan")


@hookspec
def register_rules(register: Callable[[Rule], None]) -> None:
    """Register the rules this plugin provides.

    :param register: call ``register(Rule(...))`` once per rule. It validates the rule and raises
        ``RuleError`` naming your plugin if the rule is broken or its name is taken.
    :returns: nothing; return values are ignored.
    """


@hookspec
def register_generators(register: Callable[[type[Generator]], None]) -> None:
    """Register generator families: ``register(MyGenerator)``, a subclass of
    ``seqgan_core.models.Generator`` (or ``AutoregressiveGenerator``) with a class attribute
    ``name`` (what ``--set generator=NAME`` picks) and an ``Options`` dataclass."""


@hookspec
def register_discriminators(register: Callable[[type[Discriminator]], None]) -> None:
    """Register discriminator families: ``register(MyDiscriminator)``, a subclass of
    ``seqgan_core.models.Discriminator`` with a class attribute ``name``."""


@hookspec
def register_recipes(register: Callable[[type[Recipe]], None]) -> None:
    """Register training recipes: ``register(MyRecipe)``, a subclass of
    ``seqgan_core.engine.recipes.Recipe`` with a class attribute ``name`` (a preset's ``recipe``)."""


@hookspec
def register_presets(register: Callable[[Preset], None]) -> None:
    """Register presets: ``register(Preset(name, summary, run={...}, options={...}))``
    (``seqgan_core.engine.presets.Preset``), what ``--preset NAME`` trains with."""

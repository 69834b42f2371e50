"""GAN recipes: how a generator and a discriminator are trained, one module each.

The contract is the ``Recipe`` ABC (``base.py``) and its phases (``phases.py``); the trainer
knows nothing else about a recipe. Recipes are found by name in ``RECIPES``, which plugins fill
through the ``register_recipes`` hook — the built-ins too (``seqgan_core.engine.builtins``), so
adding one touches its own module and one ``register`` call.
"""

from __future__ import annotations

import inspect
from typing import Any

from seqgan_core.engine.recipes.article import ArticleGAN
from seqgan_core.engine.recipes.base import Recipe
from seqgan_core.engine.recipes.phases import AdversarialPhase, MaximumLikelihoodPhase, Phase, PhaseState, WarmupPhase
from seqgan_core.engine.recipes.seqgan import SeqGAN
from seqgan_core.engine.recipes.sequence import SequenceGAN
from seqgan_core.errors import SeqganError
from seqgan_core.plugins.registry import Registry


def _check_recipe(thing: Any) -> str:
    if not (inspect.isclass(thing) and issubclass(thing, Recipe)):
        raise SeqganError(f"{thing!r} is not a subclass of seqgan_core.engine.recipes.Recipe")
    if inspect.isabstract(thing):
        raise SeqganError(f"recipe {thing.__name__} does not implement {', '.join(sorted(thing.__abstractmethods__))}")
    if not isinstance(thing.name, str) or not thing.name:
        raise SeqganError(f"recipe {thing.__name__} has no name (set the class attribute name = '...')")
    problems = thing.contract_problems()
    if problems:
        raise SeqganError(f"recipe {thing.name!r}: {'; '.join(problems)}")
    return thing.name


RECIPES = Registry("recipe", "register_recipes", _check_recipe)


def get_recipe(name: str) -> type[Recipe]:
    return RECIPES.lookup(name)


__all__ = ["RECIPES", "AdversarialPhase", "ArticleGAN", "MaximumLikelihoodPhase", "Phase", "PhaseState", "Recipe",
           "SeqGAN", "SequenceGAN", "WarmupPhase", "get_recipe"]

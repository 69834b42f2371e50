"""GAN recipes: how a generator and a discriminator are trained, one module each.

The contract is the ``Recipe`` ABC (``base.py``) and its phases (``phases.py``); the trainer
knows nothing else about a recipe. Recipes are found by name in ``RECIPES``, which plugins fill
through the ``register_recipes`` hook — the built-ins too (``seqgan_core.engine.builtins``), so
adding one touches its own module and one ``register`` call.
"""

from __future__ import annotations

from seqgan_core.engine.recipes.article import ArticleGAN
from seqgan_core.engine.recipes.base import Recipe
from seqgan_core.engine.recipes.maligan import MaliGAN
from seqgan_core.engine.recipes.phases import AdversarialPhase, MaximumLikelihoodPhase, Phase, PhaseState, WarmupPhase
from seqgan_core.engine.recipes.relgan import RelGAN
from seqgan_core.engine.recipes.seqgan import SeqGAN
from seqgan_core.engine.recipes.sequence import SequenceGAN
from seqgan_core.plugins.registry import Registry, class_check

RECIPES = Registry("recipe", "register_recipes", class_check("recipe", lambda: Recipe, "seqgan_core.engine.recipes.Recipe"))


def get_recipe(name: str) -> type[Recipe]:
    return RECIPES.lookup(name)


__all__ = ["RECIPES", "AdversarialPhase", "ArticleGAN", "MaliGAN", "MaximumLikelihoodPhase", "Phase", "PhaseState",
           "Recipe", "RelGAN", "SeqGAN", "SequenceGAN", "WarmupPhase", "get_recipe"]

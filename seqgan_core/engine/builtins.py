"""The built-in generators, discriminators, recipes and presets, registered through the same hooks
as a third-party plugin's. The plugin manager loads this module by name (``DEFAULT_PLUGINS``),
which keeps the plugin layer below the engine."""

from seqgan_core.engine.presets import BUILTIN_PRESETS
from seqgan_core.engine.recipes.article import ArticleGAN
from seqgan_core.engine.recipes.relgan import RelGAN
from seqgan_core.engine.recipes.maligan import MaliGAN
from seqgan_core.engine.recipes.seqgan import SeqGAN
from seqgan_core.engine.recipes.sequence import SequenceGAN
from seqgan_core.models import BUILTIN_DISCRIMINATORS, BUILTIN_GENERATORS
from seqgan_core.plugins.hookspecs import hookimpl


@hookimpl
def register_generators(register):
    for family in BUILTIN_GENERATORS:
        register(family)


@hookimpl
def register_discriminators(register):
    for family in BUILTIN_DISCRIMINATORS:
        register(family)


@hookimpl
def register_recipes(register):
    register(ArticleGAN)
    register(SequenceGAN)
    register(SeqGAN)
    register(RelGAN)
    register(MaliGAN)


@hookimpl
def register_presets(register):
    for preset in BUILTIN_PRESETS:
        register(preset)

"""GAN recipes: how a generator and a discriminator are trained, one module each.

A recipe is a class with

- ``Options``: a dataclass of its own options (defaults commented, ``check()`` for bad values);
- ``__init__(rule, options, device)``: builds its models and optimisers;
- ``generator`` (what trains) and ``eval_generator`` (what is checked and saved: the generator
  itself, or a moving average of it);
- ``phase``: the name of the current phase (``"mle"``, ``"warmup"``, ``"adversarial"``) and
  ``next_phase(step) -> bool`` (move on; False when this was the last one), ``phase_done(step)``
  (the phase has used its own step budget), ``plateau_counts(step)`` (a plateau of the phase's
  signal may end it now: a learning-rate schedule can ask for part of its budget first),
  ``cut_learning_rates(step) -> bool`` (at a plateau: lower the phase's rates and go on, True, or
  let the plateau end the phase, False) and ``lr_scale`` (what a cut multiplied them by, 1.0 none);
- ``step(real, step) -> (losses, generated)``: one training step; ``real(n)`` draws real index
  sequences ``(n, L)``; ``generated`` are the indices ``(n, L)`` the step produced (None when it generated none: maximum likelihood);
- ``build_generator(vocab_size, length, options)`` (static): an untrained generator, which a
  weights-only model file is loaded into;
- ``parts()``: everything with a ``state_dict`` (models, optimisers, the recipe's own state), for
  checkpoints; ``batch_size``: sequences per step;
- ``data_parallel = True`` if it may train under torchrun: it then averages each module's
  gradients with ``seqgan_core.runtime.distributed.average_gradients`` after its backward pass.

The trainer knows nothing else about a recipe; adding one touches this registry only.
"""

from __future__ import annotations

from seqgan_core.errors import SeqganError
from seqgan_core.engine.recipes.article import ArticleGAN
from seqgan_core.engine.recipes.seqgan import SeqGAN
from seqgan_core.engine.recipes.sequence import SequenceGAN

RECIPES = {"article": ArticleGAN, "sequence": SequenceGAN, "seqgan": SeqGAN}


def get_recipe(name: str):
    try:
        return RECIPES[name]
    except KeyError:
        raise SeqganError(f"unknown recipe {name!r}; available recipes: {', '.join(RECIPES)}") from None

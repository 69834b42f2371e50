"""The sampling temperature a rule run saves its generator with.

A generator trained by maximum likelihood (the autoregressive preset's first phase, and its MLE
term after that) keeps a little probability on tokens the rule never allows, and at T = 1 every
position draws from that tail: over ten positions, 1-4 % of the sequences break a local rule
(measured on the suite: palindrome, arithmetic, steps, pairs). Sampling a little colder removes
most of that tail, at a cost in diversity and in the token distribution: both of which the
verdict also tests.

So, at the end of a rule run whose generator is not judged learned at T = 1, the run tries
``TEMPERATURES`` in order, each on a sample of its own, and keeps the warmest one the verdict
(validity, distinct sequences and token TV against real data, unchanged) calls learned. The final
metrics and verdict are then measured at that temperature on the usual final sample, and the
model file samples at it by default (its ``temperature`` buffer; ``seqgan sample --temperature 1``
gives the trained distribution back). When none passes, the run keeps T = 1 and says "not learned".

Data runs keep T = 1: their verdict is about held-out likelihood and novelty, which a colder
sampler trades away. ``--set choose_temperature=false`` turns the choice off.
"""

from __future__ import annotations

from typing import Callable

TEMPERATURES = (0.9, 0.8, 0.7)  # tried after 1.0, warmest first
CHOICE_SEED_OFFSET = 5_000_081  # the samples that choose are not the ones the verdict is measured on


def choose(learned_at: Callable[[float], tuple[bool, dict]]) -> tuple[float, list[dict]]:
    """The warmest temperature of ``TEMPERATURES`` whose sample ``learned_at(T)`` judges learned
    (1.0 when none is); and what each tried one measured, for config.json."""
    tried = []
    for temperature in TEMPERATURES:
        learned, figures = learned_at(temperature)
        tried.append({"temperature": temperature, "learned": learned, **figures})
        if learned:
            return temperature, tried
    return 1.0, tried

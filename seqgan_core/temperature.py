"""The sampling temperature a rule run saves its generator with.

A generator trained by maximum likelihood (the autoregressive preset's first phase, and its MLE
term after that) keeps a little probability on tokens the rule never allows, and at T = 1 every
position draws from that tail: over ten positions, 1-4 % of the sequences break a local rule
(measured on the suite: palindrome, arithmetic, steps, pairs). Sampling a little colder removes
most of that tail, at a cost in diversity and in the token distribution: both of which the
verdict also tests.

So, at the end of a rule run whose generator is not *clearly* learned at T = 1, the run tries
``TEMPERATURES`` in order, each on a sample of its own, and keeps the warmest one that the
verdict (validity, distinct sequences and token TV against real data, unchanged) calls learned
with its validity at least two standard errors of the sample above the bar. Without that margin a
generator 99.0 % valid on one sample of 5 000 is 98.98 % on the next, and the run would say
"learned" where ``evaluate`` says "not learned". The final metrics and verdict are then measured
at that temperature on the usual final sample, and the model file samples at it by default (its
``temperature`` buffer; ``seqgan sample --temperature 1`` gives the trained distribution back).
When no temperature is clearly learned, the run keeps T = 1 and its verdict is what T = 1 measures.

Runs on finite data keep T = 1 (``Target.finite``: a data file, or a rule with held-out
sequences of its own such as the oracle): they stopped on held-out likelihood, which a colder
sampler trades away, and a data run's verdict is about held-out likelihood and novelty.
``--set choose_temperature=false`` turns the choice off.
"""

from __future__ import annotations

import math
from typing import Callable

TEMPERATURES = (0.9, 0.8, 0.7)  # tried after 1.0, warmest first
CHOICE_SEED_OFFSET = 5_000_081  # the samples that choose are not the ones the verdict is measured on
MARGIN_SE = 2.0  # validity must clear the bar by this many standard errors of its sample


def clearly(learned: bool, validity: float, needed: float, n: int) -> bool:
    """Learned, with a validity that sampling noise alone would not put under the bar."""
    se = math.sqrt(max(needed * (1 - needed), 1e-12) / max(n, 1))
    return learned and validity >= needed + MARGIN_SE * se


def choose(learned_at: Callable[[float], tuple[bool, dict]]) -> tuple[float, list[dict]]:
    """The warmest temperature of ``TEMPERATURES`` whose sample ``learned_at(T)`` judges clearly
    learned (1.0 when none is); and what each tried one measured, for config.json."""
    tried = []
    for temperature in TEMPERATURES:
        learned, figures = learned_at(temperature)
        tried.append({"temperature": temperature, "learned": learned, **figures})
        if learned:
            return temperature, tried
    return 1.0, tried

"""How a rule run's saved generator samples: its temperature and its min-p.

A generator trained by maximum likelihood (the autoregressive preset's first phase, and its MLE
term after that) keeps a little probability on tokens the rule never allows, and every position
draws from that tail: over ten positions, 1-4 % of the sequences break a local rule (measured on
the suite: ascending, palindrome, arithmetic, steps, pairs), and over 64 positions more.

Min-p sampling (models/sampling.py) removes that tail and nothing else: a token less likely than
``min_p`` x the position's most likely token is never drawn, and the others keep their relative
odds. A lower temperature also removes most of the tail, but it sharpens every position, so
token frequencies drift from real data's much sooner. Measured on the suite's ``ascending`` run
(MLE alone, seed 0, 10 000 samples): T = 0.8 made it 99.19 % valid at token TV 0.083 (above the
verdict's 0.05); min-p 0.03 made it 99.75 % valid at TV 0.044. On ``sum`` (a fixed total), T = 0.8
gave 92.2 %, min-p 0.3 gave 99.73 % at TV 0.022.

So, at the end of a rule run whose generator is not *clearly* learned as trained (T = 1,
min-p 0), the run tries ``SAMPLERS`` in order, least change first, each on a sample of its own,
and keeps the first that the verdict (validity, distinct sequences and token TV against real
data, unchanged) calls learned with its validity at least two standard errors of the sample
above the bar. Without that margin a generator 99.0 % valid on one sample of 5 000 is 98.98 % on
the next, and the run would say "learned" where ``evaluate`` says "not learned". The final
metrics and verdict are then measured with that sampler on the usual final sample, and the model
file samples with it by default (its ``temperature`` and ``min_p`` buffers; ``seqgan sample
--temperature 1 --min-p 0`` gives the trained distribution back). When none is clearly learned,
the run keeps the trained distribution and its verdict is what that measures.

Runs on finite data keep the trained distribution (``Target.finite``: a data file, or a rule with
held-out sequences of its own such as the oracle): they stopped on held-out likelihood, which a
truncated or colder sampler trades away, and a data run's verdict is about held-out likelihood
and novelty. ``--set choose_temperature=false`` turns the choice off.
"""

from __future__ import annotations

import math
from typing import Callable

# (temperature, min_p), tried after the trained distribution (1.0, 0), least change first
SAMPLERS = ((1.0, 0.01), (1.0, 0.03), (1.0, 0.1), (1.0, 0.2), (1.0, 0.3), (0.8, 0.3))
CHOICE_SEED_OFFSET = 5_000_081  # the samples that choose are not the ones the verdict is measured on
MARGIN_SE = 2.0  # validity must clear the bar by this many standard errors of its sample


def clearly(learned: bool, validity: float, needed: float, n: int) -> bool:
    """Learned, with a validity that sampling noise alone would not put under the bar."""
    se = math.sqrt(max(needed * (1 - needed), 1e-12) / max(n, 1))
    return learned and validity >= needed + MARGIN_SE * se


def describe(temperature: float, min_p: float) -> str:
    """A sampler as the train line and the suite table name it: "min-p 0.03", "temperature 0.8,
    min-p 0.3", "as trained"."""
    parts = ([f"temperature {temperature:g}"] if temperature != 1.0 else []) + ([f"min-p {min_p:g}"] if min_p else [])
    return ", ".join(parts) or "as trained"


def choose(learned_with: Callable[[float, float], tuple[bool, dict]]) -> tuple[tuple[float, float], list[dict]]:
    """The first (temperature, min_p) of ``SAMPLERS`` whose sample ``learned_with(T, min_p)``
    judges clearly learned ((1.0, 0.0) when none is); and what each tried one measured, for
    config.json."""
    tried = []
    for temperature, min_p in SAMPLERS:
        learned, figures = learned_with(temperature, min_p)
        tried.append({"temperature": temperature, "min_p": min_p, "learned": learned, **figures})
        if learned:
            return (temperature, min_p), tried
    return (1.0, 0.0), tried

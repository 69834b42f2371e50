"""``multiples5``: the tutorial's target — ten integers in 0..99, all multiples of 5.

Real data draws each of the ten numbers uniformly from {0, 5, ..., 95}; the distance is the
tutorial's mean squared remainder mod 5 (0.0 when every number is a multiple of 5).

>>> import torch; seqs = sample(2, torch.Generator().manual_seed(0))
>>> bool(is_valid(seqs).all()), distance(seqs)
(True, 0.0)
"""

import torch

from seqgan_core import Rule, hookimpl

LENGTH = 10
VOCAB = list(range(100))  # token k has index k
MULTIPLES = torch.arange(0, 100, 5)  # (20,)


def sample(n: int, generator: torch.Generator) -> torch.Tensor:
    picks = torch.randint(len(MULTIPLES), (n, LENGTH), generator=generator)  # (n, 10)
    return MULTIPLES[picks]


def is_valid(seqs: torch.Tensor) -> torch.Tensor:
    return (seqs % 5 == 0).all(dim=-1)  # (n,)


def distance(seqs: torch.Tensor) -> float:
    return (seqs % 5).float().pow(2).mean().item()


@hookimpl
def register_rules(register):
    register(
        Rule(
            name="multiples5",
            description="Ten integers in 0..99 that are all multiples of 5 (the tutorial)",
            vocab=VOCAB,
            length=LENGTH,
            sample=sample,
            is_valid=is_valid,
            distance=distance,
        )
    )

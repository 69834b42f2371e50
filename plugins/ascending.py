"""``ascending``: ten integers in 0..99 in non-decreasing order.

Real data: ten independent uniform draws from 0..99, sorted — so the positions are order statistics
(position 0 is usually small, position 9 usually large) and each depends on its neighbours.

>>> import torch; s = sample(2, torch.Generator().manual_seed(0))
>>> bool(is_valid(s).all()), bool(is_valid(torch.tensor([[1, 0] + [5] * 8])).any())
(True, False)
"""

import torch

from seqgan_core import Rule, hookimpl

LENGTH = 10
VOCAB = list(range(100))


def sample(n: int, generator: torch.Generator) -> torch.Tensor:
    draws = torch.randint(100, (n, LENGTH), generator=generator)  # (n, 10)
    return draws.sort(dim=-1).values


def is_valid(seqs: torch.Tensor) -> torch.Tensor:
    return (seqs[:, 1:] >= seqs[:, :-1]).all(dim=-1)  # (n,)


@hookimpl
def register_rules(register):
    register(Rule(
        name="ascending",
        description="Ten integers in 0..99 in non-decreasing order (sorted uniform draws)",
        vocab=VOCAB, length=LENGTH, sample=sample, is_valid=is_valid,
    ))

"""``permutation``: the numbers 0..9, each exactly once, in any order.

Real data: uniform over all 10! = 3 628 800 permutations. Every position on its own is uniform
over 0..9 — what a generator must learn is to avoid the numbers already written, so every
position depends on all the earlier ones.

>>> import torch; s = sample(2, torch.Generator().manual_seed(0))
>>> s.sort(dim=-1).values.tolist() == [list(range(10))] * 2
True
>>> is_valid(torch.tensor([[3, 1, 4, 0, 5, 9, 2, 6, 8, 7],
...                        [3, 1, 4, 1, 5, 9, 2, 6, 8, 7]])).tolist()  # 1 twice, no 0
[True, False]
"""

import torch

from seqgan_core import Rule, hookimpl

LENGTH = 10
VOCAB = list(range(LENGTH))  # token k has index k


def sample(n: int, generator: torch.Generator) -> torch.Tensor:
    # the order of n x 10 independent uniforms is a uniform permutation
    return torch.rand(n, LENGTH, generator=generator).argsort(dim=-1)


def is_valid(seqs: torch.Tensor) -> torch.Tensor:
    return (seqs.sort(dim=-1).values == torch.arange(LENGTH)).all(dim=-1)


@hookimpl
def register_rules(register):
    register(Rule(
        name="permutation",
        description="The numbers 0..9, each exactly once, in random order",
        vocab=VOCAB, length=LENGTH, sample=sample, is_valid=is_valid,
    ))

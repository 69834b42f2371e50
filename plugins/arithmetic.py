"""``arithmetic``: ten-term arithmetic progressions a, a+d, ..., a+9d with d >= 1 inside 0..99.

Real data is uniform over all 506 such progressions (d = 1..11, a = 0..99-9d). Every token after
the second is fixed by the first two, the strongest dependency among the built-in rules.

>>> len(PROGRESSIONS), PROGRESSIONS[0].tolist()
(506, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
"""

import torch

from seqgan_core import Rule, hookimpl

LENGTH = 10
VOCAB = list(range(100))
PROGRESSIONS = torch.tensor([
    [a + i * d for i in range(LENGTH)]
    for d in range(1, 12)
    for a in range(0, 100 - (LENGTH - 1) * d)
])  # (506, 10)


def sample(n: int, generator: torch.Generator) -> torch.Tensor:
    return PROGRESSIONS[torch.randint(len(PROGRESSIONS), (n,), generator=generator)]


def is_valid(seqs: torch.Tensor) -> torch.Tensor:
    steps = seqs[:, 1:] - seqs[:, :-1]  # (n, 9)
    return (steps == steps[:, :1]).all(dim=-1) & (steps[:, 0] >= 1)


@hookimpl
def register_rules(register):
    register(Rule(
        name="arithmetic",
        description="Ten-term arithmetic progressions with step >= 1 inside 0..99",
        vocab=VOCAB, length=LENGTH, sample=sample, is_valid=is_valid,
    ))

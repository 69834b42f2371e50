"""``checksum``: ten digits 0..9 whose sum is a multiple of 10 (the last one is a check digit).

Real data: the first nine digits uniform, the tenth the one that makes the total a multiple of 10 —
uniform over all 10**9 such sequences. Every position on its own is uniform (the check digit too),
so no per-position statistic can tell real data from noise; only the whole sum can.

>>> import torch; s = sample(3, torch.Generator().manual_seed(0))
>>> (s.sum(-1) % 10).tolist()
[0, 0, 0]
>>> is_valid(torch.tensor([[1, 2, 3, 4, 5, 6, 7, 8, 9, 5],     # 45 + 5 = 50
...                        [1, 2, 3, 4, 5, 6, 7, 8, 9, 0]])).tolist()
[True, False]
"""

import torch

from seqgan_core import Rule, hookimpl

LENGTH = 10
VOCAB = [str(d) for d in range(10)]  # index d <-> the digit d, so samples print as digit strings


def sample(n: int, generator: torch.Generator) -> torch.Tensor:
    head = torch.randint(10, (n, LENGTH - 1), generator=generator)  # (n, 9)
    check = (-head.sum(-1, keepdim=True)) % 10  # (n, 1)
    return torch.cat([head, check], dim=-1)


def is_valid(seqs: torch.Tensor) -> torch.Tensor:
    return seqs.sum(-1) % 10 == 0


@hookimpl
def register_rules(register):
    register(Rule(
        name="checksum",
        description="Ten digits whose sum is a multiple of 10 (the last one is a check digit)",
        vocab=VOCAB, length=LENGTH, sample=sample, is_valid=is_valid,
    ))

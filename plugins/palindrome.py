"""``palindrome``: ten digits 0..9 that read the same both ways.

Real data: the first five digits uniform, the last five their mirror image — uniform over all
100 000 palindromes. The tokens are the characters "0".."9", so samples print as digit strings.

>>> import torch; s = sample(1, torch.Generator().manual_seed(0))
>>> s[0].tolist() == s[0].flip(0).tolist()
True
"""

import torch

from seqgan_core import Rule, hookimpl

LENGTH = 10
VOCAB = [str(d) for d in range(10)]  # index d <-> the digit d


def sample(n: int, generator: torch.Generator) -> torch.Tensor:
    half = torch.randint(10, (n, LENGTH // 2), generator=generator)  # (n, 5)
    return torch.cat([half, half.flip(-1)], dim=-1)  # (n, 10)


def is_valid(seqs: torch.Tensor) -> torch.Tensor:
    return (seqs == seqs.flip(-1)).all(dim=-1)


@hookimpl
def register_rules(register):
    register(Rule(
        name="palindrome",
        description="Ten digits that read the same both ways",
        vocab=VOCAB, length=LENGTH, sample=sample, is_valid=is_valid,
    ))

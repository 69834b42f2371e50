"""``brackets``: balanced brackets of length 20 (Dyck words: ten "(" and ten ")" never closing more
than are open).

Real data is uniform over all 16 796 Dyck words of length 20 (the 10th Catalan number), drawn
exactly by the cycle lemma: of the 21 rotations of a random arrangement of ten "+1" and eleven
"-1" steps, exactly one starts a path that stays at height >= 0 for 20 steps — the one after the
path's first lowest point. A generator must count the open brackets at every position.

>>> import torch; s = sample(2, torch.Generator().manual_seed(0))
>>> s.shape, bool(is_valid(s).all())
(torch.Size([2, 20]), True)
>>> to_index = {t: i for i, t in enumerate(VOCAB)}
>>> def parse(text): return torch.tensor([[to_index[c] for c in text]])
>>> bool(is_valid(parse("(()(()))" + "()" * 6))), bool(is_valid(parse("())(" + "()" * 8)))
(True, False)
"""

import torch

from seqgan_core import Rule, hookimpl

PAIRS = 10
LENGTH = 2 * PAIRS
VOCAB = ["(", ")"]  # index 0 opens (+1), index 1 closes (-1)


def dyck_steps(n: int, pairs: int, generator: torch.Generator) -> torch.Tensor:
    """``n`` uniform Dyck paths with ``pairs`` up-steps, as +1/-1 steps ``(n, 2 * pairs)``."""
    width = 2 * pairs + 1
    order = torch.rand(n, width, generator=generator).argsort(dim=-1)  # uniform permutations
    steps = torch.where(order < pairs, 1, -1)  # (n, 2p+1): p ups, p+1 downs, uniformly arranged
    start = steps.cumsum(-1).argmin(dim=-1) + 1  # just after the first lowest point (argmin: first)
    rotate = (start[:, None] + torch.arange(2 * pairs)) % width  # (n, 2p); drops the final -1
    return steps.gather(1, rotate)


def sample(n: int, generator: torch.Generator) -> torch.Tensor:
    return (dyck_steps(n, PAIRS, generator) < 0).long()


def is_valid(seqs: torch.Tensor) -> torch.Tensor:
    height = (1 - 2 * seqs).cumsum(-1)  # (n, L): open brackets after each token
    return (height >= 0).all(dim=-1) & (height[:, -1] == 0)


@hookimpl
def register_rules(register):
    register(Rule(
        name="brackets",
        description="Balanced brackets of length 20, uniform over all 16 796 Dyck words",
        vocab=VOCAB, length=LENGTH, sample=sample, is_valid=is_valid,
    ))

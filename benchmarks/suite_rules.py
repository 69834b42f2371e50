"""The benchmark suite's rules that are not built-in: a plugin module that registers eleven rules.

Together with the built-ins they cover the families in ``suite.py``, so seqgan's defaults can be
measured on rules they were not written for. Load it like any ``-p`` module, from the repository:

    PYTHONPATH=benchmarks seqgan rules -p suite_rules
    PYTHONPATH=benchmarks seqgan train -p suite_rules --rule steps

Each ``*_rule()`` below builds one rule; its docstring has worked examples. Samplers draw only
from the generator they are given and are vectorised (100 000 sequences in well under a second);
every sampled sequence is valid. Nothing is computed at import time; building a rule makes a few
tiny tensors, and ``sum`` counts its sequences on its first sample.
"""

from __future__ import annotations

import functools

import torch

from seqgan_core import Rule, hookimpl

DIGITS = [str(d) for d in range(10)]  # index d <-> the digit d, so samples print as digit strings


FEW_VALUES = [7, 42, 123, 256, 314, 500, 618, 777, 901, 999]  # most to least frequent


def fewvalues_rule() -> Rule:
    """``fewvalues``: ten numbers in 0..999, each independently one of ten values with Zipf weights.

    Value i of ``FEW_VALUES`` has weight 1 / (i + 1): 7 is drawn 34 % of the time, 999 3.4 %.
    Positions are independent, so the per-position frequencies are the whole rule — but the
    vocabulary has 1000 tokens and 990 of them never occur.

    >>> rule = fewvalues_rule(); s = rule.sample(1000, torch.Generator().manual_seed(0))
    >>> sorted(set(s.flatten().tolist())) == FEW_VALUES, round((s == 7).float().mean().item(), 1)
    (True, 0.3)
    >>> rule.is_valid(torch.tensor([[7] * 10, [7] * 9 + [8]])).tolist()
    [True, False]
    """
    values = torch.tensor(FEW_VALUES)
    cumulative = (1 / torch.arange(1.0, len(values) + 1)).cumsum(0)
    cumulative /= cumulative[-1].clone()
    allowed = torch.zeros(1000, dtype=torch.bool)
    allowed[values] = True

    def sample(n, generator):
        u = torch.rand(n, 10, generator=generator)
        return values[torch.searchsorted(cumulative, u, right=True).clamp(max=len(values) - 1)]

    return Rule(name="fewvalues", description="Ten numbers in 0..999, each one of ten values (Zipf weights)",
                vocab=list(range(1000)), length=10, sample=sample,
                is_valid=lambda seqs: allowed[seqs].all(dim=-1))



def banded_rule() -> Rule:
    """``banded``: eight numbers in 0..99, the number at position i in 10i..10i+9, uniformly.

    Each position has a distribution of its own (no two share a token), so a model that learns one
    distribution for every position is 12.5 % valid per position at best.

    >>> rule = banded_rule(); s = rule.sample(3, torch.Generator().manual_seed(0))
    >>> (s // 10).tolist()[0], bool(rule.is_valid(s).all())
    ([0, 1, 2, 3, 4, 5, 6, 7], True)
    >>> rule.is_valid(torch.tensor([[0, 10, 20, 30, 40, 50, 60, 79], [0, 10, 20, 30, 40, 50, 60, 80]])).tolist()
    [True, False]
    """
    bands = torch.arange(8)

    def sample(n, generator):
        return torch.randint(0, 10, (n, 8), generator=generator) + 10 * bands

    return Rule(name="banded", description="Eight numbers, the one at position i in 10i..10i+9",
                vocab=list(range(100)), length=8, sample=sample,
                is_valid=lambda seqs: (seqs // 10 == bands).all(dim=-1))


SKEW = 0.85 ** torch.arange(30.0)  # value k has weight 0.85**k: 0 is drawn 15 % of the time, 29 0.1 %


def skewed_rule() -> Rule:
    """``skewed``: twelve numbers in 0..59, each independently k in 0..29 with weight 0.85**k.

    Half the vocabulary never occurs, and the other half has a long tail: the rare values must be
    drawn about as rarely as real data draws them, which is what token TV measures.

    >>> rule = skewed_rule(); s = rule.sample(10_000, torch.Generator().manual_seed(0))
    >>> int(s.max()) <= 29, round((s == 0).float().mean().item(), 2)
    (True, 0.15)
    >>> rule.is_valid(torch.tensor([[0] * 11 + [30]])).tolist()
    [False]
    """
    cumulative = (SKEW / SKEW.sum()).cumsum(0)

    def sample(n, generator):
        u = torch.rand(n, 12, generator=generator)
        return torch.searchsorted(cumulative, u, right=True).clamp(max=len(SKEW) - 1)

    return Rule(name="skewed", description="Twelve numbers in 0..29 (of 0..59), value k with weight 0.85**k",
                vocab=list(range(60)), length=12, sample=sample, is_valid=lambda seqs: (seqs < 30).all(dim=-1))


def odd_rule() -> Rule:
    """``odd``: six odd numbers below 200, uniformly, out of a vocabulary of 0..999.

    100 allowed values of 1000 at every position: wider than ``fewvalues``, and flat.

    >>> rule = odd_rule(); s = rule.sample(1000, torch.Generator().manual_seed(0))
    >>> bool((s % 2 == 1).all() and (s < 200).all()), len(set(s.flatten().tolist()))
    (True, 100)
    """
    def sample(n, generator):
        return 2 * torch.randint(0, 100, (n, 6), generator=generator) + 1

    return Rule(name="odd", description="Six odd numbers below 200, out of 0..999", vocab=list(range(1000)),
                length=6, sample=sample, is_valid=lambda seqs: ((seqs % 2 == 1) & (seqs < 200)).all(dim=-1))


def steps_rule() -> Rule:
    """``steps``: ten numbers in 0..99, each 1, 2 or 3 away from the one before (up or down).

    Real data: the first number uniform, then each move uniform over -3, -2, -1, 1, 2, 3; a move
    that would leave 0..99 is taken the other way (reflected), so the walk never leaves the range.

    >>> rule = steps_rule(); s = rule.sample(1000, torch.Generator().manual_seed(0))
    >>> sorted(set((s[:, 1:] - s[:, :-1]).flatten().tolist())), bool(rule.is_valid(s).all())
    ([-3, -2, -1, 1, 2, 3], True)
    >>> rule.is_valid(torch.tensor([[0, 3, 1, 2, 5, 4, 7, 9, 8, 9],
    ...                             [0, 3, 1, 2, 5, 4, 7, 9, 9, 8],    # a step of 0
    ...                             [0, 3, 1, 2, 5, 4, 7, 9, 8, 12]])).tolist()  # a step of 4
    [True, False, False]
    """
    moves = torch.tensor([-3, -2, -1, 1, 2, 3])

    def sample(n, generator):
        x = torch.randint(100, (n,), generator=generator)
        move = moves[torch.randint(len(moves), (n, 9), generator=generator)]  # (n, 9)
        walk = [x]
        for i in range(9):
            ahead = x + move[:, i]
            x = torch.where((ahead < 0) | (ahead > 99), x - move[:, i], ahead)
            walk.append(x)
        return torch.stack(walk, dim=-1)

    def is_valid(seqs):
        size = (seqs[:, 1:] - seqs[:, :-1]).abs()
        return ((size >= 1) & (size <= 3)).all(dim=-1)

    return Rule(name="steps", description="Ten numbers in 0..99, each 1 to 3 away from the one before",
                vocab=list(range(100)), length=10, sample=sample, is_valid=is_valid)


def copy_rule() -> Rule:
    """``copy``: ten digits whose second half repeats the first (palindrome's mirror-free twin).

    Real data: the first five digits uniform, then the same five again — 100 000 sequences. Same
    vocabulary and length as ``palindrome``; here each digit depends on the one five places back.

    >>> rule = copy_rule(); s = rule.sample(2, torch.Generator().manual_seed(0))
    >>> bool((s[:, :5] == s[:, 5:]).all())
    True
    >>> rule.is_valid(torch.tensor([[1, 2, 3, 4, 5, 1, 2, 3, 4, 5], [1, 2, 3, 4, 5, 5, 4, 3, 2, 1]])).tolist()
    [True, False]
    """
    def sample(n, generator):
        half = torch.randint(10, (n, 5), generator=generator)
        return torch.cat([half, half], dim=-1)

    return Rule(name="copy", description="Ten digits whose second half repeats the first",
                vocab=DIGITS, length=10, sample=sample,
                is_valid=lambda seqs: (seqs[:, :5] == seqs[:, 5:]).all(dim=-1))


SUM_HIGH, SUM_TOTAL = 19, 100


@functools.cache
def _ways(length: int, high: int, total: int) -> torch.Tensor:
    """``ways[k, s]``: how many k-tuples of 0..high sum to s, for s <= total (int64, exact)."""
    ways = torch.zeros(length + 1, total + 1, dtype=torch.long)
    ways[0, 0] = 1
    for k in range(1, length + 1):
        for v in range(min(high, total) + 1):
            ways[k, v:] += ways[k - 1, : total + 1 - v]
    return ways


def uniform_with_sum(n: int, length: int, high: int, total: int, generator: torch.Generator) -> torch.Tensor:
    """``n`` sequences of ``length`` numbers in 0..high summing to ``total``, uniform over all of them.

    Each number is drawn given what is still to reach, weighted by how many ways the later
    positions can make up the difference (inverse CDF on exact integer counts).
    """
    ways = _ways(length, high, total)
    values = torch.arange(high + 1)
    rest = torch.full((n,), total)
    out = []
    for i in range(length):
        left = rest[:, None] - values  # (n, high + 1): what the later positions must still make up
        weight = torch.where(left >= 0, ways[length - 1 - i][left.clamp(min=0)], 0)
        cumulative = weight.cumsum(-1)  # (n, high + 1)
        count = cumulative[:, -1]  # (n,): completions of the prefix so far, all > 0
        u = (torch.rand(n, generator=generator, dtype=torch.float64) * count).long().clamp(max=count - 1)
        pick = (cumulative <= u[:, None]).sum(-1)  # the first value whose cumulative count exceeds u
        out.append(pick)
        rest = rest - pick
    return torch.stack(out, dim=-1)


def sum_rule() -> Rule:
    """``sum``: ten numbers in 0..19 that add up to exactly 100.

    Real data is uniform over all such sequences (``uniform_with_sum``); the last number is fixed
    by the others, and every earlier one is limited by what the later ones can still make up.

    >>> rule = sum_rule(); s = rule.sample(3, torch.Generator().manual_seed(0))
    >>> s.sum(-1).tolist()
    [100, 100, 100]
    >>> rule.is_valid(torch.tensor([[10] * 10, [19, 19, 19, 19, 19, 5, 0, 0, 0, 0], [10] * 9 + [11]])).tolist()
    [True, True, False]
    """
    return Rule(name="sum", description="Ten numbers in 0..19 that add up to exactly 100",
                vocab=list(range(SUM_HIGH + 1)), length=10,
                sample=lambda n, g: uniform_with_sum(n, 10, SUM_HIGH, SUM_TOTAL, g),
                is_valid=lambda seqs: seqs.sum(-1) == SUM_TOTAL)


def distinct_rule() -> Rule:
    """``distinct``: ten different numbers from 0..99 in random order.

    Real data is uniform over all 100!/90! ordered choices: the indices of the ten largest of 100
    uniform draws, largest first. Independent draws would repeat a number 37 % of the time.

    >>> rule = distinct_rule(); s = rule.sample(2, torch.Generator().manual_seed(0))
    >>> [len(set(row)) for row in s.tolist()]
    [10, 10]
    >>> rule.is_valid(torch.tensor([[5, 3, 99, 0, 42, 7, 8, 9, 10, 11],
    ...                             [5, 3, 99, 0, 42, 7, 8, 9, 10, 5]])).tolist()
    [True, False]
    """
    def sample(n, generator):
        return torch.rand(n, 100, generator=generator).topk(10, dim=-1).indices

    def is_valid(seqs):
        ordered = seqs.sort(dim=-1).values
        return (ordered[:, 1:] != ordered[:, :-1]).all(dim=-1)

    return Rule(name="distinct", description="Ten different numbers from 0..99 in random order",
                vocab=list(range(100)), length=10, sample=sample, is_valid=is_valid)


def count_rule() -> Rule:
    """``count``: twelve letters from a, b, c, d with exactly three a's.

    Real data is uniform over all C(12, 3) * 3**9 = 4 330 260 such sequences: the a's at three
    uniformly chosen places, the other nine letters uniform over b, c, d.

    >>> rule = count_rule(); s = rule.sample(3, torch.Generator().manual_seed(0))
    >>> (s == 0).sum(-1).tolist()
    [3, 3, 3]
    >>> rule.is_valid(torch.tensor([[0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3], [0, 1, 2, 3] * 2 + [1] * 4,
    ...                             [0] * 4 + [1] * 8])).tolist()
    [True, False, False]
    """
    def sample(n, generator):
        where = torch.rand(n, 12, generator=generator).topk(3, dim=-1).indices  # 3 uniform places
        out = torch.randint(1, 4, (n, 12), generator=generator)
        return out.scatter_(1, where, 0)

    return Rule(name="count", description="Twelve letters from a, b, c, d with exactly three a's",
                vocab=["a", "b", "c", "d"], length=12, sample=sample,
                is_valid=lambda seqs: (seqs == 0).sum(-1) == 3)


def walk64_rule() -> Rule:
    """``walk64``: 64 numbers in 0..31, each one more or one less than the one before.

    Real data: the first number uniform, then up or down with equal chance, turned back at 0 and
    31 — drawn at once as an unbounded walk folded onto 0..31 (period 62). The only long rule:
    one wrong step in 63 makes a sequence invalid.

    >>> rule = walk64_rule(); s = rule.sample(1000, torch.Generator().manual_seed(0))
    >>> s.shape, int(s.min()), int(s.max()), bool(rule.is_valid(s).all())
    (torch.Size([1000, 64]), 0, 31, True)
    >>> up_down = [0, 1] * 32; bad = up_down[:-1] + [0]
    >>> rule.is_valid(torch.tensor([up_down, bad, list(range(32)) + list(range(31, -1, -1))])).tolist()
    [True, False, False]
    """
    def sample(n, generator):
        small = torch.int16  # 4x faster than int64 on 6.4M tokens; heights stay within -63..94
        start = torch.randint(32, (n, 1), generator=generator, dtype=small)
        moves = torch.randint(2, (n, 63), generator=generator, dtype=small).mul_(2).sub_(1)  # +1 or -1
        unfolded = torch.cat([start, moves], dim=-1).cumsum(-1, dtype=small).remainder_(62)  # (n, 64)
        return torch.where(unfolded > 31, 62 - unfolded, unfolded).long()

    return Rule(name="walk64", description="64 numbers in 0..31, each one more or one less than the one before",
                vocab=list(range(32)), length=64, sample=sample,
                is_valid=lambda seqs: ((seqs[:, 1:] - seqs[:, :-1]).abs() == 1).all(dim=-1))


def pairs_rule() -> Rule:
    """``pairs``: five pairs (a, a + 1) of numbers in 0..999 — a large vocabulary with a dependency.

    Real data: each pair's first number uniform over 0..998, independently — 999**5 sequences, so
    nothing can be memorised: a generator must learn the successor of each of 999 tokens.

    >>> rule = pairs_rule(); s = rule.sample(2, torch.Generator().manual_seed(0))
    >>> bool((s[:, 1::2] == s[:, 0::2] + 1).all())
    True
    >>> rule.is_valid(torch.tensor([[0, 1, 998, 999, 5, 6, 5, 6, 41, 42],
    ...                             [0, 1, 998, 999, 5, 6, 5, 6, 41, 41]])).tolist()
    [True, False]
    """
    def sample(n, generator):
        first = torch.randint(999, (n, 5), generator=generator)
        return torch.stack([first, first + 1], dim=-1).reshape(n, 10)

    return Rule(name="pairs", description="Five pairs (a, a + 1) of numbers in 0..999",
                vocab=list(range(1000)), length=10, sample=sample,
                is_valid=lambda seqs: (seqs[:, 1::2] == seqs[:, 0::2] + 1).all(dim=-1))


RULES = (fewvalues_rule, banded_rule, skewed_rule, odd_rule, steps_rule, copy_rule, sum_rule, distinct_rule, count_rule, walk64_rule, pairs_rule)


@hookimpl
def register_rules(register):
    for build in RULES:
        register(build())

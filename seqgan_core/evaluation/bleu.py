"""BLEU and Self-BLEU as text-GAN papers report them: nltk's numbers, computed fast.

``bleu(hypotheses, references, n)`` is the average over hypotheses of nltk's

    sentence_bleu(references, hyp, weights=(1/n,) * n,
                  smoothing_function=SmoothingFunction().method1)

with *every* hypothesis scored against *all* references (Texygen, RelGAN and followers score
generated COCO captions this way against the test captions). ``self_bleu(samples, n)`` scores
each sample against all the *other* samples (Texygen's Self-BLEU: high = little diversity).

For one hypothesis ``h`` and references ``R`` this is, exactly as nltk computes it:

- ``p_k`` for k = 1..n: the modified precision — the hypothesis' k-gram counts clipped by the
  largest count of that k-gram in any single reference, summed, over ``max(1, #k-grams of h)``;
  a hypothesis shorter than k has no k-grams, so ``p_k = 0 / 1``;
- no unigram matches at all (which includes the empty hypothesis): the score is 0, smoothing or
  not;
- method1 smoothing: a precision with 0 matches becomes ``0.1 / denominator``;
- brevity penalty with ``r`` the reference length closest to ``len(h)`` (ties: the shorter one):
  1 if ``len(h) > r``, else ``exp(1 - r / len(h))``;
- score = ``BP * exp(sum_k (1/n) * log p_k)``.

nltk rebuilds every reference's k-gram counts for every hypothesis; here they are built once: per
k-gram the largest count over the references (for Self-BLEU the two largest and which sample holds
the largest, so "all the others" is exact), and the sorted reference lengths for ``r``. Scoring
2 000 generated captions against 10 000 COCO test captions then takes about a second.

Tokens are any hashables (words, indices); a sequence is a list, tuple or 1-D tensor of them. A
string is rejected rather than split into characters: split it into tokens first (``str.split``)
or pass ``list(s)`` for character BLEU. Strip padding and end-of-sequence tokens beforehand.

>>> refs = [["a", "cat", "sat", "on", "the", "mat"], ["the", "cat", "is", "on", "the", "mat"]]
>>> round(bleu([["the", "cat", "sat", "on", "the", "mat"]], refs, 4), 4)
0.8409
>>> round(bleu([["on", "the", "mat"]], refs, 2), 4)  # all matches, but brevity penalty exp(1 - 6/3)
0.3679
>>> s = bleu_scores([["the", "dog"]], refs, orders=(2, 3))  # no bigram matches: method1's 0.1 / 1
>>> {k: round(v, 4) for k, v in s.items()}
{'bleu2': 0.0303, 'bleu3': 0.0231}
>>> round(self_bleu([["a", "b", "c"], ["a", "b", "d"], ["x", "y", "z"]], 2), 4)
0.3849
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections import Counter
from collections.abc import Hashable, Iterable, Sequence

__all__ = ["References", "bleu", "bleu_scores", "self_bleu", "self_bleu_scores"]

EPSILON = 0.1  # nltk's SmoothingFunction().method1: the count given to a precision with no match
DEFAULT_ORDERS = (2, 3, 4, 5)  # BLEU-2..5, what text-GAN papers report

Tokens = tuple[Hashable, ...]
Gram = tuple[Hashable, ...]


class References:
    """References prepared once for scoring many hypotheses (a test set reused at every evaluation).

    ``max_n`` bounds the orders that can be scored; ``bleu_scores`` builds one for you when given
    a plain list.
    """

    def __init__(self, references: Iterable[Sequence[Hashable]], max_n: int = max(DEFAULT_ORDERS)):
        _check_order(max_n, "max_n")
        refs = _token_tuples(references, "reference")
        if not refs:
            raise ValueError("BLEU needs at least one reference sequence, got none")
        self.max_n = max_n
        self.size = len(refs)
        # per order k (index k - 1): k-gram -> its largest count in any one reference
        self.max_counts: list[dict[Gram, int]] = [{} for _ in range(max_n)]
        for ref in refs:
            for k, table in enumerate(self.max_counts, start=1):
                for gram, count in _ngram_counts(ref, k).items():
                    if count > table.get(gram, 0):
                        table[gram] = count
        self.lengths = sorted({len(r) for r in refs})  # distinct reference lengths, ascending

    def scores(self, hypotheses: Iterable[Sequence[Hashable]],
               orders: Sequence[int] = DEFAULT_ORDERS) -> dict[str, float]:
        """``{"bleu<n>": average sentence BLEU-n}`` for each n in ``orders``."""
        orders = _check_orders(orders, self.max_n)
        hyps = _token_tuples(hypotheses, "hypothesis")
        if not hyps:
            raise ValueError("BLEU needs at least one hypothesis, got none")
        totals: dict[int, list[float]] = {n: [] for n in orders}
        for hyp in hyps:
            matches, grams = _clipped_matches(hyp, max(orders), self.max_counts.__getitem__)
            ref_len = _closest_length(self.lengths, len(hyp))
            for n in orders:
                totals[n].append(_sentence_bleu(matches, grams, len(hyp), ref_len, n))
        return {f"bleu{n}": math.fsum(s) / len(s) for n, s in totals.items()}


def bleu_scores(hypotheses: Iterable[Sequence[Hashable]],
                references: Iterable[Sequence[Hashable]] | References,
                orders: Sequence[int] = DEFAULT_ORDERS) -> dict[str, float]:
    """``{"bleu2": ..., "bleu5": ...}``: average sentence BLEU-n of ``hypotheses`` against all
    ``references`` (a list of token sequences, or a prepared ``References``)."""
    orders = _check_orders(orders)
    if not isinstance(references, References):
        references = References(references, max_n=max(orders))
    return references.scores(hypotheses, orders)


def bleu(hypotheses: Iterable[Sequence[Hashable]],
         references: Iterable[Sequence[Hashable]] | References, max_n: int = 4) -> float:
    """Average sentence BLEU-``max_n`` (uniform weights, method1) of ``hypotheses`` against all
    ``references``."""
    return bleu_scores(hypotheses, references, (max_n,))[f"bleu{max_n}"]


def self_bleu_scores(samples: Iterable[Sequence[Hashable]],
                     orders: Sequence[int] = DEFAULT_ORDERS) -> dict[str, float]:
    """``{"self_bleu2": ...}``: average sentence BLEU-n of each sample against all the others."""
    orders = _check_orders(orders)
    seqs = _token_tuples(samples, "sample")
    if len(seqs) < 2:
        raise ValueError(f"Self-BLEU needs at least 2 samples (each is scored against the others), "
                         f"got {len(seqs)}")
    top_n = max(orders)
    # per order: k-gram -> [largest count, first sample holding it, largest count in any other
    # sample]; for that sample the others' largest is the third entry, for all others the first.
    tops: list[dict[Gram, list[int]]] = [{} for _ in range(top_n)]
    for i, seq in enumerate(seqs):
        for k, table in enumerate(tops, start=1):
            for gram, count in _ngram_counts(seq, k).items():
                top = table.get(gram)
                if top is None:
                    table[gram] = [count, i, 0]
                elif count > top[0]:
                    top[:] = [count, i, top[0]]
                elif count > top[2]:
                    top[2] = count
    length_counts = Counter(len(s) for s in seqs)
    lengths = sorted(length_counts)
    totals: dict[int, list[float]] = {n: [] for n in orders}
    for i, seq in enumerate(seqs):
        matches, grams = _clipped_matches(seq, top_n, lambda index, _i=i: _OthersMax(tops[index], _i))
        own = len(seq)
        # the closest length among the others: our own, unless we are the only one that long
        ref_len = own if length_counts[own] > 1 else _closest_length(lengths, own, exclude=own)
        for n in orders:
            totals[n].append(_sentence_bleu(matches, grams, own, ref_len, n))
    return {f"self_bleu{n}": math.fsum(s) / len(s) for n, s in totals.items()}


def self_bleu(samples: Iterable[Sequence[Hashable]], max_n: int = 4) -> float:
    """Average sentence BLEU-``max_n`` of each sample against all the other samples."""
    return self_bleu_scores(samples, (max_n,))[f"self_bleu{max_n}"]


class _OthersMax:
    """``get(gram, 0)`` for one sample: the largest count of ``gram`` in any *other* sample."""

    __slots__ = ("table", "me")

    def __init__(self, table: dict[Gram, list[int]], me: int):
        self.table, self.me = table, me

    def get(self, gram: Gram, default: int = 0) -> int:
        top = self.table.get(gram)
        if top is None:
            return default
        return top[2] if top[1] == self.me else top[0]


def _clipped_matches(hyp: Tokens, top_n: int, tables) -> tuple[list[int], list[int]]:
    """Per order k = 1..top_n: (clipped k-gram matches, number of k-grams in ``hyp``).

    ``tables(k - 1).get(gram, 0)`` is the largest count of ``gram`` in any single reference.
    nltk's denominator is ``max(1, grams)``; the match count is 0 whenever ``grams`` is.
    """
    matches, grams = [], []
    for k in range(1, top_n + 1):
        table = tables(k - 1)
        counts = _ngram_counts(hyp, k)
        matches.append(sum(min(c, table.get(g, 0)) for g, c in counts.items()))
        grams.append(max(0, len(hyp) - k + 1))
    return matches, grams


def _sentence_bleu(matches: list[int], grams: list[int], hyp_len: int, ref_len: int, n: int) -> float:
    """nltk's sentence_bleu with uniform weights and method1, from the clipped counts.

    Written in nltk's order of floating-point operations, so the results agree to the last bit
    or nearly so.
    """
    if matches[0] == 0:  # no unigram in any reference (or an empty hypothesis): nltk returns 0
        return 0.0
    weight = 1 / n
    logs = []
    for match, gram in zip(matches[:n], grams[:n]):
        denominator = max(1, gram)
        precision = match / denominator if match else EPSILON / denominator
        logs.append(weight * math.log(precision))
    return _brevity_penalty(ref_len, hyp_len) * math.exp(math.fsum(logs))


def _brevity_penalty(ref_len: int, hyp_len: int) -> float:
    if hyp_len > ref_len:
        return 1.0
    if hyp_len == 0:
        return 0.0
    return math.exp(1 - ref_len / hyp_len)


def _closest_length(lengths: list[int], hyp_len: int, exclude: int | None = None) -> int:
    """The length in sorted, distinct ``lengths`` closest to ``hyp_len``; ties go to the shorter
    (nltk's ``closest_ref_length``). ``exclude`` skips one value (Self-BLEU: the sample's own
    length when no other sample has it)."""
    pos = bisect_left(lengths, hyp_len)  # lengths[pos] >= hyp_len > lengths[pos - 1]
    above = pos + (pos < len(lengths) and lengths[pos] == exclude)
    below = pos - 1 - (pos > 0 and lengths[pos - 1] == exclude)
    candidates = [lengths[j] for j in (below, above) if 0 <= j < len(lengths)]
    return min(candidates, key=lambda r: (abs(r - hyp_len), r))


def _ngram_counts(seq: Tokens, k: int) -> Counter:
    if k == 1:
        return Counter((t,) for t in seq)
    return Counter(zip(*(seq[i:] for i in range(k))))


def _token_tuples(seqs: Iterable[Sequence[Hashable]], what: str) -> list[Tokens]:
    if hasattr(seqs, "tolist"):  # a 2-D tensor or array: rows of plain ints, not 0-d tensors
        seqs = seqs.tolist()
    out = []
    for i, seq in enumerate(seqs):
        if isinstance(seq, (str, bytes)):
            raise TypeError(f"{what} {i} is a string ({seq[:30]!r}); pass a list of tokens "
                            "(e.g. s.split()) or list(s) for characters")
        if hasattr(seq, "tolist"):
            seq = seq.tolist()
        try:
            out.append(tuple(seq))
        except TypeError:
            raise TypeError(f"{what} {i} is a {type(seq).__name__}, not a sequence of tokens") from None
    return out


def _check_orders(orders: Sequence[int], max_n: int | None = None) -> tuple[int, ...]:
    orders = tuple(orders)
    if not orders:
        raise ValueError("orders is empty: give at least one BLEU order, e.g. (2, 3, 4, 5)")
    for n in orders:
        _check_order(n, "order")
        if max_n is not None and n > max_n:
            raise ValueError(f"order {n} is above this References' max_n={max_n}; "
                             f"build References(..., max_n={n})")
    return orders


def _check_order(n, what: str) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"{what} must be a positive int (the n of BLEU-n), got {n!r}")

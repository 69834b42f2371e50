"""Hypothesis strategies and a contract check, for testing seqgan rules (yours or ours).

    from hypothesis import given
    from seqgan_core.testing import check_rule, seeds

    @given(seed=seeds())
    def test_my_rule(seed):
        check_rule(my_rule, seed)

Requires hypothesis (``pip install 'seqgan[test]'``).
"""

from __future__ import annotations

import torch
from hypothesis import strategies as st

from seqgan_core.rules.rule import Rule

__all__ = ["check_rule", "index_sequences", "seeds", "token_lists"]


def seeds() -> st.SearchStrategy[int]:
    """Seeds for ``torch.Generator().manual_seed`` (hypothesis does not control torch's RNG)."""
    return st.integers(min_value=0, max_value=2**63 - 1)


def token_lists(min_size: int = 1, max_size: int = 50) -> st.SearchStrategy[list]:
    """Lists of distinct hashable tokens: ints, short strings, or a mix — a vocabulary."""
    token = st.one_of(st.integers(-(10**9), 10**9), st.text(max_size=8))
    return st.lists(token, min_size=min_size, max_size=max_size, unique_by=lambda t: (type(t), t))


def index_sequences(rule: Rule, max_n: int = 32) -> st.SearchStrategy[torch.Tensor]:
    """Arbitrary (mostly invalid) LongTensors ``(n, rule.length)`` of in-range indices."""
    V, L = len(rule.vocabulary), rule.length
    row = st.lists(st.integers(0, V - 1), min_size=L, max_size=L)
    return st.lists(row, min_size=1, max_size=max_n).map(lambda rows: torch.tensor(rows, dtype=torch.long))


def check_rule(rule: Rule, seed: int, n: int = 64, distance_tolerance: float = 0.0) -> torch.Tensor:
    """Assert the plugin contract for one seed; returns the sampled sequences.

    - ``sample(n, generator)`` returns a LongTensor ``(n, length)`` of in-range indices;
    - the same seed gives the same sequences; every sampled sequence is valid;
    - ``is_valid`` returns one bool per sequence;
    - with an end token: samples are padded with it (after the first one, only end tokens), and
      no sample is empty;
    - ``heldout`` (if given) honours the same contract as ``sample``; ``metrics`` (if given)
      returns a dict of numbers;
    - a distance of the rule's own scores real data at most ``distance_tolerance`` (0 for exact
      distances; give a little room for distances that compare distributions, which are noisy on
      finite samples). seqgan's default distance needs no check here.
    """
    seqs = rule.sample_checked(n, torch.Generator().manual_seed(seed))  # shape, dtype, range
    again = rule.sample(n, torch.Generator().manual_seed(seed))
    assert torch.equal(seqs, again), f"rule {rule.name!r}: the same seed gave different sequences"
    valid = torch.as_tensor(rule.is_valid(rule.canonical(seqs)))
    assert valid.shape == (n,), f"rule {rule.name!r}: is_valid returned shape {tuple(valid.shape)}, expected ({n},)"
    assert valid.all(), f"rule {rule.name!r}: sampled invalid sequence {seqs[~valid.bool()][0].tolist()}"
    if rule.eos_index is not None:
        assert torch.equal(rule.canonical(seqs), seqs), f"rule {rule.name!r}: a sample has tokens after its end token"
        assert (seqs[:, 0] != rule.eos_index).all(), f"rule {rule.name!r}: a sample is empty (starts with the end token)"
    if rule.heldout is not None:
        held = rule.heldout(n, torch.Generator().manual_seed(seed))
        assert isinstance(held, torch.Tensor) and held.dtype == torch.long and tuple(held.shape) == (n, rule.length), (
            f"rule {rule.name!r}: heldout({n}) must return a LongTensor ({n}, {rule.length})")
        assert torch.equal(held, rule.heldout(n, torch.Generator().manual_seed(seed))), (
            f"rule {rule.name!r}: heldout gave different sequences for the same seed")
    if rule.metrics is not None:
        extra = rule.metrics(rule.canonical(seqs))
        assert isinstance(extra, dict) and all(isinstance(v, (int, float)) for v in extra.values()), (
            f"rule {rule.name!r}: metrics must return a dict of numbers, got {extra!r}")
    if rule.distance is not None:
        distance = rule.score(seqs)
        assert 0.0 <= distance <= distance_tolerance, (
            f"rule {rule.name!r}: distance of real data is {distance}, expected <= {distance_tolerance}"
        )
    return seqs

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from seqgan_core import Rule
from seqgan_core.evaluation.metrics import Reference, evaluate, js_distance, tv_distance, unique_ratio


def cycling_rule(values=(0, 5, 10, 15), vocab_size=20, length=4):
    """A rule whose 'sampler' cycles through `values` exactly, so the reference is exactly uniform."""
    values = torch.tensor(values)

    def sample(n, generator):
        return values[torch.arange(n * length) % len(values)].view(n, length)

    return Rule(name="cycle", description="", vocab=list(range(vocab_size)), length=length,
                sample=sample, is_valid=lambda s: (s % 5 == 0).all(-1))


REF = Reference.from_rule(cycling_rule(), n=1000)


def test_perfect_uniform_sample_has_zero_distance():
    seqs = torch.tensor([[0, 5, 10, 15], [15, 10, 5, 0]] * 10)
    m = evaluate(seqs, REF)
    assert m["tv"] == 0 and m["js"] == 0
    assert m["validity"] == 1 and m["coverage"] == 1 and m["coverage_count"] == 4


def test_collapsed_sample_has_the_hand_computed_tv():
    seqs = torch.full((50, 4), 5)  # everything on one of four equally likely values
    m = evaluate(seqs, REF)
    assert m["tv"] == pytest.approx(0.5 * ((1 - 0.25) + 3 * 0.25))  # = 0.75
    assert m["coverage"] == 0.25 and m["unique_ratio"] == 1 / 50
    # JS divergence by hand: p = (0, 1, 0, 0), q = uniform, m = (1/8, 5/8, 1/8, 1/8)
    jsd = 0.5 * math.log2(1 / (5 / 8)) + 0.5 * (3 * 0.25 * math.log2(0.25 / (1 / 8)) + 0.25 * math.log2(0.25 / (5 / 8)))
    assert m["js"] == pytest.approx(math.sqrt(jsd))


def test_invalid_tokens_count_against_validity_and_tv():
    seqs = torch.tensor([[0, 5, 10, 15], [0, 5, 10, 17]])
    m = evaluate(seqs, REF)
    assert m["validity"] == 0.5
    assert m["tv"] == pytest.approx(1 / 8)  # one of eight tokens sits where real data has none
    # the cycling sampler puts 15 at position 3 of every real sequence; half of ours have 17
    assert m["tv_per_position"] == pytest.approx([0, 0, 0, 0.5])


@given(st.lists(st.floats(0, 10), min_size=2, max_size=20), st.data())
def test_distances_are_symmetric_bounded_and_zero_on_self(p, data):
    q = data.draw(st.lists(st.floats(0, 10), min_size=len(p), max_size=len(p)))
    p, q = torch.tensor(p, dtype=torch.float64), torch.tensor(q, dtype=torch.float64)
    if p.sum() == 0 or q.sum() == 0:
        return
    for f in (tv_distance, js_distance):
        d = f(p, q).item()
        assert 0 <= d <= 1 + 1e-9
        assert d == pytest.approx(f(q, p).item(), abs=1e-9)
        assert f(p, p).item() == pytest.approx(0, abs=1e-6)


def test_unique_ratio():
    assert unique_ratio(torch.tensor([[1, 2], [1, 2], [2, 1], [3, 3]])) == 0.75

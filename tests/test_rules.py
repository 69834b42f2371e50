import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from seqgan_core import Rule
from seqgan_core.errors import RuleError
from seqgan_core.plugins import get_plugin_manager, load_rules

BUILTIN = load_rules(get_plugin_manager(entry_points=False))


@pytest.mark.parametrize("name", sorted(BUILTIN))
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 64))
def test_builtin_sampler_honours_contract(name, seed, n):
    rule = BUILTIN[name]
    seqs = rule.sample_checked(n, torch.Generator().manual_seed(seed))
    assert seqs.shape == (n, rule.length) and seqs.dtype == torch.long
    assert rule.valid(seqs).all()
    assert rule.score(seqs) == 0.0
    again = rule.sample(n, torch.Generator().manual_seed(seed))
    assert torch.equal(seqs, again)


def test_multiples5_matches_the_tutorial():
    rule = BUILTIN["multiples5"]
    assert rule.vocab == list(range(100)) and rule.length == 10
    seqs = rule.sample(5000, torch.Generator().manual_seed(0))
    assert set(seqs.unique().tolist()) == set(range(0, 100, 5))  # uniform over all 20
    bad = torch.tensor([[0, 5, 10, 15, 20, 25, 30, 35, 40, 42]])
    assert not rule.valid(bad).any()
    assert rule.score(bad) == pytest.approx(4 / 10)  # 42 % 5 = 2, squared, over ten numbers


def _rule(**kw):
    base = dict(name="r", description="d", vocab=[0, 1], length=2,
                sample=lambda n, g: torch.zeros(n, 2, dtype=torch.long),
                is_valid=lambda s: torch.ones(len(s), dtype=torch.bool))
    return Rule(**{**base, **kw})


def test_default_distance_is_invalid_share():
    rule = _rule(is_valid=lambda s: s[:, 0] == 0)
    assert rule.score(torch.tensor([[0, 0], [1, 0], [1, 1], [0, 1]])) == 0.5


@pytest.mark.parametrize("kw, message", [
    ({"name": ""}, "rule name '' is invalid"),
    ({"length": 0}, "length must be a positive int"),
    ({"vocab": [1, 1]}, "duplicate token 1"),
    ({"sample": None}, "sample must be callable"),
])
def test_broken_rule_definitions(kw, message):
    with pytest.raises(RuleError, match=message):
        _rule(**kw)


@pytest.mark.parametrize("bad, message", [
    (lambda n, g: torch.zeros(n, 3, dtype=torch.long), "returned shape"),
    (lambda n, g: torch.zeros(n, 2), "dtype torch.float32"),
    (lambda n, g: torch.full((n, 2), 7), "outside 0..1"),
    (lambda n, g: [[0, 0]] * n, "returned list"),
])
def test_broken_sampler_is_named(bad, message):
    with pytest.raises(RuleError, match=f"rule 'r' .*{message}"):
        _rule(sample=bad).sample_checked(4, torch.Generator())
